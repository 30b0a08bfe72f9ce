"""Shared fixtures: a tiny model saved like a real checkpoint, and a fake OpenAI-compatible server."""

from __future__ import annotations

import pytest

from devtools.openai_server import FakeOpenAI
from devtools.samples import GOOD_REPLY
from devtools.tiny_model import build_tiny_model
from tests.adapter_fixtures import trained  # noqa: F401 - one LoRA training run, shared


@pytest.fixture(scope="session")
def one_torch_thread():
    """Tiny models run fastest on one thread (and do not spin against other processes on a busy machine)."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory):
    """A tiny random Qwen2 checkpoint with a BPE tokenizer, built offline once per session."""
    return build_tiny_model(tmp_path_factory.mktemp("tiny-qwen2"))


@pytest.fixture
def fake_openai():
    """A fake OpenAI-compatible server answering with GOOD_REPLY; tests may swap `.responder`."""
    with FakeOpenAI(GOOD_REPLY) as server:
        yield server
