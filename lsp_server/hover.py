"""Hover over a function: what is known at once (static estimate, last example run) and the model's short
explanation, cached by the function's text. Explain complexity uses the same explanation."""

from __future__ import annotations

import asyncio
import dataclasses
import threading
from typing import TYPE_CHECKING

from codegen.backends.base import BackendError
from codegen.engine import Cancelled, Priority
from codegen.failures import first_failure
from codegen.pipeline import wait_for
from codegen.prompts import explain_messages
from codegen.replies import strip_reasoning
from codegen.tasks import Task
from lsp_server.documents import OpenDocument

if TYPE_CHECKING:
    from lsp_server.state import State


async def hover_text(state: State, doc: OpenDocument, func: Task) -> str:
    """The hover's Markdown: the instant part, then the explanation (or why it is not there yet)."""
    parts = [instant_part(state, doc, func)]
    if not state.settings.hover.explain:
        return "\n\n".join(parts)
    engine = state.engine()
    loading = state.settings.model.backend == "transformers" and engine.state in ("idle", "loading", "error")
    if func.source not in state.results.explanations and loading:
        if engine.state == "idle":
            engine.load()  # the next hover explains; this one stays instant
        note = "loading the model" if engine.state != "error" else "the model failed to load"
        parts.append(f"_Explanation: {note}; hover again in a moment._")
    else:
        try:
            parts.append("**Explanation** (VibeThinker): " + (await explain(state, func) or "no answer"))
        except (BackendError, Cancelled) as exc:
            parts.append(f"_Explanation unavailable: {exc or 'cancelled'}_")
    return "\n\n".join(parts)


def instant_part(state: State, doc: OpenDocument, func: Task) -> str:
    """What is known without the model: the static estimate and the last example results."""
    lines = [f"**{func.function}**"]
    estimate = doc.estimate(func)
    if estimate:
        lines.append(f"Estimated: {estimate}")
    report = state.results.runs.get((doc.uri, func.function))
    if report is not None:
        lines.append(f"Last run: {report.verdict.value}, {report.passed}/{report.total} examples pass")
        failure = first_failure(report)
        if failure is not None:
            lines.append(f"First failure: {failure.sentence()}")
    elif func.examples:
        lines.append(f"{len(func.examples)} examples (not run yet)")
    return "  \n".join(lines)


async def explain(state: State, task: Task, cancel: threading.Event | None = None) -> str:
    """The model's short explanation of a function (cached by the function's text)."""
    cached = state.results.explanations.get(task.source)
    if cached is not None:
        return cached
    settings = state.settings
    params = dataclasses.replace(
        settings.generation_params(),
        n=1,
        max_new_tokens=min(1024, settings.generation.max_new_tokens),
        thinking_budget=min(512, settings.sampling().values.thinking_budget),
    )
    job = state.engine().chat(explain_messages(task), params, Priority.EXPLAIN)
    try:
        replies = await asyncio.to_thread(wait_for, job, cancel)
    except asyncio.CancelledError:
        job.cancel()
        raise
    _, answer = strip_reasoning(replies[0] if replies else "")
    text = answer.strip()
    state.results.explanations[task.source] = text
    return text
