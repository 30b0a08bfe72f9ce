"""The sample source and model replies that tests and benchmarks share: a two_sum TODO with doctests, its
hash-map implementation, a reply that gives it (reasoning, a draft, the code and its Complexity line) and a
wrong one."""

TWO_SUM_SOURCE = '''\
def two_sum(nums, target):
    """Indices of the two numbers adding up to target.

    >>> two_sum([2, 7, 11, 15], 9)
    [0, 1]
    >>> two_sum([3, 2, 4], 6)
    [1, 2]
    """
    # TODO: hash map, O(n)
    pass
'''

TWO_SUM_CODE = """\
def two_sum(nums, target):
    seen = {}
    for i, x in enumerate(nums):
        if target - x in seen:
            return [seen[target - x], i]
        seen[x] = i
"""

GOOD_REPLY = (
    """<think>
Draft: ```python
def two_sum(nums, target):
    return []
```
Better use a dict.
</think>
Use a hash map from value to index.

```python
"""
    + TWO_SUM_CODE
    + """\
    return []
```

Complexity: O(n) time, O(n) space
"""
)

WRONG_REPLY = """<think>quick</think>
```python
def two_sum(nums, target):
    return [0, 1]
```
Complexity: O(1) time, O(1) space
"""
