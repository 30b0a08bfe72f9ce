"""The engine: one worker thread owns the model; jobs queue by priority, stream, and can be cancelled."""

from __future__ import annotations

import itertools
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from enum import IntEnum

from codegen.backends.base import Backend, BackendError, GenerationParams, ModelConfig, OnText, make_backend


class Priority(IntEnum):
    """Lower runs first: a completion or hover before a background candidate."""

    INTERACTIVE = 0
    EXPLAIN = 1
    BACKGROUND = 2


class Cancelled(Exception):
    """The job was cancelled before or while it ran."""


@dataclass
class Job:
    """A queued generation: its future, its cancel flag and a count of streamed pieces."""

    kind: str  # "chat" or "complete"
    payload: dict
    priority: Priority = Priority.BACKGROUND
    on_text: OnText | None = None
    future: Future = field(default_factory=Future)
    tokens: int = 0
    _cancel: threading.Event = field(default_factory=threading.Event)

    def cancel(self) -> None:
        """Stop the job: dropped if still queued, stopped at the next step if running."""
        self._cancel.set()

    @property
    def cancelled(self) -> bool:
        """Whether cancel() was called."""
        return self._cancel.is_set()


class Engine:
    """Owns one backend on a worker thread; the server and the CLI share it."""

    def __init__(
        self,
        config: ModelConfig,
        backend_factory: Callable[[ModelConfig], Backend] = make_backend,
        on_status: Callable[[str, str], None] | None = None,
    ) -> None:
        self.config = config
        self._factory = backend_factory
        self._on_status = on_status or (lambda state, detail: None)
        self._queue: queue.PriorityQueue = queue.PriorityQueue()
        self._order = itertools.count()
        self._backend: Backend | None = None
        self._load_error: BackendError | None = None
        self.state = "idle"
        self._thread = threading.Thread(target=self._run, name="vibethinker-engine", daemon=True)
        self._thread.start()

    def chat(
        self,
        messages: list[dict[str, str]],
        params: GenerationParams,
        priority: Priority = Priority.BACKGROUND,
        on_text: OnText | None = None,
    ) -> Job:
        """Queue a chat generation of `params.n` replies; the job's future gives the list of replies."""
        return self._submit(Job("chat", {"messages": messages, "params": params}, priority, on_text))

    def complete(
        self,
        prefix: str,
        max_new_tokens: int,
        stop: tuple[str, ...] = (),
        priority: Priority = Priority.INTERACTIVE,
    ) -> Job:
        """Queue a plain continuation; the job's future gives the text."""
        payload = {"prefix": prefix, "max_new_tokens": max_new_tokens, "stop": stop}
        return self._submit(Job("complete", payload, priority))

    def reload(self, config: ModelConfig) -> None:
        """Use another model from the next job on (the old one is freed first)."""
        self._queue.put((-1, next(self._order), Job("reload", {"config": config}, Priority.INTERACTIVE)))

    def close(self) -> None:
        """Stop the worker and free the model."""
        self._queue.put((-2, next(self._order), None))
        self._thread.join(timeout=10)

    def _submit(self, job: Job) -> Job:
        self._queue.put((int(job.priority), next(self._order), job))
        return job

    def _set_state(self, state: str, detail: str = "") -> None:
        self.state = state
        self._on_status(state, detail)

    def _ensure_backend(self) -> Backend:
        """Load the backend on first use; a load error is kept and raised for every job until reload."""
        if self._backend is not None:
            return self._backend
        if self._load_error is not None:
            raise self._load_error
        self._set_state("loading", self.config.name)
        try:
            self._backend = self._factory(self.config)
        except BackendError as exc:
            self._load_error = exc
            self._set_state("error", str(exc))
            raise
        self._set_state("ready", self.config.name)
        return self._backend

    def _run(self) -> None:
        while True:
            _, _, job = self._queue.get()
            if job is None:
                if self._backend is not None:
                    self._backend.close()
                return
            if job.kind == "reload":
                if self._backend is not None:
                    self._backend.close()
                self._backend, self._load_error = None, None
                self.config = job.payload["config"]
                self._set_state("idle", self.config.name)
                continue
            if job.cancelled:
                job.future.set_exception(Cancelled())
                continue
            if not job.future.set_running_or_notify_cancel():
                continue
            try:
                job.future.set_result(self._execute(job))
            except BaseException as exc:  # noqa: BLE001 - every failure goes to the caller
                job.future.set_exception(Cancelled() if job.cancelled else exc)
            finally:
                if self._backend is not None:
                    self._set_state("ready", self.config.name)

    def _execute(self, job: Job):
        backend = self._ensure_backend()
        self._set_state("generating", job.kind)

        def on_text(index: int, text: str) -> None:
            job.tokens += 1
            if job.on_text:
                job.on_text(index, text)

        if job.kind == "chat":
            p = job.payload
            return backend.chat(p["messages"], p["params"], on_text, lambda: job.cancelled)
        p = job.payload
        return backend.complete(p["prefix"], p["max_new_tokens"], p["stop"], lambda: job.cancelled)
