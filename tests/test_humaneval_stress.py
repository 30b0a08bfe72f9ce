"""HumanEval stress figures on the bench's fixed --quick subset (bench/humaneval_stress.py): the correct
solutions stay accepted, and more wrong ones (mutants that pass the examples and fail the data set's own
tests) are rejected against a brute force than by the samples alone, by exactly the counts the README's
subset line gives."""

from __future__ import annotations

import pytest

from devtools.scripts import load_bench
from sandbox.isolation import IsolationUnavailable, choose
from tests.datasets import HUMANEVAL


@pytest.fixture(scope="module")
def bench():
    """The benchmark script as a module (skipped without the data set or the strong sandbox)."""
    if not HUMANEVAL.exists():
        pytest.skip(f"HumanEval is not at {HUMANEVAL}")
    try:
        choose("strong")
    except IsolationUnavailable as exc:
        pytest.skip(str(exc))
    return load_bench("humaneval_stress")


@pytest.fixture(scope="module")
def figures(bench):
    """The figures of the quick subset, measured once."""
    return bench.measure(bench.select(bench.load_problems(HUMANEVAL), None, quick=True))


def test_bench_finds_the_data_set(bench):
    """The bench's own path to the data set is the tests' path."""
    assert bench.DATASET.resolve() == HUMANEVAL.resolve()


def test_mutants_are_deterministic(bench):
    """The same mutants, in the same order, every time."""
    row = next(r for r in bench.load_problems(HUMANEVAL) if r["task_id"] == bench.QUICK[0])
    first = bench.mutants(bench.problem_of(row))
    again = bench.mutants(bench.problem_of(row))
    assert first and [m.module for m in first] == [m.module for m in again]


def test_correct_solutions_stay_accepted(figures, bench):
    """Every correct solution of the subset survives its stress test on the generated calls."""
    assert figures.with_examples == len(bench.QUICK)
    assert figures.canonical_fails_examples == []
    assert figures.correct == len(bench.QUICK)
    assert figures.correct_accepted == figures.correct, figures.correct_rejected


def test_wrong_solutions_rejected_beyond_the_samples(figures):
    """The five wrong solutions all pass the samples (measured: the samples reject none), the stress test
    against the canonical solution as brute force rejects four (HumanEval/6's goes unnoticed), and with no
    oracle only the one that crashes (HumanEval/12) is rejected."""
    assert figures.wrong == 5, figures.wrong_by_operator
    assert figures.samples_rejected == 0
    assert figures.oracle_rejected >= 4, figures.wrong_missed
    assert figures.oracle_broken == []
    assert 1 <= figures.oracle_free_rejected < figures.oracle_rejected
