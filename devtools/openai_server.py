"""A small OpenAI-compatible HTTP server on 127.0.0.1: the double at the model-server boundary for tests and
benchmarks.

In the default mode ("reply") chat replies come from a callable (messages -> reply text) or a fixed text and
completions from another; with `stream` they go out as server-sent events word by word, optionally slowly, so
cancellation and progress can be observed. Other modes misbehave on purpose, for the OpenAI backend's tests:
numbered (three chunks per candidate, `c{index}s{step} `), endless (chunks until the client hangs up), garbage
(not JSON), http500, hang (headers, then silence), silent (no answer at all until the client hangs up), html
(a web page) and error (an OpenAI error object).

Run standalone for editor end-to-end tests:
    python -m devtools.openai_server --port 0 --reply-file reply.txt --port-file port.txt
"""

from __future__ import annotations

import argparse
import json
import re
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

Responder = Callable[[list[dict]], str]
MODES = ("reply", "numbered", "endless", "garbage", "http500", "hang", "silent", "html", "error")


class FakeOpenAI:
    """A running server; use as a context manager or call start()/stop(). `mode` may change between requests.

    `requests` holds every POST body with its `path`; `cancelled_streams` counts the clients that hung up
    while being answered, and `client_gone` is set when one does; `chunks_sent` counts the events written."""

    def __init__(
        self,
        responder: Responder | str | None = None,
        *,
        completion: Callable[[str], str] | str = "",
        chunk_delay_s: float = 0.0,
        port: int = 0,
        mode: str = "reply",
    ) -> None:
        self.responder = responder if callable(responder) else (lambda _m, r=responder or "": r)
        self.completion = completion if callable(completion) else (lambda _p, c=completion: c)
        self.chunk_delay_s = chunk_delay_s
        self.mode = mode
        self.requests: list[dict] = []
        self.cancelled_streams = 0
        self.chunks_sent = 0
        self.client_gone = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", port), _handler_for(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)

    @property
    def port(self) -> int:
        """The port it listens on."""
        return self._server.server_address[1]

    @property
    def base_url(self) -> str:
        """The `/v1` base URL clients use."""
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self) -> FakeOpenAI:
        """Start serving in a background thread."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving."""
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> FakeOpenAI:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def hung_up(self) -> None:
        """Note a client that closed its connection while being answered."""
        self.cancelled_streams += 1
        self.client_gone.set()

    # -- answers --------------------------------------------------------------------------------------------

    def answer(self, handler: BaseHTTPRequestHandler, body: dict) -> None:
        """Write the response to one POST for the current mode."""
        chat = handler.path.endswith("/chat/completions")
        if not chat and not handler.path.endswith("/completions"):
            _json(handler, {"error": "not found"}, 404)
        elif self.mode == "reply":
            self._reply(handler, body, chat)
        elif self.mode in ("numbered", "endless"):
            self._numbered(handler, body, chat)
        else:
            self._misbehave(handler)

    def _reply(self, handler: BaseHTTPRequestHandler, body: dict, chat: bool) -> None:
        """The responder's texts (n of them) for a chat, the completion's for a prompt."""
        if chat:
            messages = body.get("messages", [])
            texts = [self.responder(messages) for _ in range(int(body.get("n", 1)))]
        else:
            texts = [self.completion(body.get("prompt", ""))]
        if not body.get("stream", False):
            _json(
                handler, {"id": "fake", "choices": [_whole_choice(chat, i, t) for i, t in enumerate(texts)]}
            )
            return
        _start_stream(handler)
        pieces = [re.findall(r"\s*\S+|\s+", t) for t in texts]
        for step in range(max((len(p) for p in pieces), default=0)):
            for index, words in enumerate(pieces):
                if step < len(words):
                    finish = "stop" if step == len(words) - 1 else None
                    self.send(handler, _chunk(chat, index, words[step], finish), flush=False)
            handler.wfile.flush()
            if self.chunk_delay_s:
                time.sleep(self.chunk_delay_s)
        self.send(handler, "data: [DONE]\n\n")

    def _numbered(self, handler: BaseHTTPRequestHandler, body: dict, chat: bool) -> None:
        """Three chunks per candidate named by index and step (or "x" chunks forever in endless mode)."""
        _start_stream(handler)
        while self.mode == "endless":
            self.send(handler, _chunk(chat, 0, "x", None))
            time.sleep(0.01)
        n = int(body.get("n", 1)) if chat else 1
        for step in range(3):
            for index in range(n):
                self.send(handler, _chunk(chat, index, f"c{index}s{step} ", "stop" if step == 2 else None))
                time.sleep(self.chunk_delay_s)
        self.send(handler, "data: [DONE]\n\n")

    def _misbehave(self, handler: BaseHTTPRequestHandler) -> None:
        """A broken server: silence, an HTTP error, a web page, garbage or an error object."""
        if self.mode == "silent":  # accept, never answer; notice when the client hangs up
            handler.rfile.read(1)
            self.client_gone.set()
        elif self.mode == "http500":
            handler.send_response(500)
            handler.end_headers()
            handler.wfile.write(b"<html>\n<body>Internal\n error</body></html>")
        elif self.mode == "html":
            handler.send_response(200)
            handler.send_header("Content-Type", "text/html")
            handler.end_headers()
            handler.wfile.write(b"<html><body>Welcome to nginx!</body></html>")
        else:
            _start_stream(handler)
            if self.mode == "hang":
                time.sleep(3)
            elif self.mode == "garbage":
                self.send(handler, "data: <<not json>>\n\n")
            elif self.mode == "error":
                self.send(
                    handler, "data: " + json.dumps({"error": {"message": "model 'x' not found"}}) + "\n\n"
                )

    def send(self, handler: BaseHTTPRequestHandler, event: str, flush: bool = True) -> None:
        """Write (and flush) one server-sent event."""
        handler.wfile.write(event.encode())
        if flush:
            handler.wfile.flush()
        self.chunks_sent += 1


def _handler_for(server: FakeOpenAI) -> type[BaseHTTPRequestHandler]:
    """The request handler class, bound to one server."""

    class Handler(BaseHTTPRequestHandler):
        """Answers one request as the server's mode says."""

        def log_message(self, *args) -> None:
            """Stay quiet."""

        def do_GET(self) -> None:
            """List the one model (what clients probe first)."""
            if self.path.rstrip("/").endswith("/models"):
                _json(self, {"object": "list", "data": [{"id": "fake", "object": "model"}]})
            else:
                _json(self, {"error": "not found"}, 404)

        def do_POST(self) -> None:
            """Read the JSON body, record it and answer."""
            length = int(self.headers.get("Content-Length", "0"))
            body = json.loads(self.rfile.read(length) or b"{}")
            server.requests.append({"path": self.path, **body})
            try:
                server.answer(self, body)
            except (BrokenPipeError, ConnectionResetError):
                server.hung_up()

    return Handler


def _json(handler: BaseHTTPRequestHandler, data: dict, status: int = 200) -> None:
    """Answer with one JSON object."""
    raw = json.dumps(data).encode()
    handler.send_response(status)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(raw)))
    handler.end_headers()
    handler.wfile.write(raw)


def _start_stream(handler: BaseHTTPRequestHandler) -> None:
    """Send the headers of a server-sent event stream."""
    handler.send_response(200)
    handler.send_header("Content-Type", "text/event-stream")
    handler.end_headers()


def _whole_choice(chat: bool, index: int, text: str) -> dict:
    """One choice of a non-streamed answer."""
    if chat:
        return {"index": index, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}
    return {"index": index, "text": text, "finish_reason": "stop"}


def _chunk(chat: bool, index: int, text: str, finish: str | None) -> str:
    """One server-sent event carrying a piece of one choice's text."""
    choice = {"index": index, "finish_reason": finish}
    choice.update({"delta": {"content": text}} if chat else {"text": text})
    return "data: " + json.dumps({"choices": [choice]}) + "\n\n"


def main() -> None:
    """Serve one fixed reply (from a file) until killed; write the port to a file if asked."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--reply-file", type=Path, required=True)
    ap.add_argument("--completion-file", type=Path)
    ap.add_argument("--port-file", type=Path)
    ap.add_argument("--chunk-delay", type=float, default=0.0)
    args = ap.parse_args()
    reply = args.reply_file.read_text()
    completion = args.completion_file.read_text() if args.completion_file else ""
    fake = FakeOpenAI(reply, completion=completion, chunk_delay_s=args.chunk_delay, port=args.port).start()
    if args.port_file:
        args.port_file.write_text(str(fake.port))
    print(fake.base_url, flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        fake.stop()


if __name__ == "__main__":
    main()
