def min_coins(coins, amount):
    """Brute force: every multiset of coins, fewest first."""
    from itertools import combinations_with_replacement

    for count in range(amount + 1):
        for chosen in combinations_with_replacement(sorted(set(coins)), count):
            if sum(chosen) == amount:
                return count
    return -1
