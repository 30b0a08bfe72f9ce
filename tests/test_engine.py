"""The engine: one worker, priorities, streaming, cancellation, best-of-N hand-off, out-of-memory retries."""

from __future__ import annotations

import sys
import threading
from dataclasses import replace

import pytest
import torch

from codegen.backends.base import BackendError, BlockingCalls, GenerationParams, ModelConfig, Step
from codegen.engine import Cancelled, Engine, Priority
from devtools.tiny_model import build_tiny_model

MESSAGES = [{"role": "user", "content": "Implement two_sum(nums, target)."}]
WAIT = 60


pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def model_folder(tmp_path_factory):
    """A tiny random Qwen2 saved like a real checkpoint."""
    return build_tiny_model(tmp_path_factory.mktemp("tiny-engine"))


@pytest.fixture(scope="module")
def engine(model_folder):
    """One engine on the tiny model for the whole module (loaded once)."""
    statuses: list[tuple[str, str]] = []
    eng = Engine(ModelConfig(name=str(model_folder)), on_status=lambda s, d: statuses.append((s, d)))
    eng.statuses = statuses
    eng.load().future.result(WAIT)
    yield eng
    eng.close()


def params(**changes) -> GenerationParams:
    """Small generation parameters for the tiny model."""
    return replace(GenerationParams(max_new_tokens=24, temperature=1.0, top_p=0.95, n=1, seed=1), **changes)


class RecordingBackend(BlockingCalls):
    """A Backend double: records call order, can block until released, can raise out-of-memory."""

    name = "double"

    def __init__(self, oom_above: int | None = None) -> None:
        self.calls: list[str] = []
        self.ns: list[int] = []
        self.release = threading.Event()
        self.release.set()
        self.started = threading.Event()
        self.oom_above = oom_above

    def start_chat(self, messages, params):
        """Record the call; the session's one step does the rest."""
        self.calls.append(messages[0]["content"])
        self.ns.append(params.n)
        self.started.set()
        return OneStepSession(self, params.n)

    def warm_up(self, report):
        """Report progress the way the real backend does."""
        report("warming up the decode step for 1 candidate(s)")

    def start_complete(self, prefix, max_new_tokens, stop=()):
        """Record the call and echo."""
        self.calls.append(prefix)
        return EchoSession(prefix)

    def close(self):
        """Nothing to free."""


class OneStepSession:
    """A chat in one step: waits until released, raises OOM for too many candidates, else streams one piece
    per candidate and finishes each."""

    def __init__(self, backend: RecordingBackend, n: int) -> None:
        self.backend, self.n, self.replies, self.done = backend, n, [], False

    def step(self) -> Step:
        """The whole chat."""
        self.backend.release.wait(WAIT)
        if self.backend.oom_above is not None and self.n > self.backend.oom_above:
            raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
        step = Step()
        for i in range(self.n):
            self.replies.append(f"reply {i}")
            step.pieces.append((i, self.replies[-1]))
            step.finished.append((i, self.replies[-1]))
            step.tokens += 1
        self.done = True
        return step

    def stop(self, reason="cancelled"):
        """End now."""
        self.done = True

    def result(self):
        """The replies so far."""
        return self.replies

    def close(self):
        """Nothing held."""


class EchoSession(OneStepSession):
    """A completion that echoes its prefix in one step."""

    def __init__(self, prefix: str) -> None:
        self.prefix, self.done = prefix, False

    def step(self) -> Step:
        """The whole completion."""
        self.done = True
        return Step()

    def result(self):
        """The prefix."""
        return self.prefix


def test_chat_streams_and_returns_n_distinct_candidates(engine):
    pieces: dict[int, list[str]] = {}
    job = engine.chat(MESSAGES, params(n=3), on_text=lambda i, t: pieces.setdefault(i, []).append(t))
    replies = job.future.result(WAIT)
    assert len(replies) == 3 and len(set(replies)) == 3
    assert ["".join(pieces.get(i, [])) for i in range(3)] == replies
    assert job.tokens >= sum(1 for r in replies if r)
    assert job.tokens_per_second > 0 and job.time_to_first_token is not None
    assert engine.state == "ready"
    assert engine.statuses[-1][1].endswith("tokens/s")


def test_thinking_budget_inserts_the_close_and_continues(engine):
    replies = engine.chat(MESSAGES, params(n=2, max_new_tokens=40, thinking_budget=6)).future.result(WAIT)
    finished_early = [r for r in replies if "</think>" not in r]
    for reply in replies:
        if "</think>" in reply:
            assert reply.index("\n</think>\n\n") < len(reply) - len("\n</think>\n\n")
    # A random model can end a sequence before the budget; it must not have done so for both.
    assert len(finished_early) < len(replies)


def test_cancel_mid_generation_raises_cancelled(engine):
    # Greedy continuation of a repetitive prompt: the tiny model repeats it and never ends by itself.
    job = engine.complete("for i, x in enumerate(nums):\n" * 3, 100_000)
    while job.tokens < 5:
        assert not job.future.done(), "the model ended by itself; the test needs a prompt it keeps continuing"
        threading.Event().wait(0.01)
    job.cancel()
    with pytest.raises(Cancelled):
        job.future.result(WAIT)
    assert 5 <= job.tokens < 100_000
    # The worker is free again.
    assert engine.complete("def f", 4).future.result(WAIT) is not None


def test_on_candidate_true_ends_the_others_early(engine):
    offered: list[int] = []

    def judge(index: int, text: str) -> bool:
        offered.append(index)
        return True

    job = engine.chat(MESSAGES, params(n=3, max_new_tokens=16), on_candidate=judge)
    replies = job.future.result(WAIT)
    assert len(offered) == 1 and job.winner == offered[0]
    assert len(replies) == 3


def test_complete_stops_at_stop_strings(engine):
    free = engine.complete("def two_sum(nums", 30).future.result(WAIT)
    assert len(free) > 3
    stop = free[2:4]
    cut = engine.complete("def two_sum(nums", 30, stop=(stop,)).future.result(WAIT)
    assert stop not in cut and free.startswith(cut)


def test_priority_runs_interactive_before_background():
    backend = RecordingBackend()
    engine = Engine(ModelConfig(), backend_factory=lambda config: backend)
    try:
        backend.release.clear()
        blocker = engine.chat([{"role": "user", "content": "first"}], params())
        assert backend.started.wait(WAIT)
        background = engine.chat([{"role": "user", "content": "background"}], params(), Priority.BACKGROUND)
        explain = engine.chat([{"role": "user", "content": "explain"}], params(), Priority.EXPLAIN)
        interactive = engine.complete("interactive", 4)
        backend.release.set()
        for job in (blocker, background, explain, interactive):
            job.future.result(WAIT)
        assert backend.calls == ["first", "interactive", "explain", "background"]
    finally:
        engine.close()


def test_cancelling_a_queued_job_resolves_it_at_once():
    backend = RecordingBackend()
    engine = Engine(ModelConfig(), backend_factory=lambda config: backend)
    try:
        backend.release.clear()
        blocker = engine.chat([{"role": "user", "content": "first"}], params())
        assert backend.started.wait(WAIT)
        queued = engine.chat([{"role": "user", "content": "queued"}], params())
        queued.cancel()
        with pytest.raises(Cancelled):
            queued.future.result(1)  # resolved without waiting for the worker
        backend.release.set()
        blocker.future.result(WAIT)
        engine.complete("after", 4).future.result(WAIT)
        assert "queued" not in backend.calls
    finally:
        engine.close()


def test_out_of_memory_retries_with_half_the_candidates():
    backend = RecordingBackend(oom_above=2)
    engine = Engine(ModelConfig(), backend_factory=lambda config: backend)
    try:
        job = engine.chat(MESSAGES, params(n=8))
        assert job.future.result(WAIT) == ["reply 0", "reply 1"]
        assert backend.ns == [8, 4, 2]
        assert "2 candidate(s) instead of 8" in job.notes[-1]
    finally:
        engine.close()


def test_out_of_memory_with_one_candidate_is_one_clear_sentence():
    backend = RecordingBackend(oom_above=0)
    engine = Engine(ModelConfig(), backend_factory=lambda config: backend)
    try:
        job = engine.chat(MESSAGES, params(n=2))
        with pytest.raises(BackendError, match="out of memory even for one candidate"):
            job.future.result(WAIT)
        assert backend.ns == [2, 1]
    finally:
        engine.close()


def test_load_error_is_reported_and_kept_until_reload(tmp_path, model_folder):
    statuses: list[tuple[str, str]] = []
    engine = Engine(
        ModelConfig(name=str(tmp_path / "missing")), on_status=lambda s, d: statuses.append((s, d))
    )
    try:
        for _ in range(2):
            with pytest.raises(BackendError, match="does not exist"):
                engine.chat(MESSAGES, params()).future.result(WAIT)
        assert engine.state == "error" and statuses[-1][0] == "error"
        engine.reload(ModelConfig(name=str(model_folder)))
        assert engine.complete("def f", 3).future.result(WAIT) is not None
        assert engine.state == "ready"
    finally:
        engine.close()


def test_plain_generate_path_streams_and_closes_reasoning(model_folder):
    engine = Engine(ModelConfig(name=str(model_folder), decoder="generate"))
    try:
        pieces: dict[int, str] = {}

        def on_text(i: int, text: str) -> None:
            pieces[i] = pieces.get(i, "") + text

        offered: list[int] = []
        job = engine.chat(
            MESSAGES,
            params(n=2, max_new_tokens=30, thinking_budget=8),
            on_text=on_text,
            on_candidate=lambda i, t: offered.append(i) or False,
        )
        replies = job.future.result(WAIT)
        assert len(replies) == 2 and offered == [0, 1]
        assert any("</think>" in r for r in replies)
        assert all(pieces[i].startswith(replies[i][:5]) for i in range(2))
    finally:
        engine.close()


def test_load_reports_warm_up_progress_then_ready():
    statuses: list[tuple[str, str]] = []
    engine = Engine(
        ModelConfig(name="m"),
        backend_factory=lambda config: RecordingBackend(),
        on_status=lambda *s: statuses.append(s),
    )
    try:
        assert engine.load().future.result(WAIT) is None
        assert statuses == [
            ("loading", "m"),
            ("loading", "warming up the decode step for 1 candidate(s)"),
            ("ready", "m"),
        ]
    finally:
        engine.close()


class PollingBackend(RecordingBackend):
    """A Backend double whose chat takes a short step at a time, like a decode loop, until released."""

    def start_chat(self, messages, params):
        """Record the call; each step streams a dot until released."""
        self.calls.append(messages[0]["content"])
        self.started.set()
        return PollingSession(self)


class PollingSession(OneStepSession):
    """Steps until the backend is released (then "done") or stopped (then "stopped")."""

    def __init__(self, backend: PollingBackend) -> None:
        self.backend, self.done, self.replies = backend, False, ["stopped"]

    def step(self) -> Step:
        """One short step."""
        if self.backend.release.is_set():
            self.backend.calls.append("background done")
            self.replies, self.done = ["done"], True
            return Step()
        threading.Event().wait(0.005)
        return Step(pieces=[(0, ".")], tokens=1)


def test_an_interactive_job_runs_between_the_steps_of_a_long_background_one():
    backend = PollingBackend()
    engine = Engine(ModelConfig(), backend_factory=lambda config: backend)
    try:
        backend.release.clear()
        background = engine.chat([{"role": "user", "content": "background"}], params())
        assert backend.started.wait(WAIT)
        completion = engine.complete("interactive", 4)
        assert completion.future.result(WAIT) == "interactive"
        assert not background.future.done()  # paused, not cancelled
        backend.release.set()
        assert background.future.result(WAIT) == ["done"]
        assert backend.calls == ["background", "interactive", "background done"]
    finally:
        engine.close()


def sessions_on_the_stack() -> int:
    """How many decode sessions are stepping in this thread's call stack right now."""
    frame, count = sys._getframe(), 0
    while frame is not None:
        if frame.f_code.co_name == "step" and type(frame.f_locals.get("self")).__name__ == "DecodeSession":
            count += 1
        frame = frame.f_back
    return count


def test_on_the_tiny_model_a_completion_runs_between_steps_and_never_inside_one(engine):
    model = engine._backend.model
    seen: list[tuple[str, int]] = []  # (thread, sessions stepping) at every forward pass
    hook = model.register_forward_pre_hook(
        lambda module, args: seen.append((threading.current_thread().name, sessions_on_the_stack()))
    )
    try:
        # Greedy continuation of a repetitive prompt: the tiny model repeats it and never ends by itself.
        background = engine.complete(
            "for i, x in enumerate(nums):\n" * 3, 100_000, priority=Priority.BACKGROUND
        )
        while background.tokens < 5:
            assert not background.future.done()
            threading.Event().wait(0.01)
        completion = engine.complete("def two_sum(nums", 6)
        assert completion.future.result(WAIT) is not None
        assert not background.future.done()  # it was paused between two steps, and resumes
        paused_at = background.tokens
        while background.tokens <= paused_at:
            threading.Event().wait(0.01)
        background.cancel()
        with pytest.raises(Cancelled):
            background.future.result(WAIT)
    finally:
        hook.remove()
    assert completion.started_at > background.started_at and completion.finished_at < background.finished_at
    assert {thread for thread, _ in seen} == {"vibethinker-engine"}
    assert max(depth for _, depth in seen) == 1  # no session ever ran inside another's step


def test_equal_or_lower_priority_jobs_wait_their_turn():
    backend = PollingBackend()
    engine = Engine(ModelConfig(), backend_factory=lambda config: backend)
    try:
        backend.release.clear()
        explain = engine.chat([{"role": "user", "content": "explain"}], params(), Priority.EXPLAIN)
        assert backend.started.wait(WAIT)
        other = engine.chat([{"role": "user", "content": "second"}], params(), Priority.EXPLAIN)
        later = engine.chat([{"role": "user", "content": "third"}], params(), Priority.BACKGROUND)
        assert not other.future.done() and not later.future.done()
        threading.Event().wait(0.2)
        assert backend.calls == ["explain"]
        backend.release.set()
        for job in (explain, other, later):
            job.future.result(WAIT)
        assert backend.calls[0] == "explain" and backend.calls[2:4] == ["second", "background done"]
    finally:
        engine.close()


def test_chat_alongside_waits_its_turn_on_the_in_process_model():
    backend = RecordingBackend()
    backend.release.clear()
    eng = Engine(ModelConfig(name="double"), backend_factory=lambda config: backend)
    try:
        first = eng.chat([{"role": "user", "content": "candidates"}], params(n=2))
        assert backend.started.wait(WAIT)
        side = eng.chat_alongside([{"role": "user", "content": "brute force"}], params())
        threading.Event().wait(0.1)
        assert backend.calls == ["candidates"] and not side.future.done()  # one batch at a time
        backend.release.set()
        assert first.future.result(WAIT) == ["reply 0", "reply 1"]
        assert side.future.result(WAIT) == ["reply 0"] and backend.calls == ["candidates", "brute force"]
    finally:
        eng.close()


def test_chat_alongside_runs_at_once_next_to_a_model_server_job():
    backends: list[RecordingBackend] = []

    def factory(config):
        backends.append(RecordingBackend())
        if len(backends) == 1:
            backends[0].release.clear()  # the candidates' request is still streaming
        return backends[-1]

    eng = Engine(ModelConfig(backend="openai", name="double"), backend_factory=factory)
    try:
        first = eng.chat([{"role": "user", "content": "candidates"}], params(n=2))
        for _ in range(WAIT * 100):  # the worker makes the backend on the first job
            if backends:
                break
            threading.Event().wait(0.01)
        assert backends[0].started.wait(WAIT)
        side = eng.chat_alongside([{"role": "user", "content": "brute force"}], params())
        assert side.future.result(WAIT) == ["reply 0"] and not first.future.done()
        backends[0].release.set()
        assert first.future.result(WAIT) == ["reply 0", "reply 1"]
    finally:
        eng.close()
