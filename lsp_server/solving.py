"""The one solve path: `vibethinker-lsp solve`, the server's Implement/Optimize/Fix and the web page turn a task,
the settings, an engine and a judge into an Outcome here, with the judge built the same way for all of them.

Data flows one way: settings -> judge and generation parameters -> codegen.pipeline.solve -> Outcome. Nothing
here knows about editors; callers show the outcome (a diff, a workspace edit, a web page).
"""

from __future__ import annotations

import dataclasses
import sys
import threading
from collections.abc import Callable
from pathlib import Path

from codegen.backends.base import OnText
from codegen.engine import Engine
from codegen.pipeline import Candidate, OnProgress, Outcome, solve
from codegen.tasks import Task, extract_tasks, read_source
from lsp_server.settings import Settings
from sandbox import Judge, Limits

WEAK_SANDBOX = (
    "Generated code runs with weaker isolation: {isolation}. Install bubblewrap (`bwrap`) and allow user "
    "namespaces for the strong sandbox."
)


def make_judge(settings: Settings, warn: Callable[[str], None], limits: Limits | None = None) -> Judge:
    """The judge for the settings (`judge.python`, `judge.isolation`, the limits); `warn` gets one sentence
    when the sandbox is weaker than bubblewrap. Raises IsolationUnavailable when the level asked for is not."""
    s = settings.judge
    judge = Judge(limits or settings.limits(), python=s.python or None, isolation=s.isolation)
    if judge.level.name != "strong":
        warn(WEAK_SANDBOX.format(isolation=judge.isolation))
    return judge


def warn_on_stderr(warning: str) -> None:
    """The command line's way to pass on make_judge's warning."""
    print(f"vibethinker-lsp: {warning}", file=sys.stderr)


def print_status(state: str, detail: str) -> None:
    """The command line's engine status: loading and error lines on stderr."""
    if state in ("loading", "error"):
        print(f"model {state}: {detail}", file=sys.stderr)


def read_tasks(path: Path) -> tuple[str, str, list[Task]]:
    """(text, language, tasks) of a source file; ValueError with one sentence when it cannot be read."""
    text, language = read_source(path)
    return text, language, extract_tasks(text, language, Path(path).resolve())


def solve_task(
    task: Task,
    settings: Settings,
    engine: Engine,
    judge: Judge,
    *,
    messages: list[dict[str, str]] | None = None,
    lookup: int = 0,
    on_progress: OnProgress | None = None,
    cancel: threading.Event | None = None,
    on_stream: OnText | None = None,
    on_judged: Callable[[Candidate], None] | None = None,
) -> Outcome:
    """Generate, judge and stress-test candidates for one task as the settings say (blocking).

    `messages` replaces the implement prompt (Optimize and Fix); `lookup` drafts that many tokens from the
    prompt (prompt lookup; the in-process decoder uses it with one candidate)."""
    params = dataclasses.replace(settings.generation_params(), prompt_lookup_num_tokens=lookup)
    return solve(
        task,
        engine,
        judge,
        params,
        limits=settings.limits(task),
        system_prompt=settings.generation.system_prompt or None,
        messages=messages,
        on_progress=on_progress,
        cancel=cancel,
        measure=settings.judge.measure_complexity,
        on_stream=on_stream,
        on_judged=on_judged,
        stress=settings.stress_options(),
    )
