"""The judge: runs a program on tests in a child process with limits and returns a Report."""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from sandbox.harness import HARNESS
from sandbox.verdicts import Limits, Report, TestCase, TestResult, Verdict, overall

RESULT_TAG = "__VIBE_RESULT__"


class Judge:
    """Runs code on tests and gives verdicts."""

    def __init__(self, limits: Limits | None = None, python: str | None = None) -> None:
        self.limits = limits or Limits()
        self.python = python or sys.executable
        self.isolation = "rlimits"

    def run(
        self,
        code: str,
        tests: Sequence[TestCase],
        *,
        language: str = "python",
        style: str = "function",
        limits: Limits | None = None,
    ) -> Report:
        """Run the code on every test; the first non-AC test decides the overall verdict."""
        limits = limits or self.limits
        if language != "python":
            return Report(
                Verdict.IE, isolation=self.isolation, message=f"the judge cannot run {language} yet"
            )
        results = []
        with tempfile.TemporaryDirectory(prefix="vibe-judge-") as work:
            solution = Path(work, "solution.py")
            solution.write_text(code, encoding="utf-8")
            harness = Path(work, "harness.py")
            harness.write_text(HARNESS, encoding="utf-8")
            for test in tests:
                results.append(self._run_one(work, solution, harness, test, style, limits))
        return Report(overall(results), results, isolation=self.isolation)

    def _run_one(
        self, work: str, solution: Path, harness: Path, test: TestCase, style: str, limits: Limits
    ) -> TestResult:
        """Run one test in a child process and classify what happened."""
        if style == "function":
            argv = [self.python, "-I", str(harness), str(solution), test.input, test.output]
            stdin = ""
        else:
            argv = [self.python, "-I", str(solution)]
            stdin = test.input
        start = time.monotonic()
        try:
            proc = subprocess.run(
                argv,
                input=stdin,
                capture_output=True,
                text=True,
                cwd=work,
                timeout=limits.wall_s,
                preexec_fn=lambda: _apply_limits(limits),
                env={"PATH": "/usr/bin:/bin", "PYTHONHASHSEED": "0"},
            )
        except subprocess.TimeoutExpired:
            wall = (time.monotonic() - start) * 1000
            return TestResult(test.name, Verdict.TLE, wall_ms=wall, expected=test.output, input=test.input)
        wall = (time.monotonic() - start) * 1000
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        result = TestResult(
            test.name, Verdict.AC, wall_ms=wall, time_ms=wall, memory_mb=usage.ru_maxrss / 1024
        )
        result.expected, result.input = test.output, test.input
        if proc.returncode < 0 and -proc.returncode in (24,):  # SIGXCPU
            result.verdict = Verdict.TLE
            return result
        if style == "function":
            return _classify_function(proc, result)
        if proc.returncode != 0:
            result.verdict = Verdict.MLE if "MemoryError" in proc.stderr else Verdict.RE
            result.message = (
                proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else f"exit {proc.returncode}"
            )
            return result
        result.actual = proc.stdout
        if proc.stdout.split() != test.output.split():
            result.verdict = Verdict.WA
        return result


def _classify_function(proc: subprocess.CompletedProcess, result: TestResult) -> TestResult:
    """Read the harness's result line and turn it into a verdict."""
    line = next((ln for ln in reversed(proc.stdout.splitlines()) if ln.startswith(RESULT_TAG)), None)
    if line is None:
        result.verdict = Verdict.RE
        result.message = (
            proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else f"exit {proc.returncode}"
        )
        return result
    data = json.loads(line[len(RESULT_TAG) :])
    if "error" in data:
        result.verdict = Verdict.MLE if data["error"] == "MemoryError" else Verdict.RE
        result.message = data["message"]
        return result
    result.actual = data["actual"]
    if not data["ok"]:
        result.verdict = Verdict.WA
    return result


def _apply_limits(limits: Limits) -> None:
    """Set rlimits in the child before exec."""
    os.setsid()
    cpu = max(1, int(limits.time_s + 0.999))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    mem = limits.memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (mem, mem))
    fsize = limits.file_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
