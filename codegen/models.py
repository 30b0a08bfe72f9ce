"""The models this tool knows: which family a `model.name` is, its generation defaults, and what it needs.

A small table keyed by model family (VibeThinker-1.5B, VibeThinker-3B, anything else) gives the sampling the
model card recommends; a user's explicit setting always wins (`resolve_sampling`). `memory_need` estimates
GPU memory for a configuration (weights + KV cache for the candidates and token budget), and `recommend`
turns a GPU's memory into one line of advice. Everything here is plain arithmetic on the table (no torch), so
`doctor`'s advice can be tested for any GPU size.
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

GIB = 1024**3
# Fraction of the GPU's memory a configuration may plan to use (the rest: the display, fragmentation).
MEMORY_MARGIN = 0.85
# CUDA context, activations, float32 logits and sampling buffers, beyond weights and KV cache.
OVERHEAD_BYTES = GIB // 2
# Prompt tokens assumed on top of `generation.maxNewTokens` (a task's prompt is a few hundred tokens).
PROMPT_TOKENS = 1024
# Static KV caches are allocated in these lengths (codegen.backends.decode.CACHE_BUCKETS).
CACHE_BUCKETS = (512, 1024, 2048, 4096, 8192, 16384, 32768, 65536)
# Bytes per weight of the transformer layers; embeddings stay in bfloat16 when quantized.
BYTES_PER_WEIGHT = {"none": 2.0, "8bit": 1.0, "4bit": 0.55}
PRECISION_NAMES = {"none": "bf16", "8bit": "8-bit", "4bit": "4-bit"}


@dataclass(frozen=True)
class Sampling:
    """Generation settings that depend on the model."""

    temperature: float
    top_p: float
    top_k: int  # 0: off
    thinking_budget: int


@dataclass(frozen=True)
class Architecture:
    """A Qwen2 decoder's shape; attribute names as in a Hugging Face config."""

    hidden_size: int
    num_hidden_layers: int
    num_attention_heads: int
    num_key_value_heads: int
    intermediate_size: int
    vocab_size: int
    tie_word_embeddings: bool
    max_position_embeddings: int
    rope_theta: float

    @property
    def head_dim(self) -> int:
        """Width of one attention head."""
        return self.hidden_size // self.num_attention_heads

    def layer_parameters(self) -> int:
        """Weights of all transformer layers (attention and MLP; norms and biases are negligible)."""
        attention = 2 * self.hidden_size * self.hidden_size
        attention += 2 * self.hidden_size * self.num_key_value_heads * self.head_dim
        mlp = 3 * self.hidden_size * self.intermediate_size
        return self.num_hidden_layers * (attention + mlp)

    def embedding_parameters(self) -> int:
        """Input embeddings plus the output head (once when they are tied)."""
        return self.vocab_size * self.hidden_size * (1 if self.tie_word_embeddings else 2)

    def kv_bytes_per_token(self, dtype_bytes: int = 2) -> int:
        """KV-cache bytes one token of one sequence takes."""
        return 2 * self.num_hidden_layers * self.num_key_value_heads * self.head_dim * dtype_bytes

    def config_kwargs(self) -> dict:
        """Keyword arguments for transformers' Qwen2Config."""
        return {
            "vocab_size": self.vocab_size,
            "hidden_size": self.hidden_size,
            "intermediate_size": self.intermediate_size,
            "num_hidden_layers": self.num_hidden_layers,
            "num_attention_heads": self.num_attention_heads,
            "num_key_value_heads": self.num_key_value_heads,
            "max_position_embeddings": self.max_position_embeddings,
            "rope_theta": self.rope_theta,
            "tie_word_embeddings": self.tie_word_embeddings,
        }


@dataclass(frozen=True)
class Family:
    """A model family: its name, Hugging Face id, recommended sampling, shape and published scores."""

    short_name: str
    hf_id: str | None
    sampling: Sampling
    architecture: Architecture | None = None
    scores: dict[str, str] = field(default_factory=dict)
    note: str = ""


# Today's defaults (before per-model defaults): used for any model the table does not know.
GENERIC_SAMPLING = Sampling(temperature=0.6, top_p=0.95, top_k=0, thinking_budget=4096)

VIBETHINKER_1_5B = Family(
    short_name="VibeThinker-1.5B",
    hf_id="WeiboAI/VibeThinker-1.5B",
    # Model card: temperature 0.6 or 1.0, top_p 0.95, top_k off, up to 40,960 tokens.
    sampling=Sampling(temperature=0.6, top_p=0.95, top_k=0, thinking_budget=4096),
    architecture=Architecture(
        hidden_size=1536,
        num_hidden_layers=28,
        num_attention_heads=12,
        num_key_value_heads=2,
        intermediate_size=8960,
        vocab_size=151936,
        tie_word_embeddings=True,
        max_position_embeddings=131072,
        rope_theta=10000.0,
    ),
    scores={"LiveCodeBench v6 pass@1": "51.1"},
    note="the default; runs on small GPUs and (slowly) on CPUs",
)

VIBETHINKER_3B = Family(
    short_name="VibeThinker-3B",
    hf_id="WeiboAI/VibeThinker-3B",
    # Model card: temperature 1.0, top_p 0.95 (built on Qwen2.5-Coder-3B).
    sampling=Sampling(temperature=1.0, top_p=0.95, top_k=0, thinking_budget=4096),
    architecture=Architecture(
        hidden_size=2048,
        num_hidden_layers=36,
        num_attention_heads=16,
        num_key_value_heads=2,
        intermediate_size=11008,
        vocab_size=151936,
        tie_word_embeddings=True,
        max_position_embeddings=32768,
        rope_theta=1000000.0,
    ),
    scores={
        "LiveCodeBench v6 pass@1": "80.2",
        "unseen LeetCode weekly/biweekly contests, acceptance": "96.1%",
    },
    note="much better answers; about 6.2 GB of bf16 weights",
)

OTHER = Family(short_name="", hf_id=None, sampling=GENERIC_SAMPLING)

FAMILIES = (VIBETHINKER_1_5B, VIBETHINKER_3B)

_NAME_PATTERNS = (
    (re.compile(r"vibethinker[-_ ]?1[._]5b", re.IGNORECASE), VIBETHINKER_1_5B),
    (re.compile(r"vibethinker[-_ ]?3b", re.IGNORECASE), VIBETHINKER_3B),
)
_SHAPE_KEYS = (
    "hidden_size",
    "num_hidden_layers",
    "num_attention_heads",
    "num_key_value_heads",
    "intermediate_size",
    "vocab_size",
)


@dataclass(frozen=True)
class Detected:
    """Which family a model name is, and how that was decided."""

    family: Family
    how: str  # "name", "config", "shape" or "unknown"
    short_name: str  # the family's short name, or the last part of the model name


def detect(name: str) -> Detected:
    """The family of a Hugging Face id, a served model name or a local folder (its config.json decides)."""
    found = _family_from_name(name)
    if found is not None:
        return Detected(found, "name", found.short_name)
    folder = Path(name).expanduser()
    config = _read_config(str(folder)) if name.startswith((".", "/", "~")) or folder.is_dir() else None
    if config:
        found = _family_from_name(str(config.get("_name_or_path", "")))
        if found is not None:
            return Detected(found, "config", found.short_name)
        found = _family_from_shape(config)
        if found is not None:
            return Detected(found, "shape", found.short_name)
    tail = name.rstrip("/\\").replace("\\", "/").rsplit("/", 1)[-1] or name
    return Detected(OTHER, "unknown", tail)


def hub_id(name: str) -> str:
    """The Hugging Face id for a family's short name (VibeThinker-3B -> WeiboAI/VibeThinker-3B); else the name."""
    for family in FAMILIES:
        if name.strip().lower() == family.short_name.lower() and family.hf_id:
            return family.hf_id
    return name


def _family_from_name(text: str) -> Family | None:
    """The family whose name appears in the text (an id, a path, a served name)."""
    for pattern, family in _NAME_PATTERNS:
        if pattern.search(text):
            return family
    return None


def _family_from_shape(config: dict) -> Family | None:
    """The family whose exact architecture a Hugging Face config has."""
    for family in FAMILIES:
        shape = family.architecture
        if shape is not None and all(config.get(key) == getattr(shape, key) for key in _SHAPE_KEYS):
            return family
    return None


@functools.lru_cache(maxsize=32)
def _read_config(folder: str) -> dict | None:
    """A local model folder's config.json, or None when there is none or it is not a JSON object."""
    try:
        data = json.loads((Path(folder) / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


# --- generation defaults ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ResolvedSampling:
    """The sampling in use: each value from the user's setting or the model's defaults."""

    values: Sampling
    detected: Detected
    explicit: frozenset[str]  # the Sampling fields the user set

    def source(self) -> str:
        """Whose defaults fill the values the user left unset, e.g. 'VibeThinker-3B defaults'."""
        family = self.detected.family
        return f"{family.short_name} defaults" if family is not OTHER else "generic defaults"

    def describe(self) -> str:
        """One line for doctor, solve and the status tooltip, marking the user's own values."""
        parts = []
        for label, key, text in (
            ("temperature", "temperature", str(self.values.temperature)),
            ("top_p", "top_p", str(self.values.top_p)),
            ("top_k", "top_k", str(self.values.top_k) if self.values.top_k else "off"),
            ("thinking budget", "thinking_budget", str(self.values.thinking_budget)),
        ):
            parts.append(f"{label} {text}" + (" (yours)" if key in self.explicit else ""))
        return f"{self.source()}: " + ", ".join(parts)


def resolve_sampling(
    name: str,
    temperature: float | None = None,
    top_p: float | None = None,
    top_k: int | None = None,
    thinking_budget: int | None = None,
) -> ResolvedSampling:
    """The sampling for a model: the user's explicit values (not None) win over the family's defaults."""
    detected = detect(name)
    given = {"temperature": temperature, "top_p": top_p, "top_k": top_k, "thinking_budget": thinking_budget}
    defaults = detected.family.sampling
    values = Sampling(
        **{key: getattr(defaults, key) if value is None else value for key, value in given.items()}
    )
    explicit = frozenset(key for key, value in given.items() if value is not None)
    return ResolvedSampling(values, detected, explicit)


# --- memory ----------------------------------------------------------------------------------------------


def cache_tokens(max_new_tokens: int) -> int:
    """Length of the static KV cache one candidate gets: prompt allowance + new tokens, rounded to a bucket."""
    needed = PROMPT_TOKENS + max_new_tokens + 1
    for bucket in CACHE_BUCKETS:
        if needed <= bucket:
            return bucket
    return -(-needed // CACHE_BUCKETS[-1]) * CACHE_BUCKETS[-1]


@dataclass(frozen=True)
class MemoryNeed:
    """GPU memory one model needs for one configuration, in bytes."""

    family: Family
    quantization: str  # none, 8bit, 4bit
    candidates: int
    tokens: int  # KV-cache length per candidate
    weight_bytes: int
    kv_bytes: int
    overhead_bytes: int = OVERHEAD_BYTES

    @property
    def total_bytes(self) -> int:
        """Weights + KV cache + overhead."""
        return self.weight_bytes + self.kv_bytes + self.overhead_bytes

    def fits(self, gpu_bytes: int) -> bool:
        """Whether a GPU of this total memory holds it, with the safety margin."""
        return self.total_bytes <= gpu_bytes * MEMORY_MARGIN

    @property
    def label(self) -> str:
        """The model and precision, e.g. 'VibeThinker-3B bf16'."""
        return f"{self.family.short_name} {PRECISION_NAMES[self.quantization]}"

    def breakdown(self) -> str:
        """E.g. '8.5 GiB (weights 5.7 + KV cache 2.2 for 4 x 16384 tokens + 0.5)'."""
        return (
            f"{_gib(self.total_bytes)} GiB (weights {_gib(self.weight_bytes)} + KV cache {_gib(self.kv_bytes)} "
            f"for {self.candidates} x {self.tokens} tokens + {_gib(self.overhead_bytes)})"
        )


def memory_need(
    family: Family, candidates: int, max_new_tokens: int, quantization: str = "none"
) -> MemoryNeed:
    """Estimate the GPU memory a known family needs for `candidates` sequences of `max_new_tokens` each."""
    shape = family.architecture
    if shape is None:
        raise ValueError(f"no architecture is known for {family.short_name or 'this model'}")
    per_weight = BYTES_PER_WEIGHT[quantization]
    weights = int(shape.layer_parameters() * per_weight + shape.embedding_parameters() * 2)
    tokens = cache_tokens(max_new_tokens)
    kv = shape.kv_bytes_per_token() * tokens * candidates
    return MemoryNeed(family, quantization, candidates, tokens, weights, kv)


def most_candidates(family: Family, gpu_bytes: int, max_new_tokens: int, quantization: str = "none") -> int:
    """The most candidates (up to 32) whose caches fit next to the weights; 0 when not even one does."""
    fitting = 0
    for candidates in range(1, 33):
        if not memory_need(family, candidates, max_new_tokens, quantization).fits(gpu_bytes):
            break
        fitting = candidates
    return fitting


# --- advice ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Advice:
    """What doctor says about a GPU: the needs it weighed and one line of advice."""

    line: str
    needs: tuple[MemoryNeed, ...]


def recommend(
    gpu_bytes: int | None,
    candidates: int,
    max_new_tokens: int,
    current: str = VIBETHINKER_1_5B.hf_id or "",
    quantization: str = "none",
) -> Advice:
    """One line of advice for a GPU with `gpu_bytes` of memory (None: no CUDA GPU) and a configuration.

    Pure: depends only on its arguments. `current` is the configured `model.name`.
    """
    needs = tuple(
        memory_need(family, candidates, max_new_tokens, kind)
        for family in FAMILIES
        for kind in ("none", "8bit", "4bit")
    )
    if gpu_bytes is None:
        return Advice(_no_gpu_line(), needs)
    in_use = detect(current).family
    return Advice(_gpu_line(gpu_bytes, candidates, max_new_tokens, in_use, quantization, needs), needs)


def _no_gpu_line() -> str:
    """Advice without a CUDA GPU."""
    return (
        f"No CUDA GPU: {VIBETHINKER_1_5B.short_name} runs on the CPU, slowly (use -n 1 and a short thinking "
        'budget), or set model.backend = "openai" and model.baseUrl to a GPU server running '
        f"{VIBETHINKER_3B.hf_id}."
    )


def _gpu_line(
    gpu_bytes: int,
    candidates: int,
    max_new_tokens: int,
    in_use: Family,
    quantization: str,
    needs: tuple[MemoryNeed, ...],
) -> str:
    """Advice for a GPU of a known size: the better model if it fits (with fewer candidates if need be), then
    the smaller one, then quantization."""
    size = f"This GPU ({_gib(gpu_bytes)} GiB)"
    need = {(n.family.short_name, n.quantization): n for n in needs}
    big, small = need[(VIBETHINKER_3B.short_name, "none")], need[(VIBETHINKER_1_5B.short_name, "none")]
    set_3b = f'set model.name = "{VIBETHINKER_3B.hf_id}"'
    if big.fits(gpu_bytes):
        if in_use is VIBETHINKER_3B and quantization == "none":
            return f"{size} holds {VIBETHINKER_3B.short_name}, the model in use ({_gib(big.total_bytes)} GiB needed)."
        unquantize = ' and model.quantization = "none"' if quantization != "none" else ""
        return (
            f"{size} holds {VIBETHINKER_3B.short_name} ({_gib(big.total_bytes)} GiB for {candidates} candidates): "
            f"{set_3b}{unquantize} for much better answers (LiveCodeBench v6: 80.2 against 51.1)."
        )
    fewer = most_candidates(VIBETHINKER_3B, gpu_bytes, max_new_tokens)
    if fewer >= 1:
        small_too = (
            f"{VIBETHINKER_1_5B.short_name} with {candidates} candidates, or "
            if small.fits(gpu_bytes)
            else ""
        )
        return (
            f"{size} holds {small_too}{VIBETHINKER_3B.short_name} with up to {fewer}: {set_3b} and "
            f"generation.candidates = {fewer} for better answers."
        )
    if small.fits(gpu_bytes):
        if need[(VIBETHINKER_3B.short_name, "8bit")].fits(gpu_bytes):
            return (
                f"{size} holds {VIBETHINKER_1_5B.short_name} in bf16, or {VIBETHINKER_3B.short_name} in 8-bit: "
                f'{set_3b} and model.quantization = "8bit" (needs bitsandbytes; slower per token).'
            )
        return (
            f"{size} holds {VIBETHINKER_1_5B.short_name} ({_gib(small.total_bytes)} GiB needed), the default."
        )
    for kind in ("8bit", "4bit"):
        if need[(VIBETHINKER_1_5B.short_name, kind)].fits(gpu_bytes):
            lower = most_candidates(VIBETHINKER_1_5B, gpu_bytes, max_new_tokens)
            instead = f", or set generation.candidates = {lower}" if lower >= 1 else ""
            return (
                f"{size} is too small for {VIBETHINKER_1_5B.short_name} in bf16 with {candidates} candidates: "
                f'use {PRECISION_NAMES[kind]}, set model.quantization = "{kind}" '
                f"(needs bitsandbytes: pip install 'vibethinker-lsp[quant]'){instead}."
            )
    return (
        f"{size} is too small for either model: lower generation.candidates and generation.maxNewTokens, "
        'set model.device = "cpu", or use a model server (model.backend = "openai").'
    )


def _gib(size: int) -> str:
    """Bytes as GiB with one decimal."""
    return f"{size / GIB:.1f}"
