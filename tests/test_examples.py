"""Examples in every layout: doctest, LeetCode, call-result lines, asserts, Sample blocks, HumanEval."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from codegen.examples import (
    Example,
    arguments_call,
    assert_examples,
    clean_comment,
    function_examples,
    pythonize,
    sample_files,
    stdin_block_examples,
    stdin_examples,
)
from codegen.tasks import extract_tasks
from tests.datasets import HUMANEVAL


def pairs(examples: list[Example]) -> list[tuple[str, str]]:
    """Return (input, output) pairs."""
    return [(e.input, e.output) for e in examples]


def test_doctest_with_continuation_and_multiline_output():
    """`>>>` with `...` continuation lines, and expected output spanning lines, are read whole."""
    doc = ">>> pairs([1,\n...        2])\n[(1,\n 2)]\n>>> other(3)\n4\n>>> pairs([])\n[]\n"
    assert pairs(function_examples(doc, "pairs")) == [("pairs([1, 2])", "[(1,\n2)]"), ("pairs([])", "[]")]


def test_doctest_comparison_forms():
    """`>>> f(x) == y` (with True or no output) reads as f(x) -> y."""
    doc = ">>> f(1) == 2\nTrue\n>>> f([]) == []\n"
    assert pairs(function_examples(doc, "f")) == [("f(1)", "2"), ("f([])", "[]")]


def test_leetcode_layouts():
    """LeetCode Input/Output on separate lines, on one line, with Explanation, and with true/null."""
    doc = (
        "Example 1:\n\nInput: nums = [2,7,11,15], target = 9\nOutput: [0,1]\n"
        "Explanation: Because nums[0] + nums[1] == 9.\n\n"
        "Example 2: Input: nums = [3,3], target = 6 Output: [0,1]\n"
        'Example 3:\nInput: s = "a,b", flag = true\nOutput: null\n'
        "Example 4:\nInput: grid = [[1,2],\n  [3,4]], k = 1\nOutput: [[3,4],\n [1,2]]\n"
    )
    assert pairs(function_examples(doc, "solve")) == [
        ("solve(nums=[2,7,11,15], target=9)", "[0,1]"),
        ("solve(nums=[3,3], target=6)", "[0,1]"),
        ('solve(s="a,b", flag=True)', "None"),
        ("solve(grid=[[1,2], [3,4]], k=1)", "[[3,4], [1,2]]"),
    ]


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("f(3) == 9", ("f(3)", "9")),
        ("f(3) => 9", ("f(3)", "9")),
        ("f(3) ==> 9", ("f(3)", "9")),
        ("f(3) ➞ 9", ("f(3)", "9")),
        ("f(3) -> 9", ("f(3)", "9")),
        ("f(3) = 9", ("f(3)", "9")),
        ("f(3) should return 9.", ("f(3)", "9")),
        ("f('a b') returns 'b a'", ("f('a b')", "'b a'")),
        ("f(3)   # returns 9", ("f(3)", "9")),
        ("f(3) # => 9 (three squared)", ("f(3)", "9")),
        ("For example: f(3) == 9", ("f(3)", "9")),
        ('f({"a": 1}) should return True', ('f({"a": 1})', "True")),
    ],
)
def test_call_result_lines(line: str, expected: tuple[str, str]):
    """HumanEval's call-result spellings all read as one example."""
    assert pairs(function_examples(f"Examples:\n    {line}\n", "f")) == [expected]


def test_call_result_rejects_non_expressions_and_self_reference():
    """A value that is not an expression, or that calls the function again, is not an example."""
    doc = "tri(2) = 1 + (2 / 2) = 2\ntri(3) = tri(2) + tri(1)\nother(1) == 2\ntri(n) is used below\ntri(x): helper\n"
    assert function_examples(doc, "tri") == []


def test_for_output_layout():
    """`For lst = [1,2,3] the output should be 14` reads as a keyword call."""
    doc = 'For lst = [1,2,3] the output should be 14\nFor N = 150, the sum is 6 the output should be "110".\n'
    assert pairs(function_examples(doc, "f")) == [("f(lst=[1,2,3])", "14"), ("f(N=150)", '"110"')]


def test_other_languages_literals_become_python():
    """Brace lists and true/false/null become Python spelling for languages other than Python."""
    doc = "f({1, 2}, true) == {2, 1}\nf({}, false) -> nullptr\n"
    assert pairs(function_examples(doc, "f", "cpp")) == [
        ("f([1, 2], True)", "[2, 1]"),
        ("f([], False)", "None"),
    ]
    assert pairs(function_examples("f({1, 2}) == {1}", "f", "python")) == [("f({1, 2})", "{1}")]
    assert pythonize("{'}': true}") == "['}': True]"


def test_assert_lines_python_and_cpp():
    """Python `assert f(...) == v` and C-like `assert(f(...) == v);` lines are examples."""
    source = "assert f(1) == 2\nassert f(2) == 4, 'msg'\nassert g(1) == 1\n  assert(f(3) == 6); // ok\nassert f(5) != 0\n"
    assert pairs(assert_examples(source, "f")) == [("f(1)", "2"), ("f(2)", "4"), ("f(3)", "6")]
    assert pairs(assert_examples("assert(s.f({1,2}) == true);", "f", "cpp")) == [("f([1,2])", "True")]


def test_arguments_call_positional_and_invalid():
    """Positional values stay positional; unparseable arguments give None."""
    assert arguments_call("f", "[1, 2], 3") == "f([1, 2], 3)"
    assert arguments_call("f", "x = [1, 2") is None


SAMPLE_BLOCKS = [
    ("Sample Input\n3\n1 2 3\nSample Output\n6\n", [("3\n1 2 3\n", "6\n")]),
    ("Input\n2\n\nOutput\n4\n", [("2\n", "4\n")]),
    (
        "Sample Input 1\n1\nSample Output 1\n1\n\nSample Input 2\n2\nSample Output 2\n4\n",
        [("1\n", "1\n"), ("2\n", "4\n")],
    ),
    (
        "Example Input:\n  5 5\n  ab\nExample Output:\n  yes\n\nNote\nthe only pair\n",
        [("5 5\nab\n", "yes\n")],
    ),
    ("入力例 1\n3\n出力例 1\n9\n", [("3\n", "9\n")]),
    ("### Sample Input #1\n```\n4\n```\n### Sample Output #1\n```\n16\n```\n", [("4\n", "16\n")]),
    ("Input\n3\nOutput\n6\n\nIn the first test case we sum all three numbers.\n", [("3\n", "6\n")]),
]


@pytest.mark.parametrize(("text", "expected"), SAMPLE_BLOCKS)
def test_stdin_sample_blocks(text: str, expected: list[tuple[str, str]]):
    """Codeforces/AtCoder sample blocks in all their spellings."""
    assert pairs(stdin_block_examples(text)) == expected


def test_stdin_inline_pairs_when_no_blocks():
    """Single-line Input:/Output: pairs are stdin examples when there are no heading blocks."""
    assert pairs(stdin_examples("Input: 3 4\nOutput: 7\n")) == [("3 4\n", "7\n")]


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("// hello", "hello"),
        ("/// doc", "doc"),
        ("# note", "note"),
        ("/* one */", "one"),
        ("/**\n * a\n *   b\n */", "a\n  b"),
        ("/*\n  x\n  y\n*/", "x\ny"),
    ],
)
def test_clean_comment(raw: str, clean: str):
    """Comment syntax is removed, keeping relative indentation."""
    assert clean_comment(raw) == clean


def test_sample_files_ignore_big_and_unpaired(tmp_path: Path):
    """Inputs without an output file are skipped; nothing beside a source gives no examples."""
    source = tmp_path / "p.py"
    source.write_text("")
    assert sample_files(source).examples == ()
    (tmp_path / "p.in").write_text("1\n")
    assert sample_files(source).examples == ()
    (tmp_path / "p.out").write_text("2\n")
    assert pairs(sample_files(source).examples) == [("1\n", "2\n")]


def test_cph_file_for_other_source_is_ignored(tmp_path: Path):
    """A .cph problem whose srcPath names another file does not apply."""
    source = tmp_path / "a.py"
    (tmp_path / ".cph").mkdir()
    data = {"tests": [{"input": "1", "output": "1"}], "srcPath": str(tmp_path / "b.py")}
    (tmp_path / ".cph" / ".a.py_ff.prob").write_text(json.dumps(data))
    (tmp_path / ".cph" / ".a.py_00.prob").write_text("{not json")
    assert sample_files(source).examples == ()


def _humaneval() -> list[dict]:
    """Return the HumanEval problems, skipping the test when the data set is absent."""
    if not HUMANEVAL.exists():
        pytest.skip(f"{HUMANEVAL} is not on this machine")
    with gzip.open(HUMANEVAL, "rt", encoding="utf-8") as handle:
        return [json.loads(line) for line in handle]


def _humaneval_task(problem: dict):
    """Return the task of a HumanEval prompt with a TODO added to the function body."""
    source = problem["prompt"] + "    # TODO: implement\n    pass\n"
    tasks = [t for t in extract_tasks(source, "python") if t.function == problem["entry_point"]]
    assert len(tasks) == 1, problem["task_id"]
    return tasks[0]


def test_humaneval_examples_found_for_most_prompts():
    """Examples are found for at least 150 of the 164 prompts (154 at the time of writing; the rest have
    none, or name another function)."""
    problems = _humaneval()
    found = sum(bool(_humaneval_task(p).examples) for p in problems)
    assert len(problems) == 164
    assert found >= 150


def test_humaneval_examples_agree_with_canonical_solutions():
    """The extracted examples match what the canonical solutions return (>= 95%; 433 of 445 at the time of
    writing, the rest are known errors in the prompts)."""
    checked = agreed = 0
    for problem in _humaneval()[::2]:
        namespace: dict = {}
        exec(problem["prompt"] + problem["canonical_solution"], namespace)  # trusted data set
        for example in _humaneval_task(problem).examples:
            checked += 1
            try:
                agreed += eval(example.input, namespace) == eval(example.output, namespace)
            except Exception:
                pass
    assert checked >= 200
    assert agreed >= 0.95 * checked
