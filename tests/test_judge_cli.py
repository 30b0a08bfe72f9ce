"""`judge SOLUTION --tests DIR`: exit statuses, --json, languages, stored Competitive Companion samples."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from lsp_server.companion import Problem, Sample, store_problem
from sandbox.cli import add_judge_arguments, run_judge


def judge_command(*argv: str) -> int:
    """Parse the arguments as the lead's CLI does and run the command."""
    parser = argparse.ArgumentParser()
    add_judge_arguments(parser)
    return run_judge(parser.parse_args([str(a) for a in argv]))


@pytest.fixture
def tests_dir(tmp_path: Path) -> Path:
    """A folder with 1.in/1.out, 2.in/2.ans and 10.in/10.out."""
    folder = tmp_path / "tests"
    folder.mkdir()
    for name, given, answer, suffix in (
        ("1", "1 2", "3", ".out"),
        ("2", "5 5", "10", ".ans"),
        ("10", "2 2", "4", ".out"),
    ):
        (folder / f"{name}.in").write_text(given + "\n")
        (folder / f"{name}{suffix}").write_text(answer + "\n")
    return folder


def test_accepted_python_prints_a_table(tmp_path, tests_dir, capsys):
    """Exit 0 and a table with every test in natural order."""
    solution = tmp_path / "sum.py"
    solution.write_text("print(sum(map(int, input().split())))\n")
    assert judge_command(solution, "--tests", tests_dir) == 0
    out = capsys.readouterr().out
    assert out.index("\n1 ") < out.index("\n2 ") < out.index("\n10 ") and "AC  (3/3 passed" in out


def test_wrong_cpp_with_json(tmp_path, tests_dir, capsys):
    """Exit 1 for a non-AC verdict; --json has the documented shape."""
    solution = tmp_path / "sum.cpp"
    solution.write_text(
        '#include <cstdio>\nint main(){int a,b;std::scanf("%d%d",&a,&b);std::printf("%d\\n",a*b);}\n'
    )
    assert (
        judge_command(solution, "--tests", tests_dir, "--json", "--time-limit", "1", "--memory-limit", "64")
        == 1
    )
    data = json.loads(capsys.readouterr().out)
    assert data["verdict"] == "WA" and data["isolation"]
    assert [(t["name"], t["verdict"]) for t in data["tests"]] == [("1", "WA"), ("2", "WA"), ("10", "AC")]
    assert set(data["tests"][0]) == {"name", "verdict", "time_ms", "memory_mb"}


def test_time_limit_flag_applies(tmp_path, tests_dir, capsys):
    """--time-limit turns a slow solution into TLE."""
    solution = tmp_path / "slow.py"
    solution.write_text("while True:\n    pass\n")
    assert judge_command(solution, "--tests", tests_dir, "--time-limit", "0.3", "--json") == 1
    assert json.loads(capsys.readouterr().out)["tests"][0]["verdict"] == "TLE"


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        ("missing-solution", "does not exist"),
        ("missing-dir", "tests folder"),
        ("empty-dir", "holds no NAME.in"),
        ("no-answer", "has no 1.out or 1.ans"),
        ("bad-extension", "pass --lang"),
        ("no-tests-no-samples", "pass --tests DIR"),
    ],
)
def test_bad_usage_exits_2_with_one_sentence(tmp_path, capsys, setup, message):
    """Missing files and unknown languages give exit 2 and a clear sentence, no traceback."""
    solution = tmp_path / ("sol.txt" if setup == "bad-extension" else "sol.py")
    if setup != "missing-solution":
        solution.write_text("print(1)\n")
    folder = tmp_path / "t"
    if setup in ("empty-dir", "no-answer", "bad-extension"):
        folder.mkdir()
    if setup in ("no-answer", "bad-extension"):
        (folder / "1.in").write_text("")
        if setup == "bad-extension":
            (folder / "1.out").write_text("1")
    argv = [solution] if setup == "no-tests-no-samples" else [solution, "--tests", folder]
    assert judge_command(*argv) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and err.count("\n") == 1


def test_stored_companion_samples_and_limits_are_used(tmp_path, capsys):
    """Without --tests, the samples (and time limit) Competitive Companion stored are judged."""
    problem = Problem(
        "A. Sum", "https://example.com/a", [Sample("1 2\n", "3\n"), Sample("4 4\n", "8\n")], 500, 64
    )
    solution = store_problem(problem, tmp_path, "python")
    solution.write_text("print(sum(map(int, input().split())))\n")
    assert judge_command(solution, "--json") == 0
    assert [t["verdict"] for t in json.loads(capsys.readouterr().out)["tests"]] == ["AC", "AC"]
