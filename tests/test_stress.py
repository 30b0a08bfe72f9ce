"""Stress tests: the held-out set in tests/stress_set through `vibethinker-lsp stress` (every small-input bug
caught with a counterexample on which the two programs really differ, the slow ones TLE at the maximum
size, no correct solution flagged), broken brute forces and generators, exit codes and JSON, the stress
loop's isolation between inputs, and the shim's clean() that no longer walks a read-only mount."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from devtools.openai_server import FakeOpenAI
from lsp_server.cli import main
from sandbox import Judge, Limits, TestCase, Verdict
from sandbox.compare import tokens_match
from sandbox.isolation import IsolationUnavailable, Mount, choose, interpreter_prefixes, strong_command
from sandbox.stress import Program, outputs_on, stress_stdin

SET = Path(__file__).resolve().parent / "stress_set"
SANDBOX = Path(__file__).resolve().parent.parent / "sandbox"
FAST = ["--runs", "60", "--seconds", "1"]


@pytest.fixture(scope="module", autouse=True)
def compile_cache(tmp_path_factory):
    """One C++ compile cache for the module (the CLI's judge finds it through XDG_CACHE_HOME)."""
    mp = pytest.MonkeyPatch()
    mp.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("xdg")))
    yield
    mp.undo()


@pytest.fixture(scope="module")
def judge(tmp_path_factory, compile_cache) -> Judge:
    """The strong judge (the stress loop forks inside bubblewrap)."""
    try:
        return Judge(Limits(time_s=1.0), isolation="strong")
    except IsolationUnavailable as exc:
        pytest.skip(str(exc))


def stress(capsys, *argv: str) -> tuple[int, dict]:
    """Run `vibethinker-lsp stress ... --json`; the exit status and the JSON report."""
    code = main(["stress", *map(str, argv), "--json"])
    out = capsys.readouterr().out
    return code, json.loads(out) if out.strip() else {}


def program(path: Path) -> Program:
    """A file of the set as a Program."""
    return Program(path.read_text(), "cpp" if path.suffix == ".cpp" else "python", path.name)


def assert_really_differ(judge: Judge, folder: Path, solution: Path, counter: dict) -> None:
    """Re-run the brute force and the solution on the counterexample: the brute force gives the expected
    answer, the solution does not."""
    brute = program(folder / "brute.py")
    test = [TestCase("counterexample", counter["input"], counter["expected"])]
    assert judge.run(brute.code, test, style="stdin").verdict is Verdict.AC
    again = judge.run(program(solution).code, test, language=program(solution).language, style="stdin")
    assert again.verdict is not Verdict.AC
    assert not tokens_match(counter["actual"], counter["expected"])


# --- the held-out set: stdin problems through the CLI -------------------------------------------------------

WRONG = [
    ("max_subarray", "wrong_all_negative.py"),
    ("max_product", "wrong_overflow.cpp"),
    ("first_at_least", "wrong_off_by_one.cpp"),
]
SLOW = [("max_subarray", "slow.py"), ("first_at_least", "slow.cpp")]
CORRECT = [("max_subarray", "correct.py"), ("max_product", "correct.cpp"), ("first_at_least", "correct.cpp")]


@pytest.mark.parametrize(("problem", "name"), WRONG)
def test_every_small_input_bug_is_caught_with_a_real_counterexample(judge, capsys, problem, name):
    folder = SET / problem
    code, report = stress(capsys, folder / name, *FAST)
    assert code == 1 and report["verdict"] == "WA", report
    assert report["oracle"] == "brute force (brute.py)" and report["max_size"] is None
    assert_really_differ(judge, folder, folder / name, report["counterexample"])
    assert len(report["counterexample"]["input"]) < 60  # small: found among the first sizes


@pytest.mark.parametrize(("problem", "name"), SLOW)
def test_a_slow_solution_is_tle_at_the_maximum_size(capsys, problem, name):
    code, report = stress(capsys, SET / problem / name, "--runs", "20", "--seconds", "0.5")
    assert code == 1 and report["verdict"] == "TLE", report
    assert report["max_size"]["n"] == 200000 and report["max_size"]["seconds"] >= 1.0
    assert report["counterexample"] is None and report["runs"] >= 1
    assert "n=2e5" in report["message"]


@pytest.mark.parametrize(("problem", "name"), CORRECT)
def test_no_correct_solution_is_flagged(capsys, problem, name):
    code, report = stress(capsys, SET / problem / name, *FAST)
    assert code == 0 and report["verdict"] == "AC", report
    assert report["counterexample"] is None and report["runs"] >= 10
    assert report["max_size"]["n"] == 200000 and report["max_size"]["seconds"] < 1.0


# --- the held-out set: function-style problems (inputs made from the examples' argument types) ------------


@pytest.mark.parametrize(
    ("problem", "name", "verdict"),
    [
        ("min_coins", "correct.py", "AC"),
        ("min_coins", "wrong_greedy.py", "WA"),
        ("longest_run", "correct.cpp", "AC"),
        ("longest_run", "wrong_equal.cpp", "WA"),
    ],
)
def test_function_problems(judge, capsys, problem, name, verdict):
    folder = SET / problem
    runs = "150" if name.endswith(".py") else "40"  # each C++ call list is one compile
    code, report = stress(capsys, folder / name, "--runs", runs, "--seconds", "2")
    assert report["verdict"] == verdict and code == (0 if verdict == "AC" else 1), report
    if verdict == "AC":
        assert report["counterexample"] is None and report["runs"] >= 30
        return
    counter = report["counterexample"]
    assert counter["expected"] != counter["actual"]
    test = [TestCase("counterexample", counter["input"], counter["expected"])]
    assert judge.run((folder / "brute.py").read_text(), test).verdict is Verdict.AC
    solution = program(folder / name)
    assert judge.run(solution.code, test, language=solution.language).verdict is Verdict.WA


# --- broken oracles and generators, usage ---------------------------------------------------------------------

SUM = "n = int(input())\nprint(sum(map(int, input().split())))\n"
GEN = "import random, sys\nr = random.Random(int(sys.argv[1]))\nn = r.randint(1, int(sys.argv[2]))\nprint(n)\nprint(*[r.randint(-9, 9) for _ in range(n)])\n"


def sum_problem(folder: Path, brute: str = SUM, gen: str = GEN) -> Path:
    """A sum-of-array problem with one sample, a brute force and a generator; the solution's path."""
    (folder / "samples").mkdir()
    (folder / "samples" / "1.in").write_text("3\n1 2 3\n")
    (folder / "samples" / "1.out").write_text("6\n")
    (folder / "brute.py").write_text(brute)
    (folder / "gen.py").write_text(gen)
    solution = folder / "sol.py"
    solution.write_text(SUM)
    return solution


@pytest.mark.parametrize(
    ("brute", "gen", "words"),
    [
        ("print(7)\n", GEN, "fails sample 1"),
        (
            "n = int(input())\nassert n > 1\nprint(sum(map(int, input().split())))\n",
            GEN,
            "failed on a generated",
        ),
        (SUM, "import sys\nsys.exit('boom')\n", "generator (gen.py) failed on `gen 1 1`"),
        (SUM, "print(3)\nprint(1, 2, 3)\n", "printed the same input"),
    ],
    ids=["oracle-fails-sample", "oracle-crashes", "generator-crashes", "generator-ignores-seed"],
)
def test_broken_oracle_or_generator_is_reported_not_blamed(tmp_path, capsys, brute, gen, words):
    code, report = stress(capsys, sum_problem(tmp_path, brute, gen), *FAST)
    assert code == 2 and report["verdict"] == "IE", report
    assert words in report["message"] and report["counterexample"] is None


def test_brute_force_too_slow_beyond_small_sizes_only_caps_the_sizes(tmp_path, judge):
    slow_brute = Program(
        "import time\nn = int(input())\nif n > 2: time.sleep(5)\nprint(sum(map(int, input().split())))\n",
        "python",
        "brute.py",
    )
    gen = Program(GEN, "python", "gen.py")
    limits = Limits(time_s=0.3)
    report = stress_stdin(judge, Program(SUM, "python"), slow_brute, gen, runs=40, seconds=3, limits=limits)
    assert report.verdict is Verdict.AC and report.runs >= 20, report
    assert "too slow from n=" in report.message


def test_usage_errors_and_text_output(tmp_path, capsys):
    assert main(["stress", str(tmp_path / "missing.py")]) == 2
    assert "does not exist" in capsys.readouterr().err
    lonely = tmp_path / "alone" / "sol.py"
    lonely.parent.mkdir()
    lonely.write_text(SUM)
    assert main(["stress", str(lonely), "--base-url", "http://127.0.0.1:9/v1", *FAST]) == 2
    err = capsys.readouterr().err
    assert "Cannot reach the model server" in err and "Traceback" not in err
    assert main(["stress", str(SET / "max_subarray" / "wrong_all_negative.py"), *FAST]) == 1
    out = capsys.readouterr().out
    assert out.startswith("WA: ") and "expected:" in out and "actual:" in out


MODEL_BRUTE = f"""<think>Try every subarray.</think>
```python
{(SET / "max_subarray" / "brute.py").read_text()}```
"""
MODEL_GENERATOR = f"""<think>Random small arrays.</think>
```python
{(SET / "max_subarray" / "gen.py").read_text()}```
"""


def test_without_files_the_model_writes_the_brute_force_and_the_generator(tmp_path, capsys):
    solution = tmp_path / "sol.py"
    shutil.copy(SET / "max_subarray" / "wrong_all_negative.py", solution)
    shutil.copytree(SET / "max_subarray" / "samples", tmp_path / "samples")

    def reply(messages: list[dict]) -> str:
        return MODEL_BRUTE if "brute force" in messages[-1]["content"] else MODEL_GENERATOR

    with FakeOpenAI(reply) as server:
        code, report = stress(capsys, solution, "--base-url", server.base_url, *FAST)
        asked = [m["messages"][-1]["content"] for m in server.requests]
    assert code == 1 and report["verdict"] == "WA", report
    assert report["oracle"] == "the model's brute force"
    assert (
        sum("brute force" in text for text in asked) == 1 and sum("generator" in text for text in asked) == 1
    )


def test_compile_error_and_explicit_files(tmp_path, capsys):
    broken = tmp_path / "sol.cpp"
    broken.write_text("int main() { return }\n")
    folder = SET / "max_subarray"
    code, report = stress(capsys, broken, "--brute", folder / "brute.py", "--gen", folder / "gen.py", *FAST)
    assert code == 1 and report["verdict"] == "CE" and "does not compile" in report["message"]


# --- the stress loop: many inputs per sandbox start, isolation between them ----------------------------------


def test_one_sandbox_start_serves_many_inputs(judge):
    probe = Program("print(open('/proc/1/stat').read().split()[21])\n", "python")
    outputs = outputs_on(judge, probe, [f"{i}\n" for i in range(30)], style="stdin")
    assert None not in outputs and len(set(outputs)) == 1  # one shim (PID 1) started once for all


def test_inputs_are_isolated_from_each_other(judge):
    leaky = Program(
        "import os\n"
        "before = [os.path.exists(p) for p in ('/tmp/mark', 'mark')]\n"
        "open('/tmp/mark', 'w').write('x'); open('mark', 'w').write('x')\n"
        "print(before, len([p for p in os.listdir('/proc') if p.isdigit()]))\n"
        "if os.fork() == 0:\n"
        "    os.setsid(); import time; time.sleep(30)\n",
        "python",
    )
    start = time.monotonic()
    outputs = outputs_on(judge, leaky, ["\n"] * 6, style="stdin")
    assert time.monotonic() - start < 20
    assert len(set(outputs)) == 1 and outputs[0].startswith("[False, False]"), outputs


def test_limits_apply_to_each_input(judge):
    hog = Program(
        "n = int(input())\n"
        "if n == 1:\n    while True: pass\n"
        "if n == 2:\n    x = bytearray(400 * 1024 * 1024)\n"
        "print(n)\n",
        "python",
    )
    limits = Limits(time_s=0.5, memory_mb=128)
    outputs = outputs_on(judge, hog, ["0\n", "1\n", "2\n", "3\n"], style="stdin", limits=limits)
    assert outputs == ["0\n", None, None, "3\n"]


def test_a_program_that_kills_the_loop_proves_nothing(judge):
    killer = Program(
        "import os\nn = int(input())\nif n > 2: os.kill(os.getppid(), 9)\nprint(sum(map(int, input().split())))\n",
        "python",
    )
    peeker = (
        "import os\ntry:\n    os.listdir(f'/proc/{os.getppid()}/fd')\nexcept OSError:\n    print('denied')\n"
    )
    report = stress_stdin(judge, killer, Program(SUM, "python"), Program(GEN, "python"), runs=60, seconds=2)
    assert report.verdict is Verdict.IE and "ended early" in report.message, report
    assert outputs_on(judge, Program(peeker, "python"), ["\n"], style="stdin") == ["denied\n"]


# --- the shim's clean() -----------------------------------------------------------------------------------------


def test_clean_empties_tmp_without_walking_a_read_only_mount(tmp_path):
    try:
        level = choose("strong")
    except IsolationUnavailable as exc:
        pytest.skip(str(exc))
    env = tmp_path / "env"
    for i in range(20):
        (env / f"pkg{i}").mkdir(parents=True)
        (env / f"pkg{i}" / "module.py").write_text("x = 1\n")
    script = (
        "import os, sys\n"
        "sys.path.insert(0, '/judge')\n"
        "import shim\n"
        "seen = []\n"
        "def hook(event, args):\n"
        "    if event in ('os.scandir', 'os.listdir', 'os.remove', 'os.rmdir') and str(args[0]).startswith('/tmp/env'):\n"
        "        seen.append(event)\n"
        "os.makedirs('/tmp/junk/deep'); open('/tmp/junk/deep/f', 'w').write('x'); open('/tmp/f', 'w').write('x')\n"
        "sys.addaudithook(hook)\n"
        "shim.clean(['/tmp'])\n"
        "print(sorted(os.listdir('/tmp')), len(seen), len(os.listdir('/tmp/env')))\n"
    )
    mounts = [Mount(str(SANDBOX / "shim.py"), "/judge/shim.py"), Mount(str(env), "/tmp/env")]
    mounts += [Mount(prefix, prefix) for prefix in interpreter_prefixes(sys.executable)]
    argv = strong_command(level, mounts, 1 << 20, 1 << 20, [sys.executable, "-E", "-s", "-c", script])
    out = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    assert out.stdout.split(maxsplit=1)[0] == "['env']", out.stderr  # junk and f gone, the mount kept
    assert out.stdout.split()[1:] == ["0", "20"]  # nothing under the mount was listed or deleted
