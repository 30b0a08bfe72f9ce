"""Task -> prompt -> engine -> candidates -> judge -> the best verified Candidate.

Shared by the language server and the command line. Blocking: callers run it off their event loop.
"""

from __future__ import annotations

import textwrap
import threading
from collections.abc import Callable
from concurrent.futures import TimeoutError as FuturesTimeout
from dataclasses import dataclass, field

from codegen.backends.base import GenerationParams
from codegen.edits import TextEdit, implementation_edit, note_line
from codegen.engine import Engine, Priority
from codegen.prompts import task_messages
from codegen.replies import parse_reply
from codegen.tasks import Task
from sandbox import Judge, Limits, Report, TestCase, Verdict
from sandbox.complexity import measure_complexity

OnProgress = Callable[[str, int], None]  # (message, tokens generated so far)


@dataclass
class Candidate:
    """One model reply, the code taken from it, and its verdict on the examples."""

    index: int
    reply: str
    code: str | None
    complexity: str | None
    report: Report | None = None
    measured: str | None = None  # empirical growth of the verified code, e.g. "measured ~n^1.0"

    @property
    def verified(self) -> bool:
        """Whether it passed every example (and there was at least one)."""
        return self.report is not None and self.report.verdict is Verdict.AC and self.report.total > 0

    @property
    def passed(self) -> int:
        """Examples passed."""
        return self.report.passed if self.report else 0


@dataclass
class Outcome:
    """What a solve produced: the verified winner if any, else the closest candidate."""

    task: Task
    candidates: list[Candidate] = field(default_factory=list)
    winner: Candidate | None = None
    message: str = ""

    @property
    def closest(self) -> Candidate | None:
        """The verified winner, else the candidate with code that passed the most examples."""
        if self.winner:
            return self.winner
        with_code = [c for c in self.candidates if c.code]
        return max(with_code, key=lambda c: c.passed, default=None)

    @property
    def verdict(self) -> str:
        """AC when verified; otherwise the closest candidate's verdict (WA when nothing ran)."""
        best = self.closest
        if best is None or best.report is None:
            return Verdict.WA.value if best is None else Verdict.IE.value
        return best.report.verdict.value

    def edit(self, allow_unverified: bool = False) -> TextEdit | None:
        """The edit applying the winner (or, when allowed, the closest candidate)."""
        best = self.winner or (self.closest if allow_unverified else None)
        if best is None or best.code is None:
            return None
        report = best.report
        note = note_line(
            report.verdict.value if report else "unverified",
            report.passed if report else 0,
            report.total if report else 0,
            best.complexity,
            best.measured,
        )
        return implementation_edit(self.task, best.code, note)

    def failure_text(self) -> str:
        """One paragraph on why nothing was verified: the closest candidate's first failing example."""
        best = self.closest
        if best is None:
            return self.message or "The model gave no code."
        if best.report is None:
            return "The candidate was not run."
        fail = best.report.first_failure
        if fail is None:
            return best.report.message or "No examples were run."
        detail = f"{fail.verdict.value} on {fail.input or fail.name}: expected {fail.expected.strip()!s}"
        if fail.actual:
            detail += f", got {fail.actual.strip()!s}"
        if fail.message:
            detail += f" ({fail.message})"
        return f"Best candidate passed {best.passed}/{best.report.total} examples; {detail}."


def tests_for(task: Task) -> list[TestCase]:
    """The task's examples as judge tests."""
    return [TestCase(f"example {i}", e.input, e.output) for i, e in enumerate(task.examples, 1)]


def runnable_code(task: Task, code: str) -> str:
    """The code as the judge should run it: a method is wrapped in its class, with the file's imports."""
    body = textwrap.dedent(code)
    if task.class_name and task.language == "python" and not body.lstrip().startswith("class "):
        body = f"class {task.class_name}:\n" + textwrap.indent(body, "    ")
    if task.language == "python" and task.imports:
        body = "\n".join(task.imports) + "\n\n" + body
    return body


def judge_tests(task: Task) -> list[TestCase]:
    """Tests with method calls routed through an instance of the class."""
    tests = tests_for(task)
    if task.class_name and task.language == "python" and task.function:
        prefix = f"{task.function}("
        fixed = []
        for t in tests:
            call = t.input
            if call.startswith(prefix):
                call = f"{task.class_name}().{call}"
            fixed.append(TestCase(t.name, call, t.output))
        tests = fixed
    return tests


def run_examples(task: Task, code: str, judge: Judge, limits: Limits | None = None) -> Report:
    """Run code on the task's examples in the judge."""
    return judge.run(
        runnable_code(task, code),
        judge_tests(task),
        language=task.language,
        style=task.style,
        limits=limits,
    )


def solve(
    task: Task,
    engine: Engine,
    judge: Judge,
    params: GenerationParams,
    *,
    limits: Limits | None = None,
    system_prompt: str | None = None,
    failure: str | None = None,
    messages: list[dict[str, str]] | None = None,
    on_progress: OnProgress | None = None,
    cancel: threading.Event | None = None,
    measure: bool = True,
) -> Outcome:
    """Generate `params.n` candidates, judge each on the examples, and keep the first that passes all.

    `messages` replaces the default implement prompt (Optimize and Fix use their own)."""
    outcome = Outcome(task)
    messages = messages or task_messages(task, system_prompt, failure)
    counter = {"tokens": 0}
    lock = threading.Lock()

    def on_text(index: int, text: str) -> None:
        counter["tokens"] += 1
        if on_progress and counter["tokens"] % 16 == 0:
            on_progress(f"generating: {counter['tokens']} tokens", counter["tokens"])

    def on_candidate(index: int, reply: str) -> bool:
        """Judge a finished candidate at once; True (a verified winner) ends the others early."""
        with lock:
            if outcome.winner is not None or any(c.index == index for c in outcome.candidates):
                return outcome.winner is not None
        candidate = _judged(task, index, reply, judge, limits, on_progress, counter["tokens"], params.n)
        with lock:
            outcome.candidates.append(candidate)
            if candidate.verified and outcome.winner is None:
                outcome.winner = candidate
            return outcome.winner is not None

    job = engine.chat(messages, params, Priority.BACKGROUND, on_text, on_candidate)
    replies = wait_for(job, cancel)
    for index, reply in enumerate(replies):  # candidates that ended without a finish signal
        if outcome.winner is not None or (cancel is not None and cancel.is_set()):
            break
        if not any(c.index == index for c in outcome.candidates):
            on_candidate(index, reply)
    outcome.candidates.sort(key=lambda c: c.index)
    if not any(c.code for c in outcome.candidates):
        outcome.message = "The model's replies contained no code block."
    if outcome.winner is not None and measure and task.language == "python" and task.style == "function":
        outcome.winner.measured = _measure(task, outcome.winner.code, judge)
    return outcome


def _judged(task, index, reply, judge, limits, on_progress, tokens, total) -> Candidate:
    """Parse a reply and run its code on the examples."""
    parsed = parse_reply(reply, task.language)
    candidate = Candidate(index, reply, parsed.code, parsed.complexity)
    if parsed.code is not None:
        if on_progress:
            on_progress(f"judging candidate {index + 1}/{total}", tokens)
        candidate.report = run_examples(task, parsed.code, judge, limits)
    return candidate


def _measure(task: Task, code: str, judge: Judge) -> str | None:
    """Time the verified function on inputs grown from its first example: e.g. 'measured ~n^1.0'."""
    tests = judge_tests(task)
    if not tests:
        return None
    try:
        measured = measure_complexity(runnable_code(task, code), tests[0].input, budget_s=1.0, judge=judge)
    except Exception:  # noqa: BLE001 - a measurement is a bonus, never a failure
        return None
    return measured.describe() if measured else None


def wait_for(job, cancel: threading.Event | None):
    """Wait for a job's result, cancelling it as soon as `cancel` is set."""
    while True:
        try:
            return job.future.result(timeout=0.05)
        except FuturesTimeout:
            if cancel is not None and cancel.is_set():
                job.cancel()
