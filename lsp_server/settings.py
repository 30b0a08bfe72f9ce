"""One typed settings tree: dataclasses with camelCase names on the wire, defaults, and validation.

Invalid values are reported (one sentence each) and replaced by the last good value (or the default).
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from typing import Any

from codegen.backends.base import DEFAULT_MODEL, GenerationParams, ModelConfig
from codegen.models import ResolvedSampling, resolve_sampling
from codegen.stressing import StressOptions
from codegen.tasks import Task
from sandbox.verdicts import Limits


def _opt(
    default: Any,
    description: str,
    *,
    choices: tuple | None = None,
    minimum: float | None = None,
    maximum: float | None = None,
    kind: type | None = None,
) -> Any:
    """A settings field with its description and constraints; `kind` makes it nullable (None: the model's)."""
    meta = {"description": description, "choices": choices, "minimum": minimum, "maximum": maximum}
    if kind is not None:
        meta["kind"] = kind
    return field(default=default, metadata=meta)


@dataclass(frozen=True)
class ModelSettings:
    """Which model answers, and where it runs."""

    backend: str = _opt(
        "transformers",
        "Where the model runs: in this process (transformers) or an OpenAI-compatible server (openai).",
        choices=("transformers", "openai"),
    )
    name: str = _opt(
        DEFAULT_MODEL,
        "Hugging Face model id or local folder (transformers), or the served model name (openai).",
    )
    base_url: str = _opt(
        "http://127.0.0.1:8000/v1", "Base URL of the OpenAI-compatible server (openai backend)."
    )
    api_key: str = _opt("", "API key sent to the OpenAI-compatible server, if it needs one.")
    device: str = _opt(
        "auto",
        "Device for the in-process model: auto picks cuda, then mps, then cpu.",
        choices=("auto", "cuda", "mps", "cpu"),
    )
    dtype: str = _opt(
        "auto",
        "Weight dtype: auto is bfloat16 on GPU and float32 on CPU.",
        choices=("auto", "bfloat16", "float16", "float32"),
    )
    quantization: str = _opt(
        "none",
        "Load the in-process model in 8-bit or 4-bit (needs bitsandbytes) for small GPUs.",
        choices=("none", "8bit", "4bit"),
    )
    timeout: float = _opt(
        600.0,
        "Seconds a request to the OpenAI-compatible server may take before it fails.",
        minimum=1.0,
        maximum=86400.0,
    )
    decoder: str = _opt(
        "auto",
        "Decoding loop for the in-process model: auto (fast loop on cuda/cpu, model.generate on mps), fast, generate.",
        choices=("auto", "fast", "generate"),
    )
    compile: bool = _opt(
        True, "On CUDA, compile the decode step with CUDA graphs (faster after a warm-up at load)."
    )
    warmup_tokens: int = _opt(
        10240,
        "On CUDA, prompt plus new tokens the KV cache is sized and warmed up for at load.",
        minimum=256,
        maximum=131072,
    )
    adapter: str = _opt(
        "",
        "LoRA adapter: a peft folder or Hugging Face id merged into the in-process model, or the adapter's "
        "served name on a vLLM/SGLang server (openai); empty: none.",
    )


@dataclass(frozen=True)
class GenerationSettings:
    """How candidates are sampled."""

    candidates: int = _opt(
        4,
        "Candidates generated per task (best-of-N); the first that passes the examples is applied.",
        minimum=1,
        maximum=32,
    )
    # None: the model's own default (codegen/models.py); a value the user sets always wins.
    temperature: float | None = _opt(
        None,
        "Sampling temperature; null: the model's recommended value (VibeThinker-1.5B 0.6, VibeThinker-3B 1.0).",
        minimum=0.0,
        maximum=2.0,
        kind=float,
    )
    top_p: float | None = _opt(
        None,
        "Nucleus sampling threshold; null: the model's recommended value (0.95).",
        minimum=0.0,
        maximum=1.0,
        kind=float,
    )
    top_k: int | None = _opt(
        None,
        "Sample among the k most likely tokens (0: off); null: the model's default (off).",
        minimum=0,
        maximum=1000,
        kind=int,
    )
    max_new_tokens: int = _opt(
        8192, "Most new tokens per candidate, reasoning included.", minimum=16, maximum=65536
    )
    thinking_budget: int | None = _opt(
        None,
        "Most tokens of reasoning before the model is made to write its answer; null: the model's default (4096).",
        minimum=0,
        maximum=65536,
        kind=int,
    )
    system_prompt: str = _opt(
        "", "System prompt to use instead of the built-in competitive-programming one (empty: built-in)."
    )


@dataclass(frozen=True)
class JudgeSettings:
    """How candidates are run on the examples."""

    time_limit: float = _opt(2.0, "CPU time limit per example, in seconds.", minimum=0.1, maximum=60.0)
    memory_limit: int = _opt(256, "Memory limit per example, in megabytes.", minimum=16, maximum=16384)
    python: str = _opt("", "Python interpreter that runs Python solutions (empty: the server's own).")
    measure_complexity: bool = _opt(
        True, "Time verified Python functions on growing inputs and add the measured growth to the note."
    )
    isolation: str = _opt(
        "auto",
        "Sandbox level: auto picks the strongest available; strong requires bubblewrap.",
        choices=("auto", "strong", "fallback"),
    )


@dataclass(frozen=True)
class VerificationSettings:
    """Checks beyond the examples: stress tests against a brute force on generated inputs."""

    stress: bool = _opt(
        True,
        "Stress-test a candidate that passes the examples against a brute force on generated inputs (and time "
        "it at the statement's maximum size) before it is offered.",
    )
    stress_seconds: float = _opt(
        3.0, "Most seconds of stress testing per candidate.", minimum=0.5, maximum=120.0
    )
    model_oracle: bool = _opt(
        True,
        "Ask the model for a brute force and an input generator (alongside the candidates) when there is no "
        "brute.py/gen.py next to the file; off: only your own files and the candidates' agreement are used.",
    )


@dataclass(frozen=True)
class CompletionSettings:
    """Inline (ghost-text) completions."""

    enabled: bool = _opt(True, "Offer inline completions from the model.")
    debounce_ms: int = _opt(
        150, "Wait this long after the last keystroke before asking the model.", minimum=0, maximum=5000
    )
    max_tokens: int = _opt(64, "Most tokens in one completion.", minimum=1, maximum=1024)


@dataclass(frozen=True)
class HoverSettings:
    """Hover explanations."""

    enabled: bool = _opt(True, "Show the complexity estimate and example results on hover.")
    explain: bool = _opt(True, "Add the model's explanation of the approach to the hover.")


@dataclass(frozen=True)
class CompanionSettings:
    """The Competitive Companion receiver."""

    enabled: bool = _opt(False, "Accept problems from the Competitive Companion browser extension.")
    language: str = _opt(
        "python", "Language of the source file created for a received problem.", choices=("python", "cpp")
    )
    port: int = _opt(
        27121, "Loopback port the Competitive Companion receiver listens on.", minimum=1024, maximum=65535
    )


@dataclass(frozen=True)
class HistorySettings:
    """The record of verified solutions (training data for `vibethinker-lsp finetune`)."""

    record: bool = _opt(
        False,
        "Append each verified solution you apply (prompt and the model's verified reply) to a JSONL file "
        "for `vibethinker-lsp finetune`.",
    )
    file: str = _opt(
        "", "The record file (empty: solutions.jsonl in the user's data folder, shown by `doctor`)."
    )


@dataclass(frozen=True)
class Settings:
    """The whole settings tree."""

    model: ModelSettings = field(default_factory=ModelSettings)
    generation: GenerationSettings = field(default_factory=GenerationSettings)
    judge: JudgeSettings = field(default_factory=JudgeSettings)
    verification: VerificationSettings = field(default_factory=VerificationSettings)
    completions: CompletionSettings = field(default_factory=CompletionSettings)
    hover: HoverSettings = field(default_factory=HoverSettings)
    companion: CompanionSettings = field(default_factory=CompanionSettings)
    history: HistorySettings = field(default_factory=HistorySettings)

    def model_config(self) -> ModelConfig:
        """The engine's model configuration."""
        m = self.model
        return ModelConfig(
            backend=m.backend,
            name=m.name,
            base_url=m.base_url,
            api_key=m.api_key,
            device=m.device,
            dtype=m.dtype,
            quantization=m.quantization,
            timeout_s=m.timeout,
            decoder=m.decoder,
            compile=m.compile,
            warmup_tokens=m.warmup_tokens,
            adapter=m.adapter,
        )

    def sampling(self) -> ResolvedSampling:
        """Temperature, top-p, top-k and thinking budget: the user's settings, else the model's defaults."""
        g = self.generation
        return resolve_sampling(self.model.name, g.temperature, g.top_p, g.top_k, g.thinking_budget)

    def generation_params(self) -> GenerationParams:
        """The sampling parameters for task generation (per-model defaults resolved)."""
        g, s = self.generation, self.sampling().values
        return GenerationParams(
            g.max_new_tokens, s.temperature, s.top_p, g.candidates, s.thinking_budget, top_k=s.top_k
        )

    def stress_options(self) -> StressOptions | None:
        """How candidates are stress-tested after the examples (None: `verification.stress` is off)."""
        v = self.verification
        if not v.stress:
            return None
        return StressOptions(seconds=v.stress_seconds, model_oracle=v.model_oracle)

    def limits(self, task: Task | None = None) -> Limits:
        """The judge's limits; a problem's own time and memory limits (from its samples) win."""
        time_ms = task.time_limit_ms if task is not None else None
        memory_mb = task.memory_limit_mb if task is not None else None
        return Limits(
            time_s=time_ms / 1000 if time_ms else self.judge.time_limit,
            memory_mb=memory_mb or self.judge.memory_limit,
        )


def camel(name: str) -> str:
    """snake_case to camelCase."""
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def snake(name: str) -> str:
    """camelCase to snake_case."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def flatten_schema() -> dict[str, dict]:
    """Every leaf setting as `section.key` (camelCase) -> {type, default, description, enum, minimum, maximum}."""
    out = {}
    for section in dataclasses.fields(Settings):
        for f in dataclasses.fields(section.default_factory()):
            meta = f.metadata
            kind = {bool: "boolean", int: "integer", float: "number", str: "string"}[_type_of(f)]
            entry = {
                "type": [kind, "null"] if _nullable(f) else kind,
                "default": f.default,
                "description": meta["description"],
            }
            if meta.get("choices"):
                entry["enum"] = list(meta["choices"])
            if meta.get("minimum") is not None:
                entry["minimum"] = meta["minimum"]
            if meta.get("maximum") is not None:
                entry["maximum"] = meta["maximum"]
            out[f"{section.name}.{camel(f.name)}"] = entry
    return out


def parse_settings(raw: Any, base: Settings | None = None) -> tuple[Settings, list[str]]:
    """Merge camelCase options into `base`; return the new settings and one message per invalid value."""
    base = base or Settings()
    errors: list[str] = []
    if raw is None:
        return base, errors
    if not isinstance(raw, dict):
        return base, [f"Settings must be an object, not {type(raw).__name__}; using the previous settings."]
    sections = {s.name: s for s in dataclasses.fields(Settings)}
    updates = {}
    for key, value in raw.items():
        name = snake(key)
        if name not in sections:
            errors.append(f"Unknown setting section {key!r}; known: {', '.join(camel(n) for n in sections)}.")
            continue
        current = getattr(base, name)
        if not isinstance(value, dict):
            errors.append(f"Setting {key!r} must be an object; keeping its previous values.")
            continue
        updates[name] = _parse_section(key, current, value, errors)
    return dataclasses.replace(base, **updates), errors


def _type_of(f: dataclasses.Field) -> type:
    """The Python type of a leaf field: its declared kind (nullable fields), else its default's type."""
    return f.metadata.get("kind") or type(f.default)


def _shown(value: Any) -> str:
    """A kept value in a message; None is the model's own default."""
    return "the model's default" if value is None else repr(value)


def _nullable(f: dataclasses.Field) -> bool:
    """Whether null is a valid value (it means: the model's own default)."""
    return "kind" in f.metadata


def _parse_section(section_key: str, current: Any, raw: dict, errors: list[str]) -> Any:
    """Validate one section's keys against their types and constraints."""
    fields = {f.name: f for f in dataclasses.fields(current)}
    changes = {}
    for key, value in raw.items():
        name = snake(key)
        where = f"{section_key}.{key}"
        f = fields.get(name)
        if f is None:
            errors.append(f"Unknown setting {where!r}; it is ignored.")
            continue
        kind = _type_of(f)
        if value is None and _nullable(f):
            changes[name] = None
            continue
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            errors.append(
                f"Setting {where!r} must be a {kind.__name__}, not {value!r}; keeping {_shown(getattr(current, name))}."
            )
            continue
        meta = f.metadata
        if meta.get("choices") and value not in meta["choices"]:
            errors.append(
                f"Setting {where!r} must be one of {', '.join(map(str, meta['choices']))}, not {value!r}; "
                f"keeping {_shown(getattr(current, name))}."
            )
            continue
        low, high = meta.get("minimum"), meta.get("maximum")
        if (low is not None and value < low) or (high is not None and value > high):
            errors.append(
                f"Setting {where!r} must be between {low} and {high}, not {value!r}; keeping {_shown(getattr(current, name))}."
            )
            continue
        changes[name] = value
    return dataclasses.replace(current, **changes)
