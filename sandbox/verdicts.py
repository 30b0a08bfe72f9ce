"""Verdicts, limits, tests and reports: the judge's vocabulary."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Verdict(StrEnum):
    """Online-judge verdicts."""

    AC = "AC"  # accepted
    WA = "WA"  # wrong answer
    TLE = "TLE"  # time limit exceeded (CPU or wall)
    MLE = "MLE"  # memory limit exceeded
    RE = "RE"  # runtime error
    OLE = "OLE"  # output limit exceeded
    CE = "CE"  # compile error
    IE = "IE"  # internal error of the judge


@dataclass(frozen=True)
class Limits:
    """Resource limits for one run of a program on one test."""

    time_s: float = 2.0  # CPU seconds
    wall_factor: float = 2.0  # wall limit = time_s * wall_factor
    memory_mb: int = 256
    output_mb: int = 16
    processes: int = 64
    file_mb: int = 16
    open_files: int = 64

    @property
    def wall_s(self) -> float:
        """The wall-clock limit in seconds."""
        return self.time_s * self.wall_factor


@dataclass(frozen=True)
class TestCase:
    """One test. For `function` style, `input` is a call expression and `output` the expected value's
    expression; for `stdin` style, the raw input and expected output text."""

    __test__ = False  # not a pytest test class

    name: str
    input: str
    output: str


@dataclass
class TestResult:
    """What one test gave: the verdict, resources used, and what is needed to show a failing example."""

    __test__ = False  # not a pytest test class

    name: str
    verdict: Verdict
    time_ms: float = 0.0  # CPU time
    wall_ms: float = 0.0
    memory_mb: float = 0.0  # peak resident memory
    expected: str = ""
    actual: str = ""
    message: str = ""
    input: str = ""

    def to_json(self) -> dict:
        """Return the per-test record of `judge --json`."""
        return {
            "name": self.name,
            "verdict": self.verdict.value,
            "time_ms": round(self.time_ms, 1),
            "memory_mb": round(self.memory_mb, 1),
        }

    def describe(self) -> str:
        """A short human account of a failing test: input, expected, actual and the message."""
        lines = [f"{self.name}: {self.verdict.value}"]
        if self.message:
            lines.append(f"  {self.message}")
        for label, text in (("input", self.input), ("expected", self.expected), ("actual", self.actual)):
            if text and self.verdict is not Verdict.AC:
                lines.append(f"  {label}: {_clip(text)}")
        return "\n".join(lines)


@dataclass
class Report:
    """The verdict on a whole submission: the first non-AC test decides it."""

    verdict: Verdict
    tests: list[TestResult] = field(default_factory=list)
    isolation: str = ""
    compile_output: str = ""
    message: str = ""

    @property
    def passed(self) -> int:
        """How many tests were accepted."""
        return sum(1 for t in self.tests if t.verdict is Verdict.AC)

    @property
    def total(self) -> int:
        """How many tests ran or were due to run."""
        return len(self.tests)

    @property
    def first_failure(self) -> TestResult | None:
        """The first test that was not accepted."""
        return next((t for t in self.tests if t.verdict is not Verdict.AC), None)

    def to_json(self) -> dict:
        """Return the report as `judge --json` prints it."""
        return {
            "verdict": self.verdict.value,
            "tests": [t.to_json() for t in self.tests],
            "isolation": self.isolation,
        }


def overall(tests: list[TestResult]) -> Verdict:
    """Return the first non-AC verdict in test order, or AC."""
    return next((t.verdict for t in tests if t.verdict is not Verdict.AC), Verdict.AC)


def _clip(text: str, limit: int = 300) -> str:
    """One line of at most `limit` characters."""
    flat = text.strip().replace("\n", "\\n")
    return flat if len(flat) <= limit else flat[:limit] + "..."
