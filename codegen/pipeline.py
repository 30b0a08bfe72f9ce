"""Task -> prompt -> engine -> candidates -> judge -> the best verified Candidate.

Shared by the language server and the command line. Blocking: callers run it off their event loop.
"""

from __future__ import annotations

import queue
import textwrap
import threading
from collections.abc import Callable
from concurrent.futures import TimeoutError as FuturesTimeout
from dataclasses import dataclass, field

from codegen.backends.base import GenerationParams, OnText
from codegen.edits import TextEdit, file_after, fits_in_file, implementation_edit, note_line
from codegen.engine import Cancelled, Engine, Priority
from codegen.failures import first_failure, stress_failure
from codegen.placement import helpers_for
from codegen.prompts import task_messages
from codegen.replies import parse_reply
from codegen.stressing import (
    StressOptions,
    StressPlan,
    cancel_model_oracles,
    candidate_outputs,
    plan_for,
    request_model_oracles,
    stress_candidate,
)
from codegen.tasks import Task
from sandbox import Judge, Limits, Report, TestCase, Verdict
from sandbox.complexity import measure_complexity
from sandbox.stress import StressReport

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
    stress: StressReport | None = None  # the stress test after the examples passed, if one ran
    # With no brute force: the outputs on the generated inputs, compared with the other candidates'
    # (None: not compared), and what the comparison found, e.g. "agrees with 2 of 3 candidates on 100 inputs".
    outputs: list[str | None] | None = None
    agreement: str | None = None
    oracle_note: str | None = None  # a broken brute force or generator that was dropped, in one sentence

    @property
    def passed_examples(self) -> bool:
        """Whether it passed every example (and there was at least one)."""
        return self.report is not None and self.report.verdict is Verdict.AC and self.report.total > 0

    @property
    def verified(self) -> bool:
        """Whether it passed every example and its stress test found nothing (a broken oracle blames no one)."""
        return self.passed_examples and not self.stress_failed

    @property
    def stress_failed(self) -> bool:
        """Whether a stress test found a counterexample or a time-out at the maximum size."""
        return self.stress is not None and self.stress.verdict is not Verdict.AC and not self.stress.broken

    @property
    def verdict(self) -> Verdict | None:
        """The verdict on the examples, or the stress test's when that failed; None when nothing ran."""
        if self.stress_failed:
            return self.stress.verdict
        return self.report.verdict if self.report else None

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
        return best.verdict.value

    def edit(self, allow_unverified: bool = False) -> TextEdit | None:
        """The edit applying the winner (or, when allowed, the closest candidate)."""
        best = self.winner or (self.closest if allow_unverified else None)
        if best is None or best.code is None:
            return None
        report = best.report
        note = note_line(
            best.verdict.value if report else "unverified",
            report.passed if report else 0,
            report.total if report else 0,
            best.complexity,
            best.measured,
            checks_note(best),
        )
        return implementation_edit(self.task, best.code, note)

    def failure_text(self) -> str:
        """One paragraph on why nothing was verified: the closest candidate's first failing example."""
        best = self.closest
        if best is None:
            return self.message or "The model gave no code."
        if best.report is None:
            return "The candidate was not run."
        if best.stress_failed:
            return f"Best candidate passed {best.passed}/{best.report.total} examples; {stress_failure(best.stress)}."
        fail = first_failure(best.report)
        if fail is None:
            return best.report.message or "No examples were run."
        return f"Best candidate passed {best.passed}/{best.report.total} examples; {fail.sentence()}."


def checks_note(candidate: Candidate) -> str | None:
    """What was checked beyond the samples, for the note line: the stress test, the agreement with the other
    candidates, and a brute force that was dropped as broken."""
    parts = [
        part for part in (stress_note(candidate.stress), candidate.agreement, candidate.oracle_note) if part
    ]
    return ", ".join(parts) or None


def stress_note(report: StressReport | None) -> str | None:
    """What the stress test checked, for the note line: "300 stress tests vs brute force, n=2e5 in 0.4 s"."""
    if report is None:
        return None
    if report.broken:
        return f"stress test skipped: {report.message or 'broken ' + report.broken}"
    return report.describe()


def tests_for(task: Task) -> list[TestCase]:
    """The task's examples as judge tests."""
    return [TestCase(f"example {i}", e.input, e.output) for i, e in enumerate(task.examples, 1)]


def runnable_code(task: Task, code: str) -> str:
    """The code as the judge should run it: a stdin program is the file as it will be after the edit; a
    function comes with the file's imports and the helpers it uses; a method is wrapped in its class."""
    if fits_in_file(task) and task.style == "stdin":
        return code if code == task.file_text else file_after(task, code)
    if fits_in_file(task):
        helpers = helpers_for(task.file_text, task.language, task.function, code)
        return f"{helpers}\n\n{code}" if helpers else code
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
    on_stream: OnText | None = None,
    on_judged: Callable[[Candidate], None] | None = None,
    stress: StressOptions | None = None,
) -> Outcome:
    """Generate `params.n` candidates, judge each on the examples, and keep the first that passes all.

    Finished candidates are handed to a judging thread while the engine keeps decoding the others; the first
    verified one finishes the engine's job early. `messages` replaces the default implement prompt (Optimize
    and Fix use their own). `on_stream(index, text)` gets each piece of a candidate's reply as it streams and
    `on_judged(candidate)` each judged candidate (the web page shows both). With `stress`, a candidate that
    passes the examples is then stress-tested (codegen/stressing.py) and only wins when nothing is found; with no
    brute force, the candidates that pass are compared on generated inputs and the first of the largest
    agreeing group wins (early, once more than half of `params.n` agree)."""
    outcome = Outcome(task)
    messages = messages or task_messages(task, system_prompt, failure)
    counter = {"tokens": 0}

    def on_text(index: int, text: str) -> None:
        counter["tokens"] += 1
        if on_stream:
            on_stream(index, text)
        if on_progress and counter["tokens"] % 16 == 0:
            on_progress(f"generating: {counter['tokens']} tokens", counter["tokens"])

    plan = plan_for(task, stress) if stress is not None else None

    def verify(index: int, reply: str) -> Candidate:
        candidate = _judged(task, index, reply, judge, limits, on_progress, counter["tokens"], params.n)
        if plan is not None and candidate.passed_examples:
            if on_progress:
                on_progress(f"stress testing candidate {index + 1}/{params.n}", counter["tokens"])
            code = runnable_code(task, candidate.code)
            candidate.stress = stress_candidate(
                task, code, judge_tests(task), judge, plan, stress, limits, cancel
            )
            candidate.oracle_note = broken_note(plan)
            if plan.brute is None and not candidate.stress_failed and plan.can_agree(task):
                candidate.outputs = candidate_outputs(task, code, judge, plan, limits)
        if on_judged:
            on_judged(candidate)
        return candidate

    judging = Judging(outcome, verify, cancel, expected=params.n)
    job = engine.chat(messages, params, Priority.BACKGROUND, on_text, judging.hand_off)
    judging.attach(job)
    try:
        if plan is not None and stress.model_oracle:
            request_model_oracles(plan, task, engine, params, system_prompt)
        replies = wait_for(job, cancel)
        for index, reply in enumerate(replies):  # candidates that ended without a finish signal
            if job.finishing:
                break
            judging.hand_off(index, reply)
        judging.close(cancel)
    except BaseException:
        judging.stop()
        raise
    finally:
        cancel_model_oracles(plan)
    outcome.candidates.sort(key=lambda c: c.index)
    if outcome.winner is None:
        outcome.winner = _by_agreement(outcome.candidates)
    _describe_agreement(outcome.candidates, plan)
    if not any(c.code for c in outcome.candidates):
        outcome.message = "The model's replies contained no code block."
    if outcome.winner is not None and measure and task.language == "python" and task.style == "function":
        outcome.winner.measured = _measure(task, outcome.winner.code, judge)
    return outcome


class Judging:
    """The pipeline's judging thread: takes finished candidates in the order they finished, judges them one
    at a time off the engine's thread, and finishes the engine's job as soon as one is verified."""

    def __init__(
        self,
        outcome: Outcome,
        verify: Callable[[int, str], Candidate],
        cancel: threading.Event | None = None,
        expected: int = 1,
    ) -> None:
        """Start the thread; `verify(index, reply)` parses and judges one candidate; `expected` candidates
        are asked for (a candidate compared by agreement wins early only with more than half of them)."""
        self.outcome = outcome
        self.expected = expected
        self._verify = verify
        self._cancel = cancel or threading.Event()
        self._inbox: queue.Queue = queue.Queue()
        self._offered: set[int] = set()
        self._lock = threading.Lock()
        self._job = None
        self._attached = threading.Event()
        self._stopped = threading.Event()
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._work, name="vibethinker-judging", daemon=True)
        self._thread.start()

    def attach(self, job) -> None:
        """Give the engine's job, which a winner finishes."""
        self._job = job
        self._attached.set()

    def hand_off(self, index: int, reply: str) -> bool:
        """Queue a finished candidate (never blocks: the job's event delivery calls it); always False."""
        with self._lock:
            if index in self._offered or self.outcome.winner is not None:
                return False
            self._offered.add(index)
        self._inbox.put((index, reply))
        return False

    def close(self, cancel: threading.Event | None = None) -> None:
        """No more candidates: wait until the queued ones are judged (or a winner or cancel ends it early)."""
        self._inbox.put(None)
        while self._thread.is_alive():
            self._thread.join(timeout=0.05)
            if cancel is not None and cancel.is_set():
                self.stop()
                raise Cancelled()
        if self.error is not None:
            raise self.error

    def stop(self) -> None:
        """Judge nothing more (the thread ends after the candidate it is on)."""
        self._stopped.set()
        self._inbox.put(None)

    def _work(self) -> None:
        """The thread: judge queued candidates until told there are no more."""
        while True:
            item = self._inbox.get()
            if item is None or self._stopped.is_set():
                return
            if self.outcome.winner is not None or self._cancel.is_set():
                continue
            try:
                candidate = self._verify(*item)
            except BaseException as exc:  # noqa: BLE001 - e.g. no sandbox: the caller gets it from close()
                self.error = exc
                self._finish_job(None)
                return
            self._record(candidate)

    def _record(self, candidate: Candidate) -> None:
        """Keep a judged candidate; a verified first one wins and finishes the engine's job."""
        with self._lock:
            self.outcome.candidates.append(candidate)
            won = candidate.verified and self.outcome.winner is None
            if won and candidate.outputs is not None:  # no brute force: a majority that agrees wins early
                group = [c for c in _agreeing(self.outcome.candidates, candidate)]
                won = len(group) * 2 > self.expected
                candidate = group[0]
            if won:
                self.outcome.winner = candidate
        if won:
            self._finish_job(candidate.index)

    def _finish_job(self, winner: int | None) -> None:
        """Tell the engine's job to stop decoding (it still resolves with its replies)."""
        self._attached.wait()
        self._job.finish(winner)


def broken_note(plan: StressPlan) -> str | None:
    """The oracles dropped as broken, for the note line (their full reasons are in the stress report)."""
    if not plan.broken:
        return None
    return "; ".join(plan.broken)


def _compared(candidates: list[Candidate]) -> list[Candidate]:
    """The candidates compared by agreement: they passed the samples and their stress test found nothing."""
    return [c for c in candidates if c.outputs is not None and c.verified]


def _agreeing(candidates: list[Candidate], candidate: Candidate) -> list[Candidate]:
    """The compared candidates whose outputs are the same as this one's, in the order they were judged."""
    mine = _signature(candidate.outputs or [])
    return [c for c in _compared(candidates) if c is candidate or _signature(c.outputs or []) == mine]


def _signature(outputs: list[str | None]) -> tuple:
    """Outputs with whitespace differences removed, as agreement_ranking compares them."""
    return tuple(None if out is None else " ".join(out.split()) for out in outputs)


def _by_agreement(candidates: list[Candidate]) -> Candidate | None:
    """With no brute force: the first of the largest group of candidates that pass the samples and agree on
    every generated input (codegen/oracles.py `agreement_ranking`); the others are ranked down."""
    from codegen.oracles import agreement_ranking

    compared = _compared(candidates)
    if not compared:
        return None
    by_index = {c.index: c for c in compared}
    order = agreement_ranking({c.index: c.outputs for c in compared}, set(by_index))
    return by_index[order[0]]


def _describe_agreement(candidates: list[Candidate], plan: StressPlan | None) -> None:
    """Say how each compared candidate fared: "agrees with 2 of 3 candidates on 100 inputs"."""
    compared = _compared(candidates)
    inputs = len(plan.agreement_inputs or []) if plan is not None else 0
    if len(compared) < 2 or not inputs:
        return
    for candidate in compared:
        group = _agreeing(compared, candidate)
        others = len(group) - 1
        if others:
            candidate.agreement = (
                f"agrees with {others} of {len(compared) - 1} other candidate{'s' if len(compared) > 2 else ''} "
                f"on {inputs} generated inputs"
            )
        else:
            candidate.agreement = (
                f"disagrees with the other candidate{'s' if len(compared) > 2 else ''} on generated inputs"
            )


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
