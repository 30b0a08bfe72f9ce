"""Generator: `gen.py SEED N` prints one input with 1 <= n <= N (n = N for large N)."""

import random
import sys

seed, bound = int(sys.argv[1]), int(sys.argv[2])
rng = random.Random(seed)
n = bound if bound > 100 else rng.randint(1, bound)
high = 10 if bound <= 100 else 10**9
print(n)
print(*(rng.randint(-high, high) for _ in range(n)))
