"""The interface every backend implements, its configuration, and the factory.

A backend starts a generation as a `Session` that its caller advances one `step()` at a time and reads: the
new text, the tokens and the finished candidates of each step come back in a `Step`, never through callbacks
from inside the decode loop. `drive` runs a session to its end for callers that want callbacks (between steps,
on the caller's own thread).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

DEFAULT_MODEL = "WeiboAI/VibeThinker-1.5B"
THINK_END = "</think>"
THINK_CLOSE = "\n</think>\n\n"  # forced when the thinking budget is spent without the model closing it

# on_text(candidate_index, new_text): streamed text of one candidate (text may be "" in a decoder's own stream).
OnText = Callable[[int, str], None]
# should_stop(): asked between steps.
ShouldStop = Callable[[], bool]
# on_candidate(candidate_index, full_reply): told as each candidate finishes; True ends the others early.
OnCandidate = Callable[[int, str], bool]


@dataclass
class Step:
    """What one step of a session produced: read by its caller between steps."""

    # (candidate, new text): "" when a token completed no character yet
    pieces: list[tuple[int, str]] = field(default_factory=list)
    tokens: int = 0  # tokens generated in this step, over all candidates
    # (candidate, its full reply) for each candidate that ended in this step, in the order they ended
    finished: list[tuple[int, str]] = field(default_factory=list)

    def extend(self, other: Step) -> None:
        """Add another step's output to this one (a step that ran several model calls)."""
        self.pieces += other.pieces
        self.tokens += other.tokens
        self.finished += other.finished


class Session(Protocol):
    """One generation, advanced a step at a time by one caller; nothing in it calls back into other layers."""

    @property
    def done(self) -> bool:
        """Whether every candidate has ended (or `stop` was called)."""
        ...

    def step(self) -> Step:
        """Run one decoding step (a forward pass, or whatever a remote server sent meanwhile)."""
        ...

    def stop(self, reason: str = "cancelled") -> None:
        """End now; the text so far stays the result."""
        ...

    def result(self):
        """The replies (a chat: list[str]) or the continuation (a completion: str)."""
        ...

    def close(self) -> None:
        """Free what the session holds (a KV cache back to its pool, a connection)."""
        ...


def drive(
    session: Session,
    on_text: OnText | None = None,
    should_stop: ShouldStop | None = None,
    on_candidate: OnCandidate | None = None,
):
    """Run a session to its end on this thread, calling back between steps; return its result.

    `on_text` hears each piece (empty ones included), `on_candidate` each finished candidate until one is
    accepted (True), which stops the session with reason winner_found; `should_stop` is asked before each step.
    """
    try:
        while not session.done:
            if should_stop is not None and should_stop():
                session.stop("cancelled")
                break
            step = session.step()
            if on_text is not None:
                for index, text in step.pieces:
                    on_text(index, text)
            accepted = on_candidate is not None and any(on_candidate(i, text) for i, text in step.finished)
            if accepted:
                session.stop("winner_found")
        return session.result()
    finally:
        session.close()


class BackendError(Exception):
    """A backend failed in a way the user can act on; the message is one clear sentence."""


@dataclass(frozen=True)
class ModelConfig:
    """Which model to run and where (new fields go at the end: callers build it positionally)."""

    backend: str = "transformers"  # "transformers" or "openai"
    name: str = DEFAULT_MODEL  # Hugging Face id or local folder (transformers); model name (openai)
    base_url: str = "http://127.0.0.1:8000/v1"  # openai backend only
    api_key: str = ""
    device: str = "auto"  # auto, cuda, mps, cpu
    dtype: str = "auto"  # auto, bfloat16, float16, float32
    quantization: str = "none"  # none, 8bit, 4bit
    timeout_s: float = 600.0  # openai backend: per request
    decoder: str = "auto"  # auto (fast loop on cuda/cpu, model.generate on mps), fast, generate
    compile: bool = (
        True  # cuda only: compile the decode step with CUDA graphs (torch.compile reduce-overhead)
    )
    warmup_candidates: int = 4  # cuda only: also compile and warm up this batch size at load (besides 1)
    # cuda only: prompt + new tokens the warm-up sizes the KV caches for (rounded up to a power of two); a job
    # that needs more compiles a bigger decode step on first use, one that needs less reuses the warmed one.
    warmup_tokens: int = 10240
    # LoRA adapter: a peft folder or Hugging Face id merged into the in-process model (transformers), or the
    # adapter's served name sent as the request's model (openai: vLLM/SGLang `--lora-modules NAME=PATH`).
    adapter: str = ""


@dataclass(frozen=True)
class GenerationParams:
    """How to sample (new fields go at the end: callers build it positionally)."""

    max_new_tokens: int = 8192
    temperature: float = 0.6
    top_p: float = 0.95
    n: int = 1  # candidates
    thinking_budget: int = 4096  # tokens of reasoning before the answer is forced; 0 turns the budget off
    seed: int | None = None
    prompt_lookup_num_tokens: int = (
        0  # >0 and n == 1: draft this many tokens from the prompt (edits that copy the input); else unused
    )
    top_k: int = 0  # sample among the k most likely tokens; 0 turns top-k off


class Backend(Protocol):
    """A model that answers chats and continues code, one session at a time per caller."""

    name: str

    def start_chat(self, messages: list[dict[str, str]], params: GenerationParams) -> Session:
        """Start `params.n` assistant replies; the session's result is the list of replies.

        Fewer than `params.n` come back when memory only holds fewer, or when the session was stopped early
        (then the unfinished replies are returned as far as they got).
        """
        ...

    def start_complete(self, prefix: str, max_new_tokens: int, stop: tuple[str, ...] = ()) -> Session:
        """Start a greedy plain continuation of the text (no chat template), candidate 0; its result is the
        text, cut before the first stop string."""
        ...

    def close(self) -> None:
        """Free the model's memory and connections."""
        ...


class BlockingCalls:
    """The blocking calls a backend offers on top of its sessions, for callers that own their thread (tests,
    scripts, a concurrent request next to the engine's job): callbacks run between steps, on that thread."""

    def chat(
        self,
        messages: list[dict[str, str]],
        params: GenerationParams,
        on_text: OnText | None = None,
        should_stop: ShouldStop | None = None,
        on_candidate: OnCandidate | None = None,
    ) -> list[str]:
        """Run `start_chat` to its end; see `drive`."""
        return drive(self.start_chat(messages, params), on_text, should_stop, on_candidate)

    def complete(
        self,
        prefix: str,
        max_new_tokens: int,
        stop: tuple[str, ...] = (),
        should_stop: ShouldStop | None = None,
        on_text: OnText | None = None,
    ) -> str:
        """Run `start_complete` to its end; see `drive`."""
        return drive(self.start_complete(prefix, max_new_tokens, stop), on_text, should_stop)


def is_out_of_memory(exc: BaseException) -> bool:
    """Whether an exception is an accelerator out-of-memory error (torch.cuda.OutOfMemoryError and kin)."""
    if type(exc).__name__ == "OutOfMemoryError":
        return True
    return isinstance(exc, RuntimeError) and "out of memory" in str(exc).lower()


def make_backend(config: ModelConfig) -> Backend:
    """Build the backend the configuration names; raises BackendError with a clear message."""
    if config.backend == "openai":
        from codegen.backends.openai_backend import OpenAIBackend

        return OpenAIBackend(config)
    if config.backend == "transformers":
        from codegen.backends.transformers_backend import TransformersBackend

        return TransformersBackend(config)
    raise BackendError(f"Unknown model backend {config.backend!r}; use 'transformers' or 'openai'.")
