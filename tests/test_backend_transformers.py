"""The in-process backend: loading (and its errors), memory planning, chat and completion on CPU."""

from __future__ import annotations

import shutil

import pytest

from codegen.backends.base import BackendError, GenerationParams, ModelConfig, is_out_of_memory, make_backend
from codegen.backends.transformers_backend import (
    TransformersBackend,
    candidates_that_fit,
    check_weights_fit,
    cut_at_stop,
    estimate_weight_bytes,
    quantization_config,
)
from codegen.models import VIBETHINKER_1_5B
from devtools.tiny_model import build_tiny_model

MESSAGES = [{"role": "user", "content": "Implement two_sum(nums, target)."}]


pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def model_folder(tmp_path_factory):
    """A tiny random Qwen2 with untied embeddings."""
    return build_tiny_model(tmp_path_factory.mktemp("tiny-backend"), tie_embeddings=False)


@pytest.fixture(scope="module")
def backend(model_folder):
    """The backend loaded once on CPU."""
    loaded = TransformersBackend(ModelConfig(name=str(model_folder), device="cpu"))
    yield loaded
    loaded.close()


def test_missing_folder_is_one_clear_sentence(tmp_path):
    with pytest.raises(BackendError, match=r"^The model folder .*missing does not exist; set `model.name`"):
        make_backend(ModelConfig(name=str(tmp_path / "missing")))


def test_folder_without_config_says_so(tmp_path):
    (tmp_path / "weights").mkdir()
    with pytest.raises(BackendError, match="has no config.json"):
        make_backend(ModelConfig(name=str(tmp_path / "weights")))


def test_corrupt_safetensors_is_reported_with_what_to_do(tmp_path, model_folder):
    broken = tmp_path / "broken"
    shutil.copytree(model_folder, broken)
    (broken / "model.safetensors").write_bytes(b"\x00\x01 this is not a safetensors file" * 10)
    with pytest.raises(BackendError) as info:
        make_backend(ModelConfig(name=str(broken)))
    message = str(info.value)
    assert message.startswith(f"Cannot load the model from {broken}")
    assert "save or download the model again" in message and "\n" not in message


def test_offline_with_an_unknown_id_points_at_download(monkeypatch, tmp_path):
    from huggingface_hub import constants

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path))
    with pytest.raises(BackendError) as info:
        make_backend(ModelConfig(name="nobody-here/no-such-model-xyz"))
    message = str(info.value)
    assert "offline mode is on (HF_HUB_OFFLINE)" in message
    assert "vibethinker-lsp download nobody-here/no-such-model-xyz" in message


def test_unknown_backend_and_quantization_messages():
    with pytest.raises(BackendError, match="Unknown model backend 'llama'"):
        make_backend(ModelConfig(backend="llama"))
    with pytest.raises(BackendError, match="Unknown `model.quantization` '3bit'"):
        quantization_config("3bit", "cuda")
    with pytest.raises(BackendError, match="needs a CUDA GPU"):
        quantization_config("4bit", "cpu")
    assert quantization_config("none", "cpu") is None


def test_quantization_without_bitsandbytes_says_how_to_install(monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name: None if name == "bitsandbytes" else real(name)
    )
    with pytest.raises(BackendError, match=r"needs the bitsandbytes package; install it"):
        quantization_config("8bit", "cuda")


def test_weight_estimate_matches_the_real_parameter_count(backend):
    real = sum(p.numel() for p in backend.model.parameters())
    assert estimate_weight_bytes(backend.model.config, 1) == pytest.approx(real, rel=0.02)


def test_vibethinker_architecture_weighs_about_3_gb_in_bf16():
    from transformers import Qwen2Config

    config = Qwen2Config(**VIBETHINKER_1_5B.architecture.config_kwargs())
    assert config.num_hidden_layers == 28 and config.tie_word_embeddings
    assert 3.0e9 < estimate_weight_bytes(config, 2) < 3.2e9


def test_memory_planning():
    check_weights_fit("m", 3 * 2**30, 8 * 2**30)
    with pytest.raises(BackendError, match=r"has 2.0 GiB free but 'm' needs about 3.0 GiB .*quantization"):
        check_weights_fit("m", 3 * 2**30, 2 * 2**30)
    assert candidates_that_fit(8, 10 * 2**30, 2**30) == 8
    assert candidates_that_fit(8, 4 * 2**30, 2**30) == 3
    assert candidates_that_fit(8, 2**29, 2**30) == 0


def test_out_of_memory_detection():
    import torch

    assert is_out_of_memory(torch.cuda.OutOfMemoryError("CUDA out of memory"))
    assert is_out_of_memory(RuntimeError("CUDA error: out of memory"))
    assert not is_out_of_memory(RuntimeError("shape mismatch"))
    assert not is_out_of_memory(ValueError("out of memory"))


def test_chat_returns_n_replies_and_calls_on_candidate_for_each(backend):
    offered = []
    replies = backend.chat(
        MESSAGES,
        GenerationParams(max_new_tokens=12, temperature=1.0, n=3, seed=4),
        on_candidate=lambda i, text: offered.append((i, text)) and False,
    )
    assert len(replies) == 3
    assert sorted(offered) == sorted(enumerate(replies))


def test_complete_is_greedy_and_cut_at_stop(backend):
    first = backend.complete("def two_sum(nums", 20)
    assert backend.complete("def two_sum(nums", 20) == first
    streamed = []
    cut = backend.complete(
        "def two_sum(nums", 20, stop=(first[3:5],), on_text=lambda i, t: streamed.append(t)
    )
    assert cut == first[: first.index(first[3:5])]
    assert "".join(streamed).startswith(cut)


def test_cut_at_stop_uses_the_earliest():
    assert cut_at_stop("abc\n\ndef", ("def", "\n\n")) == "abc"
    assert cut_at_stop("abc", ()) == "abc"


def test_warm_up_failure_falls_back_to_eager_decoding(model_folder):
    backend = TransformersBackend(ModelConfig(name=str(model_folder), device="cpu"))
    try:
        backend.decoder.compile_step = True  # pretend to be on CUDA with compile on

        def broken_warm_up(sizes, tokens, report):
            raise RuntimeError("inductor failed")

        backend.decoder.warm_up = broken_warm_up
        reports = []
        backend.warm_up(reports.append)
        assert reports == ["compiling the decode step failed (RuntimeError); decoding without CUDA graphs"]
        assert backend.decoder.compile_step is False
        assert len(backend.chat(MESSAGES, GenerationParams(max_new_tokens=4, n=2, seed=1))) == 2
    finally:
        backend.close()
