"""Maximum subarray.

Given an array of n integers, print the largest sum of a non-empty contiguous subarray.
The first line holds n, the second the n integers a_i.

Constraints: 1 <= n <= 2*10^5, |a_i| <= 10^9.
Time limit: 1 second
"""

import sys


def main():
    data = sys.stdin.buffer.read().split()
    n = int(data[0])
    a = list(map(int, data[1 : n + 1]))
    best = a[0]
    for i in range(n):
        total = 0
        for j in range(i, n):
            total += a[j]
            if total > best:
                best = total
    print(best)


main()
