"""Output comparison, shared by the judge and the in-sandbox harness (standard library only).

- `tokens_match`: stdin-style output, token by token, numbers with a tolerance where the expected token is
  a decimal.
- `values_match`: function-style return values, structurally (tuples equal lists, floats with a
  tolerance, sets and dicts by content).
"""

from __future__ import annotations

import math

TOLERANCE = 1e-6


def floats_close(actual: float, expected: float, tolerance: float = TOLERANCE) -> bool:
    """Absolute or relative closeness, with NaN equal to NaN and infinities equal to themselves."""
    if math.isnan(actual) or math.isnan(expected):
        return math.isnan(actual) and math.isnan(expected)
    return math.isclose(actual, expected, rel_tol=tolerance, abs_tol=tolerance)


def tokens_match(actual: str, expected: str, tolerance: float = TOLERANCE) -> bool:
    """Whether two outputs hold the same whitespace-separated tokens (decimals compared with tolerance)."""
    got, want = actual.split(), expected.split()
    if len(got) != len(want):
        return False
    return all(token_match(g, w, tolerance) for g, w in zip(got, want, strict=True))


def token_match(actual: str, expected: str, tolerance: float) -> bool:
    """One token: equal text, or both numbers close enough when the expected one is a decimal."""
    if actual == expected:
        return True
    if tolerance <= 0 or not any(c in expected for c in ".eE"):
        return False
    try:
        return floats_close(float(actual), float(expected), tolerance)
    except ValueError:
        return False


def values_match(actual: object, expected: object, tolerance: float = TOLERANCE) -> bool:
    """Structural equality: sequences element-wise (list == tuple), floats within the tolerance."""
    if isinstance(expected, bool) or isinstance(actual, bool):
        return type(actual) is type(expected) and actual == expected
    if isinstance(expected, float) or isinstance(actual, float):
        if isinstance(actual, int | float) and isinstance(expected, int | float):
            return floats_close(float(actual), float(expected), tolerance)
        return False
    if isinstance(expected, list | tuple) and isinstance(actual, list | tuple):
        return len(actual) == len(expected) and all(
            values_match(a, e, tolerance) for a, e in zip(actual, expected, strict=True)
        )
    if isinstance(expected, dict) and isinstance(actual, dict):
        return actual.keys() == expected.keys() and all(
            values_match(actual[k], expected[k], tolerance) for k in expected
        )
    try:
        return bool(actual == expected)
    except Exception:  # noqa: BLE001 - a value whose comparison fails is simply different
        return False
