"""Benchmark the judge: overhead per test against a bare `subprocess.run` of the same ~50 ms program, on
every isolation level available, and a C++ re-run that reuses the cached binary.

    .venv/bin/python bench/judge.py [--repeat 7] [--json]

Figures are medians of --repeat runs, measured in this one process so ratios compare like with like.
Targets: judge/bare under 1.5x per test; the C++ re-run much faster than the first (no recompile).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sandbox import Judge, Limits, TestCase, Verdict  # noqa: E402
from sandbox.isolation import IsolationUnavailable  # noqa: E402

PROGRAM = """import time
start = time.perf_counter()
while time.perf_counter() - start < 0.035:
    pass
print(42)
"""
CPP = """#include <bits/stdc++.h>
using namespace std;
int main() { long long n, s = 0; cin >> n; for (long long i = 1; i <= n; ++i) s += i % 7; cout << s << "\\n"; }
"""


def median_seconds(action, repeat: int) -> float:
    """The median wall time of an action over `repeat` runs (after one warm-up)."""
    action()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def bare_run(path: Path) -> None:
    """Run the program directly, as a plain subprocess."""
    out = subprocess.run(
        [sys.executable, "-E", "-s", "-B", str(path)], input="", capture_output=True, text=True
    )
    assert out.stdout.strip() == "42"


def judged_run(judge: Judge, tests: int) -> None:
    """Judge the program on `tests` tests (one sandbox for all of them)."""
    report = judge.run(PROGRAM, [TestCase(str(i), "", "42") for i in range(tests)], style="stdin")
    assert report.verdict is Verdict.AC, report


def paired(bare, judged, tests: int, repeat: int) -> tuple[float, float, float]:
    """Alternate bare and judged runs (so that load drifts hit both alike); return the medians of the bare
    time, the judged time per test and the per-pair ratio."""
    bare(), judged()
    bares, per_tests, ratios = [], [], []
    for _ in range(repeat):
        start = time.perf_counter()
        bare()
        bare_s = time.perf_counter() - start
        start = time.perf_counter()
        judged()
        per_test = (time.perf_counter() - start) / tests
        bares.append(bare_s)
        per_tests.append(per_test)
        ratios.append(per_test / bare_s)
    return statistics.median(bares), statistics.median(per_tests), statistics.median(ratios)


def overhead_rows(repeat: int) -> list[dict]:
    """Per-test time through the judge vs bare, for 1, 3 and 10 tests per run, per isolation level."""
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder, "program.py")
        path.write_text(PROGRAM)
        for level in ("strong", "fallback"):
            try:
                judge = Judge(Limits(time_s=2.0), isolation=level)
            except IsolationUnavailable as exc:
                rows.append({"level": level, "skipped": str(exc)})
                continue
            for tests in (1, 3, 10):
                bare, per_test, ratio = paired(
                    lambda: bare_run(path), lambda j=judge, n=tests: judged_run(j, n), tests, repeat
                )
                rows.append(
                    {
                        "level": judge.isolation,
                        "tests_per_run": tests,
                        "bare_ms": round(bare * 1000, 1),
                        "judge_ms_per_test": round(per_test * 1000, 1),
                        "ratio": round(ratio, 2),
                    }
                )
    return rows


def cpp_rerun(repeat: int) -> dict:
    """First run (compile + run) against re-runs with the binary from the cache."""
    with tempfile.TemporaryDirectory() as cache:
        judge = Judge(Limits(time_s=2.0), cache_dir=cache)
        tests = [TestCase("1", "1000", "3003")]
        start = time.perf_counter()
        first = judge.run(CPP, tests, language="cpp", style="stdin")
        first_s = time.perf_counter() - start
        assert first.verdict is Verdict.AC, first
        again = median_seconds(lambda: judge.run(CPP, tests, language="cpp", style="stdin"), repeat)
    return {
        "first_run_ms": round(first_s * 1000, 1),
        "rerun_ms": round(again * 1000, 1),
        "speedup": round(first_s / again, 1),
    }


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print a table (or JSON)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7, help="runs per figure (median)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    results = {"overhead": overhead_rows(args.repeat), "cpp_rerun": cpp_rerun(args.repeat)}
    if args.json:
        print(json.dumps(results, indent=2))
        return 0
    print(f"{'isolation':<40} {'tests/run':>9} {'bare ms':>8} {'judge ms/test':>13} {'ratio':>6}")
    for row in results["overhead"]:
        if "skipped" in row:
            print(f"{row['level']:<40} skipped: {row['skipped']}")
            continue
        print(
            f"{row['level'][:40]:<40} {row['tests_per_run']:>9} {row['bare_ms']:>8} "
            f"{row['judge_ms_per_test']:>13} {row['ratio']:>5}x"
        )
    cpp = results["cpp_rerun"]
    print(
        f"\nC++ first run (compile + run): {cpp['first_run_ms']} ms; re-run from cache: {cpp['rerun_ms']} ms "
        f"({cpp['speedup']}x faster, no recompile)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
