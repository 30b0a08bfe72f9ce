"""The server with the in-process transformers backend (a tiny random Qwen2 loaded like real weights)."""

from __future__ import annotations

import pytest_lsp
from lsprotocol import types
from pytest_lsp import LanguageClient, client_capabilities

from devtools.samples import TWO_SUM_SOURCE
from tests.e2e.lsp_helpers import SERVER, Editor, normalize_actions, run_action, wait_until

URI = "file:///tmp/vibethinker-e2e/inproc.py"


@pytest_lsp.fixture(config=SERVER)
async def client(lsp_client: LanguageClient, request):
    model = request.getfixturevalue("tiny_model_dir")
    options = {
        "model": {"backend": "transformers", "name": str(model)},
        "generation": {"candidates": 2, "maxNewTokens": 24, "thinkingBudget": 12},
    }
    await lsp_client.initialize_session(
        types.InitializeParams(capabilities=client_capabilities("neovim"), initialization_options=options)
    )
    lsp_client.editor = Editor(lsp_client)
    yield
    await lsp_client.shutdown_session()


async def test_hover_while_loading_then_explanation_then_implement(client: LanguageClient):
    client.editor.open(URI, TWO_SUM_SOURCE)
    params = types.HoverParams(
        text_document=types.TextDocumentIdentifier(uri=URI), position=types.Position(line=0, character=4)
    )
    first = (await client.text_document_hover_async(params)).contents.value
    assert "**two_sum**" in first and "loading the model" in first
    statuses = []
    client.feature("vibethinker/status")(lambda params: statuses.append(params))
    await wait_until(lambda: any(getattr(s, "state", None) == "ready" for s in statuses), timeout=60)
    second = (await client.text_document_hover_async(params)).contents.value
    assert "**Explanation** (VibeThinker):" in second and "<|im_end|>" not in second

    # Implement: a random model writes no code, so nothing is applied and the user is told why.
    editor = client.editor
    actions = normalize_actions(
        await client.text_document_code_action_async(
            types.CodeActionParams(
                text_document=types.TextDocumentIdentifier(uri=URI),
                range=types.Range(
                    start=types.Position(line=8, character=0), end=types.Position(line=8, character=0)
                ),
                context=types.CodeActionContext(diagnostics=[]),
            )
        )
    )
    await run_action(client, editor, actions[0])
    assert editor.texts[URI] == TWO_SUM_SOURCE
    assert any("No candidate passed" in m.message for m in client.messages)
