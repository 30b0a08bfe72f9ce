# Recursion through a builtin (map) uses the C stack on every level, so this overflows the stack.
import sys

sys.setrecursionlimit(10**8)


def down(n):
    return sum(map(down, [n + 1])) + 1


print(down(0))
