"""The model-free complexity estimate shown on hover."""

from __future__ import annotations

import pytest

from codegen.complexity import Cost, estimate

CASES = [
    ("python", "def f(n):\n    return n * 2\n", "O(1)", "no loops or recursion"),
    ("python", "def f(a):\n    for x in a:\n        print(x)\n", "O(n)", "1 loop"),
    (
        "python",
        "def f(a):\n    for x in a:\n        for y in a:\n            pass\n",
        "O(n^2)",
        "2 nested loops",
    ),
    (
        "python",
        "def f(a):\n    for x in a:\n        pass\n    for x in a:\n        for y in a:\n            for z in a:\n                pass\n",
        "O(n^3)",
        "3 nested loops",
    ),
    ("python", "def f(a):\n    return [x * y for x in a for y in a]\n", "O(n^2)", "2 nested loops"),
    ("python", "def f(a):\n    a.sort()\n    return a[0]\n", "O(n log n)", "a sort"),
    ("python", "def f(a):\n    for x in a:\n        b = sorted(a)\n", "O(n^2 log n)", "a sort inside 1 loop"),
    (
        "python",
        "def f(a):\n    for x in a:\n        if x == max(a):\n            pass\n",
        "O(n^2)",
        "a linear library call inside 1 loop",
    ),
    ("python", "def f(a):\n    return max(a[0], a[1])\n", "O(1)", "no loops or recursion"),
    (
        "python",
        "def f(a, t):\n    lo, hi = 0, len(a)\n    while lo < hi:\n        mid = (lo + hi) // 2\n        lo = mid + 1\n    return lo\n",
        "O(log n)",
        "a halving loop",
    ),
    (
        "python",
        "def f(n):\n    if n < 2:\n        return n\n    return f(n - 1) + f(n - 2)\n",
        "O(2^n)",
        "2 recursive calls per step, not memoized",
    ),
    (
        "python",
        "from functools import lru_cache\n@lru_cache(None)\ndef f(n):\n    return n if n < 2 else f(n - 1) + f(n - 2)\n",
        "O(n)",
        "memoized recursion",
    ),
    (
        "python",
        "def f(n):\n    return 1 if n == 0 else n * f(n - 1)\n",
        "O(n)",
        "one recursive call per step",
    ),
    (
        "python",
        "def f(a):\n    if len(a) < 2:\n        return a\n    m = len(a) // 2\n    l, r = f(a[:m]), f(a[m:])\n"
        "    for x in a:\n        pass\n    return l + r\n",
        "O(n log n)",
        "2 recursive calls on halves (divide and conquer), each with 1 loop",
    ),
    (
        "python",
        "def f(x, n):\n    if n == 0:\n        return 1\n    return f(x, n // 2) ** 2\n",
        "O(log n)",
        "one recursive call on half the input",
    ),
    (
        "cpp",
        "int f(vector<int>& a) {\n  for (int i = 0; i < n; i++)\n    for (int x : a) {}\n  return 0;\n}\n",
        "O(n^2)",
        "2 nested loops",
    ),
    ("cpp", "void f(vector<int>& a) {\n  std::sort(a.begin(), a.end());\n}\n", "O(n log n)", "a sort"),
    (
        "cpp",
        "int f(int n) {\n  int c = 0;\n  while (n) { n >>= 1; c++; }\n  return c;\n}\n",
        "O(log n)",
        "a halving loop",
    ),
    (
        "cpp",
        "long f(int n) {\n  return n <= 1 ? 1 : f(n - 1) + f(n - 2);\n}\n",
        "O(2^n)",
        "2 recursive calls per step, not memoized",
    ),
    (
        "cpp",
        "long f(vector<int>& a) {\n  return accumulate(a.begin(), a.end(), 0L);\n}\n",
        "O(n)",
        "a linear library call",
    ),
    (
        "java",
        "class A {\n  int f(int[] a) {\n    for (int x : a) { for (int y : a) { } }\n    return 0;\n  }\n}\n",
        "O(n^2)",
        "2 nested loops",
    ),
    (
        "rust",
        "fn f(a: &Vec<i32>) -> i32 {\n    for x in a.iter() { for y in a.iter() { } }\n    0\n}\n",
        "O(n^2)",
        "2 nested loops",
    ),
    (
        "go",
        "package main\nfunc f(a []int) int {\n\tfor i := range a {\n\t\t_ = i\n\t}\n\treturn 0\n}\n",
        "O(n)",
        "1 loop",
    ),
    ("javascript", "function f(a) {\n  a.sort();\n  for (const x of a) {}\n}\n", "O(n log n)", "a sort"),
]


@pytest.mark.parametrize(("language", "text", "time", "reason"), CASES)
def test_estimates(language: str, text: str, time: str, reason: str):
    """Each shape gets the expected bound and reason."""
    line = max(i for i, line in enumerate(text.split("\n")) if line.strip() and not line.startswith("}")) - 1
    result = estimate(text, language, max(line, 0), 4)
    assert result is not None
    assert (result.time, result.reason) == (time, reason)
    assert result.summary == f"{time} time ({reason})"


def test_outside_functions_is_none():
    """Outside any function there is nothing to estimate."""
    assert estimate("x = 1\n", "python", 0, 0) is None


def test_nested_function_is_estimated_alone():
    """A nested function's loops do not count for the outer function, and vice versa."""
    text = "def outer(a):\n    def inner(b):\n        for x in b:\n            pass\n    return inner\n"
    assert estimate(text, "python", 4, 5).time == "O(1)"
    assert estimate(text, "python", 2, 8).time == "O(n)"


def test_cost_notation():
    """Costs print in the usual notation."""
    assert Cost(n_power=2, log_power=1).big_o() == "O(n^2 log n)"
    assert Cost(log_power=2).big_o() == "O(log^2 n)"
    assert Cost(exponential=True).big_o() == "O(2^n)"
