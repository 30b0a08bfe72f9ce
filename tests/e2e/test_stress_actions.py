"""End to end: the Stress test and Add counterexample as a test code actions (issue 11, item 4).

A user's folder from tests/stress_set/ (a wrong solution that passes the samples, with brute.py and gen.py
beside it): Stress test publishes the counterexample as a diagnostic with progress, Add counterexample as a
test writes it where the task reader finds samples (never over a sample), and Fix gets it in its prompt.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest_lsp
from lsprotocol import types
from pytest_lsp import LanguageClient, client_capabilities

from tests.e2e.lsp_helpers import SERVER, Editor, normalize_actions, run_action, wait_until

STRESS_SET = Path(__file__).resolve().parent.parent / "stress_set"


@pytest_lsp.fixture(config=SERVER, params=["visual-studio-code"])
async def client(lsp_client: LanguageClient, request):
    """A started session against the fake model server."""
    lsp_client.fake = request.getfixturevalue("fake_openai")
    options = {
        "model": {"backend": "openai", "baseUrl": lsp_client.fake.base_url, "name": "fake"},
        "generation": {"candidates": 1},
        "verification": {"stressSeconds": 1.0, "modelOracle": False},
    }
    await lsp_client.initialize_session(
        types.InitializeParams(
            capabilities=client_capabilities(request.param), initialization_options=options, process_id=None
        )
    )
    yield
    await lsp_client.shutdown_session()


async def _actions(client: LanguageClient, uri: str, line: int) -> list[types.CodeAction]:
    result = await client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            range=types.Range(start=types.Position(line, 0), end=types.Position(line, 0)),
            context=types.CodeActionContext(diagnostics=[]),
        )
    )
    return normalize_actions(result)


def _find(actions: list[types.CodeAction], prefix: str) -> types.CodeAction:
    found = [a for a in actions if a.title.startswith(prefix)]
    assert found, [a.title for a in actions]
    return found[0]


def _stress_diagnostic(client: LanguageClient, uri: str) -> types.Diagnostic | None:
    return next((d for d in client.diagnostics.get(uri, []) if d.message.startswith("Stress test")), None)


async def test_stress_test_finds_a_counterexample_that_becomes_a_sample_and_goes_to_fix(
    client: LanguageClient, tmp_path: Path
):
    problem = STRESS_SET / "max_subarray"
    for name in ("brute.py", "gen.py"):
        shutil.copy(problem / name, tmp_path / name)
    shutil.copytree(problem / "samples", tmp_path / "samples")
    path = tmp_path / "sol.py"
    path.write_text((problem / "wrong_all_negative.py").read_text())
    uri = path.as_uri()
    editor = Editor(client)
    editor.open(uri, path.read_text())
    line = next(i for i, text in enumerate(editor.texts[uri].split("\n")) if text.startswith("def main"))

    titles = [a.title for a in await _actions(client, uri, line)]
    assert "Stress test main" in titles and "Add counterexample as a test" not in titles
    await run_action(client, editor, _find(await _actions(client, uri, line), "Stress test main"))
    await wait_until(lambda: _stress_diagnostic(client, uri) is not None)
    diagnostic = _stress_diagnostic(client, uri)
    assert diagnostic.severity == types.DiagnosticSeverity.Error
    assert diagnostic.message.startswith("Stress test found WA (")
    assert "vs brute force (brute.py)" in diagnostic.message and "expected:" in diagnostic.message
    [reports] = list(client.progress_reports.values())
    assert reports[0].kind == "begin" and reports[0].title == "Stress testing main" and reports[0].cancellable
    assert reports[-1].kind == "end" and reports[-1].message == "WA"

    before = sorted(p.name for p in (tmp_path / "samples").iterdir())
    await run_action(client, editor, _find(await _actions(client, uri, line), "Add counterexample as a test"))
    await wait_until(lambda: (tmp_path / "samples" / "3.in").exists())
    after = sorted(p.name for p in (tmp_path / "samples").iterdir())
    assert after == sorted([*before, "3.in", "3.out"])  # the samples there are kept, none overwritten
    assert (problem / "samples" / "1.in").read_text() == (tmp_path / "samples" / "1.in").read_text()
    counter_input = (tmp_path / "samples" / "3.in").read_text()
    assert counter_input.strip() in diagnostic.message
    assert all(int(x) < 0 for x in counter_input.split()[1:])  # the all-negative case the wrong one misses
    await wait_until(lambda: any("Added the counterexample as a test" in m.message for m in client.messages))
    titles = [a.title for a in await _actions(client, uri, line)]
    assert "Run examples of main (3)" in titles  # the task reader finds the new sample

    assert "Add counterexample as a test" not in titles  # it is one already

    # the examples pass, but Fix is offered with the counterexample in its prompt
    client.fake.responder = lambda _messages: "```python\n" + (problem / "correct.py").read_text() + "```\n"
    await run_action(client, editor, _find(await _actions(client, uri, line), "Fix main"))
    prompt = client.fake.requests[-1]["messages"][1]["content"]
    assert "a stress test found WA on input" in prompt
    await wait_until(lambda: "best = cur = None" in editor.texts[uri])


async def test_a_function_counterexample_becomes_a_doctest(client: LanguageClient, tmp_path: Path):
    problem = STRESS_SET / "min_coins"
    shutil.copy(problem / "brute.py", tmp_path / "brute.py")
    path = tmp_path / "coins.py"
    path.write_text((problem / "wrong_greedy.py").read_text())
    uri = path.as_uri()
    editor = Editor(client)
    editor.open(uri, path.read_text())
    await run_action(client, editor, _find(await _actions(client, uri, 0), "Stress test min_coins"))
    await wait_until(lambda: _stress_diagnostic(client, uri) is not None)
    diagnostic = _stress_diagnostic(client, uri)
    assert diagnostic.message.startswith("Stress test found WA") and "min_coins(" in diagnostic.message

    await run_action(client, editor, _find(await _actions(client, uri, 0), "Add counterexample as a test"))
    await wait_until(lambda: editor.texts[uri].count(">>> min_coins(") == 3)
    text = editor.texts[uri]
    docstring = text.split('"""')[1]
    assert docstring.count(">>> min_coins(") == 3  # the two examples and the counterexample
    compile(text, "coins.py", "exec")
    assert (
        path.read_text() == (problem / "wrong_greedy.py").read_text()
    )  # an edit of the document, not the file
