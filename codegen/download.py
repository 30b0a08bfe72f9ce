"""Fetch model weights into the standard Hugging Face cache (`vibethinker-lsp download [MODEL]`)."""

from __future__ import annotations

from pathlib import Path

from codegen.backends.base import DEFAULT_MODEL, BackendError

# Only what loading needs: weights, configs, tokenizer files, chat template.
ALLOW_PATTERNS = ["*.json", "*.safetensors", "*.txt", "*.model", "*.jinja", "*.tiktoken", "*.py"]


def download_model(name: str = DEFAULT_MODEL, revision: str | None = None) -> Path:
    """Download a model (Hugging Face id) into the Hugging Face cache with a progress bar; return its folder.

    A local folder is returned as it is. Raises BackendError with one sentence when offline, unreachable, or
    when the model or revision does not exist.
    """
    local = Path(name).expanduser()
    if local.is_dir():
        return local
    from codegen.backends.transformers_backend import is_offline

    if is_offline():
        raise BackendError(
            f"Cannot download {name!r} because offline mode is on (HF_HUB_OFFLINE); unset it and try again."
        )
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import (
        GatedRepoError,
        LocalEntryNotFoundError,
        RepositoryNotFoundError,
        RevisionNotFoundError,
    )

    try:
        folder = snapshot_download(repo_id=name, revision=revision, allow_patterns=ALLOW_PATTERNS)
    except GatedRepoError as exc:
        raise BackendError(
            f"The model {name!r} is gated; accept its terms on huggingface.co and run `hf auth login` first."
        ) from exc
    except RepositoryNotFoundError as exc:
        raise BackendError(
            f"There is no model {name!r} on the Hugging Face Hub (or it is private); check the name."
        ) from exc
    except RevisionNotFoundError as exc:
        raise BackendError(f"The model {name!r} has no revision {revision!r}; check the revision.") from exc
    except LocalEntryNotFoundError as exc:
        raise BackendError(
            f"Cannot reach the Hugging Face Hub to download {name!r}; check the internet connection or proxy."
        ) from exc
    except ValueError as exc:  # an id that is not of the form owner/name
        raise BackendError(
            f"{name!r} is not a Hugging Face model id (owner/name) or a local folder."
        ) from exc
    except OSError as exc:  # network errors, a full disk
        reason = (str(exc).strip().splitlines() or [""])[0][:160]
        raise BackendError(
            f"Downloading {name!r} failed ({exc.__class__.__name__}: {reason}); "
            "check the connection and free disk space, then try again."
        ) from exc
    return Path(folder)
