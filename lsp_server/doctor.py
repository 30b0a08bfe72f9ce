"""What `vibethinker-lsp doctor` and `:checkhealth vibethinker` report."""

from __future__ import annotations

import importlib.metadata
import os
import platform
import sys

from lsp_server import __version__


def _version(dist: str) -> str:
    """Installed version of a distribution, or 'not installed'."""
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def collect() -> dict[str, dict]:
    """Gather the report as nested dictionaries."""
    return {
        "server": {"version": __version__, "python": sys.version.split()[0], "platform": platform.platform()},
        "gpu": _gpu(),
        "model": _model_cache(),
        "sandbox": _sandbox(),
        "versions": {d: _version(d) for d in ("torch", "transformers", "pygls", "lsprotocol", "tree-sitter")},
    }


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


def _model_cache() -> dict:
    """Where weights are looked for, and whether the default model is there."""
    from huggingface_hub.constants import HF_HUB_CACHE

    from codegen.backends.base import DEFAULT_MODEL

    name = os.environ.get("VIBETHINKER_MODEL") or DEFAULT_MODEL
    folder = os.path.join(HF_HUB_CACHE, "models--" + name.replace("/", "--"))
    return {
        "name": name,
        "cache": HF_HUB_CACHE,
        "cached": os.path.isdir(folder),
        "offline": os.environ.get("HF_HUB_OFFLINE", "") not in ("", "0"),
        "hint": "" if os.path.isdir(folder) else f"run `vibethinker-lsp download {name}`",
    }


def _sandbox() -> dict:
    """The isolation level the judge would use."""
    try:
        from sandbox import isolation

        return dict(isolation.describe())
    except (ImportError, AttributeError):
        from sandbox import Judge

        return {"level": Judge().isolation}
