"""The server's state in typed parts, and the editor it talks to.

`State` is what actions, hover and completions get instead of the whole server: the open documents, the
settings, the engine and judge (`Models`), what runs left behind (`Results`), the jobs in flight (`Jobs`) and
the `Client` (messages, diagnostics, progress). The server (lsp_server/server.py) only registers handlers.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from lsprotocol import types
from pygls.lsp.server import LanguageServer

from codegen.engine import Engine
from codegen.geometry import Position, Range
from codegen.pipeline import Outcome
from lsp_server.completions import Completer
from lsp_server.documents import Documents
from lsp_server.progress import Progress
from lsp_server.settings import Settings, parse_settings
from lsp_server.solving import make_judge
from sandbox import Judge, Report
from sandbox.stress import StressReport

log = logging.getLogger(__name__)

STATUS_NOTIFICATION = "vibethinker/status"


class Client:
    """What the server says to the editor: messages, log lines, diagnostics, progress and status."""

    def __init__(self, server: LanguageServer) -> None:
        self._server = server
        self.loop: asyncio.AbstractEventLoop | None = None

    def show(self, message: str, kind: types.MessageType = types.MessageType.Info) -> None:
        """window/showMessage, for what the user can act on."""
        self._server.window_show_message(types.ShowMessageParams(type=kind, message=message))

    def log(self, message: str, kind: types.MessageType = types.MessageType.Log) -> None:
        """window/logMessage."""
        self._server.window_log_message(types.LogMessageParams(type=kind, message=message))

    def publish(self, uri: str, diagnostics: list[types.Diagnostic], version: int | None = None) -> None:
        """textDocument/publishDiagnostics."""
        params = types.PublishDiagnosticsParams(uri=uri, diagnostics=diagnostics, version=version)
        self._server.text_document_publish_diagnostics(params)

    def progress(self, title: str, cancel: threading.Event) -> Progress:
        """Work-done progress for one job; the client's cancel button sets `cancel`."""
        return Progress(self._server, title, cancel)

    def notify_status(self, params: dict) -> None:
        """vibethinker/status, from any thread."""
        self.soon(lambda: self._server.protocol.notify(STATUS_NOTIFICATION, params))

    @property
    def resolves_edits(self) -> bool:
        """Whether the client resolves a code action's edit lazily."""
        td = self._server.client_capabilities.text_document
        support = td.code_action.resolve_support if td and td.code_action else None
        return bool(support and "edit" in support.properties)

    @property
    def has_inline_completion(self) -> bool:
        """Whether the client shows inline completions (ghost text)."""
        td = self._server.client_capabilities.text_document
        return td is not None and td.inline_completion is not None

    def soon(self, fn: Callable[[], object]) -> None:
        """Run fn on the event loop (from any thread)."""
        loop = self.loop
        try:
            if loop is not None and loop.is_running():
                loop.call_soon_threadsafe(fn)
            else:
                fn()
        except RuntimeError:
            pass


class Models:
    """The engine and the judge for the current settings, each built on first use."""

    def __init__(self, client: Client, settings: Callable[[], Settings]) -> None:
        self._client = client
        self._settings = settings
        self.engine: Engine | None = None
        self.judge: Judge | None = None

    def get_engine(self) -> Engine:
        """The engine, started on first use (the model itself loads on the first job)."""
        if self.engine is None:
            self.engine = Engine(
                self._settings().model_config(), on_status=self._on_status, on_notice=self._on_notice
            )
        return self.engine

    def get_judge(self) -> Judge:
        """The judge for the current judge settings (call it off the event loop: it probes the sandbox)."""
        if self.judge is None:
            client = self._client
            self.judge = make_judge(
                self._settings(),
                lambda warning: client.soon(lambda: client.show(warning, types.MessageType.Warning)),
            )
            isolation = self.judge.isolation
            client.soon(lambda: client.log(f"Sandbox isolation: {isolation}"))
        return self.judge

    def settings_changed(self, old: Settings, new: Settings) -> bool:
        """Follow new settings: reload a changed model, rebuild a changed judge; True if the model changed."""
        if new.judge != old.judge:
            self.judge = None
        if self.engine is None or new.model_config() == old.model_config():
            return False
        self.engine.reload(new.model_config())
        if dataclasses.replace(old.model, adapter=new.model.adapter) == new.model:
            self._client.log(f"Adapter changed to {new.model.adapter or 'none'}; the model stays loaded.")
        else:
            self._client.log(f"Model settings changed; {new.model.name} loads on next use.")
        return True

    def status(self) -> dict:
        """The status fields naming the model: id or folder, short name, and which sampling defaults apply."""
        settings = self._settings()
        sampling = settings.sampling()
        return {
            "model": settings.model.name,
            "modelShort": sampling.detected.short_name,
            "sampling": sampling.describe(),
            "adapter": (self.engine.adapter if self.engine is not None else None) or "",
        }

    def close(self) -> None:
        """Stop the engine."""
        if self.engine is not None:
            self.engine.close()
            self.engine = None

    def _on_status(self, state: str, detail: str) -> None:
        """Forward engine state to the client (called from the engine's thread)."""
        params = {**self.status(), "state": state, "detail": detail}
        speed = getattr(self.engine, "tokens_per_second", None) if self.engine is not None else None
        if state in ("generating", "ready") and speed:
            params["tokensPerSecond"] = round(float(speed), 1)
        self._client.notify_status(params)

    def _on_notice(self, message: str) -> None:
        """A sentence from the engine the user should see (an adapter that cannot be used; the base model runs)."""
        self._client.soon(lambda: self._client.show(message, types.MessageType.Warning))


@dataclass
class Results:
    """What runs left behind, until the code they are about changes."""

    outcomes: dict[tuple[str, int], Outcome] = field(default_factory=dict)  # (uri, task line) -> last solve
    runs: dict[tuple[str, str | None], Report] = field(default_factory=dict)  # (uri, function) -> examples
    stress_runs: dict[tuple[str, str | None], StressReport] = field(default_factory=dict)  # -> stress test
    diagnostics: dict[str, list[types.Diagnostic]] = field(default_factory=dict)
    explanations: dict[str, str] = field(default_factory=dict)  # function text -> the model's explanation
    solutions: dict[tuple, object] = field(default_factory=dict)  # (uri, line, action) -> verified, to record

    def forget_checks(self, uri: str) -> None:
        """Forget a document's example runs, stress tests and diagnostics (its checked code changed)."""
        self.diagnostics.pop(uri, None)
        for results in (self.runs, self.stress_runs):
            for key in [k for k in results if k[0] == uri]:
                del results[key]


@dataclass
class RunningJob:
    """A job in flight on a document: the lines it covers and how to stop it."""

    uri: str
    range: Range
    cancel: threading.Event
    reason: str = ""


class Jobs:
    """The jobs in flight, so an edit to their code or a shutdown can stop them."""

    def __init__(self) -> None:
        self.running: list[RunningJob] = []

    def start(self, uri: str, rng: Range | None) -> RunningJob:
        """Track a new job over a range of a document."""
        job = RunningJob(uri, rng or Range(Position(0, 0), Position(0, 0)), threading.Event())
        self.running.append(job)
        return job

    def done(self, job: RunningJob) -> None:
        """Stop tracking a job."""
        self.running.remove(job)

    def cancel_touching(self, uri: str, start: Position, end: Position) -> None:
        """Cancel jobs whose text an edit of start..end touches (an insertion right before or after does not)."""
        lo, hi = (start.line, start.column), (end.line, end.column)
        for job in [j for j in self.running if j.uri == uri]:
            first = (job.range.start.line, job.range.start.column)
            last = (job.range.end.line, job.range.end.column)
            if lo < last and hi > first or (first < lo < last):
                job.reason = "the function was edited while the model was working"
                job.cancel.set()

    def cancel_all(self) -> None:
        """Cancel every job."""
        for job in self.running:
            job.cancel.set()


class State:
    """The server's state: settings, open documents, engine and judge, results, jobs, and the client."""

    def __init__(self, server: LanguageServer) -> None:
        self.settings = Settings()
        self.client = Client(server)
        self.documents = Documents()
        self.models = Models(self.client, lambda: self.settings)
        self.results = Results()
        self.jobs = Jobs()
        self.completer = Completer()

    def apply_settings(self, raw) -> list[str]:
        """Merge raw camelCase settings; a model change reloads the model; returns the error messages."""
        settings, errors = parse_settings(raw, self.settings)
        old, self.settings = self.settings, settings
        if self.models.settings_changed(old, settings):
            self.results.explanations.clear()
            self.completer = Completer()
        return errors

    def engine(self) -> Engine:
        """The engine (started on first use)."""
        return self.models.get_engine()

    def judge(self) -> Judge:
        """The judge for the current settings (call it off the event loop)."""
        return self.models.get_judge()
