"""`download_model`: the Hugging Face cache download and its one-sentence errors (hub calls are doubled)."""

from __future__ import annotations

import httpx
import pytest

from codegen.backends.base import BackendError
from codegen.download import ALLOW_PATTERNS, download_model


def hub_error(cls, status: int):
    """A huggingface_hub HTTP error with a real response object."""
    response = httpx.Response(status, request=httpx.Request("GET", "https://huggingface.co/api/models/x"))
    return cls("hub says no", response=response)


@pytest.fixture
def online(monkeypatch):
    """Offline mode off, whatever the environment says."""
    from huggingface_hub import constants

    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("TRANSFORMERS_OFFLINE", raising=False)
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)


def test_local_folder_is_returned_as_is(tmp_path):
    assert download_model(str(tmp_path)) == tmp_path


def test_offline_mode_refuses_with_what_to_do(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(BackendError, match=r"offline mode is on \(HF_HUB_OFFLINE\); unset it"):
        download_model("WeiboAI/VibeThinker-1.5B")


def test_download_goes_to_the_cache_with_the_revision(online, monkeypatch, tmp_path):
    import huggingface_hub

    calls = []

    def fake_snapshot_download(**kwargs):
        calls.append(kwargs)
        return str(tmp_path)

    monkeypatch.setattr(huggingface_hub, "snapshot_download", fake_snapshot_download)
    assert download_model("WeiboAI/VibeThinker-1.5B", revision="main") == tmp_path
    assert calls == [
        {"repo_id": "WeiboAI/VibeThinker-1.5B", "revision": "main", "allow_patterns": ALLOW_PATTERNS}
    ]


@pytest.mark.parametrize(
    ("error", "message"),
    [
        ("missing", r"There is no model 'me/nothing' on the Hugging Face Hub"),
        ("gated", r"is gated; accept its terms"),
        ("revision", r"has no revision 'v9'"),
        ("network", r"Cannot reach the Hugging Face Hub to download 'me/nothing'"),
        ("disk", r"Downloading 'me/nothing' failed \(OSError: No space left on device\)"),
    ],
)
def test_failures_are_one_sentence(online, monkeypatch, error, message):
    import huggingface_hub
    from huggingface_hub import errors

    raised = {
        "missing": lambda: hub_error(errors.RepositoryNotFoundError, 404),
        "gated": lambda: hub_error(errors.GatedRepoError, 403),
        "revision": lambda: hub_error(errors.RevisionNotFoundError, 404),
        "network": lambda: errors.LocalEntryNotFoundError("connection error"),
        "disk": lambda: OSError("No space left on device"),
    }[error]

    def failing_snapshot_download(**kwargs):
        raise raised()

    monkeypatch.setattr(huggingface_hub, "snapshot_download", failing_snapshot_download)
    with pytest.raises(BackendError, match=message) as info:
        download_model("me/nothing", revision="v9")
    assert "\n" not in str(info.value)


def test_an_invalid_id_is_named(online):
    with pytest.raises(BackendError, match=r"'not a valid id!!' is not a Hugging Face model id"):
        download_model("not a valid id!!")
