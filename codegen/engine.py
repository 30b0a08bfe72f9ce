"""The engine: one worker thread owns the model; jobs queue by priority, stream, and can be cancelled.

Status (`on_status(state, detail)`) goes idle -> loading -> ready <-> generating, or error when loading fails.
While generating, the detail carries the speed ("123 tokens/s"), at most once a second.
"""

from __future__ import annotations

import dataclasses
import itertools
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from enum import IntEnum

from codegen.backends.base import (
    Backend,
    BackendError,
    GenerationParams,
    ModelConfig,
    OnCandidate,
    OnText,
    is_out_of_memory,
    make_backend,
)

STATUS_INTERVAL_S = 1.0


class Priority(IntEnum):
    """Lower runs first: a completion or hover before a background candidate."""

    INTERACTIVE = 0
    EXPLAIN = 1
    BACKGROUND = 2


class Cancelled(Exception):
    """The job was cancelled before or while it ran."""


@dataclass
class Job:
    """A queued generation: its future, its cancel flag, and how fast it streams."""

    kind: str  # "chat", "complete", "load" or "reload"
    payload: dict
    priority: Priority = Priority.BACKGROUND
    on_text: OnText | None = None
    on_candidate: OnCandidate | None = None
    future: Future = field(default_factory=Future)
    tokens: int = 0  # tokens generated so far, over all candidates
    notes: list[str] = field(default_factory=list)  # e.g. fewer candidates after running out of memory
    winner: int | None = None  # the candidate the caller accepted (see finish)
    started_at: float | None = None
    first_token_at: float | None = None
    finished_at: float | None = None
    _cancel: threading.Event = field(default_factory=threading.Event)
    _finish: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def cancel(self) -> None:
        """Stop the job: resolved with Cancelled at once if still queued, stopped at the next step if running."""
        with self._lock:
            self._cancel.set()
            if self.started_at is None and not self.future.done():
                self.future.set_exception(Cancelled())

    def finish(self, winner: int | None = None) -> None:
        """Stop generating at the next step but resolve with the replies so far (not Cancelled).

        The pipeline calls it from its own thread when a candidate wins; `winner` records which one."""
        with self._lock:
            if self.winner is None and winner is not None:
                self.winner = winner
            self._finish.set()

    @property
    def cancelled(self) -> bool:
        """Whether cancel() was called."""
        return self._cancel.is_set()

    @property
    def finishing(self) -> bool:
        """Whether finish() was called: the backend stops at its next step and the job keeps its replies."""
        return self._finish.is_set()

    @property
    def tokens_per_second(self) -> float:
        """Generated tokens per second since the first token (0 before two tokens exist)."""
        if self.first_token_at is None:
            return 0.0
        elapsed = (self.finished_at or time.monotonic()) - self.first_token_at
        return (self.tokens - 1) / elapsed if elapsed > 0 and self.tokens > 1 else 0.0

    @property
    def time_to_first_token(self) -> float | None:
        """Seconds from the start of the job to its first token."""
        if self.first_token_at is None or self.started_at is None:
            return None
        return self.first_token_at - self.started_at

    def _start(self) -> bool:
        """Mark the job running; False when it was cancelled first."""
        with self._lock:
            if self.cancelled or self.future.done():
                if not self.future.done():
                    self.future.set_exception(Cancelled())
                return False
            self.started_at = time.monotonic()
            return self.future.set_running_or_notify_cancel()


class Engine:
    """Owns one backend on a worker thread; the server and the CLI share it."""

    def __init__(
        self,
        config: ModelConfig,
        backend_factory: Callable[[ModelConfig], Backend] = make_backend,
        on_status: Callable[[str, str], None] | None = None,
        on_notice: Callable[[str], None] | None = None,
    ) -> None:
        """`on_notice(sentence)` hears what the user should know but that stops nothing (an adapter that
        cannot be used: the base model answers instead)."""
        self.config = config
        self._factory = backend_factory
        self._on_status = on_status or (lambda state, detail: None)
        self._on_notice = on_notice or (lambda message: None)
        self._queue: queue.PriorityQueue = queue.PriorityQueue()
        self._order = itertools.count()
        self._backend: Backend | None = None
        self._load_error: BackendError | None = None
        self.state = "idle"
        self.tokens_per_second = 0.0  # of the last job that generated
        self._thread = threading.Thread(target=self._run, name="vibethinker-engine", daemon=True)
        self._thread.start()

    def chat(
        self,
        messages: list[dict[str, str]],
        params: GenerationParams,
        priority: Priority = Priority.BACKGROUND,
        on_text: OnText | None = None,
        on_candidate: OnCandidate | None = None,
    ) -> Job:
        """Queue a chat generation of `params.n` replies; the job's future gives the list of replies.

        `on_text(index, text)` streams non-empty text; `on_candidate(index, reply)` is called on the worker
        thread as each candidate finishes and must only hand the reply off (judging happens elsewhere, so the
        batch keeps decoding); returning True, or calling `job.finish(index)` from any thread later, ends the
        others early. The list can be shorter than `params.n` when memory held fewer (see `job.notes`).
        """
        payload = {"messages": messages, "params": params}
        return self._submit(Job("chat", payload, priority, on_text, on_candidate))

    def chat_alongside(
        self,
        messages: list[dict[str, str]],
        params: GenerationParams,
        priority: Priority = Priority.BACKGROUND,
    ) -> Job:
        """A chat that should cost no extra wall time next to the job decoding now (the model's brute force
        and generator, asked together with the candidates).

        A remote server (`model.backend` openai) serves requests concurrently, so the request goes out at once
        on its own thread and connection, in parallel with the candidates' request. The in-process model
        decodes one batch at a time (codegen/backends/decode.py batches the candidates of one prompt), so there
        the chat is queued like `chat()`, right after the jobs already queued at its priority."""
        if self.config.backend != "openai":
            return self.chat(messages, params, priority)
        job = Job("chat", {"messages": messages, "params": params}, priority)
        threading.Thread(
            target=self._run_alongside, args=(job,), name="vibethinker-alongside", daemon=True
        ).start()
        return job

    def _run_alongside(self, job: Job) -> None:
        """Run one concurrent chat on a backend of its own (an HTTP client: cheap, nothing shared)."""
        if not job._start():
            return
        backend: Backend | None = None
        try:
            backend = self._factory(self.config)
            p = job.payload
            result = backend.chat(p["messages"], p["params"], None, lambda: job.cancelled or job.finishing)
            if job.cancelled:
                raise Cancelled()
            job.future.set_result(result)
        except BaseException as exc:  # noqa: BLE001 - every failure goes to the caller
            job.future.set_exception(Cancelled() if job.cancelled else exc)
        finally:
            job.finished_at = time.monotonic()
            if backend is not None:
                backend.close()

    def complete(
        self,
        prefix: str,
        max_new_tokens: int,
        stop: tuple[str, ...] = (),
        priority: Priority = Priority.INTERACTIVE,
        on_text: OnText | None = None,
    ) -> Job:
        """Queue a greedy plain continuation; the job's future gives the text (cut before any stop string)."""
        payload = {"prefix": prefix, "max_new_tokens": max_new_tokens, "stop": stop}
        return self._submit(Job("complete", payload, priority, on_text))

    def load(self) -> Job:
        """Load (and warm up) the model now rather than on the first request; the future gives None."""
        return self._submit(Job("load", {}, Priority.INTERACTIVE))

    def reload(self, config: ModelConfig) -> None:
        """Use another model from the next job on (the old one is freed first; a change of adapter only
        switches adapters on the loaded model)."""
        self._queue.put((-1, next(self._order), Job("reload", {"config": config}, Priority.INTERACTIVE)))

    def close(self) -> None:
        """Stop the worker and free the model."""
        self._queue.put((-2, next(self._order), None))
        self._thread.join(timeout=10)

    def _submit(self, job: Job) -> Job:
        """Put a job on the queue by priority, first come first served within one priority."""
        self._queue.put((int(job.priority), next(self._order), job))
        return job

    def _set_state(self, state: str, detail: str = "") -> None:
        """Record the state and tell the listener."""
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
            backend = self._factory(self.config)
            warm_up = getattr(backend, "warm_up", None)
            if warm_up is not None:
                warm_up(lambda detail: self._set_state("loading", detail))
        except BackendError as exc:
            self._load_error = exc
            self._set_state("error", str(exc))
            raise
        self._backend = backend
        if getattr(backend, "adapter_error", None):
            self._on_notice(backend.adapter_error)
        self._set_state("ready", self.label)
        return backend

    def _free_backend(self) -> None:
        """Close the current backend, if any."""
        if self._backend is not None:
            self._backend.close()
        self._backend = None

    def _run(self) -> None:
        """The worker: take jobs by priority and run them one at a time until close()."""
        while True:
            _, _, job = self._queue.get()
            if job is None:
                self._free_backend()
                return
            if job.kind == "reload":
                self._reload(job.payload["config"])
                continue
            self._run_job(job)

    @property
    def adapter(self) -> str | None:
        """The LoRA adapter the loaded model uses now (None: none, or not loaded yet)."""
        return getattr(self._backend, "adapter", None) if self._backend is not None else None

    @property
    def label(self) -> str:
        """The model's name, with the adapter in use."""
        return f"{self.config.name} + {self.adapter}" if self.adapter else self.config.name

    def _reload(self, config: ModelConfig) -> None:
        """Take a new configuration: a loaded model whose adapter alone changed switches adapters in place (the
        base weights stay in memory); any other change frees the model, which loads again on the next job."""
        old, self.config = self.config, config
        switch = getattr(self._backend, "set_adapter", None) if self._backend is not None else None
        if switch is not None and dataclasses.replace(old, adapter=config.adapter) == config:
            detail = f"adapter {config.adapter}" if config.adapter else "removing the adapter"
            self._set_state("loading", detail)
            try:
                switch(config.adapter)
            except BackendError as exc:
                self._on_notice(str(exc))
            self._set_state("ready", self.label)
            return
        self._free_backend()
        self._load_error = None
        self._set_state("idle", config.name)

    def _run_job(self, job: Job) -> None:
        """Run one job to its end and resolve its future."""
        if not job._start():
            return
        try:
            result = self._execute(job)
            if job.cancelled:
                raise Cancelled()
            job.future.set_result(result)
        except BaseException as exc:  # noqa: BLE001 - every failure goes to the caller
            job.future.set_exception(Cancelled() if job.cancelled else exc)
        finally:
            job.finished_at = time.monotonic()
            if job.tokens > 1:
                self.tokens_per_second = job.tokens_per_second
            if self._backend is not None and (self.state != "ready" or job.tokens > 1):
                detail = self.label
                if job.tokens > 1:
                    detail += f" · {job.tokens_per_second:.0f} tokens/s"
                self._set_state("ready", detail)

    def _run_more_urgent(self, current: Job) -> None:
        """Run queued jobs of a more urgent priority now, inside the current one's step (it pauses meanwhile).

        An inline completion or hover does not wait for a long best-of-N batch to finish.
        """
        while True:
            with self._queue.mutex:
                head = self._queue.queue[0] if self._queue.queue else None
            if (
                head is None
                or head[0] >= int(current.priority)
                or head[2] is None
                or head[2].kind == "reload"
            ):
                return
            item = self._queue.get_nowait()
            if item[2] is None or item[2].kind == "reload" or item[0] >= int(current.priority):
                self._queue.put(item)  # something else got to the head first: leave it for the main loop
                return
            self._run_job(item[2])
            self._set_state("generating", current.kind)

    def _execute(self, job: Job):
        """Run one job on the backend."""
        backend = self._ensure_backend()
        if job.kind == "load":
            return None
        self._set_state("generating", job.kind)
        on_text = self._stream_to(job)
        p = job.payload
        if job.kind == "chat":
            return self._chat_with_fewer_on_oom(backend, job, p["messages"], p["params"], on_text)
        return backend.complete(
            p["prefix"], p["max_new_tokens"], p["stop"], self._stop_check(job), on_text=on_text
        )

    def _stop_check(self, job: Job) -> Callable[[], bool]:
        """The backend's per-step check: runs more urgent queued jobs first, then says whether to stop."""

        def should_stop() -> bool:
            if not (job.cancelled or job.finishing):
                self._run_more_urgent(job)
            return job.cancelled or job.finishing

        return should_stop

    def _stream_to(self, job: Job) -> OnText:
        """The backend's per-token callback for a job: counts tokens, reports speed, forwards text."""
        last_report = [time.monotonic()]

        def on_text(index: int, text: str) -> None:
            now = time.monotonic()
            if job.first_token_at is None:
                job.first_token_at = now
            job.tokens += 1
            if now - last_report[0] >= STATUS_INTERVAL_S:
                last_report[0] = now
                self._set_state("generating", f"{job.tokens_per_second:.0f} tokens/s")
            if text and job.on_text:
                job.on_text(index, text)

        return on_text

    def _chat_with_fewer_on_oom(
        self, backend: Backend, job: Job, messages, params: GenerationParams, on_text
    ):
        """Run a chat; on out-of-memory retry with half the candidates, down to one."""
        n = params.n
        while True:
            try:
                replies = self._chat_once(backend, job, messages, replace_n(params, n), on_text)
            except Exception as exc:
                if not is_out_of_memory(exc) or job.cancelled:
                    raise
                if n <= 1:
                    raise BackendError(
                        "The GPU ran out of memory even for one candidate; lower `generation.maxNewTokens`, "
                        "set `model.quantization` to 8bit or 4bit, or set `model.device` to cpu."
                    ) from exc
                n = max(1, n // 2)
                job.notes.append(f"out of GPU memory: retried with {n} candidate(s) instead of {params.n}")
                self._set_state("generating", job.notes[-1])
                continue
            if len(replies) < n and job.winner is None:
                job.notes.append(f"GPU memory held {len(replies)} candidate(s) instead of {params.n}")
            return replies

    def _chat_once(self, backend: Backend, job: Job, messages, params: GenerationParams, on_text):
        """One chat call on the backend, passing on_candidate only when the job has one.

        The backend's on_candidate is a hand-off: the job's callback gets the finished reply and answers at
        once; True (now, or a `finish` later from the caller's thread) ends the batch."""
        should_stop = self._stop_check(job)
        if job.on_candidate is None:
            return backend.chat(messages, params, on_text, should_stop)

        def on_candidate(index: int, text: str) -> bool:
            if not job.finishing and job.on_candidate(index, text):
                job.finish(index)
            return job.finishing

        return backend.chat(messages, params, on_text, should_stop, on_candidate=on_candidate)


def replace_n(params: GenerationParams, n: int) -> GenerationParams:
    """The same parameters with another number of candidates."""
    from dataclasses import replace

    return params if params.n == n else replace(params, n=n)
