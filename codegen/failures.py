"""The one description of a failing example: a sample the code got wrong, or a stress test's counterexample.

Every place that tells someone why code failed (the Fix prompt, `solve`'s message, diagnostics, hover, the web
page) builds a `Failure` here and renders its sentence or its labelled parts; none reads a judge report's
fields on its own.
"""

from __future__ import annotations

from dataclasses import dataclass

from sandbox import Report, Verdict
from sandbox.stress import StressReport


@dataclass(frozen=True)
class Failure:
    """What ran, what was expected and what came out, for one failing example or counterexample."""

    verdict: Verdict
    input: str
    expected: str
    actual: str = ""
    message: str = ""
    name: str = ""  # "example 2" for a sample; "" for a stress test's counterexample

    @classmethod
    def of_test(cls, test) -> Failure:
        """A judged example (sandbox TestResult) that was not accepted."""
        return cls(test.verdict, test.input, test.expected, test.actual, test.message, test.name)

    @classmethod
    def of_counterexample(cls, found) -> Failure:
        """A stress test's counterexample (sandbox.stress Counterexample)."""
        return cls(found.verdict, found.input, found.expected, found.actual)

    @property
    def subject(self) -> str:
        """What it failed on: the example's input (or name), or "input ..." for a generated one."""
        if not self.name:
            return f"input {self.input.strip()}"
        return self.input or self.name

    def sentence(self) -> str:
        """One line: "WA on f(1): expected 2, got 3 (message)"."""
        text = f"{self.verdict.value} on {self.subject}: expected {self.expected.strip()}"
        if self.actual:
            text += f", got {self.actual.strip()}"
        if self.message:
            text += f" ({self.message})"
        return text

    def parts(self) -> list[tuple[str, str]]:
        """The labelled texts worth showing, in order: ("expected", ...), ("actual", ...)."""
        texts = (("expected", self.expected), ("actual", self.actual))
        return [(label, text.strip()) for label, text in texts if text]

    def labelled(self, clip=lambda text: text) -> str:
        """The expected and actual texts as indented `label: text` lines (diagnostics), each passed to clip."""
        return "\n".join(f"  {label + ':':<9} {clip(text)}" for label, text in self.parts())


def first_failure(report: Report | None) -> Failure | None:
    """The first example a run failed, or None (nothing ran, or everything passed)."""
    fail = report.first_failure if report is not None else None
    return Failure.of_test(fail) if fail is not None else None


def stress_failure(report: StressReport) -> str:
    """A failed stress test in one sentence, for messages and the Fix prompt."""
    found = report.counterexample
    if found is None:
        return f"a stress test found {report.verdict.value}: {report.message or report.describe()}"
    return f"a stress test found {Failure.of_counterexample(found).sentence()}"


def fix_hint(report: Report | None, stressed: StressReport | None) -> str | None:
    """What the Fix prompt is told: the first failing example, else the stress test's counterexample."""
    failure = first_failure(report)
    if failure is not None:
        return failure.sentence()
    return stress_failure(stressed) if stress_found(stressed) else None


def stress_found(report: StressReport | None) -> bool:
    """Whether a stress test found something against the code (a counterexample or a time-out), not merely
    a broken oracle or a cancel."""
    return report is not None and report.verdict not in (Verdict.AC, Verdict.IE) and not report.broken
