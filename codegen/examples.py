"""Examples (input, expected output) read from docstrings and comments."""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Example:
    """One sample: for `function` style, `input` is a call expression and `output` the expected value's
    expression; for `stdin` style, both are the raw text fed to and expected from the program."""

    input: str
    output: str
    layout: str = "doctest"


_LEETCODE = re.compile(
    r"Input\s*:\s*(?P<input>.+?)\s*\n?\s*Output\s*:\s*(?P<output>.+?)\s*(?=\n\s*\n|\n\s*Explanation|\n\s*Example|\n\s*Input|\Z)",
    re.DOTALL | re.IGNORECASE,
)


def examples_from_docstring(doc: str, function: str) -> list[Example]:
    """Return doctest and LeetCode-style examples found in a function's docstring."""
    examples = _doctest_examples(doc)
    if not examples:
        examples = _leetcode_examples(doc, function)
    return examples


def _doctest_examples(doc: str) -> list[Example]:
    """Read `>>> expr` lines (with `...` continuations) and the expected output below them."""
    out: list[Example] = []
    lines = doc.split("\n")
    i = 0
    while i < len(lines):
        stripped = lines[i].strip()
        if not stripped.startswith(">>>"):
            i += 1
            continue
        expr = [stripped[3:].strip()]
        i += 1
        while i < len(lines) and lines[i].strip().startswith("..."):
            expr.append(lines[i].strip()[3:].strip())
            i += 1
        expected = []
        while i < len(lines) and lines[i].strip() and not lines[i].strip().startswith(">>>"):
            expected.append(lines[i].strip())
            i += 1
        if expected:
            out.append(Example(" ".join(expr), "\n".join(expected), "doctest"))
    return out


def _leetcode_examples(doc: str, function: str) -> list[Example]:
    """Read `Input: a = 1, b = [2] Output: 3` blocks and turn them into calls of the function."""
    out = []
    for match in _LEETCODE.finditer(doc):
        args = " ".join(match.group("input").split())
        expected = " ".join(match.group("output").split())
        out.append(Example(f"{function}({args})", expected, "leetcode"))
    return out
