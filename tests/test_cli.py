"""The command line: solve writes only verified code, atomically; tasks/judge/doctor; clear errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from devtools.openai_server import FakeOpenAI
from devtools.samples import GOOD_REPLY, TWO_SUM_SOURCE, WRONG_REPLY

ROOT = Path(__file__).resolve().parents[1]


def cli(*args: str, env: dict | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    """Run `python -m lsp_server ...` like a user runs vibethinker-lsp."""
    full_env = {**os.environ, **(env or {})}
    for key in ("VIBETHINKER_BACKEND", "VIBETHINKER_MODEL", "VIBETHINKER_BASE_URL"):
        if env is None or key not in env:
            full_env.pop(key, None)
    return subprocess.run(
        [sys.executable, "-m", "lsp_server", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=full_env,
        timeout=timeout,
    )


@pytest.fixture
def two_sum_file(tmp_path: Path) -> Path:
    path = tmp_path / "two_sum.py"
    path.write_text(TWO_SUM_SOURCE)
    return path


def test_help_lists_the_subcommands():
    out = cli("--help").stdout
    for command in ("serve", "solve", "tasks", "judge", "download", "doctor"):
        assert command in out


def test_solve_writes_a_verified_solution(two_sum_file: Path):
    with FakeOpenAI(GOOD_REPLY) as fake:
        result = cli(
            "solve",
            str(two_sum_file),
            "--write",
            "--json",
            "-n",
            "2",
            env={"VIBETHINKER_BASE_URL": fake.base_url},
        )
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    [entry] = data["results"]
    assert (entry["line"], entry["verdict"], entry["passed"], entry["total"]) == (9, "AC", 2, 2)
    assert entry["complexity"] == "O(n) time, O(n) space"
    assert "+    seen = {}" in entry["diff"]
    written = two_sum_file.read_text()
    assert "seen = {}" in written and "# TODO" not in written
    compile(written, "two_sum.py", "exec")
    assert not [p for p in two_sum_file.parent.iterdir() if p.name.endswith(".tmp")]


def test_wrong_answer_reports_wa_and_leaves_the_file_untouched(two_sum_file: Path):
    with FakeOpenAI(WRONG_REPLY) as fake:
        result = cli(
            "solve",
            str(two_sum_file),
            "--write",
            "--json",
            "--backend",
            "openai",
            "--base-url",
            fake.base_url,
        )
    assert result.returncode == 1
    [entry] = json.loads(result.stdout)["results"]
    assert entry["verdict"] == "WA" and entry["passed"] < entry["total"] == 2
    assert "expected [1, 2], got [0, 1]" in entry["message"]
    assert two_sum_file.read_text() == TWO_SUM_SOURCE
    assert "Nothing verified" in result.stderr


def test_solve_text_output_is_a_diff(two_sum_file: Path):
    with FakeOpenAI(GOOD_REPLY) as fake:
        result = cli("solve", str(two_sum_file), "--line", "9", env={"VIBETHINKER_BASE_URL": fake.base_url})
    assert result.returncode == 0
    assert result.stdout.startswith("# ") and "AC (2/2 examples)" in result.stdout
    assert f"--- a/{two_sum_file}" in result.stdout
    assert two_sum_file.read_text() == TWO_SUM_SOURCE  # no --write


def test_solve_with_the_tiny_transformers_model(two_sum_file: Path, tiny_model_dir: Path):
    """The in-process path users take: a local folder loaded with transformers (random weights: no code)."""
    result = cli(
        "solve",
        str(two_sum_file),
        "--json",
        "--backend",
        "transformers",
        "--model",
        str(tiny_model_dir),
        "-n",
        "2",
        "--max-new-tokens",
        "24",
        "--thinking-budget",
        "16",
        env={"HF_HUB_OFFLINE": "1"},
    )
    assert result.returncode == 1, result.stderr
    [entry] = json.loads(result.stdout)["results"]
    assert entry["verdict"] == "WA" and entry["passed"] == 0
    assert two_sum_file.read_text() == TWO_SUM_SOURCE


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("solve", "/nonexistent/file.py"), "does not exist"),
        (("solve", "README.md"), "is not a language we read"),
        (("tasks", "/nonexistent/file.py"), "does not exist"),
    ],
)
def test_bad_input_gets_one_sentence(args, needle):
    result = cli(*args)
    assert result.returncode == 2
    assert needle in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_missing_weights_are_one_sentence(two_sum_file: Path):
    result = cli("solve", str(two_sum_file), "--model", "nobody/no-such-model", env={"HF_HUB_OFFLINE": "1"})
    assert result.returncode == 2
    assert "were not found in the Hugging Face cache" in result.stderr
    assert "vibethinker-lsp download nobody/no-such-model" in result.stderr
    assert "Traceback" not in result.stderr


def test_solve_without_tasks(tmp_path: Path):
    path = tmp_path / "done.py"
    path.write_text("def f():\n    return 1\n")
    result = cli("solve", str(path))
    assert result.returncode == 1 and "has no tasks" in result.stderr


def test_tasks_json_for_the_demo_file():
    result = cli("tasks", "examples/two_sum.py", "--json")
    data = json.loads(result.stdout)
    assert data["language"] == "python"
    assert [t["function"] for t in data["tasks"]] == ["two_sum", "longest_unique_substring"]
    examples = data["tasks"][0]["examples"]
    assert {"input": "two_sum(nums=[2, 7, 11, 15], target=9)", "output": "[0, 1]"} in examples
    assert {"input": "two_sum([3, 3], 6)", "output": "[0, 1]"} in examples
    assert len(examples) == 3


def test_doctor_reports_sandbox_and_model_cache():
    data = json.loads(cli("doctor", "--json").stdout)
    assert data["sandbox"]["level"].startswith(("strong", "fallback"))
    assert "cache" in data["model"] and "torch" in data["versions"]
