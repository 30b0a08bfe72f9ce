"""The language server: registration of module-level handlers, one per LSP method, each a few lines over the
typed state in lsp_server/state.py (documents, settings, engine and judge, results, jobs, the client).

The work lives elsewhere: code actions in actions.py, hover in hover.py, completions in completions.py, the
shared solve path in solving.py, and below them codegen/ and sandbox/.
"""

from __future__ import annotations

import asyncio
import logging
import os
from pathlib import Path

from lsprotocol import types
from pygls.lsp.server import LanguageServer

from codegen.geometry import Position
from lsp_server import __version__, actions, completions, hover
from lsp_server.companion import CompanionServer, Problem, store_problem
from lsp_server.convert import from_lsp_position
from lsp_server.protocol import VibeProtocol, report_parse_error
from lsp_server.settings import Settings
from lsp_server.state import STATUS_NOTIFICATION, State

log = logging.getLogger(__name__)


class VibeServer(LanguageServer):
    """The pygls server, holding the typed `state` and the Competitive Companion receiver."""

    def __init__(self) -> None:
        super().__init__("vibethinker-lsp", __version__, protocol_cls=VibeProtocol, max_workers=8)
        self.state = State(self)
        self.pending_errors: list[str] = []
        self.companion: CompanionServer | None = None

    @property
    def settings(self) -> Settings:
        """The current settings."""
        return self.state.settings

    @settings.setter
    def settings(self, value: Settings) -> None:
        self.state.settings = value

    def apply_settings(self, raw) -> list[str]:
        """Merge raw camelCase settings (see State.apply_settings); follow companion changes too."""
        old = self.state.settings.companion
        errors = self.state.apply_settings(raw)
        if self.state.settings.companion != old and self.state.client.loop is not None:
            self.sync_companion()
        return errors

    def model_status(self) -> dict:
        """The status fields naming the model (see Models.status)."""
        return self.state.models.status()

    def report_server_error(self, error: Exception, source) -> None:
        """Log protocol-level errors instead of popping them up; answer unparseable input."""
        if not report_parse_error(self.protocol, error):
            log.warning("protocol error (%s): %s", getattr(source, "__name__", source), error)

    def sync_companion(self) -> None:
        """Start, restart or stop the Competitive Companion receiver to match the settings."""
        wanted = self.settings.companion
        if self.companion is not None and (not wanted.enabled or self.companion.port != wanted.port):
            self.companion.stop()
            self.companion = None
        if wanted.enabled and self.companion is None:
            try:
                self.companion = CompanionServer(self._on_problem, port=wanted.port)
            except OSError as exc:
                self.state.client.show(
                    f"Cannot receive Competitive Companion problems on port {wanted.port} ({exc.strerror}); "
                    "set companion.port to a free port.",
                    types.MessageType.Warning,
                )
                return
            self.companion.start()
            self.state.client.log(f"Competitive Companion receiver on 127.0.0.1:{self.companion.port}")

    def _on_problem(self, problem: Problem) -> None:
        """A problem arrived (receiver thread): store it in the workspace and open it."""
        self.state.client.soon(lambda: asyncio.ensure_future(self._store_problem(problem)))

    async def _store_problem(self, problem: Problem) -> None:
        """Write the problem's source skeleton and samples into the workspace, then show the file."""
        root = self.workspace.root_path or os.getcwd()
        try:
            path = await asyncio.to_thread(
                store_problem, problem, Path(root), self.settings.companion.language
            )
        except OSError as exc:
            self.state.client.show(
                f"Cannot save problem {problem.name!r} in {root} ({exc.strerror}).", types.MessageType.Error
            )
            return
        window = self.client_capabilities.window
        if window and window.show_document and window.show_document.support:
            await self.window_show_document_async(
                types.ShowDocumentParams(uri=path.as_uri(), take_focus=True)
            )
        self.state.client.show(
            f"Saved {problem.name} with {len(problem.tests)} samples to {path}.", types.MessageType.Info
        )

    def stop_everything(self) -> None:
        """Cancel every running job, stop the Competitive Companion receiver and the engine."""
        if self.companion is not None:
            self.companion.stop()
            self.companion = None
        self.state.jobs.cancel_all()
        self.state.models.close()


# --- lifecycle and settings ----------------------------------------------------------------------------------


def initialize(ls: VibeServer, params: types.InitializeParams) -> None:
    """Read initializationOptions (the camelCase settings tree)."""
    try:
        ls.state.client.loop = asyncio.get_running_loop()
    except RuntimeError:
        ls.state.client.loop = None
    options = params.initialization_options
    if isinstance(options, dict) and set(options) == {"vibethinker"}:
        options = options["vibethinker"]
    ls.pending_errors = ls.apply_settings(options)


async def initialized(ls: VibeServer, params: types.InitializedParams) -> None:
    """Report invalid options, pull workspace configuration, say which sandbox is in use."""
    client = ls.state.client
    client.loop = asyncio.get_running_loop()
    for error in ls.pending_errors:
        client.show(error, types.MessageType.Warning)
    ls.pending_errors = []
    await _pull_configuration(ls)
    try:
        sandbox = (await asyncio.to_thread(ls.state.judge)).isolation  # warns when weaker than bubblewrap
    except Exception as exc:  # noqa: BLE001 - a sandbox that cannot start is reported, not fatal
        sandbox = "unavailable"
        client.show(f"The sandbox could not start: {exc}", types.MessageType.Error)
    ls.protocol.notify(
        STATUS_NOTIFICATION, {**ls.model_status(), "state": "idle", "detail": "", "sandbox": sandbox}
    )
    ls.sync_companion()


def shutdown(ls: VibeServer, params: None) -> None:
    """Stop jobs and the engine."""
    ls.stop_everything()


async def did_change_configuration(ls: VibeServer, params: types.DidChangeConfigurationParams) -> None:
    """Take pushed settings, or pull them again."""
    raw = params.settings
    if isinstance(raw, dict) and "vibethinker" in raw:
        raw = raw["vibethinker"]
    if isinstance(raw, dict) and raw:
        _apply(ls, raw)
    else:
        await _pull_configuration(ls)


async def _pull_configuration(ls: VibeServer) -> None:
    """Ask the client for the `vibethinker` section when it supports workspace/configuration."""
    caps = ls.client_capabilities.workspace
    if not (caps and caps.configuration):
        return
    try:
        result = await ls.workspace_configuration_async(
            types.ConfigurationParams(items=[types.ConfigurationItem(section="vibethinker")])
        )
    except Exception as exc:  # noqa: BLE001 - a client that fails this keeps the init options
        log.warning("workspace/configuration failed: %s", exc)
        return
    raw = result[0] if result else None
    if isinstance(raw, dict) and raw:
        _apply(ls, raw)


def _apply(ls: VibeServer, raw: dict) -> None:
    """Apply settings and warn about the invalid ones."""
    for error in ls.apply_settings(raw):
        ls.state.client.show(error, types.MessageType.Warning)


# --- documents -----------------------------------------------------------------------------------------------


def did_open(ls: VibeServer, params: types.DidOpenTextDocumentParams) -> None:
    """Track and parse the document."""
    ls.state.documents.open(params.text_document)


def did_change(ls: VibeServer, params: types.DidChangeTextDocumentParams) -> None:
    """Apply incremental edits; cancel jobs on an edited function; forget results of edited code."""
    state, uri = ls.state, params.text_document.uri
    doc = state.documents.get(uri)
    if state.jobs.running and doc is not None:
        for change in params.content_changes:
            state.jobs.cancel_touching(uri, *_changed_span(doc, change))
    if state.results.diagnostics.get(uri) and _touches(
        params.content_changes, state.results.diagnostics[uri]
    ):
        state.results.forget_checks(uri)
        state.client.publish(uri, [])
    if state.documents.change(params) is None:
        log.warning("didChange for %s, which is not open; ignored", uri)


def did_close(ls: VibeServer, params: types.DidCloseTextDocumentParams) -> None:
    """Forget the document and its diagnostics."""
    uri = params.text_document.uri
    ls.state.documents.close(uri)
    if ls.state.results.diagnostics.pop(uri, None):
        ls.state.client.publish(uri, [])


def _changed_span(doc, change) -> tuple[Position, Position]:
    """The span of the document a content change replaces (the whole text for a full change)."""
    if isinstance(change, types.TextDocumentContentChangePartial):
        return doc.position(change.range.start), doc.position(change.range.end)
    return Position(0, 0), Position(doc.parsed.line_count(), 0)


def _touches(changes, diagnostics: list[types.Diagnostic]) -> bool:
    """Whether any content change reaches the lines of the function the diagnostics are about."""
    for change in changes:
        if not isinstance(change, types.TextDocumentContentChangePartial):
            return True
        for diagnostic in diagnostics:
            # diagnostics sit on the function's first line; its body follows: any edit from there on counts
            if change.range.end.line >= diagnostic.range.start.line:
                return True
    return False


# --- code actions and commands -------------------------------------------------------------------------------


def code_action(ls: VibeServer, params: types.CodeActionParams) -> list[types.CodeAction]:
    """List actions instantly from the parsed document; the work happens when one is chosen."""
    doc = ls.state.documents.get(params.text_document.uri)
    if doc is None or doc.language is None:
        return []
    return actions.list_actions(ls.state, doc, params.range)


async def code_action_resolve(ls: VibeServer, action: types.CodeAction) -> types.CodeAction:
    """Do the chosen action's work and return it with its edit."""
    data = action.data if isinstance(action.data, dict) else {}
    uri, line, name = data.get("uri"), data.get("line"), data.get("action")
    if not isinstance(uri, str) or not isinstance(line, int) or name not in actions.EDITING:
        return action
    edit = await actions.perform(ls.state, uri, line, name)
    if edit is not None:
        action.edit = edit
        action.command = actions.record_command(ls.state, uri, line, name)  # run by the client once applied
    return action


async def record_solution(ls: VibeServer, uri=None, line=None, name=None, *rest) -> bool:
    """The client applied a verified edit: append its solution to the record (history.record)."""
    return await actions.record_solution(ls.state, uri, line, name)


def action_command(name: str, command: str):
    """The workspace/executeCommand handler of one action (pygls 2 passes the arguments unpacked: uri, line)."""

    async def run(ls: VibeServer, uri=None, line=None, *rest) -> bool:
        if not isinstance(uri, str) or not isinstance(line, int) or isinstance(line, bool):
            ls.state.client.show(
                f"{command} needs a document URI and a 1-based line number.", types.MessageType.Error
            )
            return False
        applied = await _apply_edit(ls, await actions.perform(ls.state, uri, line, name))
        if applied:
            await actions.record_solution(ls.state, uri, line, name)
        return applied

    run.__doc__ = f"Run the {name} action (command {command})."
    return run


async def _apply_edit(ls: VibeServer, edit: types.WorkspaceEdit | None) -> bool:
    """Send workspace/applyEdit; True when the client applied it."""
    if edit is None:
        return False
    result = await ls.workspace_apply_edit_async(
        types.ApplyWorkspaceEditParams(edit=edit, label="VibeThinker")
    )
    if not result.applied:
        ls.state.client.show(
            f"The editor did not apply the edit ({result.failure_reason or 'no reason given'}).",
            types.MessageType.Warning,
        )
    return bool(result.applied)


# --- hover and completions -----------------------------------------------------------------------------------


async def on_hover(ls: VibeServer, params: types.HoverParams) -> types.Hover | None:
    """The instant part (estimate, last example results) and the model's cached-or-fresh explanation."""
    doc = ls.state.documents.get(params.text_document.uri)
    if not ls.settings.hover.enabled or doc is None or doc.language is None:
        return None
    func = doc.function_at(from_lsp_position(doc.lines, params.position))
    if func is None or func.function is None:
        return None
    text = await hover.hover_text(ls.state, doc, func)
    return types.Hover(contents=types.MarkupContent(kind=types.MarkupKind.Markdown, value=text))


async def inline_completion(ls: VibeServer, params: types.InlineCompletionParams):
    """Ghost text: a plain continuation of the code before the cursor."""
    text = await completions.complete(ls.state, params.text_document.uri, params.position)
    if not text:
        return None
    at = types.Range(start=params.position, end=params.position)
    return types.InlineCompletionList(items=[types.InlineCompletionItem(insert_text=text, range=at)])


async def completion(ls: VibeServer, params: types.CompletionParams):
    """One AI item for clients without inline completion support."""
    if ls.state.client.has_inline_completion:
        return None
    text = await completions.complete(ls.state, params.text_document.uri, params.position)
    if not text:
        return None
    item = types.CompletionItem(
        label=text.strip().split("\n", 1)[0][:60],
        kind=types.CompletionItemKind.Snippet,
        detail="VibeThinker",
        insert_text=text,
        insert_text_format=types.InsertTextFormat.PlainText,
        text_edit=types.TextEdit(
            range=types.Range(start=params.position, end=params.position), new_text=text
        ),
        sort_text="0",
    )
    return types.CompletionList(is_incomplete=True, items=[item])


# --- registration --------------------------------------------------------------------------------------------

CODE_ACTIONS = types.CodeActionOptions(
    code_action_kinds=[types.CodeActionKind.QuickFix, types.CodeActionKind.RefactorRewrite],
    resolve_provider=True,
)
FEATURES = [
    (types.INITIALIZE, initialize, None),
    (types.INITIALIZED, initialized, None),
    (types.SHUTDOWN, shutdown, None),
    (types.WORKSPACE_DID_CHANGE_CONFIGURATION, did_change_configuration, None),
    (types.TEXT_DOCUMENT_DID_OPEN, did_open, None),
    (types.TEXT_DOCUMENT_DID_CHANGE, did_change, None),
    (types.TEXT_DOCUMENT_DID_CLOSE, did_close, None),
    (types.TEXT_DOCUMENT_CODE_ACTION, code_action, CODE_ACTIONS),
    (types.CODE_ACTION_RESOLVE, code_action_resolve, None),
    (types.TEXT_DOCUMENT_HOVER, on_hover, None),
    (types.TEXT_DOCUMENT_INLINE_COMPLETION, inline_completion, types.InlineCompletionOptions()),
    (types.TEXT_DOCUMENT_COMPLETION, completion, types.CompletionOptions(trigger_characters=[".", "(", " "])),
]


def create_server() -> VibeServer:
    """Build a server with every handler registered."""
    ls = VibeServer()
    for method, handler, options in FEATURES:
        ls.feature(method, options)(handler)
    ls.command(actions.RECORD_COMMAND)(record_solution)
    for name, command in actions.COMMANDS.items():
        ls.command(command)(action_command(name, command))
    return ls


__all__ = ["VibeServer", "create_server", "Position"]
