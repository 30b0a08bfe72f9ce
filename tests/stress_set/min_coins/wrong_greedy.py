def min_coins(coins: list[int], amount: int) -> int:
    """The fewest coins (each value usable any number of times) that add up to amount, or -1.

    Constraints: 1 <= len(coins) <= 6, 1 <= coins[i] <= 10, 0 <= amount <= 30.

    >>> min_coins([1, 2, 5], 11)
    3
    >>> min_coins([2], 3)
    -1
    """
    count = 0
    for coin in sorted(coins, reverse=True):
        count += amount // coin
        amount %= coin
    return count if amount == 0 else -1
