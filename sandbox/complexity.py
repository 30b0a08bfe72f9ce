"""Empirical complexity: time a function on inputs grown from an example call and fit the exponent.

The list and string arguments of the call are doubled in size step by step; each size is timed inside the
sandbox (one process for all sizes, so start-up does not drown the signal), and the exponent k of
time ~ n^k is the least-squares slope on a log-log scale over the sizes that took measurable time.
"""

from __future__ import annotations

import ast
import json
import math
import tempfile
from dataclasses import dataclass
from pathlib import Path

from sandbox.cpp import called_name
from sandbox.judge import Judge, Run, write
from sandbox.verdicts import Limits

MAX_SIZE = 1 << 20
NOISE_FLOOR_S = 2e-5
MIN_POINTS = 3
FIT_POINTS = 5  # the largest sizes, where start-up costs matter least
PROBE_SHARE = 0.8  # of the budget for the timing itself; the rest covers the sandbox's start


@dataclass(frozen=True)
class Measured:
    """A fitted growth exponent and the points behind it."""

    exponent: float
    sizes: list[int]
    times: list[float]

    def describe(self) -> str:
        """E.g. "measured ~n^2.0"."""
        return f"measured ~n^{self.exponent:.1f}"


def growable(call: str) -> bool:
    """Whether the call is `name(literals...)` (or `Class().name(...)`) with at least one non-empty list or
    string argument."""
    try:
        node = ast.parse(call.strip(), mode="eval").body
        if called_name(node) is None:
            return False
        values = [ast.literal_eval(a) for a in node.args] + [ast.literal_eval(k.value) for k in node.keywords]
    except (SyntaxError, ValueError):
        return False
    return any(isinstance(v, list | str) and v for v in values)


def measure_complexity(
    code: str, call: str, *, budget_s: float = 2.0, python: str | None = None, judge: Judge | None = None
) -> Measured | None:
    """Time the Python function at doubling input sizes in the sandbox and fit the exponent; None where the
    call has nothing to grow, the run fails, or too few sizes took measurable time."""
    if not growable(call):
        return None
    judge = judge or Judge(python=python)
    limits = Limits(time_s=budget_s + 1.0, wall_factor=1.5, memory_mb=1024)
    with tempfile.TemporaryDirectory(prefix="vibe-judge-") as folder:
        job = Path(folder)
        job.chmod(0o755)
        write(job / "solution.py", code)
        write(
            job / "request.json",
            json.dumps({"call": call, "budget_s": budget_s * PROBE_SHARE, "max_size": MAX_SIZE}),
        )
        argv = [
            judge.python,
            "-E",
            "-s",
            "-B",
            judge.script("complexity_probe.py"),
            judge.inside(job, "solution.py"),
        ]
        raw = judge.execute(job, [Run(argv, judge.inside(job, "request.json"))], limits)[0]
    if "internal" in raw or raw.get("exit") != 0:
        return None
    try:
        points = json.loads(raw["stdout"].strip().splitlines()[-1])["points"]
    except (ValueError, IndexError, KeyError):
        return None
    return fit(points)


def fit(points: list[list[float]]) -> Measured | None:
    """Least-squares slope of log(time) on log(size) over the points above the noise floor."""
    usable = [(n, t) for n, t in points if t >= NOISE_FLOOR_S and n > 0][-FIT_POINTS:]
    if len(usable) < MIN_POINTS:
        return None
    xs = [math.log(n) for n, _ in usable]
    ys = [math.log(t) for _, t in usable]
    mean_x, mean_y = sum(xs) / len(xs), sum(ys) / len(ys)
    spread = sum((x - mean_x) ** 2 for x in xs)
    if spread == 0:
        return None
    slope = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)) / spread
    return Measured(round(max(slope, 0.0), 2), [int(n) for n, _ in usable], [t for _, t in usable])
