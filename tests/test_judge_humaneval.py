"""HumanEval through the judge: canonical solutions pass their own `check` tests; broken ones do not.

Each problem is judged in function style with the call `check(ENTRY_POINT)` and the expected value `None`
(the `check` function asserts and returns nothing), the solution being prompt + canonical solution + test.
"""

from __future__ import annotations

import gzip
import json
import random

import pytest

from sandbox import Judge, Limits, TestCase, Verdict
from tests.datasets import HUMANEVAL

DATASET = HUMANEVAL
SAMPLE = 20


@pytest.fixture(scope="module")
def problems() -> list[dict]:
    """A fixed sample of HumanEval problems."""
    if not DATASET.exists():
        pytest.skip(f"HumanEval is not at {DATASET}")
    with gzip.open(DATASET, "rt", encoding="utf-8") as handle:
        rows = [json.loads(line) for line in handle]
    return random.Random(4).sample(rows, SAMPLE)


def program(problem: dict, body: str) -> str:
    """The prompt with a body, followed by the problem's test code."""
    return problem["prompt"] + body + "\n\n" + problem["test"] + "\n"


def test_canonical_solutions_pass(problems):
    """Every sampled canonical solution is accepted."""
    judge = Judge(Limits(time_s=5.0))
    failures = []
    for problem in problems:
        call = TestCase(problem["task_id"], f"check({problem['entry_point']})", "None")
        report = judge.run(program(problem, problem["canonical_solution"]), [call])
        if report.verdict is not Verdict.AC:
            failures.append(f"{problem['task_id']}: {report.verdict} {report.tests[0].message}")
    assert failures == []


def test_broken_solutions_fail(problems):
    """A body that returns None fails its check (RE from the assertion, or WA)."""
    judge = Judge(Limits(time_s=5.0))
    for problem in problems[:5]:
        call = TestCase(problem["task_id"], f"check({problem['entry_point']})", "None")
        report = judge.run(program(problem, "    return None\n"), [call])
        assert report.verdict in (Verdict.RE, Verdict.WA), problem["task_id"]
