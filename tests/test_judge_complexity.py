"""Empirical complexity: growth exponents of known algorithms, and calls with nothing to grow."""

from __future__ import annotations

from sandbox.complexity import fit, growable, measure_complexity

LINEAR = "def total(nums):\n    s = 0\n    for x in nums:\n        s += x\n    return s\n"
QUADRATIC = "def pairs(nums):\n    c = 0\n    for x in nums:\n        for y in nums:\n            c += x < y\n    return c\n"


def test_quadratic_grows_faster_than_linear():
    """A double loop measures a clearly larger exponent than a single loop."""
    linear = measure_complexity(LINEAR, "total([3, 1, 2, 5])", budget_s=1.5)
    quadratic = measure_complexity(QUADRATIC, "pairs([3, 1, 2, 5])", budget_s=1.5)
    assert linear is not None and quadratic is not None
    assert quadratic.exponent > linear.exponent + 0.6
    assert quadratic.describe().startswith("measured ~n^")
    assert quadratic.sizes == sorted(quadratic.sizes) and len(quadratic.sizes) == len(quadratic.times) >= 3


def test_strings_grow_and_leetcode_methods_resolve():
    """String arguments grow too, and `Solution` methods are found by name."""
    code = "class Solution:\n    def count(self, s: str, c: str) -> int:\n        return sum(ch == c for ch in s)\n"
    measured = measure_complexity(code, "count('abcab', 'a')", budget_s=1.0)
    assert measured is not None and measured.sizes[-1] > 5


def test_nothing_to_grow_or_failing_code_gives_none():
    """No list or string argument, or a crashing function, measures nothing."""
    assert not growable("f(3, 4)") and not growable("f(x)") and not growable("not a call")
    assert measure_complexity(LINEAR, "total(7)") is None
    assert (
        measure_complexity("def total(nums):\n    raise ValueError\n", "total([1, 2])", budget_s=0.5) is None
    )


def test_fit_recovers_exponents_from_exact_points():
    """The least-squares fit on exact n^2 and n^1 points."""
    assert fit([[n, 1e-6 * n * n] for n in (100, 200, 400, 800)]).exponent == 2.0
    assert fit([[n, 1e-6 * n] for n in (100, 200, 400, 800)]).exponent == 1.0
    assert fit([[100, 1e-9], [200, 1e-9]]) is None


def test_class_method_call_is_measured():
    """A `Solution().method(...)` call is grown and timed like a plain one."""
    code = "class Solution:\n    def total(self, nums):\n        return sum(nums)\n"
    assert growable("Solution().total([1, 2, 3])")
    assert measure_complexity(code, "Solution().total([1, 2, 3])", budget_s=0.8) is not None
