"""Code actions: listed instantly from the parsed document; the work runs when one is chosen.

Implement TODO, Optimize, Fix to pass the examples, Explain complexity, Run examples, Stress test, Add
counterexample as a test, Apply unverified candidate. Model and judge work runs off the event loop; every
edit is versioned and re-anchored.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import threading
from dataclasses import dataclass

from lsprotocol import types

from codegen import record
from codegen.backends.base import BackendError
from codegen.edits import comment_edit, note_line
from codegen.engine import Cancelled, Priority
from codegen.pipeline import (
    Outcome,
    judge_tests,
    run_examples,
    runnable_code,
    solve,
    stress_failure,
    wait_for,
)
from codegen.prompts import explain_messages, optimize_messages, task_messages
from codegen.replies import find_complexity, strip_reasoning
from codegen.tasks import Position, Range, Task
from lsp_server.convert import document_edit, to_lsp_range
from lsp_server.documents import OpenDocument
from lsp_server.progress import Progress
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


@dataclass
class RunningJob:
    """A job in flight on a document: the lines it covers and how to stop it."""

    uri: str
    range: Range
    cancel: threading.Event
    reason: str = ""


def list_actions(ls, doc: OpenDocument, rng: types.Range) -> list[types.CodeAction]:
    """Every action for a range, from the parsed tree only (no model, no judge)."""
    first, last = rng.start.line + 1, rng.end.line + 1
    actions: list[types.CodeAction] = []
    for task in doc.tasks_in(first, last):
        label = task.text or (f"implement {task.function}" if task.function else "implement the program")
        actions.append(
            make_action(ls, f"Implement {task.kind.upper()}: {label}", doc.uri, task.line, IMPLEMENT)
        )
        outcome = ls.outcomes.get((doc.uri, task.line))
        if outcome is not None and outcome.winner is None and outcome.closest is not None:
            actions.append(
                make_action(
                    ls, "Apply unverified candidate (failed the examples)", doc.uri, task.line, UNVERIFIED
                )
            )
    func = doc.function_at(Position(rng.start.line, rng.start.character))
    if func is None or func.function is None:
        return actions
    line = rng.start.line + 1
    name = func.function
    if func.examples:
        actions.append(make_action(ls, f"Run examples of {name} ({len(func.examples)})", doc.uri, line, RUN))
        if func.language in STRESS_LANGUAGES and func.class_name is None:
            actions.append(make_action(ls, f"Stress test {name}", doc.uri, line, STRESS))
    stressed = ls.stress_runs.get((doc.uri, name))
    if keepable(stressed) and not already_a_test(stressed, func):
        actions.append(make_action(ls, "Add counterexample as a test", doc.uri, line, ADD_TEST))
    selected = rng.start != rng.end
    if selected:
        actions.append(
            make_action(ls, f"Optimize {name}", doc.uri, line, OPTIMIZE, types.CodeActionKind.RefactorRewrite)
        )
        actions.append(
            make_action(
                ls,
                f"Explain complexity of {name}",
                doc.uri,
                line,
                EXPLAIN,
                types.CodeActionKind.RefactorRewrite,
            )
        )
    last_run = ls.runs.get((doc.uri, name))
    failed = last_run is not None and last_run.verdict is not Verdict.AC
    if (failed or stress_found(stressed)) and func.examples:
        actions.append(make_action(ls, f"Fix {name} to pass the examples", doc.uri, line, FIX))
    return actions


def make_action(
    ls, title: str, uri: str, line: int, name: str, kind=types.CodeActionKind.QuickFix
) -> types.CodeAction:
    """A code action that clients resolve lazily (edit) or run as a command."""
    data = {"uri": uri, "line": line, "action": name}
    action = types.CodeAction(title=title, kind=kind, data=data)
    if name in COMMAND_ONLY or not resolves_edits(ls):
        action.command = types.Command(title=title, command=COMMANDS[name], arguments=[uri, line])
    return action


def resolves_edits(ls) -> bool:
    """Whether the client resolves a code action's edit lazily."""
    td = ls.client_capabilities.text_document
    support = td.code_action.resolve_support if td and td.code_action else None
    return bool(support and "edit" in support.properties)


async def perform(ls, uri: str, line: int, name: str) -> types.WorkspaceEdit | None:
    """Do an action's work; return the versioned edit to apply, or None (a message says why)."""
    doc = ls.documents.get(uri)
    if doc is None:
        ls.show("That document is no longer open; nothing was changed.", types.MessageType.Warning)
        return None
    if name in (IMPLEMENT, UNVERIFIED):
        return await _implement(ls, doc, line, unverified=name == UNVERIFIED)
    func = doc.function_at(Position(line - 1, 0))
    if func is None:
        ls.show(
            f"There is no function at line {line} any more; nothing was changed.", types.MessageType.Warning
        )
        return None
    if name == RUN:
        try:
            await run_and_publish(ls, doc, func)
        except IsolationUnavailable as exc:
            ls.show(str(exc), types.MessageType.Error)
        return None
    if name == STRESS:
        try:
            await stress_and_publish(ls, doc, func)
        except IsolationUnavailable as exc:
            ls.show(str(exc), types.MessageType.Error)
        return None
    if name == ADD_TEST:
        return await add_counterexample(ls, doc, func)
    if name == EXPLAIN:
        return await _explain_complexity(ls, doc, func)
    if name == OPTIMIZE:
        messages = optimize_messages(func, ls.settings.generation.system_prompt or None)
    else:
        report = ls.runs.get((uri, func.function))
        failure = describe_failure(report) if report else None
        stressed = ls.stress_runs.get((uri, func.function))
        if failure is None and stress_found(stressed):  # the examples pass: the stress test's counterexample
            failure = stress_failure(stressed)
        messages = task_messages(func, ls.settings.generation.system_prompt or None, failure)
    # The answer copies much of the function: with one candidate (generation.candidates = 1) the in-process
    # decoder drafts those tokens from the prompt (prompt lookup); with several it decodes as usual.
    title = f"{'Optimizing' if name == OPTIMIZE else 'Fixing'} {func.function}"
    outcome = await solve_with_progress(ls, doc, func, messages, title, lookup=10, key=(uri, line, name))
    if outcome is None:
        return None
    if outcome.winner is None:
        ls.show(
            f"No candidate passed {_checks(outcome)} of {func.function}: {outcome.failure_text()}",
            types.MessageType.Warning,
        )
        return None
    return anchored_edit(ls, uri, func, outcome, False)


async def _implement(ls, doc: OpenDocument, line: int, unverified: bool) -> types.WorkspaceEdit | None:
    """Solve the task on a line (or reuse its last unverified candidate)."""
    task = next((t for t in doc.tasks_in(line, line) if t.line == line), None)
    if task is None:
        ls.show(f"There is no TODO on line {line} any more; nothing was changed.", types.MessageType.Warning)
        return None
    if unverified:
        outcome = ls.outcomes.get((doc.uri, line))
        if outcome is None:
            ls.show(
                "There is no earlier candidate for this task; run Implement first.", types.MessageType.Warning
            )
            return None
        return anchored_edit(ls, doc.uri, task, outcome, True)
    title = f"VibeThinker: {task.function or 'program'}"
    outcome = await solve_with_progress(ls, doc, task, None, title, key=(doc.uri, line, IMPLEMENT))
    if outcome is None:
        return None
    ls.outcomes[(doc.uri, line)] = outcome
    if outcome.winner is None:
        ls.show(
            f"No candidate passed {_checks(outcome)} of {task.function or 'the program'}: "
            f"{outcome.failure_text()} "
            "Use 'Apply unverified candidate' to insert the closest one anyway.",
            types.MessageType.Warning,
        )
        return None
    return anchored_edit(ls, doc.uri, task, outcome, False)


async def solve_with_progress(
    ls, doc: OpenDocument, task: Task, messages, title: str, lookup: int = 0, key: tuple | None = None
) -> Outcome | None:
    """Run the pipeline off the event loop with progress; None when cancelled or failed (after a message).

    A verified winner is kept under `key` (uri, line, action) until the user applies it (see record_solution)."""
    cancel = threading.Event()
    job = RunningJob(
        doc.uri, task.function_range or task.marker_range or Range(Position(0, 0), Position(0, 0)), cancel
    )
    ls.running.append(job)
    progress = Progress(ls, title, cancel)
    await progress.begin("queued")
    settings = ls.settings
    messages = messages or task_messages(task, settings.generation.system_prompt or None)
    try:
        judge = await asyncio.to_thread(ls.get_judge)
        outcome = await asyncio.to_thread(
            solve,
            task,
            ls.get_engine(),
            judge,
            dataclasses.replace(settings.generation_params(), prompt_lookup_num_tokens=lookup),
            limits=settings.limits(task),
            system_prompt=settings.generation.system_prompt or None,
            messages=messages,
            on_progress=progress.report,
            cancel=cancel,
            measure=settings.judge.measure_complexity,
            stress=settings.stress_options(),
        )
    except Cancelled:
        progress.end("cancelled")
        ls.show(f"Cancelled: {job.reason or 'stopped by the user'}.", types.MessageType.Info)
        return None
    except (BackendError, IsolationUnavailable) as exc:
        progress.end("failed")
        ls.show(str(exc), types.MessageType.Error)
        return None
    except asyncio.CancelledError:
        cancel.set()
        progress.end("cancelled")
        raise
    finally:
        ls.running.remove(job)
    if cancel.is_set():
        progress.end("cancelled")
        ls.show(f"Cancelled: {job.reason or 'stopped by the user'}.", types.MessageType.Info)
        return None
    best = outcome.closest
    total = best.report.total if best and best.report else 0
    progress.end(f"{outcome.verdict}: {best.passed}/{total} examples" if best else "no code")
    if key is not None and outcome.winner is not None:
        adapter = ls.get_engine().adapter or ""
        ls.solutions[key] = record.solution_of(
            task, messages, outcome.winner, model=settings.model.name, adapter=adapter, source="editor"
        )
    return outcome


def _checks(outcome: Outcome) -> str:
    """What the closest candidate failed: the examples, or the stress test after them."""
    best = outcome.closest
    return "the examples and the stress test" if best is not None and best.stress_failed else "the examples"


def record_command(ls, uri: str, line: int, name: str) -> types.Command | None:
    """The command a client runs after applying a verified edit, when `history.record` is on."""
    if not ls.settings.history.record or (uri, line, name) not in ls.solutions:
        return None
    title = "Record the verified solution"
    return types.Command(title=title, command=RECORD_COMMAND, arguments=[uri, line, name])


async def record_solution(ls, uri, line, name) -> bool:
    """Append the verified solution the user just applied to the record file (history.record); True if done."""
    solution = ls.solutions.pop((uri, line, name), None) if isinstance(uri, str) else None
    if solution is None or not ls.settings.history.record:
        return False
    path = record.record_path(ls.settings.history.file)
    try:
        await asyncio.to_thread(record.append, path, solution)
    except record.RecordError as exc:
        ls.show(str(exc), types.MessageType.Warning)
        return False
    ls.log(f"Recorded the verified solution of {solution.task.function or 'the program'} in {path}.")
    return True


def anchored_edit(ls, uri: str, task: Task, outcome: Outcome, unverified: bool) -> types.WorkspaceEdit | None:
    """The edit against the document as it is now: re-anchored to the same task, or dropped with a message."""
    doc = ls.documents.get(uri)
    if doc is None:
        ls.show(
            "The document was closed while the model was working; nothing was changed.",
            types.MessageType.Warning,
        )
        return None
    current = doc.find_same(task)
    if current is None:
        ls.show(
            f"{task.function or 'The task'} changed while the model was working; the result was dropped.",
            types.MessageType.Warning,
        )
        return None
    outcome.task = current
    edit = outcome.edit(allow_unverified=unverified)
    if edit is None:
        return None
    return document_edit(uri, doc.version, doc.lines, [edit])


def describe_failure(report: Report) -> str | None:
    """The first failing example of a run, for the Fix prompt and diagnostics."""
    fail = report.first_failure
    if fail is None:
        return None
    text = f"{fail.verdict.value} on {fail.input or fail.name}: expected {fail.expected.strip()}"
    if fail.actual:
        text += f", got {fail.actual.strip()}"
    if fail.message:
        text += f" ({fail.message})"
    return text


async def run_and_publish(ls, doc: OpenDocument, func: Task) -> Report:
    """Run the function (or program) on its examples in the judge and publish the results as diagnostics."""
    judge = await asyncio.to_thread(ls.get_judge)
    report = await asyncio.to_thread(run_examples, func, func.source, judge, ls.settings.limits(func))
    ls.runs[(doc.uri, func.function)] = report
    current = ls.documents.get(doc.uri)
    if current is None:
        return report
    again = current.find_same(func) or func
    name_range = again.function_range or again.marker_range
    rng = to_lsp_range(current.lines, Range(name_range.start, Position(name_range.start.line, 10**6)))
    diagnostics = []
    for test in report.tests:
        if test.verdict is Verdict.AC:
            continue
        message = f"{test.name} failed ({test.verdict.value}): {test.input or test.name}\n  expected: {test.expected.strip()}"
        if test.actual:
            message += f"\n  actual:   {test.actual.strip()}"
        if test.message:
            message += f"\n  {test.message}"
        diagnostics.append(
            types.Diagnostic(
                range=rng, message=message, severity=types.DiagnosticSeverity.Error, source="vibethinker"
            )
        )
    if not diagnostics:
        summary = (
            f"All {report.total} examples pass ({report.verdict.value})"
            if report.total
            else (report.message or "No examples ran")
        )
        severity = types.DiagnosticSeverity.Information if report.total else types.DiagnosticSeverity.Warning
        diagnostics.append(
            types.Diagnostic(range=rng, message=summary, severity=severity, source="vibethinker")
        )
    ls.diagnostics[doc.uri] = diagnostics
    ls.text_document_publish_diagnostics(
        types.PublishDiagnosticsParams(uri=doc.uri, diagnostics=diagnostics, version=current.version)
    )
    return report


async def explain(ls, task: Task, cancel: threading.Event | None = None) -> str:
    """The model's short explanation of a function (cached by the function's text)."""
    cached = ls.explanations.get(task.source)
    if cached is not None:
        return cached
    params = dataclasses.replace(
        ls.settings.generation_params(),
        n=1,
        max_new_tokens=min(1024, ls.settings.generation.max_new_tokens),
        thinking_budget=min(512, ls.settings.sampling().values.thinking_budget),
    )
    job = ls.get_engine().chat(explain_messages(task), params, Priority.EXPLAIN)
    try:
        replies = await asyncio.to_thread(wait_for, job, cancel)
    except asyncio.CancelledError:
        job.cancel()
        raise
    _, answer = strip_reasoning(replies[0] if replies else "")
    text = answer.strip()
    ls.explanations[task.source] = text
    return text


async def _explain_complexity(ls, doc: OpenDocument, func: Task) -> types.WorkspaceEdit | None:
    """Insert a one-line complexity comment above the function."""
    cancel = threading.Event()
    progress = Progress(ls, f"Explaining {func.function}", cancel)
    await progress.begin("asking the model")
    try:
        text = await explain(ls, func, cancel)
    except (BackendError, Cancelled) as exc:
        progress.end("failed")
        ls.show(str(exc) or "Cancelled.", types.MessageType.Warning)
        return None
    finally:
        progress.end("done")
    claimed = find_complexity(text)
    estimate = doc.estimate(func)
    note = f"Complexity: {claimed or 'not stated by the model'}" + (
        f" (static estimate {estimate})" if estimate else ""
    )
    current = doc.find_same(func) if ls.documents.get(doc.uri) else None
    if current is None:
        ls.show(
            f"{func.function} changed while the model was working; nothing was inserted.",
            types.MessageType.Warning,
        )
        return None
    now = ls.documents.get(doc.uri)
    return document_edit(doc.uri, now.version, now.lines, [comment_edit(current, note)])


__all__ = ["COMMANDS", "EDITING", "RunningJob", "list_actions", "perform", "explain", "note_line"]


# --- stress tests -------------------------------------------------------------------------------------------


def stress_found(report) -> bool:
    """Whether a stress test found something against the code (a counterexample or a time-out), not merely
    a broken oracle or a cancel."""
    return report is not None and report.verdict not in (Verdict.AC, Verdict.IE) and not report.broken


def already_a_test(report, func: Task) -> bool:
    """Whether the counterexample is among the task's examples already (it was added)."""
    given = report.counterexample.input.strip()
    return any(e.input.strip() == given for e in func.examples)


def keepable(report) -> bool:
    """Whether a stress test's counterexample can be kept as a test: it has an input and an expected answer."""
    found = report.counterexample if stress_found(report) else None
    return found is not None and bool(found.input.strip()) and bool(found.expected.strip())


async def stress_and_publish(ls, doc: OpenDocument, func: Task):
    """Stress-test the function (or program) as it is in the document against the user's brute force and
    generator (or the model's, with `verification.modelOracle`), with progress and cancel, and publish what
    was found as diagnostics; the report is kept for Add counterexample as a test and for Fix."""
    from codegen.stressing import (
        StressOptions,
        cancel_model_oracles,
        plan_for,
        request_model_oracles,
        stress_candidate,
    )

    settings = ls.settings
    verification = settings.verification
    options = StressOptions(seconds=verification.stress_seconds, model_oracle=verification.model_oracle)
    name = func.function or "the program"
    plan = await asyncio.to_thread(plan_for, func, options)
    if plan is None or (func.style == "function" and plan.brute is None and not options.model_oracle):
        ls.show(
            f"Nothing to stress-test {name} against: put a brute force (brute.py or brute.cpp) and, for a "
            "program that reads input, a generator (gen.py or gen.cpp, run as `gen SEED N`) next to the file, "
            "or turn on `verification.modelOracle`.",
            types.MessageType.Warning,
        )
        return None
    cancel = threading.Event()
    job = RunningJob(doc.uri, func.function_range or Range(Position(0, 0), Position(0, 0)), cancel)
    ls.running.append(job)
    progress = Progress(ls, f"Stress testing {name}", cancel)
    await progress.begin("preparing")
    try:
        judge = await asyncio.to_thread(ls.get_judge)
        if any(plan.wants_model(func).values()):
            progress.report(
                "asking the model for a brute force"
                + (" and a generator" if plan.wants_model(func)["gen"] else "")
            )
            request_model_oracles(
                plan,
                func,
                ls.get_engine(),
                settings.generation_params(),
                settings.generation.system_prompt or None,
            )
        progress.report("running")
        report = await asyncio.to_thread(
            stress_candidate,
            func,
            runnable_code(func, func.source),
            judge_tests(func),
            judge,
            plan,
            options,
            settings.limits(func),
            cancel,
        )
    except Cancelled:
        progress.end("cancelled")
        ls.show(f"Cancelled: {job.reason or 'stopped by the user'}.", types.MessageType.Info)
        return None
    except BackendError as exc:
        progress.end("failed")
        ls.show(str(exc), types.MessageType.Error)
        return None
    except asyncio.CancelledError:
        cancel.set()
        progress.end("cancelled")
        raise
    finally:
        ls.running.remove(job)
        cancel_model_oracles(plan)
    if cancel.is_set():
        progress.end("cancelled")
        ls.show(f"Cancelled: {job.reason or 'stopped by the user'}.", types.MessageType.Info)
        return None
    progress.end(report.verdict.value if report is not None else "nothing to test against")
    key = (doc.uri, func.function)
    if report is None:
        ls.stress_runs.pop(key, None)
    else:
        ls.stress_runs[key] = report
    _publish_stress(ls, doc, func, report, plan.broken)
    return report


def _publish_stress(ls, doc: OpenDocument, func: Task, report, broken: list[str]) -> None:
    """The stress test's result as one diagnostic on the function's first line."""
    current = ls.documents.get(doc.uri)
    if current is None:
        return
    again = current.find_same(func) or func
    name_range = again.function_range or again.marker_range or Range(Position(0, 0), Position(0, 0))
    rng = to_lsp_range(current.lines, Range(name_range.start, Position(name_range.start.line, 10**6)))
    dropped = f" ({'; '.join(broken)})" if broken else ""
    if report is None:
        message = f"Stress test: nothing to test against{dropped}."
        severity = types.DiagnosticSeverity.Warning
    elif stress_found(report):
        message = f"Stress test found {report.verdict.value} ({report.describe()})"
        found = report.counterexample
        if found is not None:
            message += f" on input:\n{_clip(found.input)}"
            if found.expected:
                message += f"\n  expected: {_clip(found.expected)}"
            message += f"\n  actual:   {_clip(found.actual)}"
        elif report.message:
            message += f": {report.message}"
        severity = types.DiagnosticSeverity.Error
    elif report.verdict is Verdict.AC:
        message = f"Stress test passed: {report.describe()}, nothing found{dropped}"
        severity = types.DiagnosticSeverity.Information
    else:  # a broken brute force or generator, or the sandbox failed: nothing is said about the code
        message = f"Stress test could not run: {report.message}"
        severity = types.DiagnosticSeverity.Warning
    diagnostic = types.Diagnostic(range=rng, message=message, severity=severity, source="vibethinker")
    diagnostics = [d for d in ls.diagnostics.get(doc.uri, []) if not d.message.startswith("Stress test")]
    diagnostics.append(diagnostic)
    ls.diagnostics[doc.uri] = diagnostics
    ls.text_document_publish_diagnostics(
        types.PublishDiagnosticsParams(uri=doc.uri, diagnostics=diagnostics, version=current.version)
    )


def _clip(text: str, limit: int = 600) -> str:
    """A counterexample's text cut to what a diagnostic can show."""
    text = text.strip()
    return text if len(text) <= limit else text[:limit] + f"... ({len(text)} characters)"


async def add_counterexample(ls, doc: OpenDocument, func: Task) -> types.WorkspaceEdit | None:
    """Keep the last stress test's counterexample as a test: sample files for a program (written here, no
    edit), a doctest or example comment for a function (the edit returned)."""
    from codegen.counterexamples import SampleWriteError, add_stdin_sample, function_sample_edit

    key = (doc.uri, func.function)
    report = ls.stress_runs.get(key)
    if not keepable(report):
        ls.show("There is no counterexample to add; run Stress test first.", types.MessageType.Warning)
        return None
    found = report.counterexample
    if already_a_test(report, func):
        ls.show("The counterexample is a test already.", types.MessageType.Info)
        return None
    if func.style != "stdin":
        edit = function_sample_edit(func, found.input, found.expected, doc.lines)
        if edit is None:
            ls.show(f"{func.function} has no docstring to add the example to.", types.MessageType.Warning)
            return None
        return document_edit(doc.uri, doc.version, doc.lines, [edit])
    if doc.path is None:
        ls.show("Save the file first: the test is written beside it.", types.MessageType.Warning)
        return None
    current = [(e.input, e.output) for e in func.examples]
    try:
        written = await asyncio.to_thread(add_stdin_sample, doc.path, found.input, found.expected, current)
    except SampleWriteError as exc:
        ls.show(str(exc), types.MessageType.Error)
        return None
    doc.refresh_files()
    names = ", ".join(
        str(p.relative_to(doc.path.parent)) if p.is_relative_to(doc.path.parent) else str(p) for p in written
    )
    ls.show(f"Added the counterexample as a test ({names}).", types.MessageType.Info)
    return None
