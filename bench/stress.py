"""Benchmark stress testing: small inputs per second through the stress loop (one sandbox start, a forked
child per input) against a bare loop of `subprocess.run` of the same program on the same inputs, for a
~1 ms Python program and a C++ program, and the wall time of a default stress run (300 inputs or 3 s,
generator + brute force + solution, then one run at n = 2*10^5).

    .venv/bin/python bench/stress.py [--inputs 300] [--repeat 3] [--json] [--quick]

Figures are medians of --repeat runs measured in this one process, loop and bare alternating so that load
drifts hit both alike; besides inputs per wall second, inputs per CPU second of everything started (the
sandbox, the loop and the programs) say what one core does whatever else the machine runs. Target: at
least 100 small inputs per second on one core (the loop is sequential).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sandbox import Judge, Limits, TestCase, Verdict  # noqa: E402
from sandbox.stress import Program, outputs_on, stress_stdin  # noqa: E402

PYTHON = """n = int(input())
total = 0
for i in range(15000):
    total += i * n
print(total)
"""
CPP = """#include <cstdio>
int main() {
    long long n, total = 0;
    if (std::scanf("%lld", &n) != 1) return 1;
    for (long long i = 0; i < 15000; ++i) total += i * n;
    std::printf("%lld\\n", total);
}
"""
SOLUTION = """import sys
data = sys.stdin.buffer.read().split()
n = int(data[0])
best = cur = None
for x in map(int, data[1:n + 1]):
    cur = x if cur is None or cur < 0 else cur + x
    best = cur if best is None else max(best, cur)
print(best)
"""
BRUTE = """n = int(input())
a = list(map(int, input().split()))
print(max(sum(a[i:j]) for i in range(n) for j in range(i + 1, n + 1)))
"""
GENERATOR = """import random, sys
seed, bound = int(sys.argv[1]), int(sys.argv[2])
rng = random.Random(seed)
n = bound if bound > 100 else rng.randint(1, bound)
high = 10 if bound <= 100 else 10**9
print(n)
print(*(rng.randint(-high, high) for _ in range(n)))
"""


def expected(n: int) -> str:
    """What both programs print for input n."""
    return f"{sum(i * n for i in range(15000))}\n"


def children_cpu() -> float:
    """CPU seconds used so far by this process's ended children and their descendants (the sandbox, the
    shim, the loop and every program it ran are all reaped down the chain)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def measured(action, count: int) -> tuple[float, float]:
    """Run the action; (inputs per wall second, inputs per CPU second of everything it started)."""
    cpu, start = children_cpu(), time.perf_counter()
    action()
    wall, used = time.perf_counter() - start, children_cpu() - cpu
    return count / wall, count / max(used, 1e-9)


def loop_rate(judge: Judge, program: Program, inputs: list[str]) -> tuple[float, float]:
    """Inputs per second (wall, CPU) through the stress loop (one sandbox start for all)."""

    def run() -> None:
        outputs = outputs_on(judge, program, inputs, style="stdin")
        assert outputs == [expected(int(text)) for text in inputs], outputs[:3]

    return measured(run, len(inputs))


def bare_rate(argv: list[str], inputs: list[str]) -> tuple[float, float]:
    """Inputs per second (wall, CPU) through a plain loop of subprocess.run, no sandbox."""

    def run() -> None:
        for text in inputs:
            out = subprocess.run(argv, input=text, capture_output=True, text=True)
            assert out.stdout == expected(int(text)), out

    return measured(run, len(inputs))


def rate_rows(judge: Judge, folder: Path, count: int, repeat: int) -> list[dict]:
    """Loop against bare for the Python and the C++ program, alternating, medians of `repeat`."""
    inputs = [f"{i}\n" for i in range(count)]
    script = folder / "program.py"
    script.write_text(PYTHON)
    binary = judge.compiler.compile(CPP)
    assert binary.error is None, binary.error
    cases = [
        ("python (~1 ms)", Program(PYTHON, "python"), [judge.python, "-E", "-s", "-B", str(script)]),
        ("c++", Program(CPP, "cpp"), [str(binary.path)]),
    ]
    rows = []
    for name, program, argv in cases:
        loops, bares, loop_cpus, bare_cpus, ratios = [], [], [], [], []
        for _ in range(repeat):
            loop, loop_cpu = loop_rate(judge, program, inputs)
            bare, bare_cpu = bare_rate(argv, inputs)
            loops.append(loop)
            bares.append(bare)
            loop_cpus.append(loop_cpu)
            bare_cpus.append(bare_cpu)
            ratios.append(loop / bare)
        rows.append(
            {
                "program": name,
                "inputs": count,
                "loop_inputs_per_s": round(statistics.median(loops), 1),
                "bare_inputs_per_s": round(statistics.median(bares), 1),
                "loop_vs_bare": round(statistics.median(ratios), 2),
                "loop_inputs_per_cpu_s": round(statistics.median(loop_cpus), 1),
                "bare_inputs_per_cpu_s": round(statistics.median(bare_cpus), 1),
            }
        )
    return rows


def default_run(judge: Judge, runs: int, seconds: float, max_n: int) -> dict:
    """The wall time of a stress run with the default budget on a correct max-subarray solution."""
    samples = [TestCase("1", "5\n1 -2 3 4 -1\n", "7\n")]
    start = time.perf_counter()
    report = stress_stdin(
        judge,
        Program(SOLUTION, "python", "solution.py"),
        Program(BRUTE, "python", "brute.py"),
        Program(GENERATOR, "python", "gen.py"),
        samples=samples,
        runs=runs,
        seconds=seconds,
        max_n=max_n,
    )
    wall = time.perf_counter() - start
    assert report.verdict is Verdict.AC, report
    return {
        "runs": report.runs,
        "budget_s": seconds,
        "max_n": max_n,
        "wall_s": round(wall, 2),
        "stress_tests_per_s": round(report.runs / min(wall, seconds), 1),
        "max_size_s": round(report.max_size.seconds, 3),
        "describe": report.describe(),
    }


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print a table (or JSON)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--inputs", type=int, default=300, help="small inputs per rate figure")
    parser.add_argument("--repeat", type=int, default=3, help="runs per rate figure (median)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--quick", action="store_true", help="a few inputs and a short stress run (for CI)")
    args = parser.parse_args(argv)
    count, repeat = (20, 1) if args.quick else (args.inputs, args.repeat)
    judge = Judge(Limits(time_s=2.0))
    with tempfile.TemporaryDirectory(prefix="vibe-bench-stress-") as folder:
        rows = rate_rows(judge, Path(folder), count, repeat)
    stress = default_run(judge, *((30, 0.5, 2000) if args.quick else (300, 3.0, 200_000)))
    results = {"isolation": judge.isolation, "cpus": os.cpu_count(), "rates": rows, "default_run": stress}
    if args.json:
        print(json.dumps(results, indent=2))
        return 0
    print(f"isolation: {results['isolation']}; {results['cpus']} CPUs; the loop runs on one core")
    header = f"{'program':<16} {'inputs':>6} {'loop inputs/s':>14} {'bare inputs/s':>14} {'loop/bare':>10}"
    print(header + f" {'loop per CPU-s':>15} {'bare per CPU-s':>15}")
    for row in rows:
        print(
            f"{row['program']:<16} {row['inputs']:>6} {row['loop_inputs_per_s']:>14} "
            f"{row['bare_inputs_per_s']:>14} {row['loop_vs_bare']:>9}x "
            f"{row['loop_inputs_per_cpu_s']:>15} {row['bare_inputs_per_cpu_s']:>15}"
        )
    print(
        f"\ndefault stress run: {stress['describe']}; wall {stress['wall_s']} s "
        f"({stress['stress_tests_per_s']} stress tests/s, each = generator + brute force + solution)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
