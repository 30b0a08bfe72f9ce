"""End to end, with the recorded VS Code and Neovim capabilities: every assistant feature of the server.

Hover, inline and menu completions, Run examples diagnostics, Optimize / Explain / Fix, progress order,
cancellation ($/cancelRequest, progress cancel, editing the function), stale edits, configuration changes.
"""

from __future__ import annotations

import asyncio

import pytest
import pytest_lsp
from lsprotocol import types
from pygls.exceptions import JsonRpcRequestCancelled
from pytest_lsp import LanguageClient, client_capabilities

from devtools.openai_server import FakeOpenAI
from devtools.samples import GOOD_REPLY, TWO_SUM_SOURCE
from tests.e2e.lsp_helpers import CLIENTS, SERVER, Editor, normalize_actions, run_action, wait_until

URI = "file:///tmp/vibethinker-e2e/work.py"

PAIRS_SOURCE = '''\
def count_pairs(nums, k):
    """Count pairs i < j with nums[i] + nums[j] == k.

    >>> count_pairs([1, 2, 3, 4], 5)
    2
    >>> count_pairs([1, 1, 1], 2)
    3
    """
    total = 0
    for i in range(len(nums)):
        for j in range(i + 1, len(nums)):
            if nums[i] + nums[j] == k:
                total += 1
    return total
'''

BROKEN_PAIRS = PAIRS_SOURCE.replace("total += 1", "total += 2")

EXPLANATION = "<think>hmm</think>It checks every pair of indices.\nComplexity: O(n^2) time, O(1) space"

FASTER_PAIRS = """```python
def count_pairs(nums, k):
    seen = {}
    total = 0
    for x in nums:
        total += seen.get(k - x, 0)
        seen[x] = seen.get(x, 0) + 1
    return total
```
Complexity: O(n) time, O(n) space
"""

SLOW_REPLY = "<think>" + " thinking" * 400 + "</think>\n" + GOOD_REPLY


def _capabilities(name: str, inline: bool = False, resolve: bool = True) -> types.ClientCapabilities:
    """A recorded client's capabilities, optionally with LSP 3.18 inline completion or without resolve."""
    caps = client_capabilities(name)
    if inline:
        caps.text_document.inline_completion = types.InlineCompletionClientCapabilities()
    if not resolve:
        caps.text_document.code_action.resolve_support = None
    return caps


async def _start(client: LanguageClient, name: str, fake: FakeOpenAI, **caps) -> Editor:
    """Initialize against the fake model server; returns the client's editor."""
    options = {
        "model": {"backend": "openai", "baseUrl": fake.base_url, "name": "fake"},
        "generation": {"candidates": 2},
        "completions": {"debounceMs": 10},
        # the examples alone; stress tests have their own (tests/e2e/test_stress_actions.py)
        "verification": {"stress": False},
    }
    await client.initialize_session(
        types.InitializeParams(capabilities=_capabilities(name, **caps), initialization_options=options)
    )
    return Editor(client)


@pytest_lsp.fixture(config=SERVER, params=CLIENTS)
async def client(lsp_client: LanguageClient, request):
    """A started session; tests call _start themselves to choose capabilities."""
    lsp_client.client_name = request.param
    lsp_client.fake = request.getfixturevalue("fake_openai")
    yield
    await lsp_client.shutdown_session()


def _range(line: int, start: int = 0, end_line: int | None = None, end: int = 0) -> types.Range:
    return types.Range(
        start=types.Position(line=line, character=start),
        end=types.Position(line=line if end_line is None else end_line, character=end),
    )


async def _actions(client: LanguageClient, rng: types.Range) -> list[types.CodeAction]:
    result = await client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=URI),
            range=rng,
            context=types.CodeActionContext(diagnostics=[]),
        )
    )
    return normalize_actions(result)


def _find(actions: list[types.CodeAction], prefix: str) -> types.CodeAction:
    found = [a for a in actions if a.title.startswith(prefix)]
    assert found, [a.title for a in actions]
    return found[0]


async def test_hover_shows_estimate_then_cached_explanation(client: LanguageClient):
    client.fake.responder = lambda messages: EXPLANATION
    editor = await _start(client, client.client_name, client.fake)
    editor.open(URI, PAIRS_SOURCE)
    params = types.HoverParams(
        text_document=types.TextDocumentIdentifier(uri=URI), position=types.Position(line=0, character=5)
    )
    hover = await client.text_document_hover_async(params)
    text = hover.contents.value
    assert "**count_pairs**" in text
    assert "Estimated: O(n^2)" in text
    assert "2 examples (not run yet)" in text
    assert "It checks every pair of indices." in text and "<think>" not in text
    asked = len(client.fake.requests)
    again = await client.text_document_hover_async(params)
    assert again.contents.value == text
    assert len(client.fake.requests) == asked  # the explanation came from the cache


async def test_cancelled_hover_stops_its_generation(client: LanguageClient):
    client.fake.responder = lambda messages: SLOW_REPLY
    client.fake.chunk_delay_s = 0.02
    editor = await _start(client, client.client_name, client.fake)
    editor.open(URI, PAIRS_SOURCE)
    params = types.HoverParams(
        text_document=types.TextDocumentIdentifier(uri=URI), position=types.Position(line=0, character=5)
    )
    pending = asyncio.ensure_future(
        client.protocol.send_request_async(types.TEXT_DOCUMENT_HOVER, params, msg_id="hover-1")
    )
    await wait_until(lambda: len(client.fake.requests) == 1, timeout=10)
    client.protocol.notify(types.CANCEL_REQUEST, types.CancelParams(id="hover-1"))
    with pytest.raises(JsonRpcRequestCancelled, match="(?i)cancel"):
        await asyncio.wait_for(pending, timeout=10)
    await wait_until(lambda: client.fake.cancelled_streams == 1, timeout=10)


async def test_inline_completion_is_clean(client: LanguageClient):
    client.fake.completion = lambda prompt: "seen = {}\n    return seen<|im_end|>"
    editor = await _start(client, client.client_name, client.fake, inline=True)
    source = "def f(nums):\n    \n    return seen\n"
    editor.open(URI, source)
    result = await client.protocol.send_request_async(
        types.TEXT_DOCUMENT_INLINE_COMPLETION,
        types.InlineCompletionParams(
            context=types.InlineCompletionContext(trigger_kind=types.InlineCompletionTriggerKind.Automatic),
            text_document=types.TextDocumentIdentifier(uri=URI),
            position=types.Position(line=1, character=4),
        ),
    )
    items = result.items if hasattr(result, "items") else result
    assert [i.insert_text for i in items] == ["seen = {}"]  # no special token, no duplicated `return seen`
    prompt = client.fake.requests[-1]["prompt"]
    assert prompt == "def f(nums):\n    " and "messages" not in client.fake.requests[-1]


async def test_menu_completion_for_clients_without_inline_support(client: LanguageClient):
    client.fake.completion = lambda prompt: "return sum(nums)"
    editor = await _start(client, client.client_name, client.fake)
    editor.open(URI, "def f(nums):\n    \n")
    result = await client.text_document_completion_async(
        types.CompletionParams(
            text_document=types.TextDocumentIdentifier(uri=URI), position=types.Position(line=1, character=4)
        )
    )
    assert [i.insert_text for i in result.items] == ["return sum(nums)"]
    assert result.items[0].detail == "VibeThinker"


async def test_run_examples_publishes_failures_as_diagnostics(client: LanguageClient):
    editor = await _start(client, client.client_name, client.fake)
    editor.open(URI, BROKEN_PAIRS)
    action = _find(await _actions(client, _range(9)), "Run examples of count_pairs (2)")
    await run_action(client, editor, action)
    await wait_until(lambda: URI in client.diagnostics)
    messages = [d.message for d in client.diagnostics[URI]]
    assert len(messages) == 2
    assert "example 1 failed (WA): count_pairs([1, 2, 3, 4], 5)" in messages[0]
    assert "expected: 2" in messages[0] and "actual:   4" in messages[0]
    # a failed run offers Fix; the model is asked with the failing example in the prompt
    client.fake.responder = lambda messages: FASTER_PAIRS
    fix = _find(await _actions(client, _range(9)), "Fix count_pairs to pass the examples")
    await run_action(client, editor, fix)
    assert "seen.get(k - x, 0)" in editor.texts[URI]
    prompt = client.fake.requests[-1]["messages"][1]["content"]
    assert "expected 2, got 4" in prompt
    await wait_until(lambda: not client.diagnostics[URI])  # the fixed code's old failures are gone


async def test_passing_examples_give_one_information_diagnostic(client: LanguageClient):
    editor = await _start(client, client.client_name, client.fake)
    editor.open(URI, PAIRS_SOURCE)
    await run_action(client, editor, _find(await _actions(client, _range(9)), "Run examples"))
    await wait_until(lambda: URI in client.diagnostics)
    [diag] = client.diagnostics[URI]
    assert diag.severity == types.DiagnosticSeverity.Information
    assert diag.message == "All 2 examples pass (AC)"


async def test_optimize_and_explain_on_a_selection(client: LanguageClient):
    client.fake.responder = lambda messages: FASTER_PAIRS
    editor = await _start(client, client.client_name, client.fake)
    editor.open(URI, PAIRS_SOURCE)
    selection = _range(8, 0, 13, 16)
    titles = [a.title for a in await _actions(client, selection)]
    assert "Optimize count_pairs" in titles and "Explain complexity of count_pairs" in titles
    await run_action(client, editor, _find(await _actions(client, selection), "Optimize count_pairs"))
    text = editor.texts[URI]
    assert "# VibeThinker (AC: passed 2/2 examples); complexity O(n) time, O(n) space" in text
    assert "for j in range" not in text
    client.fake.responder = lambda messages: EXPLANATION
    await run_action(client, editor, _find(await _actions(client, _range(3, 0, 4, 0)), "Explain complexity"))
    assert editor.texts[URI].count("# Complexity: O(n^2) time, O(1) space") == 1


async def test_command_path_for_clients_without_resolve(client: LanguageClient):
    editor = await _start(client, client.client_name, client.fake, resolve=False)
    editor.open(URI, TWO_SUM_SOURCE)
    action = _find(await _actions(client, _range(8)), "Implement TODO")
    assert action.command is not None and action.command.command == "vibethinker.implement"
    await run_action(client, editor, action)
    assert "seen = {}" in editor.texts[URI]
    assert len(editor.applied) == 1


async def test_progress_begins_reports_and_ends_in_order(client: LanguageClient):
    client.fake.responder = lambda messages: SLOW_REPLY
    editor = await _start(client, client.client_name, client.fake)
    editor.open(URI, TWO_SUM_SOURCE)
    await run_action(client, editor, _find(await _actions(client, _range(8)), "Implement TODO"))
    [reports] = list(client.progress_reports.values())
    kinds = [r.kind for r in reports]
    assert kinds[0] == "begin" and kinds[-1] == "end" and kinds.count("report") >= 2
    assert set(kinds[1:-1]) == {"report"}
    assert reports[0].cancellable is True
    assert any("tokens" in (r.message or "") for r in reports[1:-1])
    assert reports[-1].message == "AC: 2/2 examples"


async def _implement_slowly(client: LanguageClient, chunk_delay_s: float):
    """Open TWO_SUM_SOURCE and start Implement against a slowly streaming model; returns (editor, pending)."""
    client.fake.responder = lambda messages: SLOW_REPLY
    client.fake.chunk_delay_s = chunk_delay_s
    editor = await _start(client, client.client_name, client.fake)
    editor.open(URI, TWO_SUM_SOURCE)
    action = _find(await _actions(client, _range(8)), "Implement TODO")
    return editor, asyncio.ensure_future(run_action(client, editor, action))


async def test_progress_cancel_stops_the_job_and_applies_nothing(client: LanguageClient):
    editor, pending = await _implement_slowly(client, chunk_delay_s=0.02)
    await wait_until(lambda: any(r.kind == "report" for rs in client.progress_reports.values() for r in rs))
    [token] = list(client.progress_reports)
    client.protocol.notify(
        types.WINDOW_WORK_DONE_PROGRESS_CANCEL, types.WorkDoneProgressCancelParams(token=token)
    )
    await asyncio.wait_for(pending, timeout=15)
    assert editor.texts[URI] == TWO_SUM_SOURCE
    assert client.progress_reports[token][-1].message == "cancelled"
    await wait_until(lambda: client.fake.cancelled_streams == 1, timeout=10)


async def test_editing_the_function_cancels_its_job(client: LanguageClient):
    editor, pending = await _implement_slowly(client, chunk_delay_s=0.02)
    await wait_until(lambda: len(client.fake.requests) == 1)
    editor.change(URI, _range(9, 4, 9, 8), "return None")
    await asyncio.wait_for(pending, timeout=15)
    assert "return None" in editor.texts[URI] and "seen = {}" not in editor.texts[URI]
    assert any("edited while the model was working" in m.message for m in client.messages)


async def test_edit_elsewhere_during_generation_is_reanchored(client: LanguageClient):
    editor, pending = await _implement_slowly(client, chunk_delay_s=0.004)
    await wait_until(lambda: len(client.fake.requests) == 1)
    editor.change(URI, _range(0), "import math\n\n")  # two lines above the function: its range moved
    await asyncio.wait_for(pending, timeout=30)
    text = editor.texts[URI]
    assert text.startswith("import math\n\n# VibeThinker (AC: passed 2/2 examples)")
    assert "seen = {}" in text and editor.rejected == []
    compile(text, "work.py", "exec")


async def test_configuration_change_switches_model_server_and_rejects_bad_values(client: LanguageClient):
    editor = await _start(client, client.client_name, client.fake)
    editor.open(URI, TWO_SUM_SOURCE)
    with FakeOpenAI(GOOD_REPLY) as second:
        client.workspace_did_change_configuration(
            types.DidChangeConfigurationParams(
                settings={
                    "vibethinker": {"model": {"baseUrl": second.base_url}, "generation": {"candidates": 0}}
                }
            )
        )
        await wait_until(lambda: any("generation.candidates" in m.message for m in client.messages))
        await run_action(client, editor, _find(await _actions(client, _range(8)), "Implement TODO"))
        assert len(second.requests) == 1 and second.requests[0]["n"] == 2
    assert client.fake.requests == []
    assert "seen = {}" in editor.texts[URI]
