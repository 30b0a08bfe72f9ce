"""Helpers for pytest-lsp sessions: start the server, track applied edits, apply LSP edits to text."""

from __future__ import annotations

import ast
import asyncio
import sys

from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

from devtools.rpc_client import apply_lsp_edits

SERVER = ClientServerConfig(server_command=[sys.executable, "-m", "lsp_server", "serve"])
CLIENTS = ["visual-studio-code", "neovim"]


class Editor:
    """The documents a test client holds, updated by workspace/applyEdit like a real editor."""

    def __init__(self, client: LanguageClient) -> None:
        self.client = client
        self.texts: dict[str, str] = {}
        self.versions: dict[str, int] = {}
        self.applied: list[types.WorkspaceEdit] = []
        self.rejected: list[str] = []

        @client.feature(types.WORKSPACE_APPLY_EDIT)
        def apply_edit(params: types.ApplyWorkspaceEditParams):
            return self.apply(params.edit)

    def open(self, uri: str, text: str, language: str = "python") -> None:
        """didOpen."""
        self.texts[uri], self.versions[uri] = text, 1
        self.client.text_document_did_open(
            types.DidOpenTextDocumentParams(
                types.TextDocumentItem(uri=uri, language_id=language, version=1, text=text)
            )
        )

    def change(self, uri: str, rng: types.Range, new_text: str) -> None:
        """An incremental didChange, applied locally too."""
        self.versions[uri] += 1
        self.texts[uri] = apply_lsp_edits(self.texts[uri], [types.TextEdit(range=rng, new_text=new_text)])
        self.client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=self.versions[uri]),
                content_changes=[types.TextDocumentContentChangePartial(range=rng, text=new_text)],
            )
        )

    def apply(self, edit: types.WorkspaceEdit) -> types.ApplyWorkspaceEditResult:
        """Apply a workspace edit only if every versioned document edit matches our version."""
        for change in edit.document_changes or []:
            uri = change.text_document.uri
            if change.text_document.version is not None and change.text_document.version != self.versions.get(
                uri
            ):
                self.rejected.append(uri)
                return types.ApplyWorkspaceEditResult(applied=False, failure_reason="stale version")
        for change in edit.document_changes or []:
            uri = change.text_document.uri
            self.texts[uri] = apply_lsp_edits(self.texts[uri], list(change.edits))
            self.versions[uri] += 1
            # like an editor, tell the server about the new text
            self.client.text_document_did_change(
                types.DidChangeTextDocumentParams(
                    text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=self.versions[uri]),
                    content_changes=[types.TextDocumentContentChangeWholeDocument(text=self.texts[uri])],
                )
            )
        self.applied.append(edit)
        return types.ApplyWorkspaceEditResult(applied=True)


async def start(client: LanguageClient, client_name: str, options: dict) -> None:
    """initialize + initialized with a recorded client's capabilities."""
    await client.initialize_session(
        types.InitializeParams(
            capabilities=client_capabilities(client_name),
            initialization_options=options,
            process_id=None,
        )
    )


def normalize_actions(result) -> list[types.CodeAction]:
    """Code actions as the server sent them.

    lsprotocol's client-side hook turns any code action that carries a `command` into a `Command` whose
    `command` is the nested object's repr; rebuild the CodeAction (real editors tell them apart by type).
    """
    out = []
    for item in result or []:
        if isinstance(item, types.Command) and item.command.startswith("{"):
            nested = ast.literal_eval(item.command)
            command = types.Command(
                title=nested["title"], command=nested["command"], arguments=nested.get("arguments")
            )
            item = types.CodeAction(title=item.title, command=command)
        out.append(item)
    return out


async def run_action(client: LanguageClient, editor: Editor, action: types.CodeAction) -> None:
    """Choose a code action the way the client would: resolve its edit, or run its command."""
    if action.command is not None:
        await client.workspace_execute_command_async(
            types.ExecuteCommandParams(command=action.command.command, arguments=action.command.arguments)
        )
        return
    resolved = await client.code_action_resolve_async(action)
    if resolved.edit is not None:
        applied = editor.apply(resolved.edit).applied
    if resolved.command is not None and (resolved.edit is None or applied):  # editors run it after the edit
        await client.workspace_execute_command_async(
            types.ExecuteCommandParams(command=resolved.command.command, arguments=resolved.command.arguments)
        )


async def wait_until(predicate, timeout: float = 30.0) -> None:
    """Poll until predicate() is true (the test fails on timeout)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.05)
