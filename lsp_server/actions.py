"""Code actions: listed instantly from the parsed document; the work runs when one is chosen.

Implement TODO, Optimize, Fix to pass the examples, Explain complexity, Run examples, Stress test, Add
counterexample as a test, Apply unverified candidate. Model and judge work runs off the event loop; every
edit is versioned and re-anchored.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import logging
import threading

from lsprotocol import types

from codegen import record
from codegen.backends.base import BackendError
from codegen.counterexamples import SampleWriteError, add_stdin_sample, function_sample_edit
from codegen.edits import comment_edit, note_line
from codegen.engine import Cancelled
from codegen.failures import Failure, fix_hint, stress_found
from codegen.geometry import Position, Range
from codegen.pipeline import Outcome, judge_tests, run_examples, runnable_code
from codegen.prompts import optimize_messages, task_messages
from codegen.replies import find_complexity
from codegen.stressing import (
    StressOptions,
    cancel_model_oracles,
    plan_for,
    request_model_oracles,
    stress_candidate,
)
from codegen.tasks import Task
from lsp_server.convert import document_edit, to_lsp_range
from lsp_server.documents import OpenDocument
from lsp_server.hover import explain
from lsp_server.progress import Progress
from lsp_server.solving import solve_task
from lsp_server.state import State
from sandbox import Report, Verdict
from sandbox.isolation import IsolationUnavailable

log = logging.getLogger(__name__)

IMPLEMENT, UNVERIFIED, OPTIMIZE, FIX, EXPLAIN, RUN, STRESS, ADD_TEST = (
    "implement",
    "applyUnverified",
    "optimize",
    "fix",
    "explain",
    "runExamples",
    "stressTest",
    "addCounterexample",
)
COMMANDS = {
    IMPLEMENT: "vibethinker.implement",
    UNVERIFIED: "vibethinker.applyUnverified",
    OPTIMIZE: "vibethinker.optimize",
    FIX: "vibethinker.fix",
    EXPLAIN: "vibethinker.explainComplexity",
    RUN: "vibethinker.runExamples",
    STRESS: "vibethinker.stressTest",
    ADD_TEST: "vibethinker.addCounterexample",
}
EDITING = {IMPLEMENT, UNVERIFIED, OPTIMIZE, FIX, EXPLAIN}
COMMAND_ONLY = {RUN, STRESS, ADD_TEST}  # they publish diagnostics or write files: always run as commands
STRESS_LANGUAGES = ("python", "cpp")
RECORD_COMMAND = "vibethinker.recordSolution"


def list_actions(state: State, doc: OpenDocument, rng: types.Range) -> list[types.CodeAction]:
    """Every action for a range, from the parsed tree only (no model, no judge)."""
    action = functools.partial(make_action, state.client.resolves_edits, doc.uri)
    first, last = rng.start.line + 1, rng.end.line + 1
    actions: list[types.CodeAction] = []
    for task in doc.tasks_in(first, last):
        label = task.text or (f"implement {task.function}" if task.function else "implement the program")
        actions.append(action(f"Implement {task.kind.upper()}: {label}", task.line, IMPLEMENT))
        outcome = state.results.outcomes.get((doc.uri, task.line))
        if outcome is not None and outcome.winner is None and outcome.closest is not None:
            actions.append(action("Apply unverified candidate (failed the examples)", task.line, UNVERIFIED))
    func = doc.function_at(Position(rng.start.line, rng.start.character))
    if func is None or func.function is None:
        return actions
    return actions + _function_actions(state, doc, func, rng, action)


def _function_actions(state: State, doc: OpenDocument, func: Task, rng: types.Range, action) -> list:
    """The actions on the function under the range: run, stress, add a counterexample, optimize, explain, fix."""
    line, name = rng.start.line + 1, func.function
    actions: list[types.CodeAction] = []
    if func.examples:
        actions.append(action(f"Run examples of {name} ({len(func.examples)})", line, RUN))
        if func.language in STRESS_LANGUAGES and func.class_name is None:
            actions.append(action(f"Stress test {name}", line, STRESS))
    stressed = state.results.stress_runs.get((doc.uri, name))
    if keepable(stressed) and not already_a_test(stressed, func):
        actions.append(action("Add counterexample as a test", line, ADD_TEST))
    if rng.start != rng.end:
        rewrite = types.CodeActionKind.RefactorRewrite
        actions.append(action(f"Optimize {name}", line, OPTIMIZE, rewrite))
        actions.append(action(f"Explain complexity of {name}", line, EXPLAIN, rewrite))
    last_run = state.results.runs.get((doc.uri, name))
    failed = last_run is not None and last_run.verdict is not Verdict.AC
    if (failed or stress_found(stressed)) and func.examples:
        actions.append(action(f"Fix {name} to pass the examples", line, FIX))
    return actions


def make_action(
    resolves_edits: bool, uri: str, title: str, line: int, name: str, kind=types.CodeActionKind.QuickFix
) -> types.CodeAction:
    """A code action that clients resolve lazily (edit) or run as a command."""
    data = {"uri": uri, "line": line, "action": name}
    action = types.CodeAction(title=title, kind=kind, data=data)
    if name in COMMAND_ONLY or not resolves_edits:
        action.command = types.Command(title=title, command=COMMANDS[name], arguments=[uri, line])
    return action


async def perform(state: State, uri: str, line: int, name: str) -> types.WorkspaceEdit | None:
    """Do an action's work; return the versioned edit to apply, or None (a message says why)."""
    doc = state.documents.get(uri)
    if doc is None:
        state.client.show("That document is no longer open; nothing was changed.", types.MessageType.Warning)
        return None
    if name in (IMPLEMENT, UNVERIFIED):
        return await _implement(state, doc, line, unverified=name == UNVERIFIED)
    func = doc.function_at(Position(line - 1, 0))
    if func is None:
        state.client.show(
            f"There is no function at line {line} any more; nothing was changed.", types.MessageType.Warning
        )
        return None
    if name in (RUN, STRESS):
        try:
            await (run_and_publish if name == RUN else stress_and_publish)(state, doc, func)
        except IsolationUnavailable as exc:
            state.client.show(str(exc), types.MessageType.Error)
        return None
    if name == ADD_TEST:
        return await add_counterexample(state, doc, func)
    if name == EXPLAIN:
        return await _explain_complexity(state, doc, func)
    return await _rewrite(state, doc, func, line, name)


async def _rewrite(state: State, doc: OpenDocument, func: Task, line: int, name: str):
    """Optimize a function, or fix it to pass its examples (told the first failure or the counterexample)."""
    system = state.settings.generation.system_prompt or None
    if name == OPTIMIZE:
        messages = optimize_messages(func, system)
    else:
        key = (doc.uri, func.function)
        hint = fix_hint(state.results.runs.get(key), state.results.stress_runs.get(key))
        messages = task_messages(func, system, hint)
    # The answer copies much of the function: with one candidate (generation.candidates = 1) the in-process
    # decoder drafts those tokens from the prompt (prompt lookup); with several it decodes as usual.
    title = f"{'Optimizing' if name == OPTIMIZE else 'Fixing'} {func.function}"
    outcome = await solve_with_progress(
        state, doc, func, messages, title, lookup=10, key=(doc.uri, line, name)
    )
    if outcome is None:
        return None
    if outcome.winner is None:
        state.client.show(
            f"No candidate passed {_checks(outcome)} of {func.function}: {outcome.failure_text()}",
            types.MessageType.Warning,
        )
        return None
    return anchored_edit(state, doc.uri, func, outcome, False)


async def _implement(
    state: State, doc: OpenDocument, line: int, unverified: bool
) -> types.WorkspaceEdit | None:
    """Solve the task on a line (or reuse its last unverified candidate)."""
    task = next((t for t in doc.tasks_in(line, line) if t.line == line), None)
    show = state.client.show
    if task is None:
        show(f"There is no TODO on line {line} any more; nothing was changed.", types.MessageType.Warning)
        return None
    if unverified:
        outcome = state.results.outcomes.get((doc.uri, line))
        if outcome is None:
            show(
                "There is no earlier candidate for this task; run Implement first.", types.MessageType.Warning
            )
            return None
        return anchored_edit(state, doc.uri, task, outcome, True)
    title = f"VibeThinker: {task.function or 'program'}"
    outcome = await solve_with_progress(state, doc, task, None, title, key=(doc.uri, line, IMPLEMENT))
    if outcome is None:
        return None
    state.results.outcomes[(doc.uri, line)] = outcome
    if outcome.winner is None:
        show(
            f"No candidate passed {_checks(outcome)} of {task.function or 'the program'}: "
            f"{outcome.failure_text()} "
            "Use 'Apply unverified candidate' to insert the closest one anyway.",
            types.MessageType.Warning,
        )
        return None
    return anchored_edit(state, doc.uri, task, outcome, False)


async def tracked(state: State, uri: str, rng: Range | None, title: str, begin: str, work):
    """Run `await work(cancel, progress)` as a job on a document's range, with progress and cancel; None (after
    a message) when it was cancelled or the model or sandbox failed."""
    job = state.jobs.start(uri, rng)
    progress = state.client.progress(title, job.cancel)
    await progress.begin(begin)
    try:
        result = await work(job.cancel, progress)
    except Cancelled:
        job.cancel.set()
    except (BackendError, IsolationUnavailable) as exc:
        progress.end("failed")
        state.client.show(str(exc), types.MessageType.Error)
        return None
    except asyncio.CancelledError:
        job.cancel.set()
        progress.end("cancelled")
        raise
    finally:
        state.jobs.done(job)
    if job.cancel.is_set():
        progress.end("cancelled")
        state.client.show(f"Cancelled: {job.reason or 'stopped by the user'}.", types.MessageType.Info)
        return None
    return result, progress


async def solve_with_progress(
    state: State,
    doc: OpenDocument,
    task: Task,
    messages,
    title: str,
    lookup: int = 0,
    key: tuple | None = None,
) -> Outcome | None:
    """Run the shared solve path (lsp_server/solving.py) off the event loop with progress; None when cancelled
    or failed (after a message). A verified winner is kept under `key` (uri, line, action) until the user
    applies it (see record_solution)."""
    settings = state.settings
    messages = messages or task_messages(task, settings.generation.system_prompt or None)

    async def work(cancel: threading.Event, progress: Progress) -> Outcome:
        judge = await asyncio.to_thread(state.judge)
        engine = state.engine()
        solving = functools.partial(solve_task, messages=messages, lookup=lookup, on_progress=progress.report)
        return await asyncio.to_thread(solving, task, settings, engine, judge, cancel=cancel)

    rng = task.replace_range or task.marker_range
    done = await tracked(state, doc.uri, rng, title, "queued", work)
    if done is None:
        return None
    outcome, progress = done
    best = outcome.closest
    total = best.report.total if best and best.report else 0
    progress.end(f"{outcome.verdict}: {best.passed}/{total} examples" if best else "no code")
    if key is not None and outcome.winner is not None:
        adapter = state.engine().adapter or ""
        state.results.solutions[key] = record.solution_of(
            task, messages, outcome.winner, model=settings.model.name, adapter=adapter, source="editor"
        )
    return outcome


def _checks(outcome: Outcome) -> str:
    """What the closest candidate failed: the examples, or the stress test after them."""
    best = outcome.closest
    return "the examples and the stress test" if best is not None and best.stress_failed else "the examples"


def record_command(state: State, uri: str, line: int, name: str) -> types.Command | None:
    """The command a client runs after applying a verified edit, when `history.record` is on."""
    if not state.settings.history.record or (uri, line, name) not in state.results.solutions:
        return None
    title = "Record the verified solution"
    return types.Command(title=title, command=RECORD_COMMAND, arguments=[uri, line, name])


async def record_solution(state: State, uri, line, name) -> bool:
    """Append the verified solution the user just applied to the record file (history.record); True if done."""
    solution = state.results.solutions.pop((uri, line, name), None) if isinstance(uri, str) else None
    if solution is None or not state.settings.history.record:
        return False
    path = record.record_path(state.settings.history.file)
    try:
        await asyncio.to_thread(record.append, path, solution)
    except record.RecordError as exc:
        state.client.show(str(exc), types.MessageType.Warning)
        return False
    state.client.log(
        f"Recorded the verified solution of {solution.task.function or 'the program'} in {path}."
    )
    return True


def anchored_edit(
    state: State, uri: str, task: Task, outcome: Outcome, unverified: bool
) -> types.WorkspaceEdit | None:
    """The edit against the document as it is now: re-anchored to the same task, or dropped with a message.
    The stored outcome is left as it was (the edit is made from a copy pointing at the current task)."""
    doc = state.documents.get(uri)
    if doc is None:
        state.client.show(
            "The document was closed while the model was working; nothing was changed.",
            types.MessageType.Warning,
        )
        return None
    current = doc.find_same(task)
    if current is None:
        state.client.show(
            f"{task.function or 'The task'} changed while the model was working; the result was dropped.",
            types.MessageType.Warning,
        )
        return None
    edit = dataclasses.replace(outcome, task=current).edit(allow_unverified=unverified)
    if edit is None:
        return None
    return document_edit(uri, doc.version, doc.lines, [edit])


def _first_line(doc: OpenDocument, func: Task) -> types.Range:
    """The LSP range of the first line of a function (or program) as it is now in the document."""
    again = doc.find_same(func) or func
    start = (again.replace_range or again.marker_range or Range(Position(0, 0), Position(0, 0))).start
    return to_lsp_range(doc.lines, Range(start, Position(start.line, 10**6)))


def _publish(state: State, doc: OpenDocument, diagnostics: list[types.Diagnostic]) -> None:
    """Keep and publish a document's diagnostics."""
    state.results.diagnostics[doc.uri] = diagnostics
    state.client.publish(doc.uri, diagnostics, doc.version)


def _diagnostic(rng: types.Range, message: str, severity: types.DiagnosticSeverity) -> types.Diagnostic:
    """One of our diagnostics."""
    return types.Diagnostic(range=rng, message=message, severity=severity, source="vibethinker")


async def run_and_publish(state: State, doc: OpenDocument, func: Task) -> Report:
    """Run the function (or program) on its examples in the judge and publish the results as diagnostics."""
    judge = await asyncio.to_thread(state.judge)
    report = await asyncio.to_thread(run_examples, func, func.source, judge, state.settings.limits(func))
    state.results.runs[(doc.uri, func.function)] = report
    current = state.documents.get(doc.uri)
    if current is None:
        return report
    rng = _first_line(current, func)
    error = types.DiagnosticSeverity.Error
    diagnostics = [
        _diagnostic(rng, f"{test.name} failed ({test.verdict.value}): {_example_text(test)}", error)
        for test in report.tests
        if test.verdict is not Verdict.AC
    ]
    if not diagnostics:
        summary = (
            f"All {report.total} examples pass ({report.verdict.value})"
            if report.total
            else (report.message or "No examples ran")
        )
        severity = types.DiagnosticSeverity.Information if report.total else types.DiagnosticSeverity.Warning
        diagnostics.append(_diagnostic(rng, summary, severity))
    _publish(state, current, diagnostics)
    return report


def _example_text(test) -> str:
    """A failing example for a diagnostic: its input, then expected and actual on lines of their own."""
    failure = Failure.of_test(test)
    return f"{failure.subject}\n{failure.labelled()}" + (f"\n  {failure.message}" if failure.message else "")


async def _explain_complexity(state: State, doc: OpenDocument, func: Task) -> types.WorkspaceEdit | None:
    """Insert a one-line complexity comment above the function."""
    cancel = threading.Event()
    progress = state.client.progress(f"Explaining {func.function}", cancel)
    await progress.begin("asking the model")
    try:
        text = await explain(state, func, cancel)
    except (BackendError, Cancelled) as exc:
        progress.end("failed")
        state.client.show(str(exc) or "Cancelled.", types.MessageType.Warning)
        return None
    finally:
        progress.end("done")
    claimed = find_complexity(text)
    estimate = doc.estimate(func)
    note = f"Complexity: {claimed or 'not stated by the model'}" + (
        f" (static estimate {estimate})" if estimate else ""
    )
    now = state.documents.get(doc.uri)
    current = now.find_same(func) if now is not None else None
    if current is None:
        state.client.show(
            f"{func.function} changed while the model was working; nothing was inserted.",
            types.MessageType.Warning,
        )
        return None
    return document_edit(doc.uri, now.version, now.lines, [comment_edit(current, note)])


__all__ = ["COMMANDS", "EDITING", "list_actions", "perform", "note_line"]


# --- stress tests -------------------------------------------------------------------------------------------


def already_a_test(report, func: Task) -> bool:
    """Whether the counterexample is among the task's examples already (it was added)."""
    given = report.counterexample.input.strip()
    return any(e.input.strip() == given for e in func.examples)


def keepable(report) -> bool:
    """Whether a stress test's counterexample can be kept as a test: it has an input and an expected answer."""
    found = report.counterexample if stress_found(report) else None
    return found is not None and bool(found.input.strip()) and bool(found.expected.strip())


async def stress_and_publish(state: State, doc: OpenDocument, func: Task):
    """Stress-test the function (or program) as it is in the document against the user's brute force and
    generator (or the model's, with `verification.modelOracle`), with progress and cancel, and publish what
    was found as diagnostics; the report is kept for Add counterexample as a test and for Fix."""
    settings = state.settings
    verification = settings.verification
    options = StressOptions(seconds=verification.stress_seconds, model_oracle=verification.model_oracle)
    name = func.function or "the program"
    plan = await asyncio.to_thread(plan_for, func, options)
    if plan is None or (func.style == "function" and plan.brute is None and not options.model_oracle):
        state.client.show(
            f"Nothing to stress-test {name} against: put a brute force (brute.py or brute.cpp) and, for a "
            "program that reads input, a generator (gen.py or gen.cpp, run as `gen SEED N`) next to the file, "
            "or turn on `verification.modelOracle`.",
            types.MessageType.Warning,
        )
        return None

    async def work(cancel: threading.Event, progress: Progress):
        judge = await asyncio.to_thread(state.judge)
        wanted = plan.wants_model(func)
        if any(wanted.values()):
            progress.report(
                "asking the model for a brute force" + (" and a generator" if wanted["gen"] else "")
            )
            system = settings.generation.system_prompt or None
            request_model_oracles(plan, func, state.engine(), settings.generation_params(), system)
        progress.report("running")
        code, tests, limits = runnable_code(func, func.source), judge_tests(func), settings.limits(func)
        return await asyncio.to_thread(
            stress_candidate, func, code, tests, judge, plan, options, limits, cancel
        )

    try:
        done = await tracked(state, doc.uri, func.replace_range, f"Stress testing {name}", "preparing", work)
    finally:
        cancel_model_oracles(plan)
    if done is None:
        return None
    report, progress = done
    progress.end(report.verdict.value if report is not None else "nothing to test against")
    key = (doc.uri, func.function)
    if report is None:
        state.results.stress_runs.pop(key, None)
    else:
        state.results.stress_runs[key] = report
    _publish_stress(state, doc, func, report, plan.broken)
    return report


def _publish_stress(state: State, doc: OpenDocument, func: Task, report, broken: list[str]) -> None:
    """The stress test's result as one diagnostic on the function's first line."""
    current = state.documents.get(doc.uri)
    if current is None:
        return
    dropped = f" ({'; '.join(broken)})" if broken else ""
    if report is None:
        message = f"Stress test: nothing to test against{dropped}."
        severity = types.DiagnosticSeverity.Warning
    elif stress_found(report):
        message = f"Stress test found {report.verdict.value} ({report.describe()})"
        found = report.counterexample
        if found is not None:
            message += f" on input:\n{_clip(found.input)}\n" + Failure.of_counterexample(found).labelled(
                _clip
            )
        elif report.message:
            message += f": {report.message}"
        severity = types.DiagnosticSeverity.Error
    elif report.verdict is Verdict.AC:
        message = f"Stress test passed: {report.describe()}, nothing found{dropped}"
        severity = types.DiagnosticSeverity.Information
    else:  # a broken brute force or generator, or the sandbox failed: nothing is said about the code
        message = f"Stress test could not run: {report.message}"
        severity = types.DiagnosticSeverity.Warning
    kept = [d for d in state.results.diagnostics.get(doc.uri, []) if not d.message.startswith("Stress test")]
    _publish(state, current, kept + [_diagnostic(_first_line(current, func), message, severity)])


def _clip(text: str, limit: int = 600) -> str:
    """A counterexample's text cut to what a diagnostic can show."""
    text = text.strip()
    return text if len(text) <= limit else text[:limit] + f"... ({len(text)} characters)"


async def add_counterexample(state: State, doc: OpenDocument, func: Task) -> types.WorkspaceEdit | None:
    """Keep the last stress test's counterexample as a test: sample files for a program (written here, no
    edit), a doctest or example comment for a function (the edit returned)."""
    report = state.results.stress_runs.get((doc.uri, func.function))
    show = state.client.show
    if not keepable(report):
        show("There is no counterexample to add; run Stress test first.", types.MessageType.Warning)
        return None
    found = report.counterexample
    if already_a_test(report, func):
        show("The counterexample is a test already.", types.MessageType.Info)
        return None
    if func.style != "stdin":
        edit = function_sample_edit(func, found.input, found.expected, doc.lines)
        if edit is None:
            show(f"{func.function} has no docstring to add the example to.", types.MessageType.Warning)
            return None
        return document_edit(doc.uri, doc.version, doc.lines, [edit])
    if doc.path is None:
        show("Save the file first: the test is written beside it.", types.MessageType.Warning)
        return None
    current = [(e.input, e.output) for e in func.examples]
    try:
        written = await asyncio.to_thread(add_stdin_sample, doc.path, found.input, found.expected, current)
    except SampleWriteError as exc:
        show(str(exc), types.MessageType.Error)
        return None
    doc.refresh_files()
    names = ", ".join(
        str(p.relative_to(doc.path.parent)) if p.is_relative_to(doc.path.parent) else str(p) for p in written
    )
    show(f"Added the counterexample as a test ({names}).", types.MessageType.Info)
    return None
