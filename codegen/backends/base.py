"""The interface every backend implements, its configuration, and the factory."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

DEFAULT_MODEL = "WeiboAI/VibeThinker-1.5B"

# on_text(candidate_index, new_text): streaming callback; should_stop(): polled every step.
OnText = Callable[[int, str], None]
ShouldStop = Callable[[], bool]


class BackendError(Exception):
    """A backend failed in a way the user can act on; the message is one clear sentence."""


@dataclass(frozen=True)
class ModelConfig:
    """Which model to run and where."""

    backend: str = "transformers"  # "transformers" or "openai"
    name: str = DEFAULT_MODEL  # Hugging Face id or local folder (transformers); model name (openai)
    base_url: str = "http://127.0.0.1:8000/v1"  # openai backend only
    api_key: str = ""
    device: str = "auto"  # auto, cuda, mps, cpu
    dtype: str = "auto"  # auto, bfloat16, float16, float32
    quantization: str = "none"  # none, 8bit, 4bit
    timeout_s: float = 600.0  # openai backend: per request


@dataclass(frozen=True)
class GenerationParams:
    """How to sample."""

    max_new_tokens: int = 8192
    temperature: float = 0.6
    top_p: float = 0.95
    n: int = 1  # candidates
    thinking_budget: int = 4096  # tokens of reasoning before the answer is forced
    seed: int | None = None


class Backend(Protocol):
    """A model that answers chats and continues code."""

    name: str

    def chat(
        self,
        messages: list[dict[str, str]],
        params: GenerationParams,
        on_text: OnText | None = None,
        should_stop: ShouldStop | None = None,
    ) -> list[str]:
        """Return `params.n` assistant replies to the messages, streaming text as it comes."""
        ...

    def complete(
        self,
        prefix: str,
        max_new_tokens: int,
        stop: tuple[str, ...] = (),
        should_stop: ShouldStop | None = None,
    ) -> str:
        """Return a greedy plain continuation of the text (no chat template)."""
        ...

    def close(self) -> None:
        """Free the model's memory and connections."""
        ...


def make_backend(config: ModelConfig) -> Backend:
    """Build the backend the configuration names; raises BackendError with a clear message."""
    if config.backend == "openai":
        from codegen.backends.openai_backend import OpenAIBackend

        return OpenAIBackend(config)
    if config.backend == "transformers":
        from codegen.backends.transformers_backend import TransformersBackend

        return TransformersBackend(config)
    raise BackendError(f"Unknown model backend {config.backend!r}; use 'transformers' or 'openai'.")
