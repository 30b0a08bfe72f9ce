"""The pipeline: candidates are judged off the engine's thread, and stdin candidates inside their file."""

from __future__ import annotations

import json
import shutil
import threading
import time
from pathlib import Path

import pytest

from codegen.backends.base import GenerationParams, ModelConfig
from codegen.edits import apply_edits
from codegen.engine import Engine
from codegen.pipeline import solve
from codegen.tasks import extract_tasks
from devtools.openai_server import FakeOpenAI
from devtools.samples import TWO_SUM_CODE, TWO_SUM_SOURCE
from sandbox import Judge

SLOW_JUDGE_S = 1.5

SLOW_WRONG = f"""```python
def two_sum(nums, target):
    import time
    time.sleep({SLOW_JUDGE_S})
    return [0, 0]
```
"""

LONG_RIGHT = (
    "<think>" + " ".join(f"step{i}" for i in range(120)) + "</think>\n```python\n" + TWO_SUM_CODE + "```\n"
)


@pytest.fixture(scope="module")
def judge():
    """One real judge for the module."""
    return Judge()


def test_a_slow_judge_run_does_not_stop_the_other_candidates_streaming(judge):
    replies = iter([SLOW_WRONG, LONG_RIGHT, LONG_RIGHT])
    lock = threading.Lock()

    def responder(_messages):
        with lock:
            return next(replies)

    task = extract_tasks(TWO_SUM_SOURCE, "python")[0]
    generating: list[tuple[float, int]] = []  # (when, tokens so far), every 16 tokens
    judging_started: list[float] = []

    def on_progress(message: str, tokens: int) -> None:
        if message.startswith("generating"):
            generating.append((time.monotonic(), tokens))
        elif message.startswith("judging candidate 1/") and not judging_started:
            judging_started.append(time.monotonic())

    with FakeOpenAI(responder, chunk_delay_s=0.02) as server:
        engine = Engine(ModelConfig(backend="openai", name="fake", base_url=server.base_url))
        try:
            outcome = solve(
                task, engine, judge, GenerationParams(n=3), on_progress=on_progress, measure=False
            )
        finally:
            engine.close()
    assert outcome.winner is not None and outcome.winner.index in (1, 2)
    assert outcome.candidates[0].report.verdict.value in ("WA", "RE")
    assert judging_started, "the slow candidate was never judged"
    start = judging_started[0]
    during = [n for t, n in generating if start + 0.2 <= t <= start + SLOW_JUDGE_S - 0.2]
    # At 20 ms a chunk the other two candidates stream ~110 tokens while the slow one is judged; judging
    # inside the decode loop would let none through.
    assert len(during) >= 3 and during[-1] - during[0] >= 32


# ----------------------------------------------------------------------------------------------------------
# A stdin candidate is judged inside its file, and the edit keeps the file (issue 11, item 6)

CPP_FILE = """/*
Sum of n numbers.

Sample Input
3
1 2 3

Sample Output
6
*/
#include <bits/stdc++.h>
using namespace std;
typedef long long ll;

ll twice(ll x) { return 2 * x; }

int main() {
    // TODO: read n numbers and print their sum
    return 0;
}
"""

CPP_MAIN_ONLY = """```cpp
int main() {
    int n; cin >> n;
    ll s = 0;
    for (int i = 0; i < n; i++) { ll x; cin >> x; s += x; }
    cout << twice(s) / 2 << endl;
    return 0;
}
```
Complexity: O(n) time, O(1) space
"""

PY_FILE = '''"""Sum of n numbers.

Sample Input
3
1 2 3

Sample Output
6
"""
import sys


def read_ints():
    return list(map(int, sys.stdin.read().split()))


def main():
    # TODO: print the sum of the numbers after n
    pass


if __name__ == "__main__":
    main()
'''

PY_MAIN_ONLY = """```python
def main():
    n, *rest = read_ints()
    print(sum(rest[:n]))
```
"""

PY_WHOLE_PROGRAM = """```python
import sys
data = sys.stdin.read().split()
n = int(data[0])
print(sum(map(int, data[1 : n + 1])))
```
"""


def solve_with(reply: str, source: str, language: str, judge, n: int = 1):
    """Solve the file's one task with a model that always gives `reply`; return (outcome, file after)."""
    (task,) = extract_tasks(source, language)
    with FakeOpenAI(reply) as server:
        engine = Engine(ModelConfig(backend="openai", name="fake", base_url=server.base_url))
        try:
            outcome = solve(task, engine, judge, GenerationParams(n=n), measure=False)
        finally:
            engine.close()
    edit = outcome.edit()
    return outcome, apply_edits(source, [edit]) if edit else source


def test_a_cpp_main_reply_is_judged_and_applied_inside_its_file(judge):
    outcome, after = solve_with(CPP_MAIN_ONLY, CPP_FILE, "cpp", judge)
    assert outcome.verdict == "AC", outcome.failure_text()
    assert after.startswith(CPP_FILE.split("int main()")[0])  # statement, includes, typedef, helper
    assert after.count("int main()") == 1 and "cout << twice(s) / 2" in after
    assert "// VibeThinker (AC: passed 1/1 examples" in after


def test_a_python_main_reply_is_judged_and_applied_inside_its_file(judge):
    outcome, after = solve_with(PY_MAIN_ONLY, PY_FILE, "python", judge)
    assert outcome.verdict == "AC", outcome.failure_text()
    assert after.startswith(PY_FILE.split("def main():")[0])
    assert after.endswith('if __name__ == "__main__":\n    main()\n')
    assert after.count("def main():") == 1 and "print(sum(rest[:n]))" in after


def test_a_whole_program_reply_keeps_the_statement_at_the_top(judge):
    outcome, after = solve_with(PY_WHOLE_PROGRAM, PY_FILE, "python", judge)
    assert outcome.verdict == "AC", outcome.failure_text()
    statement = PY_FILE.split("import sys")[0]
    assert after.startswith(statement) and "Sample Output\n6" in after
    assert "def main():" not in after  # the program replaced the file's code, not its statement


def test_a_whole_cpp_program_reply_keeps_the_file_and_drops_what_it_repeats(judge):
    body = CPP_MAIN_ONLY.split("```cpp\n")[1].split("```")[0]
    program = (
        "```cpp\n#include <bits/stdc++.h>\nusing namespace std;\ntypedef long long ll;\n" + body + "```\n"
    )
    outcome, after = solve_with(program, CPP_FILE, "cpp", judge)
    assert outcome.verdict == "AC", outcome.failure_text()
    assert after.startswith(CPP_FILE.split("int main()")[0])
    assert after.count("#include <bits/stdc++.h>") == 1 and after.count("typedef long long ll;") == 1


def test_a_function_that_calls_a_helper_of_its_file_is_judged_with_it(judge):
    source = (
        "def square(x):\n    return x * x\n\n\n"
        'def sum_squares(nums):\n    """\n    >>> sum_squares([1, 2, 3])\n    14\n    """\n'
        "    # TODO\n    pass\n"
    )
    reply = "```python\ndef sum_squares(nums):\n    return sum(square(x) for x in nums)\n```\n"
    outcome, after = solve_with(reply, source, "python", judge)
    assert outcome.verdict == "AC", outcome.failure_text()
    assert after.startswith("def square(x):\n    return x * x\n") and after.count("def square") == 1


# ----------------------------------------------------------------------------------------------------------
# Stress tests in solve (issue 11, item 4)

STRESS_SET = Path(__file__).resolve().parent / "stress_set"
TODO_MAIN = "def main():\n    # TODO: print the largest subarray sum\n    pass\n\n\nmain()\n"


def problem_folder(tmp_path: Path, oracles: bool = True) -> Path:
    """A user's folder for max_subarray: the statement with a TODO, the samples, brute.py and gen.py."""
    source = STRESS_SET / "max_subarray"
    statement = (source / "correct.py").read_text().split("import sys")[0]
    solution = tmp_path / "sol.py"
    solution.write_text(statement + "import sys\n\n\n" + TODO_MAIN)
    shutil.copytree(source / "samples", tmp_path / "samples")
    if oracles:
        shutil.copy(source / "brute.py", tmp_path / "brute.py")
        shutil.copy(source / "gen.py", tmp_path / "gen.py")
    return solution


def fenced(path: Path) -> str:
    """A model reply carrying the file's code."""
    return f"```python\n{path.read_text().split('import sys', 1)[1]}```\n".replace(
        "```python\n", "```python\nimport sys", 1
    )


def test_solve_stress_tests_a_candidate_that_passes_the_samples(tmp_path, capsys):
    from lsp_server import cli

    solution = problem_folder(tmp_path)
    wrong, right = (
        fenced(STRESS_SET / "max_subarray" / "wrong_all_negative.py"),
        fenced(STRESS_SET / "max_subarray" / "correct.py"),
    )
    replies = iter([wrong, right])
    with FakeOpenAI(lambda _m: next(replies)) as server:
        common = ["solve", str(solution), "--json", "--backend", "openai", "--base-url", server.base_url]
        assert cli.main([*common, "-n", "2"]) == 0
    [result] = json.loads(capsys.readouterr().out)["results"]
    assert result["verdict"] == "AC"
    stress = result["stress"]
    assert stress["oracle"] == "brute force (brute.py)" and stress["runs"] > 0
    assert stress["counterexample"] is None and stress["max_size_seconds"] is not None
    assert "stress tests vs brute force (brute.py), n=2e5 in" in result["diff"]


def test_solve_rejects_a_wrong_candidate_that_passes_the_samples(tmp_path, capsys):
    from lsp_server import cli

    solution = problem_folder(tmp_path)
    wrong = fenced(STRESS_SET / "max_subarray" / "wrong_all_negative.py")
    with FakeOpenAI(wrong) as server:
        common = ["solve", str(solution), "--json", "--backend", "openai", "--base-url", server.base_url]
        assert cli.main([*common, "-n", "1"]) == 1
    [result] = json.loads(capsys.readouterr().out)["results"]
    assert result["verdict"] == "WA" and result["passed"] == result["total"] == 2
    found = result["stress"]["counterexample"]
    assert found is not None and found["expected"] != found["actual"]
    assert "a stress test found WA on input" in result["message"]
