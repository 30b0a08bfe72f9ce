"""The web playground (`vibethinker-lsp web`): paste a problem, watch the model think, get verified code.

A thin Gradio page over the same pipeline as `solve` and the language server: codegen/statement.py reads the
pasted text as a task, codegen/pipeline.solve generates and judges, and this module only shows what they
report. The engine owns one model, so one run goes at a time; a second tab is told that it waits. The
command line decides who may connect (loopback unless --host and --auth say otherwise).
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import signal
import sys
import tempfile
import threading
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # before gradio is imported: no calls home

import gradio as gr  # noqa: E402 - after the environment above

from codegen.backends.base import BackendError  # noqa: E402
from codegen.engine import Cancelled, Engine  # noqa: E402
from codegen.failures import Failure, first_failure, stress_failure  # noqa: E402
from codegen.pipeline import Candidate, Outcome, stress_note  # noqa: E402
from codegen.statement import PastedProblem, StatementError, problem_text, read_problem  # noqa: E402
from lsp_server.companion import CompanionServer, Problem  # noqa: E402
from lsp_server.settings import Settings, parse_settings  # noqa: E402
from lsp_server.solving import make_judge, print_status, solve_task, warn_on_stderr  # noqa: E402
from sandbox import Judge  # noqa: E402
from sandbox.isolation import IsolationUnavailable  # noqa: E402

LANGUAGES = {"Python": "python", "C++": "cpp"}
EXTENSIONS = {"python": ".py", "cpp": ".cpp"}
REFRESH_S = 0.3
WAITING = (
    "Another run (in this or another tab) is solving; this one starts when it finishes. Cancel gives up."
)
EXAMPLE_PROBLEM = """A + B
Time limit: 1 s / Memory limit: 256 MB

Given two integers A and B, print A + B.

Sample Input 1
1 2

Sample Output 1
3

Sample Input 2
10 20

Sample Output 2
30
"""


@dataclass
class View:
    """What the page shows at one moment of a run (plain data; `_updates` turns it into Gradio updates)."""

    status: str
    reasoning: str = ""
    reasoning_label: str = "Reasoning"
    candidates: str = ""
    verdict: str = ""
    code: str = ""
    language: str = "python"
    download: str | None = None


@dataclass
class Run:
    """One solve in progress: what the pipeline reported so far (written by its threads, read by the page)."""

    problem: PastedProblem
    settings: Settings
    cancel: threading.Event = field(default_factory=threading.Event)
    done: threading.Event = field(default_factory=threading.Event)
    texts: dict[int, list[str]] = field(default_factory=dict)
    tokens: int = 0
    first_token_at: float | None = None
    last_token_at: float | None = None
    judged: list[Candidate] = field(default_factory=list)
    progress: str = "Starting the model..."
    outcome: Outcome | None = None
    error: str | None = None
    cancelled: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)

    def on_stream(self, index: int, text: str) -> None:
        """A piece of candidate `index`'s reply arrived."""
        now = time.monotonic()
        with self.lock:
            self.texts.setdefault(index, []).append(text)
            self.tokens += 1
        self.first_token_at = self.first_token_at or now
        self.last_token_at = now

    def on_judged(self, candidate: Candidate) -> None:
        """A candidate was judged on the samples."""
        with self.lock:
            self.judged.append(candidate)

    def streams(self) -> dict[int, str]:
        """Each candidate's streamed text so far, by index."""
        with self.lock:
            return {index: "".join(parts) for index, parts in sorted(self.texts.items())}

    def judged_so_far(self) -> list[Candidate]:
        """The candidates judged so far, in index order."""
        with self.lock:
            return sorted(self.judged, key=lambda c: c.index)

    def on_progress(self, message: str, _tokens: int) -> None:
        """The pipeline's own progress line ("judging candidate 2/4")."""
        self.progress = message

    @property
    def tokens_per_second(self) -> float:
        """Streamed pieces (tokens) per second since the first one."""
        if self.first_token_at is None or self.last_token_at is None or self.tokens < 2:
            return 0.0
        elapsed = self.last_token_at - self.first_token_at
        return (self.tokens - 1) / elapsed if elapsed > 0 else 0.0


class Playground:
    """The page's state across tabs: the settings, one engine and judge, the run lock, and received problems."""

    def __init__(
        self, settings: Settings, engine: Engine, judge: Judge, files: Path, receiving: bool = False
    ) -> None:
        self.settings = settings
        self.engine = engine
        self.judge = judge
        self.files = files  # where solutions are written for download
        self.receiving = receiving  # whether a Competitive Companion receiver feeds `received`
        self.received: list[str] = []  # problems from Competitive Companion, as Problem-box text
        self._busy = threading.Lock()
        self._cancels: dict[str, threading.Event] = {}

    def receive(self, problem: Problem) -> None:
        """A problem arrived from Competitive Companion: keep it for the Problem box of every open tab."""
        samples = [(t.input, t.output) for t in problem.tests]
        text = problem_text(
            problem.name, problem.url, samples, problem.time_limit_ms, problem.memory_limit_mb
        )
        self.received.append(text)
        print(
            f"Received {problem.name} ({len(samples)} samples) from Competitive Companion.", file=sys.stderr
        )

    def cancel(self, session: str) -> str:
        """Cancel the run (or the wait) of one tab; the status line to show."""
        event = self._cancels.get(session)
        if event is None:
            return "Nothing is running in this tab."
        event.set()
        return "Cancelling..."

    def run_settings(self, options: dict) -> tuple[Settings, list[str]]:
        """The settings for one run: the command line's, with the page's optional settings on top."""
        generation = {
            "candidates": options.get("candidates"),
            "thinkingBudget": options.get("thinking_budget"),
            "temperature": options.get("temperature"),
            "systemPrompt": options.get("system_prompt"),
        }
        judge = {"timeLimit": options.get("time_limit"), "memoryLimit": options.get("memory_limit")}
        raw = {
            "generation": {k: v for k, v in generation.items() if v is not None},
            "judge": {k: v for k, v in judge.items() if v is not None},
        }
        return parse_settings(raw, base=self.settings)

    def solve_events(self, session: str, text: str, language: str, options: dict):
        """Run one solve for a tab, yielding a View every REFRESH_S seconds and the final one at the end."""
        try:
            pasted = read_problem(text or "", language)
        except StatementError as exc:
            yield View(status=str(exc), verdict=f"### Nothing to solve\n{exc}")
            return
        settings, errors = self.run_settings(options)
        if errors:
            yield View(status=" ".join(errors), verdict="### Check the settings\n" + " ".join(errors))
            return
        pasted = _with_page_limits(pasted, options)
        cancel = threading.Event()
        self._cancels[session] = cancel
        try:
            if not self._busy.acquire(blocking=False):
                yield View(status=WAITING, verdict="### Waiting\n" + WAITING)
                while not self._busy.acquire(timeout=REFRESH_S):
                    if cancel.is_set():
                        yield View(status="Cancelled before it started.", verdict="### Cancelled")
                        return
            run = Run(pasted, settings, cancel=cancel)
            threading.Thread(target=self._work, args=(run,), name="web-solve", daemon=True).start()
            while not run.done.wait(REFRESH_S):
                yield live_view(run)
            yield final_view(run, self._solution_file(run))
        finally:
            cancel.set()  # a closed tab stops its run; after the end it changes nothing
            if self._cancels.get(session) is cancel:
                del self._cancels[session]

    def _work(self, run: Run) -> None:
        """The run's thread: the shared pipeline, then release the page for the next run."""
        task = run.problem.task
        try:
            run.outcome = solve_task(
                task,
                run.settings,
                self.engine,
                self.judge,
                on_progress=run.on_progress,
                cancel=run.cancel,
                on_stream=run.on_stream,
                on_judged=run.on_judged,
            )
            run.cancelled = run.cancel.is_set() and run.outcome.winner is None
        except Cancelled:
            run.cancelled = True
        except BackendError as exc:
            run.error = str(exc)
        except Exception as exc:  # noqa: BLE001 - the page says what failed and keeps serving
            traceback.print_exc()
            run.error = f"The run failed ({exc.__class__.__name__}: {exc}); the page keeps serving."
        finally:
            self._busy.release()
            run.done.set()

    def _solution_file(self, run: Run) -> str | None:
        """Write the shown code to a file of its own for the download button; its path."""
        best = run.outcome.closest if run.outcome and not run.cancelled else None
        if best is None or not best.code:
            return None
        folder = Path(tempfile.mkdtemp(prefix="run-", dir=self.files))  # one per run: tabs never clash
        name = "solution" if best.verified else "unverified"
        path = folder / f"{name}{EXTENSIONS.get(run.problem.task.language, '.txt')}"
        path.write_text(best.code.rstrip("\n") + "\n", encoding="utf-8")
        return str(path)


def _with_page_limits(pasted: PastedProblem, options: dict) -> PastedProblem:
    """Limits typed on the page win over those the statement states."""
    task = pasted.task
    if options.get("time_limit"):
        task = dataclasses.replace(task, time_limit_ms=round(float(options["time_limit"]) * 1000))
    if options.get("memory_limit"):
        task = dataclasses.replace(task, memory_limit_mb=int(options["memory_limit"]))
    return dataclasses.replace(pasted, task=task)


# ----------------------------------------------------------------------------------------------------------
# What the page shows


def live_view(run: Run) -> View:
    """The page while the model generates and the judge runs."""
    speed = run.tokens_per_second
    if run.tokens:
        status = f"Generating: {run.tokens} tokens, {speed:.1f} tokens/s. {_progress(run)}"
    else:
        status = run.progress
    return View(
        status=status.strip(),
        reasoning=reasoning_text(run),
        reasoning_label=f"Reasoning ({speed:.1f} tokens/s)" if speed else "Reasoning",
        candidates=candidates_table(run.judged_so_far(), run.problem),
        verdict="### Solving...\n" + _problem_line(run.problem),
        language=run.problem.task.language,
    )


def _progress(run: Run) -> str:
    """The pipeline's judging line, when it is judging."""
    return run.progress if run.progress.startswith("judging") else ""


def _problem_line(problem: PastedProblem) -> str:
    """One line on what was read from the Problem box."""
    task = problem.task
    count = len(task.examples)
    what = "a stdin program" if task.style == "stdin" else f"the function `{task.function}`"
    samples = f"{count} sample{'s' if count != 1 else ''}" if count else "no samples"
    extra = f" (the first of {problem.others + 1} TODOs)" if problem.others else ""
    return f"Writing {what}{extra}; {samples} to verify on."


def reasoning_text(run: Run) -> str:
    """Every candidate's streamed reply so far, each under its own heading when there are several."""
    streams = run.streams()
    if len(streams) == 1 and run.settings.generation.candidates == 1:
        return next(iter(streams.values()))
    parts = [f"--- candidate {index + 1} ---\n" + text for index, text in streams.items()]
    return "\n\n".join(parts)


def candidates_table(candidates: list[Candidate], problem: PastedProblem) -> str:
    """A Markdown table: each judged candidate with its verdict on every sample."""
    if not candidates:
        return ""
    rows = ["| candidate | verdict | samples |", "|---|---|---|"]
    for candidate in candidates:
        rows.append(
            f"| {candidate.index + 1} | {_candidate_verdict(candidate, problem)} | {_samples(candidate)} |"
        )
    return "\n".join(rows)


def _candidate_verdict(candidate: Candidate, problem: PastedProblem) -> str:
    """AC only for a verified candidate; otherwise what went wrong."""
    if candidate.code is None:
        return "no code"
    if candidate.report is None:
        return "not run"
    if not problem.verifiable:
        return "unverified (no samples)"
    if candidate.verified:
        return f"**AC** {candidate.report.passed}/{candidate.report.total}"
    return f"{candidate.verdict.value} {candidate.report.passed}/{candidate.report.total}"


def _samples(candidate: Candidate) -> str:
    """Each sample's verdict (`1 AC · 2 WA`), then the stress test's result; a compile error says so."""
    report = candidate.report
    if report is None:
        return ""
    if not report.tests:
        return _cell(report.message or report.compile_output or "")
    cell = " · ".join(f"{number} {test.verdict.value}" for number, test in enumerate(report.tests, start=1))
    if candidate.stress is not None:
        stress = (
            stress_failure(candidate.stress) if candidate.stress_failed else stress_note(candidate.stress)
        )
        cell += "; " + _cell(stress or "")
    return cell


def _cell(text: str) -> str:
    """Text fit for one Markdown table cell."""
    return " ".join(text.split()).replace("|", "\\|")[:200]


def final_view(run: Run, download: str | None) -> View:
    """The page when the run has ended: the verdict, the code, and how the run went."""
    language = run.problem.task.language
    table = candidates_table(run.judged_so_far(), run.problem)
    reasoning = reasoning_text(run)
    label = f"Reasoning ({run.tokens_per_second:.1f} tokens/s)" if run.tokens_per_second else "Reasoning"
    common = {"reasoning": reasoning, "reasoning_label": label, "candidates": table, "language": language}
    if run.error is not None:
        return View(status=run.error, verdict=f"### Error\n{run.error}", **common)
    if run.cancelled or run.outcome is None:
        return View(
            status="Cancelled.", verdict="### Cancelled\nThe run was stopped; nothing was kept.", **common
        )
    outcome = run.outcome
    best = outcome.closest
    if best is None or not best.code:
        message = outcome.message or outcome.failure_text()
        return View(status=message, verdict=f"### No code\n{message}", **common)
    verdict = result_text(outcome, run.problem)
    status = "Verified." if best.verified else "Done; nothing was verified."
    return View(status=status, verdict=verdict, code=best.code, download=download, **common)


def result_text(outcome: Outcome, problem: PastedProblem) -> str:
    """The verdict word and what it rests on: `AC` only for verified code, else the first failing sample."""
    best = outcome.closest
    complexity = _complexity(best)
    if best.verified:
        stress = f" {stress_note(best.stress)}." if best.stress is not None else ""
        return f"## AC\nVerified on all {best.report.total} samples (candidate {best.index + 1}).{stress} {complexity}"
    if not problem.verifiable:
        return (
            "## Unverified\nThe problem has no samples, so nothing could be verified: the code below is the "
            f"model's answer, **not verified**. Add `Sample Input`/`Sample Output` blocks to verify. {complexity}"
        )
    report = best.report
    word = best.verdict.value if best.verdict else "not run"
    total = report.total if report else len(problem.task.examples)
    lines = [
        f"## {word}: not verified",
        f"No candidate passed every check. The closest (candidate {best.index + 1}) is below, **unverified**: "
        f"it passed {best.passed}/{total} samples. {complexity}",
    ]
    failure = first_failure(report)
    found = best.stress.counterexample if best.stress_failed else None
    if best.stress_failed:
        lines.append(f"\nThe stress test found **{best.stress.verdict.value}** ({best.stress.oracle}).")
        if found is not None:
            lines += _blocks(Failure.of_counterexample(found))
        elif best.stress.message:
            lines.append(f"\n{best.stress.message}")
    elif failure is not None:
        number = [test.name for test in report.tests].index(failure.name) + 1
        lines.append(f"\nFirst failing sample: **sample {number}** ({failure.verdict.value}).")
        lines += _blocks(failure)
        if failure.message:
            lines.append(f"\n{failure.message}")
    elif report is not None and report.message:
        lines.append(f"\n{report.message}")
    return "\n".join(lines)


def _blocks(failure: Failure) -> list[str]:
    """A failing sample or counterexample as titled blocks: input, expected, and what the code printed."""
    titles = {"expected": "expected", "actual": "got"}
    return [_block("input", failure.input)] + [_block(titles[label], text) for label, text in failure.parts()]


def _block(title: str, text: str) -> str:
    """A titled fenced block for a sample's text."""
    body = text.rstrip("\n").replace("```", "'''")
    return f"\n{title}:\n```\n{body}\n```"


def _complexity(candidate: Candidate) -> str:
    """The complexity note: what the model claims, and what was measured."""
    parts = []
    if candidate.complexity:
        parts.append(f"Complexity: {candidate.complexity}")
    if candidate.measured:
        parts.append(candidate.measured)
    return ("; ".join(parts) + ".") if parts else "The model stated no complexity."


# ----------------------------------------------------------------------------------------------------------
# The page


def build_app(playground: Playground) -> gr.Blocks:
    """The Gradio page: a Problem box and options on the left, the run and its result on the right."""
    with gr.Blocks(title="VibeThinker playground", analytics_enabled=False) as app:
        gr.Markdown(
            "# VibeThinker playground\nPaste a problem with its samples (Codeforces, AtCoder, LeetCode) or code "
            "with a `TODO`, press **Solve**: the model reasons, every candidate runs on the samples in a "
            "sandbox, and only code that passed them all is marked **AC**."
        )
        with gr.Row():
            with gr.Column(scale=5):
                problem = gr.Textbox(
                    label="Problem",
                    lines=14,
                    max_lines=30,
                    placeholder="A statement with Sample Input / Sample Output blocks, or code with a TODO",
                    elem_id="problem",
                )
                language = gr.Radio(list(LANGUAGES), value="Python", label="Language", elem_id="language")
                with gr.Row():
                    solve_button = gr.Button("Solve", variant="primary", elem_id="solve")
                    cancel_button = gr.Button("Cancel", variant="stop", elem_id="cancel")
                with gr.Accordion("Settings", open=False):
                    options = _option_inputs(playground.settings)
                gr.Examples([[EXAMPLE_PROBLEM, "Python"]], inputs=[problem, language], label="Example")
            with gr.Column(scale=6):
                status = gr.Markdown("Ready.", elem_id="status")
                with gr.Accordion("Reasoning", open=True) as reasoning_panel:
                    reasoning = gr.Textbox(
                        show_label=False,
                        lines=8,
                        max_lines=14,
                        autoscroll=True,
                        interactive=False,
                        elem_id="reasoning",
                    )
                candidates = gr.Markdown(elem_id="candidates")
                verdict = gr.Markdown(elem_id="verdict")
                code = gr.Code(
                    label="Code", language="python", buttons=["copy"], elem_id="code", interactive=False
                )
                download = gr.DownloadButton("Download the code", visible=False, elem_id="download")
        outputs = [status, reasoning, reasoning_panel, candidates, verdict, code, download]

        def on_solve(
            text,
            lang,
            candidates_n,
            budget,
            temperature,
            time_limit,
            memory_limit,
            system_prompt,
            request: gr.Request,
        ):
            """Solve the Problem box; stream the run's views to the page."""
            settings = {
                "candidates": _int(candidates_n),
                "thinking_budget": _int(budget),
                "temperature": temperature,
                "time_limit": time_limit,
                "memory_limit": _int(memory_limit),
                "system_prompt": system_prompt,
            }
            for view in playground.solve_events(
                request.session_hash, text, LANGUAGES.get(lang, "python"), settings
            ):
                yield _updates(view)

        def on_cancel(request: gr.Request):
            """Stop this tab's run."""
            return playground.cancel(request.session_hash)

        solve_button.click(
            on_solve,
            [problem, language, *options],
            outputs,
            concurrency_limit=None,
            show_progress="hidden",
            api_visibility="private",
        )
        cancel_button.click(on_cancel, None, status, queue=False, api_visibility="private")
        if playground.receiving:
            _companion_inbox(playground, problem)
    return app


def _option_inputs(settings: Settings) -> list:
    """The optional settings, starting at the command line's values."""
    g = settings.generation
    return [
        gr.Slider(1, 16, value=g.candidates, step=1, label="Candidates (best-of-N)"),
        gr.Number(
            value=g.thinking_budget,
            precision=0,
            minimum=0,
            label="Thinking budget, tokens (empty: the default)",
        ),
        gr.Number(
            value=g.temperature, minimum=0.0, maximum=2.0, step=0.05, label="Temperature (empty: the default)"
        ),
        gr.Number(
            value=None,
            minimum=0.1,
            label=f"Time limit, s (empty: the problem's, else {settings.judge.time_limit:g})",
        ),
        gr.Number(
            value=None,
            precision=0,
            minimum=16,
            label=f"Memory limit, MB (empty: the problem's, else {settings.judge.memory_limit})",
        ),
        gr.Textbox(value=g.system_prompt, lines=3, label="System prompt (empty: the built-in one)"),
    ]


def _companion_inbox(playground: Playground, problem: gr.Textbox) -> None:
    """Each second, put a problem newly received from Competitive Companion into this tab's Problem box."""
    seen = gr.State(0)
    timer = gr.Timer(1.0)

    def poll(count: int):
        received = playground.received
        if len(received) <= count:
            return gr.update(), count
        return received[-1], len(received)

    timer.tick(poll, seen, [problem, seen], queue=False, show_progress="hidden", api_visibility="private")


def _int(value) -> int | None:
    """A whole number from a Gradio number field (None stays None)."""
    return None if value is None else int(value)


def _updates(view: View) -> tuple:
    """A View as Gradio updates, in the order of the outputs."""
    return (
        view.status,
        view.reasoning,
        gr.update(label=view.reasoning_label),
        view.candidates,
        view.verdict,
        gr.update(value=view.code, language=view.language),
        gr.update(value=view.download, visible=view.download is not None),
    )


# ----------------------------------------------------------------------------------------------------------
# Serving


def serve(
    settings: Settings, host: str, port: int, auth: tuple[str, str] | None, companion_port: int | None
) -> int:
    """Serve the page until interrupted; the exit status (2, after one sentence, when it cannot start)."""
    try:
        judge = make_judge(settings, warn_on_stderr)
    except IsolationUnavailable as exc:
        print(f"vibethinker-lsp: {exc}", file=sys.stderr)
        return 2
    receiver = None
    if companion_port is not None:
        try:
            receiver = CompanionServer(lambda problem: playground.receive(problem), port=companion_port)
        except OSError as exc:
            print(
                f"vibethinker-lsp: cannot receive Competitive Companion problems on port {companion_port} "
                f"({exc.strerror}); give --companion a free port.",
                file=sys.stderr,
            )
            return 2
    files = Path(tempfile.mkdtemp(prefix="vibethinker-web-"))
    engine = Engine(settings.model_config(), on_status=print_status)
    playground = Playground(settings, engine, judge, files, receiving=receiver is not None)
    _stop_on_sigterm()
    try:
        if receiver is not None:
            receiver.start()
            print(f"Competitive Companion receiver on 127.0.0.1:{receiver.port}", file=sys.stderr)
        app = build_app(playground)
        app.queue(default_concurrency_limit=None)
        app.launch(
            server_name=host,
            server_port=port,
            auth=auth,
            share=False,
            inbrowser=False,
            show_error=True,
            ssr_mode=False,
            allowed_paths=[str(files)],
            footer_links=[],
            mcp_server=False,
        )
    except OSError as exc:
        print(f"vibethinker-lsp: cannot serve the page on {host}:{port} ({exc}).", file=sys.stderr)
        return 2
    finally:
        if receiver is not None:
            receiver.stop()
        engine.close()
        shutil.rmtree(files, ignore_errors=True)
    return 0


def _stop_on_sigterm() -> None:
    """Let SIGTERM end the page like Ctrl+C, so the engine stops and the solution files are removed."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _interrupt)


def _interrupt(_signum: int, _frame: object) -> None:
    """The SIGTERM handler."""
    raise KeyboardInterrupt
