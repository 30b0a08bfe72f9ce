"""A LeetCode-style problem: the demo for `vibethinker-lsp solve examples/two_sum.py`."""


def two_sum(nums: list[int], target: int) -> list[int]:
    """Return the indices of the two numbers that add up to target (exactly one answer exists).

    Example 1:
    Input: nums = [2, 7, 11, 15], target = 9
    Output: [0, 1]

    Example 2:
    Input: nums = [3, 2, 4], target = 6
    Output: [1, 2]

    >>> two_sum([3, 3], 6)
    [0, 1]
    """
    # TODO: one pass with a hash map, O(n)
    raise NotImplementedError


def longest_unique_substring(s: str) -> int:
    """Length of the longest substring of s without repeating characters.

    >>> longest_unique_substring("abcabcbb")
    3
    >>> longest_unique_substring("bbbbb")
    1
    >>> longest_unique_substring("pwwkew")
    3
    """
    # TODO: sliding window, O(n)
    pass
