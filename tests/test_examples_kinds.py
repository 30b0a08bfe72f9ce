"""Samples that are not samples: when a function's examples disagree in kind, the ones under the
`Examples:` heading are trusted and the others are dropped, with a note saying which."""

from __future__ import annotations

import gzip
import json

import pytest

from codegen.examples import Example, dropped_note, trusted_examples, value_kind
from codegen.pipeline import run_examples
from codegen.tasks import extract_tasks
from sandbox import Judge, Limits, Verdict
from tests.datasets import HUMANEVAL


@pytest.fixture(scope="module")
def humaneval() -> dict[str, dict]:
    """The HumanEval problems by task id (the test is skipped where the data set is absent)."""
    if not HUMANEVAL.exists():
        pytest.skip(f"{HUMANEVAL} is not on this machine")
    with gzip.open(HUMANEVAL, "rt", encoding="utf-8") as handle:
        return {row["task_id"]: row for row in map(json.loads, handle)}


def task_of(problem: dict):
    """The task of a HumanEval prompt with a TODO in its body."""
    (task,) = extract_tasks(problem["prompt"] + "    # TODO: implement\n    pass\n", "python")
    return task


def test_tri_recurrence_is_not_an_example(humaneval):
    """HumanEval's `tri` states the recurrence `tri(1) = 3` and `tri(4) = 3` in its prose while the function
    returns a list: only `tri(3) = [1, 3, 2, 8]` under `Examples:` is kept, the two are dropped and named,
    and the canonical solution now passes its examples in the judge (it was rejected before)."""
    problem = humaneval["HumanEval/130"]
    task = task_of(problem)
    assert task.examples == (Example("tri(3)", "[1, 3, 2, 8]", "call"),)
    assert [(e.input, e.output) for e in task.dropped_examples] == [("tri(1)", "3"), ("tri(4)", "3")]
    note = dropped_note(task.dropped_examples)
    assert note == "Ignored 2 examples that disagree with the Examples section: tri(1) -> 3, tri(4) -> 3."
    judge = Judge(Limits(time_s=5.0))
    report = run_examples(task, problem["prompt"] + problem["canonical_solution"], judge)
    assert report.verdict is Verdict.AC, report.message


def test_only_tri_loses_examples_in_humaneval(humaneval):
    """Mixed kinds that are all under the heading stay (split_words returns a list or a count, rounded_avg a
    string or -1, compare_one a number, a string or None): HumanEval/130 is the only prompt that loses any."""
    dropping = {task_id for task_id, problem in humaneval.items() if task_of(problem).dropped_examples}
    assert dropping == {"HumanEval/130"}
    assert len(task_of(humaneval["HumanEval/125"]).examples) == 3


def test_rules_without_a_heading_and_for_code():
    """With no `Examples:` heading nothing is dropped; doctests and asserts (code) are never dropped; one
    kind, or None next to any kind, is no disagreement."""
    prose = [Example("f(1)", "3", "call"), Example("f(3)", "[1, 2]", "call")]
    assert trusted_examples(prose, "f(1) = 3\nf(3) = [1, 2]", "f") == (prose, [])
    text = "f(1) = 3\nExamples:\n    f(3) = [1, 2]\n"
    doctest = Example("f(2)", "5", "doctest")
    kept, dropped = trusted_examples([*prose, doctest], text, "f")
    assert kept == [prose[1], doctest] and dropped == [prose[0]]
    optional = [Example("g([])", "None", "call"), Example("g([1])", "1", "call")]
    assert trusted_examples(optional, "Examples:\ng([]) = None\n", "g") == (optional, [])
    assert dropped_note([]) == ""


@pytest.mark.parametrize(
    ("expr", "kind"),
    [
        ("3", "number"),
        ("-2.5", "number"),
        ("True", "bool"),
        ("'a'", "str"),
        ("[1]", "list"),
        ("(1,)", "tuple"),
        ("{1}", "set"),
        ("{1: 2}", "dict"),
        ("None", None),
        ("f(x)", None),
        ("not python", None),
    ],
)
def test_value_kind(expr: str, kind: str | None):
    """Literal values have a kind; None and non-literals agree with every kind."""
    assert value_kind(expr) == kind
