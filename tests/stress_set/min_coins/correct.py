def min_coins(coins: list[int], amount: int) -> int:
    """The fewest coins (each value usable any number of times) that add up to amount, or -1.

    Constraints: 1 <= len(coins) <= 6, 1 <= coins[i] <= 10, 0 <= amount <= 30.

    >>> min_coins([1, 2, 5], 11)
    3
    >>> min_coins([2], 3)
    -1
    """
    best = [0] + [-1] * amount
    for total in range(1, amount + 1):
        options = [best[total - c] for c in coins if c <= total and best[total - c] >= 0]
        best[total] = min(options) + 1 if options else -1
    return best[amount]
