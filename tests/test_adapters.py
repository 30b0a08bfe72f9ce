"""LoRA adapters on the in-process model: merged for decoding, switched without reading the base weights again,
bad ones refused in one sentence with the base model still answering; and in a running server."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
from pathlib import Path

import pytest
import pytest_lsp
import torch
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

from codegen.backends.base import BackendError, GenerationParams, ModelConfig, make_backend
from codegen.backends.transformers_backend import TransformersBackend
from codegen.engine import Engine
from devtools.samples import TWO_SUM_SOURCE
from devtools.tiny_model import build_tiny_model
from tests.adapter_fixtures import Trained
from tests.e2e.lsp_helpers import SERVER, Editor, normalize_actions, run_action, wait_until

PROMPT = torch.tensor([[5, 6, 7, 8, 9, 10, 11]])


def random_adapter(model, folder: Path, targets, seed: int) -> Path:
    """Save a LoRA adapter with random (non-zero) weights for a model (a folder or a built model)."""
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    torch.manual_seed(seed)
    base = AutoModelForCausalLM.from_pretrained(model) if isinstance(model, Path) else model
    config = LoraConfig(r=4, lora_alpha=8, target_modules=targets, init_lora_weights=False)
    get_peft_model(base, config).save_pretrained(folder)
    return folder


def peft_logits(model_dir: Path, adapter: Path) -> torch.Tensor:
    """The logits peft itself computes with the adapter unmerged (the reference)."""
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    model = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(model_dir), adapter)
    with torch.no_grad():
        return model(PROMPT).logits


def logits(backend: TransformersBackend) -> torch.Tensor:
    """The backend's model's logits on the fixed prompt."""
    with torch.no_grad():
        return backend.model(PROMPT).logits


@pytest.fixture(scope="module")
def adapters(tiny_model_dir, tmp_path_factory, one_torch_thread) -> dict[str, Path]:
    """Two good adapters for the tiny model and three it cannot take."""
    from transformers import GPT2Config, GPT2LMHeadModel

    root = tmp_path_factory.mktemp("adapters")
    small = build_tiny_model(
        root / "small-model",
        shape=dict(hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4,
                   num_key_value_heads=2, max_position_embeddings=512),
    )  # fmt: skip
    gpt2 = GPT2LMHeadModel(GPT2Config(vocab_size=100, n_embd=32, n_layer=1, n_head=2, n_positions=64))
    return {
        "all": random_adapter(tiny_model_dir, root / "all-linear", "all-linear", 1),
        "qv": random_adapter(tiny_model_dir, root / "q-v", ["q_proj", "v_proj"], 2),
        "small": random_adapter(small, root / "for-a-smaller-model", ["q_proj", "v_proj"], 3),
        "gpt2": random_adapter(gpt2, root / "for-gpt2", ["c_attn"], 4),
        "model": tiny_model_dir,  # a folder, but not an adapter
    }


def test_merged_adapters_equal_peft_and_switch_without_reading_the_base_again(
    tiny_model_dir, adapters, tmp_path
):
    copy = Path(shutil.copytree(tiny_model_dir, tmp_path / "model"))
    backend = TransformersBackend(ModelConfig(name=str(copy), device="cpu"))
    base = {k: v.clone() for k, v in backend.model.state_dict().items()}
    base_logits = logits(backend)
    storage = {name: p.data_ptr() for name, p in backend.model.named_parameters()}
    (copy / "model.safetensors").unlink()  # from here on the base weights exist only in memory

    for name in ("all", "qv", "all"):
        backend.set_adapter(str(adapters[name]))
        assert backend.adapter == str(adapters[name])
        torch.testing.assert_close(logits(backend), peft_logits(tiny_model_dir, adapters[name]))
        # merged in place: the same tensors (a compiled decode step's CUDA graphs keep reading them)
        assert {name: p.data_ptr() for name, p in backend.model.named_parameters()} == storage
        assert type(backend.model.model.layers[0].self_attn.q_proj) is torch.nn.Linear

    backend.set_adapter("")
    assert backend.adapter is None
    assert all(torch.equal(v, base[k]) for k, v in backend.model.state_dict().items())  # exactly the base
    torch.testing.assert_close(logits(backend), base_logits, rtol=0, atol=0)
    reply = backend.chat(
        [{"role": "user", "content": "hi"}], GenerationParams(max_new_tokens=4, temperature=0)
    )
    assert len(reply) == 1
    backend.close()


@pytest.mark.parametrize(
    ("name", "needle"),
    [
        ("small", "was trained on a model of another size"),
        ("gpt2", "was made for another architecture"),
        ("model", "has no adapter_config.json"),
        ("missing", "does not exist"),
    ],
)
def test_an_adapter_that_does_not_fit_is_one_sentence_and_the_base_answers(
    tiny_model_dir, adapters, tmp_path, name, needle
):
    path = str(adapters.get(name, tmp_path / "no-such-adapter"))
    backend = TransformersBackend(ModelConfig(name=str(tiny_model_dir), device="cpu"))
    base = {k: v.clone() for k, v in backend.model.state_dict().items()}
    backend.set_adapter(str(adapters["all"]))  # a good one first: a bad switch goes back to the base
    with pytest.raises(BackendError) as raised:
        backend.set_adapter(path)
    message = str(raised.value)
    assert needle in message and repr(path) in message and "\n" not in message
    assert backend.adapter is None
    assert all(torch.equal(v, base[k]) for k, v in backend.model.state_dict().items())
    # at load, the same sentence is kept for the engine to show, and the base model is in use
    loaded = TransformersBackend(ModelConfig(name=str(tiny_model_dir), device="cpu", adapter=path))
    assert loaded.adapter is None and loaded.adapter_error == message
    backend.close()
    loaded.close()


def test_the_engine_switches_adapters_on_the_loaded_model_and_reloads_for_other_changes(
    tiny_model_dir, adapters
):
    loads: list[ModelConfig] = []

    def factory(config: ModelConfig):
        loads.append(config)
        return make_backend(config)

    notices: list[str] = []
    config = ModelConfig(name=str(tiny_model_dir), device="cpu")
    engine = Engine(config, backend_factory=factory, on_notice=notices.append)
    try:
        engine.load().future.result(timeout=60)
        engine.reload(dataclasses.replace(config, adapter=str(adapters["qv"])))
        engine.complete("def", 2).future.result(timeout=60)
        assert engine.adapter == str(adapters["qv"]) and len(loads) == 1
        assert engine.label == f"{tiny_model_dir} + {adapters['qv']}"
        engine.reload(dataclasses.replace(config, adapter="/no/such/adapter"))
        engine.complete("def", 2).future.result(timeout=60)  # still answers, on the base model
        assert engine.adapter is None and len(loads) == 1
        assert len(notices) == 1 and "'/no/such/adapter' does not exist" in notices[0]
        engine.reload(dataclasses.replace(config, dtype="float32"))  # not an adapter change: a real reload
        engine.complete("def", 2).future.result(timeout=60)
        assert len(loads) == 2
    finally:
        engine.close()


def test_the_openai_backend_asks_for_the_served_adapter_by_name(fake_openai):
    config = ModelConfig(backend="openai", name="WeiboAI/VibeThinker-1.5B", base_url=fake_openai.base_url)
    engine = Engine(dataclasses.replace(config, adapter="mine"))
    try:
        messages = [{"role": "user", "content": "hi"}]
        engine.chat(messages, GenerationParams(max_new_tokens=8)).future.result(timeout=30)
        engine.reload(config)  # back to the base model: an adapter-only change, no new backend
        engine.chat(messages, GenerationParams(max_new_tokens=8)).future.result(timeout=30)
    finally:
        engine.close()
    assert [r["model"] for r in fake_openai.requests] == ["mine", "WeiboAI/VibeThinker-1.5B"]


# --- a real server session --------------------------------------------------------------------------------

URI = "file:///tmp/vibethinker-e2e/adapters.py"
# a tiny model decodes fastest on one thread, and does not spin against the other processes of a busy machine
ONE_THREAD_SERVER = ClientServerConfig(
    SERVER.server_command, server_env={**os.environ, "OMP_NUM_THREADS": "1"}
)
AGAIN = "file:///tmp/vibethinker-e2e/adapters-again.py"


@pytest_lsp.fixture(config=ONE_THREAD_SERVER)
async def client(lsp_client: LanguageClient, request):
    run: Trained = request.getfixturevalue("trained")
    folder = request.getfixturevalue("tmp_path")
    model = Path(shutil.copytree(run.model, folder / "model"))
    lsp_client.paths = {"model": model, "adapter": run.adapter, "record": folder / "record.jsonl"}
    options = {
        "model": {"backend": "transformers", "name": str(model)},
        "generation": {"candidates": 1, "temperature": 0, "maxNewTokens": 300, "thinkingBudget": 0},
        "judge": {"measureComplexity": False},
        "verification": {"stress": False},
        "history": {"record": True, "file": str(folder / "record.jsonl")},
    }
    await lsp_client.initialize_session(
        types.InitializeParams(capabilities=client_capabilities("neovim"), initialization_options=options)
    )
    lsp_client.editor = Editor(lsp_client)
    yield
    await lsp_client.shutdown_session()


async def implement(client: LanguageClient, uri: str) -> None:
    """Choose the Implement action on the TODO line, as the editor would."""
    actions = normalize_actions(
        await client.text_document_code_action_async(
            types.CodeActionParams(
                text_document=types.TextDocumentIdentifier(uri=uri),
                range=types.Range(
                    start=types.Position(line=8, character=0), end=types.Position(line=8, character=0)
                ),
                context=types.CodeActionContext(diagnostics=[]),
            )
        )
    )
    assert actions[0].title.startswith("Implement TODO")
    await run_action(client, client.editor, actions[0])


def configure(client: LanguageClient, adapter: str) -> None:
    """Push `model.adapter` as the editor does when the user changes it."""
    client.workspace_did_change_configuration(
        types.DidChangeConfigurationParams(settings={"vibethinker": {"model": {"adapter": adapter}}})
    )


async def test_switching_adapters_in_a_running_server_keeps_the_base_model_loaded(client: LanguageClient):
    paths, editor = client.paths, client.editor
    statuses: list = []
    client.feature("vibethinker/status")(lambda params: statuses.append(params))
    failed = lambda: sum("No candidate passed" in m.message for m in client.messages)  # noqa: E731

    editor.open(URI, TWO_SUM_SOURCE)
    await implement(client, URI)  # loads the base model; random weights write no code
    assert editor.texts[URI] == TWO_SUM_SOURCE and failed() == 1
    (paths["model"] / "model.safetensors").unlink()  # a reload of the base would fail from here on

    configure(client, str(paths["adapter"]))
    await wait_until(lambda: any(getattr(s, "adapter", "") == str(paths["adapter"]) for s in statuses), 60)
    await implement(client, URI)
    assert "seen[target - x], i" in editor.texts[URI]  # the adapter's verified solution, applied
    [line] = paths["record"].read_text().splitlines()  # recorded once the editor applied it
    entry = json.loads(line)
    assert (
        entry["source"] == "editor" and entry["adapter"] == str(paths["adapter"]) and entry["verdict"] == "AC"
    )

    missing = "/no/such/adapter"
    configure(client, missing)
    await wait_until(lambda: any(missing in m.message for m in client.messages), 60)
    [warning] = [m.message for m in client.messages if missing in m.message]
    assert "does not exist" in warning and "\n" not in warning and "Traceback" not in warning
    editor.open(AGAIN, TWO_SUM_SOURCE)
    await implement(client, AGAIN)  # the server keeps serving, on the base model
    assert editor.texts[AGAIN] == TWO_SUM_SOURCE and failed() == 2
    assert statuses[-1].adapter == "" and not any(s.state == "error" for s in statuses)
