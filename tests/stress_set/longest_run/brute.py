def longest_increasing_run(a):
    """Brute force: check every run."""
    n = len(a)
    return max(
        j - i for i in range(n) for j in range(i + 1, n + 1) if all(a[k] < a[k + 1] for k in range(i, j - 1))
    )
