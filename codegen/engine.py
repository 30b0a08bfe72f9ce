"""The engine: one worker thread owns the model; jobs queue by priority, stream, and can be cancelled.

The worker advances one job's session (codegen/backends/base.py `Session`) one decode step at a time and looks
at the queue between steps: a more urgent job (a hover, a completion) is started there and stepped to its end
before the paused one resumes. No job runs inside another's step. Each step's output goes into the job's state
(tokens, speed) and, when the caller gave callbacks, onto the job's event queue, which the job's own delivery
thread drains: streamed text and finished candidates reach the caller off the worker, never from inside the
decode loop.

Status (`on_status(state, detail)`) goes idle -> loading -> ready <-> generating, or error when loading fails.
While generating, the detail carries the speed ("123 tokens/s"), at most once a second.
"""

from __future__ import annotations

import dataclasses
import heapq
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
    Session,
    Step,
    drive,
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
    order: int = 0  # first come first served within one priority
    session: Session | None = None  # while the worker runs it
    n: int = 0  # candidates the session runs with (fewer after running out of memory)
    _events: queue.SimpleQueue | None = (
        None  # ("text" | "candidate", index, text), then ("done", result, error)
    )
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
        """Mark the job running (and start delivering its events when it has callbacks); False when it was
        cancelled first."""
        with self._lock:
            if self.cancelled or self.future.done():
                if not self.future.done():
                    self.future.set_exception(Cancelled())
                return False
            self.started_at = time.monotonic()
            if not self.future.set_running_or_notify_cancel():
                return False
        if self.on_text is not None or self.on_candidate is not None:
            self._events = queue.SimpleQueue()
            threading.Thread(target=self._deliver, name="vibethinker-job-events", daemon=True).start()
        return True

    def _record(self, step: Step) -> None:
        """Take one step's output (on the worker): count tokens, queue text and finished candidates."""
        if step.tokens:
            if self.first_token_at is None:
                self.first_token_at = time.monotonic()
            self.tokens += step.tokens
        if self._events is None:
            return
        if self.on_text is not None:
            for index, text in step.pieces:
                if text:
                    self._events.put(("text", index, text))
        if self.on_candidate is not None:
            for index, reply in step.finished:
                self._events.put(("candidate", index, reply))

    def _resolve(self, result=None, error: BaseException | None = None) -> None:
        """End the job: its future gets the result or the error, after the events before it were delivered."""
        self.finished_at = time.monotonic()
        if self._events is not None:
            self._events.put(("done", result, error))
        elif error is not None:
            self.future.set_exception(error)
        else:
            self.future.set_result(result)

    def _deliver(self) -> None:
        """The delivery thread: hand queued text and candidates to the callbacks, in order, then resolve.

        A candidate is offered only while the job is not finishing; True from `on_candidate` finishes it. A
        callback that raises ends the job with that error."""
        failed: BaseException | None = None
        while True:
            kind, first, second = self._events.get()
            if kind == "done":
                error = failed or second
                if error is not None:
                    self.future.set_exception(error)
                else:
                    self.future.set_result(first)
                return
            if failed is not None:
                continue
            try:
                if kind == "text":
                    self.on_text(first, second)
                elif not self.finishing and self.on_candidate(first, second):
                    self.finish(first)
            except BaseException as exc:  # noqa: BLE001 - the caller gets it from the future
                failed = exc
                self.cancel()


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
        self._running: list[tuple[int, int, Job]] = []  # started jobs by (priority, order): the worker's only
        self._last_report = time.monotonic()
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

        `on_text(index, text)` streams non-empty text and `on_candidate(index, reply)` hears each candidate as it
        finishes, both on the job's delivery thread (never inside the decode loop) and before the future
        resolves; True from `on_candidate`, or `job.finish(index)` from any thread later, ends the others at
        the next step. The list can be shorter than `params.n` when memory held fewer (see `job.notes`).
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
            session = backend.start_chat(p["messages"], p["params"])
            result = drive(session, should_stop=lambda: job.cancelled or job.finishing)
            if job.cancelled:
                raise Cancelled()
            job._resolve(result)
        except BaseException as exc:  # noqa: BLE001 - every failure goes to the caller
            job._resolve(error=Cancelled() if job.cancelled else exc)
        finally:
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
        job.order = next(self._order)
        self._queue.put((int(job.priority), job.order, job))
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
        """The worker: until close(), advance the most urgent job by one step (see `_next`)."""
        while True:
            job = self._next()
            if job is None:
                self._free_backend()
                return
            if job.kind == "reload":
                self._reload(job.payload["config"])
            elif job.session is None:
                self._begin(job)
            else:
                self._step(job)

    def _next(self) -> Job | None:
        """The job to advance now: the queue's head when nothing runs or it is more urgent than every running
        job, else the most urgent running one. A reload or close waits until no job runs."""
        if not self._running:
            return self._queue.get()[2]
        current = self._running[0][2]
        with self._queue.mutex:
            head = self._queue.queue[0] if self._queue.queue else None
        if head is None or head[0] < 0 or head[0] >= int(current.priority):
            return current
        item = self._queue.get_nowait()  # only this thread takes: the head is this item or a more urgent one
        if item[0] < 0:  # a reload or close arrived meanwhile: it waits for the running jobs
            self._queue.put(item)
            return current
        return item[2]

    def _begin(self, job: Job) -> None:
        """Start a job: load the model if needed and open its session (a load job ends there)."""
        if not job._start():
            return
        try:
            backend = self._ensure_backend()
            if job.kind == "load":
                self._end(job, None)
                return
            job.n = job.payload["params"].n if job.kind == "chat" else 1
            job.session = self._open(backend, job)
        except Exception as exc:  # noqa: BLE001 - out of memory retries; anything else goes to the caller
            if not self._retry_with_fewer(job, exc):
                self._end(job, error=exc)
        if job.session is None:
            return
        heapq.heappush(self._running, (int(job.priority), job.order, job))
        self._set_state("generating", job.kind)
        self._last_report = time.monotonic()

    def _open(self, backend: Backend, job: Job) -> Session:
        """The job's session on the backend, with `job.n` candidates for a chat."""
        p = job.payload
        if job.kind == "chat":
            return backend.start_chat(p["messages"], replace_n(p["params"], job.n))
        return backend.start_complete(p["prefix"], p["max_new_tokens"], p["stop"])

    def _step(self, job: Job) -> None:
        """Advance a running job by one step; end it when its session is done, cancelled or finished."""
        session = job.session
        try:
            if job.cancelled or job.finishing:
                session.stop("cancelled" if job.cancelled else "winner_found")
            else:
                job._record(session.step())
                self._report_speed(job)
        except Exception as exc:  # noqa: BLE001 - out of memory retries; anything else goes to the caller
            session.close()
            job.session = None
            if not self._retry_with_fewer(job, exc):
                self._end(job, error=exc)
            return
        if session.done:
            session.close()
            self._end(job, session.result())

    def _retry_with_fewer(self, job: Job, exc: Exception) -> bool:
        """After out of memory in a chat, open the session again with half the candidates, down to one; False
        when the error is another. The job ends with one clear sentence when even one candidate does not fit."""
        if job.kind != "chat" or not is_out_of_memory(exc) or job.cancelled:
            return False
        asked = job.payload["params"].n
        while job.n > 1:
            job.n = max(1, job.n // 2)
            job.notes.append(f"out of GPU memory: retried with {job.n} candidate(s) instead of {asked}")
            self._set_state("generating", job.notes[-1])
            try:
                job.session = self._open(self._ensure_backend(), job)
                return True
            except Exception as error:  # noqa: BLE001 - out of memory again halves again
                if not is_out_of_memory(error):
                    self._end(job, error=error)
                    return True
        self._end(
            job,
            error=BackendError(
                "The GPU ran out of memory even for one candidate; lower `generation.maxNewTokens`, "
                "set `model.quantization` to 8bit or 4bit, or set `model.device` to cpu."
            ),
        )
        return True

    def _report_speed(self, job: Job) -> None:
        """Tell the listener the speed, at most once a second."""
        now = time.monotonic()
        if now - self._last_report >= STATUS_INTERVAL_S and job.tokens:
            self._last_report = now
            self._set_state("generating", f"{job.tokens_per_second:.0f} tokens/s")

    def _end(self, job: Job, result=None, error: BaseException | None = None) -> None:
        """Resolve a job (Cancelled when it was cancelled), drop it from the running ones, report the state."""
        self._running = [entry for entry in self._running if entry[2] is not job]
        heapq.heapify(self._running)
        job.session = None
        if job.kind == "chat" and error is None and len(result) < job.n and job.winner is None:
            job.notes.append(
                f"GPU memory held {len(result)} candidate(s) instead of {job.payload['params'].n}"
            )
        job._resolve(result, Cancelled() if job.cancelled else error)
        if job.tokens > 1:
            self.tokens_per_second = job.tokens_per_second
        if self._backend is not None and (self.state != "ready" or job.tokens > 1):
            detail = self.label
            if job.tokens > 1:
                detail += f" · {job.tokens_per_second:.0f} tokens/s"
            self._set_state("ready", detail)
        if self._running:
            self._set_state("generating", self._running[0][2].kind)

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


def replace_n(params: GenerationParams, n: int) -> GenerationParams:
    """The same parameters with another number of candidates."""
    from dataclasses import replace

    return params if params.n == n else replace(params, n=n)
