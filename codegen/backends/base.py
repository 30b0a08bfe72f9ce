"""The interface every backend implements, its configuration, and the factory."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

DEFAULT_MODEL = "WeiboAI/VibeThinker-1.5B"

# on_text(candidate_index, new_text): streaming callback, called once per generated token (text may be "").
OnText = Callable[[int, str], None]
# should_stop(): polled every decoding step.
ShouldStop = Callable[[], bool]
# on_candidate(candidate_index, full_reply): called as each candidate finishes; True ends the others early.
OnCandidate = Callable[[int, str], bool]


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
    """A model that answers chats and continues code."""

    name: str

    def chat(
        self,
        messages: list[dict[str, str]],
        params: GenerationParams,
        on_text: OnText | None = None,
        should_stop: ShouldStop | None = None,
        on_candidate: OnCandidate | None = None,
    ) -> list[str]:
        """Return up to `params.n` assistant replies, streaming text as it comes.

        Fewer than `params.n` come back when memory only holds fewer, or when `on_candidate` accepted one early
        (then the unfinished replies are returned as far as they got).
        """
        ...

    def complete(
        self,
        prefix: str,
        max_new_tokens: int,
        stop: tuple[str, ...] = (),
        should_stop: ShouldStop | None = None,
        on_text: OnText | None = None,
    ) -> str:
        """Return a greedy plain continuation of the text (no chat template), streaming it as candidate 0."""
        ...

    def close(self) -> None:
        """Free the model's memory and connections."""
        ...


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
