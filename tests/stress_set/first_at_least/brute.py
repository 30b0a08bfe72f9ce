"""Brute force: count for each query."""

import sys

data = sys.stdin.read().split()
n, q = int(data[0]), int(data[1])
a = list(map(int, data[2 : 2 + n]))
for x in map(int, data[2 + n : 2 + n + q]):
    print(sum(1 for value in a if value < x))
