"""A raw JSON-RPC client over the server's stdio: Content-Length framing, arbitrary bytes, timed reads.

Unlike pytest-lsp it sends whatever it is given (broken JSON, wrong types, unknown methods) and never
validates what comes back, so tests can check exactly what the server answers. Requests from the server
(progress tokens, configuration, workspace/applyEdit) are answered by the reader thread; applyEdit goes
through a small versioned editor that rejects stale edits like VS Code does.
"""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

from lsprotocol import types

from codegen.edits import TextEdit, apply_edits
from codegen.geometry import Position, Range
from lsp_server.convert import utf16_to_column

ROOT = Path(__file__).resolve().parent.parent
SERVER_COMMAND = [sys.executable, "-m", "lsp_server", "serve"]


class NoAnswer(AssertionError):
    """The server did not answer in time (or exited)."""


def apply_lsp_edits(text: str, edits: list[types.TextEdit]) -> str:
    """Apply LSP text edits (UTF-16 positions) to text, as an editor would."""
    lines = text.split("\n")

    def pos(p: types.Position) -> Position:
        line = min(p.line, len(lines) - 1)
        return Position(line, utf16_to_column(lines[line], p.character))

    ours = [TextEdit(Range(pos(e.range.start), pos(e.range.end)), e.new_text) for e in edits]
    return apply_edits(text, ours)


def frame(body: bytes) -> bytes:
    """One LSP message: the Content-Length header and the body."""
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


class VersionedEditor:
    """The documents the client holds; applies workspace edits only to the version they were computed for."""

    def __init__(self) -> None:
        self.texts: dict[str, str] = {}
        self.versions: dict[str, int] = {}
        self.applied: list[dict] = []
        self.rejected: list[dict] = []
        self.lock = threading.Lock()

    def apply(self, edit: dict) -> dict:
        """Apply a WorkspaceEdit (JSON) if every versioned document edit matches; the applyEdit result."""
        with self.lock:
            changes = edit.get("documentChanges") or []
            if edit.get("changes"):
                self.rejected.append(edit)
                return {"applied": False, "failureReason": "unversioned edits are not accepted"}
            for change in changes:
                doc = change["textDocument"]
                if doc["uri"] not in self.texts or doc.get("version") != self.versions[doc["uri"]]:
                    self.rejected.append(edit)
                    return {"applied": False, "failureReason": "stale version"}
            for change in changes:
                uri = change["textDocument"]["uri"]
                edits = [
                    types.TextEdit(
                        range=types.Range(
                            start=types.Position(**e["range"]["start"]),
                            end=types.Position(**e["range"]["end"]),
                        ),
                        new_text=e["newText"],
                    )
                    for e in change["edits"]
                ]
                self.texts[uri] = apply_lsp_edits(self.texts[uri], edits)
                self.versions[uri] += 1
            self.applied.append(edit)
            return {"applied": True}


class RawClient:
    """A language server process and a raw JSON-RPC connection to it."""

    def __init__(
        self,
        command: list[str] | None = None,
        env: dict[str, str] | None = None,
        cwd: Path | None = None,
    ) -> None:
        full_env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONUNBUFFERED": "1", **(env or {})}
        self.process = subprocess.Popen(
            command or SERVER_COMMAND,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=cwd or ROOT,
            env=full_env,
        )
        self.editor = VersionedEditor()
        self.notifications: list[dict] = []
        self.server_requests: list[dict] = []
        self.errors_without_id: list[dict] = []
        self.stderr_lines: list[str] = []
        self._responses: dict[object, dict] = {}
        self.answered_at: dict[str, float] = {}  # response key -> time.monotonic() of arrival
        self._arrived = threading.Condition()
        self._ids = itertools.count(1)
        self._write_lock = threading.Lock()
        self.on_request: dict[str, Callable[[dict], object]] = {}
        self._reader = threading.Thread(target=self._read_loop, daemon=True)
        self._reader.start()
        threading.Thread(target=self._drain_stderr, daemon=True).start()

    # -- writing ------------------------------------------------------------------------------------------

    def send_bytes(self, raw: bytes) -> None:
        """Write raw bytes to the server's stdin."""
        with self._write_lock:
            self.process.stdin.write(raw)
            self.process.stdin.flush()

    def send_body(self, body: bytes) -> None:
        """Write one framed message with an arbitrary body."""
        self.send_bytes(frame(body))

    def send(self, message: object) -> None:
        """Write one framed JSON message."""
        self.send_body(json.dumps(message).encode("utf-8"))

    def notify(self, method: str, params: object = None) -> None:
        """Send a notification."""
        message = {"jsonrpc": "2.0", "method": method}
        if params is not None:
            message["params"] = params
        self.send(message)

    def request_async(self, method: str, params: object = None) -> int:
        """Send a request; return its id."""
        msg_id = next(self._ids)
        message = {"jsonrpc": "2.0", "id": msg_id, "method": method}
        if params is not None:
            message["params"] = params
        self.send(message)
        return msg_id

    def request(self, method: str, params: object = None, timeout: float = 30.0) -> dict:
        """Send a request and wait for its response message (result or error)."""
        return self.wait_response(self.request_async(method, params), timeout)

    def result(self, method: str, params: object = None, timeout: float = 30.0):
        """Send a request and return its result; AssertionError on an error response."""
        response = self.request(method, params, timeout)
        assert "error" not in response, response
        return response.get("result")

    def new_id(self) -> int:
        """A fresh request id, for tests that build the message themselves."""
        return next(self._ids)

    # -- reading ------------------------------------------------------------------------------------------

    def wait_response(self, msg_id: object, timeout: float = 30.0) -> dict:
        """The response to a request id; NoAnswer when none came in time."""
        key = _key(msg_id)
        deadline = time.monotonic() + timeout
        with self._arrived:
            while key not in self._responses:
                left = deadline - time.monotonic()
                if left <= 0 or (self.process.poll() is not None and key not in self._responses):
                    raise NoAnswer(
                        f"no answer to request {msg_id!r} (server exit code {self.process.poll()})"
                    )
                self._arrived.wait(min(left, 0.2))
            return self._responses.pop(key)

    def wait_for(self, predicate: Callable[[], bool], timeout: float = 30.0, what: str = "condition") -> None:
        """Wait until predicate() holds; NoAnswer on timeout."""
        deadline = time.monotonic() + timeout
        with self._arrived:
            while not predicate():
                if time.monotonic() > deadline:
                    raise NoAnswer(f"{what} not reached in {timeout} s")
                self._arrived.wait(0.1)

    def messages_shown(self) -> list[str]:
        """The texts of window/showMessage notifications so far."""
        return [
            n["params"]["message"]
            for n in list(self.notifications)
            if n.get("method") == "window/showMessage"
        ]

    def server_requests_of(self, method: str) -> list[dict]:
        """The requests the server sent with one method."""
        return [r for r in list(self.server_requests) if r["method"] == method]

    def _read_loop(self) -> None:
        """Parse framed messages from stdout until it closes."""
        stream = self.process.stdout
        while True:
            length = None
            while True:
                try:
                    line = stream.readline()
                except (ValueError, OSError):  # the test closed the pipe under us: the stream is over
                    line = b""
                if not line:
                    self._notify_all()
                    return
                line = line.strip()
                if not line:
                    break
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value.strip())
            if length is None:
                continue
            body = stream.read(length)
            try:
                message = json.loads(body)
            except ValueError:
                continue
            self._dispatch(message)

    def _dispatch(self, message: dict) -> None:
        """File a response, record a notification, or answer a request from the server."""
        if "method" in message and "id" in message:
            self.server_requests.append(message)
            self._answer_server_request(message)
        elif "method" in message:
            self.notifications.append(message)
        elif message.get("id") is None:
            self.errors_without_id.append(message)
        else:
            with self._arrived:
                self.answered_at[_key(message["id"])] = time.monotonic()
                self._responses[_key(message["id"])] = message
        self._notify_all()

    def _answer_server_request(self, message: dict) -> None:
        """Answer what the server asks: progress tokens, configuration, applyEdit."""
        method = message["method"]
        if method in self.on_request:
            result = self.on_request[method](message.get("params"))
        elif method == "workspace/applyEdit":
            result = self.editor.apply(message["params"]["edit"])
        elif method == "workspace/configuration":
            result = [None for _ in message["params"]["items"]]
        else:
            result = None
        try:
            self.send({"jsonrpc": "2.0", "id": message["id"], "result": result})
        except (BrokenPipeError, ValueError, OSError):
            pass

    def _notify_all(self) -> None:
        """Wake waiters."""
        with self._arrived:
            self._arrived.notify_all()

    def _drain_stderr(self) -> None:
        """Keep the server's stderr flowing (it logs there); remember the lines."""
        for line in self.process.stderr:
            self.stderr_lines.append(line.decode("utf-8", "replace"))

    # -- session ------------------------------------------------------------------------------------------

    def initialize(
        self, options: dict | None = None, capabilities: dict | None = None, root: str | None = None
    ):
        """initialize + initialized; returns the server's capabilities."""
        params = {
            "processId": os.getpid(),
            "rootUri": root,
            "capabilities": capabilities if capabilities is not None else {},
            "initializationOptions": options,
        }
        result = self.result("initialize", params, timeout=60)
        self.notify("initialized", {})
        return result["capabilities"]

    def open(self, uri: str, text: str, language: str = "python", version: int = 1) -> None:
        """didOpen, tracked by the editor."""
        with self.editor.lock:
            self.editor.texts[uri], self.editor.versions[uri] = text, version
        self.notify(
            "textDocument/didOpen",
            {"textDocument": {"uri": uri, "languageId": language, "version": version, "text": text}},
        )

    def change(self, uri: str, start: tuple[int, int], end: tuple[int, int], text: str) -> None:
        """An incremental didChange (positions in UTF-16 units), applied to the editor's copy too."""
        rng = {
            "start": {"line": start[0], "character": start[1]},
            "end": {"line": end[0], "character": end[1]},
        }
        with self.editor.lock:
            self.editor.versions[uri] += 1
            version = self.editor.versions[uri]
            edit = types.TextEdit(
                range=types.Range(start=types.Position(*start), end=types.Position(*end)), new_text=text
            )
            self.editor.texts[uri] = apply_lsp_edits(self.editor.texts[uri], [edit])
            self.notify(
                "textDocument/didChange",
                {
                    "textDocument": {"uri": uri, "version": version},
                    "contentChanges": [{"range": rng, "text": text}],
                },
            )

    def code_action_titles(self, uri: str, line: int, character: int = 0, timeout: float = 30.0) -> list[str]:
        """The titles of the code actions at a position."""
        pos = {"line": line, "character": character}
        actions = self.result(
            "textDocument/codeAction",
            {
                "textDocument": {"uri": uri},
                "range": {"start": pos, "end": pos},
                "context": {"diagnostics": []},
            },
            timeout,
        )
        return [a["title"] for a in actions or []]

    def shutdown_and_exit(self, timeout: float = 30.0) -> int:
        """shutdown, exit; return the exit status."""
        if self.process.poll() is None:
            try:
                self.request("shutdown", None, timeout)
                self.notify("exit")
            except (BrokenPipeError, OSError, NoAnswer):
                pass
        return self.close(timeout)

    def close(self, timeout: float = 30.0) -> int:
        """Close stdin, wait for the process (kill it if it lingers); the exit status."""
        try:
            self.process.stdin.close()
        except OSError:
            pass
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise

    def __enter__(self) -> RawClient:
        return self

    def __exit__(self, *exc) -> None:
        if self.process.poll() is None:
            try:
                self.shutdown_and_exit(10)
            except subprocess.TimeoutExpired:
                pass


def response_key(msg_id: object) -> str:
    """The key of a request id in `answered_at`."""
    return _key(msg_id)


def _key(msg_id: object) -> str:
    """A dictionary key for an id (ids may be ints or strings; 1 and "1" are different ids)."""
    return json.dumps(msg_id)
