"""Constraints read from statements: every notation contest sites use, the size to time at, and no
catastrophic backtracking on hostile text."""

from __future__ import annotations

import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from codegen.constraints import normalize, parse_number, read_constraints

G = 10**9


@pytest.mark.parametrize(
    ("text", "name", "bounds"),
    [
        ("1 <= n <= 2*10^5", "n", (1, 200_000)),
        ("1 ≤ n ≤ 2·10^5", "n", (1, 200_000)),
        ("|a_i| <= 10^9", "a", (-G, G)),
        ("The first line contains n (1 ≤ n ≤ 100000).", "n", (1, 100_000)),
        ("0 <= k <= 10^18", "k", (0, 10**18)),
        ("1 <= n <= 1e5", "n", (1, 100_000)),
        (r"$1 \le n \le 2 \cdot 10^5$", "n", (1, 200_000)),
        (r"$1 \leq a_{i} \leq 10^{9}$", "a", (1, G)),
        ("1 <= nums.length <= 10<sup>4</sup>", "len(nums)", (1, 10_000)),
        ("-10<sup>9</sup> &lt;= nums[i] &lt;= 10<sup>9</sup>", "nums", (-G, G)),
        ("1 <= |s| <= 2 * 10^5", "len(s)", (1, 200_000)),
        ("10^9 >= a_i >= 1", "a", (1, G)),
        ("0 < x < 10", "x", (1, 9)),
        ("1 <= a_1, a_2, ..., a_n <= 10^9", "a", (1, G)),
        ("n ≤ 10⁵", "n", (0, 100_000)),
        ("1 <= n <= 100,000", "n", (1, 100_000)),
        ("-2^31 <= x <= 2^31 - 1", "x", (-(2**31), 2**31 - 1)),
        ("n is at most 300", "n", (0, 300)),
        ("1 <= grid[i].length <= 50", "len(grid[i])", (1, 50)),
        ("1 ≤ n, m ≤ 500", "m", (1, 500)),
        ("1 <= k <= n, 1 <= n <= 7", "k", (1, 7)),
    ],
)
def test_notations(text: str, name: str, bounds: tuple[int, int]):
    """Each notation reads as the variable's [low, high]."""
    assert read_constraints(text).bound(name) == bounds


def test_max_n_is_the_bound_of_n_else_the_largest_size():
    """max_n is n's bound when n is stated, else the largest size-like bound; values never count."""
    statement = "1 ≤ t ≤ 10^4\n1 ≤ n ≤ 2·10^5\n|a_i| ≤ 10^9\n1 ≤ m ≤ 3·10^5"
    assert read_constraints(statement).max_n == 200_000
    assert read_constraints("1 <= m <= 50\n1 <= q <= 300\n1 <= a_i <= 10^9").max_n == 300
    assert read_constraints("1 <= s.length <= 1000").max_n == 1000
    assert read_constraints("|a_i| <= 10^9, 1 <= t <= 100").max_n is None
    assert read_constraints("no constraints here").max_n is None


def test_subtasks_keep_the_widest_range():
    """A variable stated several times (subtasks) keeps the widest range, so timing uses the largest."""
    text = "Subtask 1: 1 <= n <= 10.\nSubtask 2: 1 <= n <= 2000.\nSubtask 3: 1 <= n <= 2 * 10^5."
    assert read_constraints(text).bound("n") == (1, 200_000)


def test_numbers():
    """Products, powers, exponents and offsets give exact integers; non-integers and absurd ones None."""
    assert parse_number("2 * 10^5") == 200_000
    assert parse_number("1e5") == 100_000
    assert parse_number("2.5e5") == 250_000
    assert parse_number("10^9+7") == 10**9 + 7
    assert parse_number("-10^18") == -(10**18)
    assert parse_number("0.5") is None
    assert parse_number("10^100000") is None


def test_normalize_unicode_latex_html():
    """≤, \\le, &le; all become <=; ·, \\cdot, × become *; superscripts become powers."""
    assert normalize("1 ≤ n ≤ 2·10⁵").split() == ["1", "<=", "n", "<=", "2*10^5"]
    assert "<=" in normalize(r"\leq") and "*" in normalize(r"\times") and "<=" in normalize("&le;")


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    low=st.integers(-(10**6), 10**6),
    span=st.integers(0, 10**6),
    name=st.sampled_from(["n", "m", "k", "x", "a_i", "b[i]"]),
    style=st.sampled_from(["ascii", "unicode", "latex", "sentence"]),
)
def test_stated_bounds_read_back(low: int, span: int, name: str, style: str):
    """A bound written in any notation, inside prose, reads back exactly."""
    high = low + span
    less = {"ascii": "<=", "unicode": "≤", "latex": r"\le", "sentence": "<="}[style]
    chain = f"{low} {less} {name} {less} {high}"
    if style == "latex":
        chain = f"${chain}$"
    text = f"Each test gives a value ({chain}). Print the answer." if style == "sentence" else chain
    key = name.split("_")[0].split("[")[0]
    assert read_constraints(text).bound(key) == (low, high)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(alphabet=st.sampled_from(list("n a_i|<=≤ 0123456789^*e.,$\\le{}()-+xy")), max_size=300))
def test_never_raises_on_noise(text: str):
    """Any text gives Constraints (possibly empty), never an exception; every range is ordered."""
    constraints = read_constraints(text)
    assert all(low <= high for low, high in constraints.bounds.values())


@pytest.mark.parametrize(
    "text",
    [
        "a, " * 4000 + "<",
        "1 <= " + "a, " * 3000,
        "a_" * 5000 + "<= 1",
        "|a" * 4000,
        "1 <= 2 " * 3000,
        "10^" * 4000,
    ],
)
def test_hostile_text_is_linear(text: str):
    """Long runs that used to make a single regex backtrack are read in well under a second."""
    start = time.perf_counter()
    read_constraints(text)
    assert time.perf_counter() - start < 1.0
