"""The language server: thin handlers, one per LSP method, over the pipeline in codegen/ and sandbox/."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import os
from pathlib import Path

from lsprotocol import types
from pygls.lsp.server import LanguageServer

from codegen.backends.base import BackendError
from codegen.completion import PrefixCache, clean_completion, completion_prefix, stop_strings
from codegen.engine import Cancelled, Engine, Priority
from codegen.pipeline import Outcome
from codegen.tasks import Position
from lsp_server import __version__, actions
from lsp_server.companion import CompanionServer, Problem, store_problem
from lsp_server.convert import from_lsp_position
from lsp_server.documents import Documents
from lsp_server.protocol import VibeProtocol, report_parse_error
from lsp_server.settings import Settings, parse_settings
from sandbox import Judge, Report

log = logging.getLogger(__name__)

STATUS_NOTIFICATION = "vibethinker/status"


class VibeServer(LanguageServer):
    """The server's state: settings, open documents, the engine and the judge, jobs and last results."""

    def __init__(self) -> None:
        super().__init__("vibethinker-lsp", __version__, protocol_cls=VibeProtocol, max_workers=8)
        self.settings = Settings()
        self.documents = Documents()
        self.engine: Engine | None = None
        self.judge: Judge | None = None
        self.running: list[actions.RunningJob] = []
        self.outcomes: dict[tuple[str, int], Outcome] = {}  # (uri, task line) -> last solve
        self.runs: dict[tuple[str, str | None], Report] = {}  # (uri, function) -> last example run
        self.stress_runs: dict[tuple[str, str | None], object] = {}  # (uri, function) -> last stress test
        self.diagnostics: dict[str, list[types.Diagnostic]] = {}
        self.explanations: dict[str, str] = {}  # function text -> the model's explanation
        self.solutions: dict[tuple, object] = {}  # (uri, line, action) -> verified, recorded on apply
        self.completions = PrefixCache()
        self.completion_serial: dict[str, int] = {}
        self.pending_errors: list[str] = []
        self.loop: asyncio.AbstractEventLoop | None = None
        self.companion: CompanionServer | None = None

    def report_server_error(self, error: Exception, source) -> None:
        """Log protocol-level errors instead of popping them up; answer unparseable input."""
        if not report_parse_error(self.protocol, error):
            log.warning("protocol error (%s): %s", getattr(source, "__name__", source), error)

    def apply_settings(self, raw) -> list[str]:
        """Merge raw camelCase settings; a model change reloads the model; returns the error messages."""
        settings, errors = parse_settings(raw, self.settings)
        old, self.settings = self.settings, settings
        if self.engine is not None and settings.model_config() != old.model_config():
            self.engine.reload(settings.model_config())
            self.explanations.clear()
            self.completions = PrefixCache()
            if dataclasses.replace(old.model, adapter=settings.model.adapter) == settings.model:
                self.log(f"Adapter changed to {settings.model.adapter or 'none'}; the model stays loaded.")
            else:
                self.log(f"Model settings changed; {settings.model.name} loads on next use.")
        if settings.judge != old.judge:
            self.judge = None
        if settings.companion != old.companion and self.loop is not None:
            self.sync_companion()
        return errors

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
                self.show(
                    f"Cannot receive Competitive Companion problems on port {wanted.port} ({exc.strerror}); "
                    "set companion.port to a free port.",
                    types.MessageType.Warning,
                )
                return
            self.companion.start()
            self.log(f"Competitive Companion receiver on 127.0.0.1:{self.companion.port}")

    def _on_problem(self, problem: Problem) -> None:
        """A problem arrived (receiver thread): store it in the workspace and open it."""
        self._threadsafe(lambda: asyncio.ensure_future(self._store_problem(problem)))

    async def _store_problem(self, problem: Problem) -> None:
        """Write the problem's source skeleton and samples into the workspace, then show the file."""
        root = self.workspace.root_path or os.getcwd()
        try:
            path = await asyncio.to_thread(
                store_problem, problem, Path(root), self.settings.companion.language
            )
        except OSError as exc:
            self.show(
                f"Cannot save problem {problem.name!r} in {root} ({exc.strerror}).", types.MessageType.Error
            )
            return
        window = self.client_capabilities.window
        if window and window.show_document and window.show_document.support:
            await self.window_show_document_async(
                types.ShowDocumentParams(uri=path.as_uri(), take_focus=True)
            )
        self.show(
            f"Saved {problem.name} with {len(problem.tests)} samples to {path}.", types.MessageType.Info
        )

    def get_engine(self) -> Engine:
        """The engine, started on first use (the model itself loads on the first job)."""
        if self.engine is None:
            self.engine = Engine(
                self.settings.model_config(),
                on_status=self._on_engine_status,
                on_notice=self._on_engine_notice,
            )
        return self.engine

    def _on_engine_notice(self, message: str) -> None:
        """A sentence from the engine the user should see (an adapter that cannot be used; the base model runs)."""
        self._threadsafe(lambda: self.show(message, types.MessageType.Warning))

    def get_judge(self) -> Judge:
        """The judge for the current judge settings (built off the event loop: it probes the sandbox)."""
        if self.judge is None:
            s = self.settings.judge
            self.judge = Judge(self.settings.limits(), python=s.python or None, isolation=s.isolation)
            self.log(f"Sandbox isolation: {self.judge.isolation}")
        return self.judge

    def model_status(self) -> dict:
        """The status fields naming the model: id or folder, short name, and which sampling defaults apply."""
        sampling = self.settings.sampling()
        return {
            "model": self.settings.model.name,
            "modelShort": sampling.detected.short_name,
            "sampling": sampling.describe(),
            "adapter": (self.engine.adapter if self.engine is not None else None) or "",
        }

    def _on_engine_status(self, state: str, detail: str) -> None:
        """Forward engine state to the client (called from the engine's thread)."""
        params = {**self.model_status(), "state": state, "detail": detail}
        speed = getattr(self.engine, "tokens_per_second", None) if self.engine is not None else None
        if state in ("generating", "ready") and speed:
            params["tokensPerSecond"] = round(float(speed), 1)
        self._threadsafe(lambda: self.protocol.notify(STATUS_NOTIFICATION, params))

    def _threadsafe(self, fn) -> None:
        """Run fn on the event loop."""
        loop = self.loop
        try:
            if loop is not None and loop.is_running():
                loop.call_soon_threadsafe(fn)
            else:
                fn()
        except RuntimeError:
            pass

    def log(self, message: str, kind: types.MessageType = types.MessageType.Log) -> None:
        """window/logMessage."""
        self.window_log_message(types.LogMessageParams(type=kind, message=message))

    def show(self, message: str, kind: types.MessageType = types.MessageType.Info) -> None:
        """window/showMessage, for what the user can act on."""
        self.window_show_message(types.ShowMessageParams(type=kind, message=message))

    def stop_everything(self) -> None:
        """Cancel every running job, stop the Companion receiver and the engine."""
        if self.companion is not None:
            self.companion.stop()
            self.companion = None
        for job in self.running:
            job.cancel.set()
        if self.engine is not None:
            self.engine.close()
            self.engine = None

    def clear_results(self, uri: str) -> None:
        """Forget example results of a document whose checked code changed, and clear their diagnostics."""
        self.diagnostics.pop(uri, None)
        for key in [k for k in self.runs if k[0] == uri]:
            del self.runs[key]
        for key in [k for k in self.stress_runs if k[0] == uri]:
            del self.stress_runs[key]
        self.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=uri, diagnostics=[]))

    def cancel_jobs_touching(self, uri: str, change) -> None:
        """Cancel jobs whose task text the change touches (an insertion right before or after it does not)."""
        jobs = [job for job in self.running if job.uri == uri]
        doc = self.documents.get(uri)
        if not jobs or doc is None:
            return
        if isinstance(change, types.TextDocumentContentChangePartial):
            start, end = doc.position(change.range.start), doc.position(change.range.end)
        else:
            start, end = Position(0, 0), Position(doc.parsed.line_count(), 0)
        lo, hi = (start.line, start.column), (end.line, end.column)
        for job in jobs:
            first = (job.range.start.line, job.range.start.column)
            last = (job.range.end.line, job.range.end.column)
            if lo < last and hi > first or (first < lo < last):
                job.reason = "the function was edited while the model was working"
                job.cancel.set()


def create_server() -> VibeServer:
    """Build a server with every handler registered."""
    ls = VibeServer()

    @ls.feature(types.INITIALIZE)
    def initialize(ls: VibeServer, params: types.InitializeParams) -> None:
        """Read initializationOptions (the camelCase settings tree)."""
        try:
            ls.loop = asyncio.get_running_loop()
        except RuntimeError:
            ls.loop = None
        options = params.initialization_options
        if isinstance(options, dict) and set(options) == {"vibethinker"}:
            options = options["vibethinker"]
        ls.pending_errors = ls.apply_settings(options)

    @ls.feature(types.INITIALIZED)
    async def initialized(ls: VibeServer, params: types.InitializedParams) -> None:
        """Report invalid options, pull workspace configuration, say which sandbox is in use."""
        ls.loop = asyncio.get_running_loop()
        for error in ls.pending_errors:
            ls.show(error, types.MessageType.Warning)
        ls.pending_errors = []
        await _pull_configuration(ls)
        try:
            judge = await asyncio.to_thread(ls.get_judge)
            sandbox = judge.isolation
            if judge.level.name != "strong":
                ls.show(
                    f"Generated code runs with weaker isolation: {sandbox}. Install bubblewrap (`bwrap`) and "
                    "allow user namespaces for the strong sandbox.",
                    types.MessageType.Warning,
                )
        except Exception as exc:  # noqa: BLE001 - a sandbox that cannot start is reported, not fatal
            sandbox = "unavailable"
            ls.show(f"The sandbox could not start: {exc}", types.MessageType.Error)
        status = {**ls.model_status(), "state": "idle", "detail": "", "sandbox": sandbox}
        ls.protocol.notify(STATUS_NOTIFICATION, status)
        ls.sync_companion()

    @ls.feature(types.SHUTDOWN)
    def shutdown(ls: VibeServer, params: None) -> None:
        """Stop jobs and the engine."""
        ls.stop_everything()

    @ls.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)
    async def did_change_configuration(ls: VibeServer, params: types.DidChangeConfigurationParams) -> None:
        """Take pushed settings, or pull them again."""
        raw = params.settings
        if isinstance(raw, dict) and "vibethinker" in raw:
            raw = raw["vibethinker"]
        if isinstance(raw, dict) and raw:
            for error in ls.apply_settings(raw):
                ls.show(error, types.MessageType.Warning)
        else:
            await _pull_configuration(ls)

    @ls.feature(types.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: VibeServer, params: types.DidOpenTextDocumentParams) -> None:
        """Track and parse the document."""
        ls.documents.open(params.text_document)

    @ls.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: VibeServer, params: types.DidChangeTextDocumentParams) -> None:
        """Apply incremental edits; cancel jobs on an edited function."""
        uri = params.text_document.uri
        if ls.running:
            for change in params.content_changes:
                ls.cancel_jobs_touching(uri, change)
        if ls.diagnostics.get(uri) and _touches(params.content_changes, ls.diagnostics[uri]):
            ls.clear_results(uri)
        if ls.documents.change(params) is None:
            log.warning("didChange for %s, which is not open; ignored", uri)

    @ls.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: VibeServer, params: types.DidCloseTextDocumentParams) -> None:
        """Forget the document and its diagnostics."""
        ls.documents.close(params.text_document.uri)
        if ls.diagnostics.pop(params.text_document.uri, None):
            ls.text_document_publish_diagnostics(
                types.PublishDiagnosticsParams(uri=params.text_document.uri, diagnostics=[])
            )

    @ls.feature(
        types.TEXT_DOCUMENT_CODE_ACTION,
        types.CodeActionOptions(
            code_action_kinds=[types.CodeActionKind.QuickFix, types.CodeActionKind.RefactorRewrite],
            resolve_provider=True,
        ),
    )
    def code_action(ls: VibeServer, params: types.CodeActionParams) -> list[types.CodeAction]:
        """List actions instantly from the parsed document; the work happens when one is chosen."""
        doc = ls.documents.get(params.text_document.uri)
        if doc is None or doc.language is None:
            return []
        return actions.list_actions(ls, doc, params.range)

    @ls.feature(types.CODE_ACTION_RESOLVE)
    async def code_action_resolve(ls: VibeServer, action: types.CodeAction) -> types.CodeAction:
        """Do the chosen action's work and return it with its edit."""
        data = action.data if isinstance(action.data, dict) else {}
        uri, line, name = data.get("uri"), data.get("line"), data.get("action")
        if not isinstance(uri, str) or not isinstance(line, int) or name not in actions.EDITING:
            return action
        edit = await actions.perform(ls, uri, line, name)
        if edit is not None:
            action.edit = edit
            action.command = actions.record_command(ls, uri, line, name)  # run by the client once applied
        return action

    @ls.command(actions.RECORD_COMMAND)
    async def record_solution(ls: VibeServer, uri=None, line=None, name=None, *rest) -> bool:
        """The client applied a verified edit: append its solution to the record (history.record)."""
        return await actions.record_solution(ls, uri, line, name)

    for name, command in actions.COMMANDS.items():
        _register_command(ls, name, command)

    @ls.feature(types.TEXT_DOCUMENT_HOVER)
    async def hover(ls: VibeServer, params: types.HoverParams) -> types.Hover | None:
        """The instant part (estimate, last example results) and the model's cached-or-fresh explanation."""
        if not ls.settings.hover.enabled:
            return None
        doc = ls.documents.get(params.text_document.uri)
        if doc is None or doc.language is None:
            return None
        func = doc.function_at(from_lsp_position(doc.lines, params.position))
        if func is None or func.function is None:
            return None
        parts = [_instant_hover(ls, doc, func)]
        engine = ls.get_engine() if ls.settings.hover.explain else None
        if engine is not None and func.source not in ls.explanations and _model_not_loaded(ls, engine):
            if engine.state == "idle":
                engine.load()  # the next hover explains; this one stays instant
            note = "loading the model" if engine.state != "error" else "the model failed to load"
            parts.append(f"_Explanation: {note}; hover again in a moment._")
        elif engine is not None:
            try:
                parts.append(
                    "**Explanation** (VibeThinker): " + (await actions.explain(ls, func) or "no answer")
                )
            except (BackendError, Cancelled) as exc:
                parts.append(f"_Explanation unavailable: {exc or 'cancelled'}_")
        return types.Hover(
            contents=types.MarkupContent(kind=types.MarkupKind.Markdown, value="\n\n".join(parts))
        )

    @ls.feature(types.TEXT_DOCUMENT_INLINE_COMPLETION, types.InlineCompletionOptions())
    async def inline_completion(ls: VibeServer, params: types.InlineCompletionParams):
        """Ghost text: a plain continuation of the code before the cursor."""
        text = await _complete(ls, params.text_document.uri, params.position)
        if not text:
            return None
        pos = params.position
        return types.InlineCompletionList(
            items=[types.InlineCompletionItem(insert_text=text, range=types.Range(start=pos, end=pos))]
        )

    @ls.feature(types.TEXT_DOCUMENT_COMPLETION, types.CompletionOptions(trigger_characters=[".", "(", " "]))
    async def completion(ls: VibeServer, params: types.CompletionParams):
        """One AI item for clients without inline completion support."""
        td = ls.client_capabilities.text_document
        if td is not None and td.inline_completion is not None:
            return None
        text = await _complete(ls, params.text_document.uri, params.position)
        if not text:
            return None
        label = text.strip().split("\n", 1)[0][:60]
        item = types.CompletionItem(
            label=label,
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

    return ls


def _register_command(ls: VibeServer, name: str, command: str) -> None:
    """Register one workspace/executeCommand handler (arguments arrive unpacked: uri, line)."""

    async def run(ls: VibeServer, uri=None, line=None, *rest) -> bool:
        if not isinstance(uri, str) or not isinstance(line, int) or isinstance(line, bool):
            ls.show(f"{command} needs a document URI and a 1-based line number.", types.MessageType.Error)
            return False
        edit = await actions.perform(ls, uri, line, name)
        applied = await _apply(ls, edit)
        if applied:
            await actions.record_solution(ls, uri, line, name)
        return applied

    run.__doc__ = f"Run the {name} action (command {command})."
    ls.command(command)(run)


async def _apply(ls: VibeServer, edit: types.WorkspaceEdit | None) -> bool:
    """Send workspace/applyEdit; True when the client applied it."""
    if edit is None:
        return False
    result = await ls.workspace_apply_edit_async(
        types.ApplyWorkspaceEditParams(edit=edit, label="VibeThinker")
    )
    if not result.applied:
        ls.show(
            f"The editor did not apply the edit ({result.failure_reason or 'no reason given'}).",
            types.MessageType.Warning,
        )
    return bool(result.applied)


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
        for error in ls.apply_settings(raw):
            ls.show(error, types.MessageType.Warning)


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


def _model_not_loaded(ls: VibeServer, engine: Engine) -> bool:
    """Whether an in-process model still has to load (a remote server answers at once)."""
    return ls.settings.model.backend == "transformers" and engine.state in ("idle", "loading", "error")


def _instant_hover(ls: VibeServer, doc, func) -> str:
    """What is known without the model: the static estimate and the last example results."""
    lines = [f"**{func.function}**"]
    estimate = doc.estimate(func)
    if estimate:
        lines.append(f"Estimated: {estimate}")
    report = ls.runs.get((doc.uri, func.function))
    if report is not None:
        lines.append(f"Last run: {report.verdict.value}, {report.passed}/{report.total} examples pass")
        failure = actions.describe_failure(report)
        if failure:
            lines.append(f"First failure: {failure}")
    elif func.examples:
        lines.append(f"{len(func.examples)} examples (not run yet)")
    return "  \n".join(lines)


async def _complete(ls: VibeServer, uri: str, position: types.Position) -> str:
    """Debounced, cached, cancellable plain continuation at a position; '' when there is none."""
    if not ls.settings.completions.enabled:
        return ""
    doc = ls.documents.get(uri)
    if doc is None:
        return ""
    serial = ls.completion_serial.get(uri, 0) + 1
    ls.completion_serial[uri] = serial
    at = from_lsp_position(doc.lines, position)
    line_text = doc.lines[at.line]
    before = "\n".join(doc.lines[: at.line] + [line_text[: at.column]])
    after = "\n".join([line_text[at.column :]] + doc.lines[at.line + 1 :])
    prefix = completion_prefix(before)
    cached = ls.completions.get(prefix)
    if cached is not None:
        return clean_completion(cached, line_text[: at.column], after, doc.language)
    await asyncio.sleep(ls.settings.completions.debounce_ms / 1000)
    if ls.completion_serial.get(uri) != serial:
        return ""  # a newer keystroke superseded this request
    job = ls.get_engine().complete(
        prefix, ls.settings.completions.max_tokens, stop_strings(doc.language), Priority.INTERACTIVE
    )
    try:
        raw = await asyncio.wrap_future(job.future)
    except asyncio.CancelledError:
        job.cancel()
        raise
    except (BackendError, Cancelled) as exc:
        log.info("completion failed: %s", exc)
        return ""
    ls.completions.put(prefix, raw)
    return clean_completion(raw, line_text[: at.column], after, doc.language)


__all__ = ["VibeServer", "create_server", "Position"]
