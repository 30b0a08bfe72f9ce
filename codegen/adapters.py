"""LoRA adapters on an in-process model: find, read, check against the model, merge, switch.

An adapter is a folder in peft's format (`adapter_config.json` + `adapter_model.safetensors`) or a Hugging Face
id. Merging adds the adapter's low-rank update into the base weights in place, so decoding costs nothing extra
and the fast decoder's compiled step (which reads those very tensors) keeps working. The original values of
every weight an adapter touched are kept on the CPU, so switching or removing an adapter restores the base
exactly, without reading the model's weights from disk again. A quantized model cannot take a merge; there the
adapter stays as peft's LoRA layers beside the base weights and is unloaded to switch.
"""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass
from pathlib import Path

from codegen.backends.base import BackendError

CONFIG_FILE = "adapter_config.json"
WEIGHT_FILES = ("adapter_model.safetensors", "adapter_model.bin")
PEFT_PREFIX = "base_model.model."


class AdapterError(BackendError):
    """An adapter cannot be used; the message is one sentence naming it and saying what is wrong."""


@dataclass(frozen=True)
class AdapterInfo:
    """What an adapter's config says: where it is, its rank and scale, what it adapts, what it was made for."""

    name: str  # as the user gave it
    folder: Path
    rank: int
    alpha: float
    targets: tuple[str, ...]
    base_model: str

    def describe(self) -> str:
        """One line for doctor and logs."""
        base = f", trained on {self.base_model}" if self.base_model else ""
        return f"{self.name} (LoRA rank {self.rank}, alpha {self.alpha:g}, {', '.join(self.targets)}{base})"


def is_local_name(name: str) -> bool:
    """Whether an adapter name means a local folder rather than a Hugging Face id."""
    return Path(name).expanduser().exists() or name.startswith((".", "/", "~")) or name.count("/") != 1


def resolve_folder(name: str) -> Path:
    """The local folder of an adapter: the folder itself, or its snapshot in the Hugging Face cache."""
    if is_local_name(name):
        folder = Path(name).expanduser()
        if not folder.is_dir():
            raise AdapterError(
                f"The adapter {name!r} does not exist; set `model.adapter` to a folder saved by peft "
                "(with adapter_config.json) or to a Hugging Face id, or to an empty string for none."
            )
        return folder
    return _hub_snapshot(name)


def _hub_snapshot(name: str) -> Path:
    """Fetch (or find in the cache, when offline) the adapter files of a Hugging Face repository."""
    from huggingface_hub import snapshot_download

    from codegen.backends.transformers_backend import is_offline

    patterns = [CONFIG_FILE, *WEIGHT_FILES]
    try:
        return Path(snapshot_download(name, allow_patterns=patterns, local_files_only=is_offline()))
    except Exception as exc:  # noqa: BLE001 - network, missing repository, offline cache miss: one sentence
        how = (
            "offline mode is on and it is not in the cache" if is_offline() else "it could not be downloaded"
        )
        raise AdapterError(
            f"The adapter {name!r} was not found: it is not a local folder and {how} "
            f"({exc.__class__.__name__}); give the adapter's folder or a reachable Hugging Face id."
        ) from exc


def read_info(name: str) -> AdapterInfo:
    """Read an adapter's config; AdapterError when it is missing, not LoRA, or unusable here."""
    folder = resolve_folder(name)
    path = folder / CONFIG_FILE
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise AdapterError(
            f"The adapter {name!r} has no {CONFIG_FILE}; point `model.adapter` at a folder saved by peft."
        ) from None
    except (OSError, ValueError) as exc:
        raise AdapterError(f"The adapter {name!r} has an unreadable {CONFIG_FILE} ({exc}).") from exc
    if not isinstance(raw, dict) or raw.get("peft_type") != "LORA":
        kind = raw.get("peft_type") if isinstance(raw, dict) else None
        raise AdapterError(
            f"The adapter {name!r} is a {kind or 'non-peft'} adapter; only LoRA adapters work."
        )
    if raw.get("modules_to_save"):
        raise AdapterError(
            f"The adapter {name!r} also retrains whole modules ({', '.join(raw['modules_to_save'])}); "
            "only plain LoRA adapters can be loaded."
        )
    if not any((folder / f).is_file() for f in WEIGHT_FILES):
        raise AdapterError(
            f"The adapter {name!r} has no adapter_model.safetensors; save or download it again."
        )
    targets = raw.get("target_modules") or ()
    targets = (targets,) if isinstance(targets, str) else tuple(sorted(targets))
    return AdapterInfo(
        name=name,
        folder=folder,
        rank=int(raw.get("r") or 8),
        alpha=float(raw.get("lora_alpha") or 8),
        targets=targets,
        base_model=str(raw.get("base_model_name_or_path") or ""),
    )


def read_weights(info: AdapterInfo) -> dict:
    """The adapter's tensors on the CPU, keyed as peft saves them; AdapterError when they cannot be read."""
    from peft.utils import load_peft_weights

    try:
        return load_peft_weights(str(info.folder), device="cpu")
    except Exception as exc:  # noqa: BLE001 - truncated or corrupt files
        raise AdapterError(
            f"The adapter {info.name!r} has weights that cannot be read ({exc.__class__.__name__}); "
            "save or download it again."
        ) from exc


def adapted_modules(weights: dict) -> dict[str, dict[str, tuple[int, ...]]]:
    """Module name (as in model.named_modules) -> {"lora_A": shape, "lora_B": shape, ...} from peft's keys."""
    out: dict[str, dict[str, tuple[int, ...]]] = {}
    for key, tensor in weights.items():
        head, sep, tail = key.partition(".lora_")
        if not sep:
            continue
        module = head[len(PEFT_PREFIX) :] if head.startswith(PEFT_PREFIX) else head
        out.setdefault(module, {})["lora_" + tail.split(".")[0]] = tuple(tensor.shape)
    return out


def check_fits(info: AdapterInfo, weights: dict, model, model_name: str) -> list[str]:
    """Check every adapted module exists in the model with matching sizes; return the module names.

    AdapterError (one sentence) names the adapter and says what does not fit: modules the model does not have
    (another architecture) or sizes it does not have (another model size)."""
    modules = dict(model.named_modules())
    wanted = adapted_modules(weights)
    if not wanted:
        raise AdapterError(f"The adapter {info.name!r} holds no LoRA weights; train or download it again.")
    kind = getattr(model.config, "model_type", "?")
    missing = sorted({name.rsplit(".", 1)[-1] for name in wanted if name not in modules})
    if missing:
        made_for = f" (it was trained on {info.base_model})" if info.base_model else ""
        raise AdapterError(
            f"The adapter {info.name!r} was made for another architecture{made_for}: it adapts "
            f"{', '.join(missing)}, which {model_name} ({kind}) does not have."
        )
    for name, shapes in sorted(wanted.items()):
        module = modules[name]
        inputs, outputs = getattr(module, "in_features", None), getattr(module, "out_features", None)
        a, b = shapes.get("lora_A"), shapes.get("lora_B")
        if inputs is None or a is None or b is None:
            continue
        if a[-1] != inputs or b[0] != outputs:
            raise AdapterError(
                f"The adapter {info.name!r} was trained on a model of another size: its {name} maps "
                f"{a[-1]} to {b[0]} features, but in {model_name} (hidden size "
                f"{getattr(model.config, 'hidden_size', '?')}) it maps {inputs} to {outputs}."
            )
    return sorted(wanted)


class AdapterSlot:
    """The one adapter applied to a loaded model, switched without reloading the base weights."""

    def __init__(self, model, model_name: str, merge: bool = True) -> None:
        """Wrap a loaded model; `merge` False keeps LoRA layers unmerged (quantized weights)."""
        self.model = model
        self.model_name = model_name
        self.merge = merge
        self.active: AdapterInfo | None = None
        self._originals: dict[str, tuple] = {}  # module -> (the weight's storage, its base values on the CPU)
        self._merged: set[str] = set()  # modules whose weights hold an adapter now
        self._wrapped = None  # the PeftModel while an unmerged adapter is applied

    def apply(self, name: str) -> AdapterInfo:
        """Replace the current adapter by `name`; on AdapterError the base model is left in use."""
        self.clear()  # whatever happens next, the adapter asked for replaces the one in use
        info = read_info(name)
        weights = read_weights(info)
        targets = check_fits(info, weights, self.model, self.model_name)
        try:
            with warnings.catch_warnings():  # transformers' deprecation notices, raised inside peft
                warnings.simplefilter("ignore", FutureWarning)
                if self.merge:
                    self._merge_in(info, targets)
                else:
                    self._attach(info)
        except Exception as exc:  # noqa: BLE001 - whatever peft raised, the base model must come back intact
            self._undo()
            if isinstance(exc, AdapterError):
                raise
            first = (str(exc).strip().splitlines() or [exc.__class__.__name__])[0][:160]
            raise AdapterError(
                f"The adapter {name!r} could not be applied to {self.model_name} ({exc.__class__.__name__}: "
                f"{first}); the base model is used."
            ) from exc
        self.active = info
        return info

    def clear(self) -> None:
        """Back to the base model: restore merged weights from their kept originals, or unload LoRA layers."""
        if self._wrapped is not None:
            self._wrapped.unload()
            self._wrapped = None
        self._restore()
        self.active = None

    def _merge_in(self, info: AdapterInfo, targets: list[str]) -> None:
        """Keep the originals of the target weights, then let peft merge the adapter into them in place."""
        import torch
        from peft import PeftModel

        modules = dict(self.model.named_modules())
        with torch.no_grad():
            for name in targets:
                if name not in self._originals:
                    weight = modules[name].weight
                    self._originals[name] = (weight.data, weight.detach().to("cpu", copy=True))
            self._merged.update(targets)
            wrapped = PeftModel.from_pretrained(self.model, str(info.folder), is_trainable=False)
            wrapped.merge_and_unload()
            self._keep_storage(targets)

    def _keep_storage(self, targets: list[str]) -> None:
        """Put merged values back into the weights' original tensors (CUDA graphs captured their addresses)."""
        modules = dict(self.model.named_modules())
        for name in targets:
            storage, _ = self._originals[name]
            weight = modules[name].weight
            if weight.data.data_ptr() != storage.data_ptr():
                storage.copy_(weight.data)
                weight.data = storage

    def _attach(self, info: AdapterInfo) -> None:
        """Inject the adapter as LoRA layers beside the (quantized) base weights."""
        from peft import PeftModel

        self._wrapped = PeftModel.from_pretrained(self.model, str(info.folder), is_trainable=False)

    def _restore(self) -> None:
        """Copy the kept base values back into every weight that holds a merged adapter."""
        import torch

        modules = dict(self.model.named_modules())
        with torch.no_grad():
            for name in sorted(self._merged):
                storage, original = self._originals[name]
                storage.copy_(original)
                weight = modules[name].weight
                if weight.data.data_ptr() != storage.data_ptr():
                    weight.data = storage
        self._merged.clear()

    def _undo(self) -> None:
        """After a failure inside peft: take out any LoRA layers it injected and restore the base weights."""
        from peft.tuners.tuners_utils import BaseTunerLayer

        self._wrapped = None
        for name, module in list(self.model.named_modules()):
            if isinstance(module, BaseTunerLayer) and name:
                parent_name, _, child = name.rpartition(".")
                parent = self.model.get_submodule(parent_name) if parent_name else self.model
                setattr(parent, child, module.get_base_layer())
        if hasattr(self.model, "peft_config"):
            del self.model.peft_config
        self._restore()
        self.active = None


def summary(name: str, backend: str = "transformers", base_url: str = "") -> dict:
    """What doctor shows about the configured adapter, without loading any model or touching the network."""
    if not name:
        return {"in_use": "none", "hint": "set model.adapter, --adapter or VIBETHINKER_ADAPTER to use one"}
    if backend == "openai":
        return {"in_use": name, "detail": f"the adapter's served name, asked of {base_url}"}
    if not is_local_name(name):
        return {"in_use": name, "detail": "a Hugging Face id, fetched when the model loads"}
    try:
        info = read_info(name)
    except AdapterError as exc:
        return {"in_use": "none (the base model)", "problem": str(exc)}
    return {"in_use": info.describe(), "folder": str(info.folder.resolve())}
