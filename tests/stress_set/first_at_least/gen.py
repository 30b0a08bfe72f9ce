"""Generator: `gen.py SEED N` prints a sorted array and queries, 1 <= n, q <= N (both N for large N)."""

import random
import sys

seed, bound = int(sys.argv[1]), int(sys.argv[2])
rng = random.Random(seed)
large = bound > 100
n = bound if large else rng.randint(1, bound)
q = bound if large else rng.randint(1, bound)
high = 10**9 if large else 10
a = sorted(rng.randint(1, high) for _ in range(n))
queries = [rng.randint(1, high) for _ in range(q)]
if large:  # the slowest case for a scan: queries above most elements
    queries = [high - rng.randint(0, 10) for _ in range(q)]
sys.stdout.write(f"{n} {q}\n{' '.join(map(str, a))}\n" + "".join(f"{x}\n" for x in queries))
