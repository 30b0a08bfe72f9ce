"""End to end: a TODO becomes a code action that applies verified code (real server, real LSP session)."""

from __future__ import annotations

import pytest_lsp
from lsprotocol import types
from pytest_lsp import LanguageClient

from devtools.samples import TWO_SUM_SOURCE, WRONG_REPLY
from tests.e2e.lsp_helpers import CLIENTS, SERVER, Editor, normalize_actions, run_action, start

URI = "file:///tmp/vibethinker-e2e/two_sum.py"


@pytest_lsp.fixture(config=SERVER, params=CLIENTS)
async def client(lsp_client: LanguageClient, request):
    """A server configured to use the fake OpenAI-compatible model server."""
    fake = request.getfixturevalue("fake_openai")
    options = {
        "model": {"backend": "openai", "baseUrl": fake.base_url, "name": "fake"},
        "generation": {"candidates": 2},
        # the examples alone; stress tests have their own (tests/e2e/test_stress_actions.py)
        "verification": {"stress": False},
    }
    lsp_client.editor = Editor(lsp_client)
    lsp_client.fake = fake
    await start(lsp_client, request.param, options)
    yield
    await lsp_client.shutdown_session()


def _titles(actions):
    return [a.title for a in actions or []]


async def _actions_at(client: LanguageClient, line: int):
    result = await client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=URI),
            range=types.Range(
                start=types.Position(line=line, character=0), end=types.Position(line=line, character=0)
            ),
            context=types.CodeActionContext(diagnostics=[]),
        )
    )
    return normalize_actions(result)


async def test_todo_becomes_a_verified_edit(client: LanguageClient):
    editor = client.editor
    editor.open(URI, TWO_SUM_SOURCE)
    todo_line = TWO_SUM_SOURCE.split("\n").index("    # TODO: hash map, O(n)")
    actions = await _actions_at(client, todo_line)
    assert _titles(actions)[0] == "Implement TODO: hash map, O(n)"

    await run_action(client, editor, actions[0])

    text = editor.texts[URI]
    assert "seen = {}" in text, [m.message for m in client.messages]
    assert "# VibeThinker (AC: passed 2/2 examples); complexity O(n) time, O(n) space" in text
    assert "TODO" not in text and "    pass" not in text
    compile(text, "two_sum.py", "exec")
    # the model was asked with the competitive-programming system prompt and the examples
    messages = client.fake.requests[0]["messages"]
    assert messages[0]["role"] == "system" and "competitive programmer" in messages[0]["content"]
    assert "two_sum([2, 7, 11, 15], 9) -> [0, 1]" in messages[1]["content"]
    # progress was shown: begin ... end
    kinds = [getattr(p, "kind", None) for values in client.progress_reports.values() for p in values]
    assert kinds[0] == "begin" and kinds[-1] == "end"


async def test_no_implement_action_away_from_a_todo(client: LanguageClient):
    client.editor.open(URI, "import os\n\n" + TWO_SUM_SOURCE)
    assert _titles(await _actions_at(client, 0)) == []
    assert not any(t.startswith("Implement") for t in _titles(await _actions_at(client, 2)))


async def test_wrong_answer_applies_nothing_and_offers_the_unverified_candidate(client: LanguageClient):
    client.fake.responder = lambda messages: WRONG_REPLY
    editor = client.editor
    editor.open(URI, TWO_SUM_SOURCE)
    todo_line = TWO_SUM_SOURCE.split("\n").index("    # TODO: hash map, O(n)")
    actions = await _actions_at(client, todo_line)
    await run_action(client, editor, actions[0])

    assert editor.texts[URI] == TWO_SUM_SOURCE
    shown = [m.message for m in client.messages]
    assert any("No candidate passed" in m and "passed 1/2" in m for m in shown), shown

    actions = await _actions_at(client, todo_line)
    assert _titles(actions)[:2] == [
        "Implement TODO: hash map, O(n)",
        "Apply unverified candidate (failed the examples)",
    ]
    await run_action(client, editor, actions[1])
    assert "# VibeThinker (WA: passed 1/2 examples)" in editor.texts[URI]
