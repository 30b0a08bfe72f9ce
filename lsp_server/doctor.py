"""What `vibethinker-lsp doctor` and `:checkhealth vibethinker` report.

Besides versions and the sandbox: the GPU, the model family and the sampling defaults in use, and which model
the GPU holds for the configured candidates and token budget (`fit_report`, a pure function of memory size).
"""

from __future__ import annotations

import importlib.metadata
import os
import platform
import sys

from codegen import adapters, record
from codegen.models import FAMILIES, detect, recommend
from lsp_server import __version__
from lsp_server.settings import Settings


def _version(dist: str) -> str:
    """Installed version of a distribution, or 'not installed'."""
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def collect(settings: Settings | None = None) -> dict[str, dict]:
    """Gather the report as nested dictionaries, for the given settings (default: the defaults)."""
    settings = settings or Settings()
    gpu = _gpu()
    return {
        "server": {"version": __version__, "python": sys.version.split()[0], "platform": platform.platform()},
        "gpu": gpu,
        "model": _model_cache(settings.model.name),
        "generation": generation_report(settings),
        "fit": fit_report(settings, gpu.get("memory_bytes"), gpu.get("device", "cpu")),
        "sandbox": _sandbox(),
        "adapter": adapters.summary(settings.model.adapter, settings.model.backend, settings.model.base_url),
        "history": record.summary(settings.history.file, settings.history.record),
        "versions": {
            d: _version(d) for d in ("torch", "transformers", "peft", "pygls", "lsprotocol", "tree-sitter")
        },
    }


def generation_report(settings: Settings) -> dict:
    """The model family and the sampling in use, and whose defaults they are."""
    sampling = settings.sampling()
    values = sampling.values
    return {
        "model": sampling.detected.short_name,
        "detected_by": sampling.detected.how,
        "defaults": sampling.source(),
        "set_by_you": sorted(sampling.explicit),
        "temperature": values.temperature,
        "top_p": values.top_p,
        "top_k": values.top_k,
        "thinking_budget": values.thinking_budget,
        "summary": sampling.describe(),
    }


def fit_report(settings: Settings, gpu_bytes: int | None, device: str = "cuda") -> dict:
    """What each model needs for these settings, and one line of advice for a GPU of `gpu_bytes`.

    Pure: a function of the settings and the memory size only (None: no CUDA GPU), so any GPU can be simulated.
    """
    g, m = settings.generation, settings.model
    advice = recommend(gpu_bytes, g.candidates, g.max_new_tokens, m.name, m.quantization)
    line = advice.line
    if m.backend == "openai":
        line = f"The model runs on the server at {m.base_url}; for a GPU of this machine: {line}"
    elif device == "mps":
        line = (
            "Apple GPU (memory shared with the system): VibeThinker-1.5B in float16 suits it; "
            "VibeThinker-3B needs the memory listed here free."
        )
    report = {"advice": line, "budget": f"{g.candidates} candidates x {g.max_new_tokens} new tokens"}
    for need in advice.needs:
        report[need.label] = need.breakdown()
    return report


def _gpu() -> dict:
    """The accelerator torch sees."""
    try:
        import torch
    except ImportError:
        return {"available": False, "detail": "torch is not installed"}
    if torch.cuda.is_available():
        props = torch.cuda.get_device_properties(0)
        return {
            "available": True,
            "device": "cuda",
            "name": props.name,
            "memory_gb": round(props.total_memory / 2**30, 1),
            "memory_bytes": props.total_memory,
            "cuda": torch.version.cuda,
        }
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return {"available": True, "device": "mps"}
    return {
        "available": False,
        "device": "cpu",
        "detail": "no CUDA or MPS device; the model runs on the CPU (slow)",
    }


def _model_cache(name: str) -> dict:
    """Where weights are looked for, and whether the configured model and each known one are there."""
    from huggingface_hub.constants import HF_HUB_CACHE

    cached = _is_cached(HF_HUB_CACHE, name)
    known = {family.short_name: _is_cached(HF_HUB_CACHE, family.hf_id or "") for family in FAMILIES}
    return {
        "name": name,
        "short_name": detect(name).short_name,
        "cache": HF_HUB_CACHE,
        "cached": cached,
        "offline": os.environ.get("HF_HUB_OFFLINE", "") not in ("", "0"),
        "hint": "" if cached else f"run `vibethinker-lsp download {name}`",
        "known_models_cached": known,
    }


def _is_cached(cache: str, name: str) -> bool:
    """Whether a Hugging Face id has a folder in the cache (a local folder counts as cached)."""
    if os.path.isdir(os.path.expanduser(name)):
        return True
    return os.path.isdir(os.path.join(cache, "models--" + name.replace("/", "--")))


def _sandbox() -> dict:
    """The isolation level the judge would use."""
    try:
        from sandbox import isolation

        return dict(isolation.describe())
    except (ImportError, AttributeError):
        from sandbox import Judge

        return {"level": Judge().isolation}
