"""A small OpenAI-compatible HTTP server for the OpenAI backend's tests (streams, garbage, hangs, errors)."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class OpenAIDouble:
    """Serves /v1/chat/completions and /v1/completions on 127.0.0.1; `mode` picks the behaviour.

    Modes: ok (n streamed replies), endless (chunks until the client hangs up), garbage (not JSON),
    http500, hang (headers, then silence), silent (no answer at all, until the client hangs up),
    html (a web page), error (an OpenAI error object).
    """

    def __init__(self) -> None:
        self.mode = "ok"
        self.requests: list[dict] = []
        self.chunks_sent = 0
        self.client_gone = threading.Event()
        self.chunk_delay_s = 0.0
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)

    @property
    def base_url(self) -> str:
        """The /v1 URL to point the backend at."""
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def __enter__(self) -> OpenAIDouble:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _handler(self):
        """The request handler class, bound to this double."""
        double = self

        class Handler(BaseHTTPRequestHandler):
            """Answers one request according to the double's mode."""

            def log_message(self, *args) -> None:
                """Stay quiet."""

            def do_POST(self) -> None:
                """Read the JSON body and answer."""
                length = int(self.headers.get("Content-Length", "0"))
                body = json.loads(self.rfile.read(length) or b"{}")
                double.requests.append({"path": self.path, **body})
                try:
                    double.answer(self, body)
                except (BrokenPipeError, ConnectionResetError):
                    double.client_gone.set()

        return Handler

    def answer(self, handler: BaseHTTPRequestHandler, body: dict) -> None:
        """Write the response for the current mode."""
        if self.mode == "silent":  # accept, never answer; notice when the client hangs up
            handler.rfile.read(1)
            self.client_gone.set()
            return
        if self.mode == "http500":
            handler.send_response(500)
            handler.end_headers()
            handler.wfile.write(b"<html>\n<body>Internal\n error</body></html>")
            return
        if self.mode == "html":
            handler.send_response(200)
            handler.send_header("Content-Type", "text/html")
            handler.end_headers()
            handler.wfile.write(b"<html><body>Welcome to nginx!</body></html>")
            return
        handler.send_response(200)
        handler.send_header("Content-Type", "text/event-stream")
        handler.end_headers()
        if self.mode == "hang":
            time.sleep(3)
            return
        if self.mode == "garbage":
            self.send(handler, "data: <<not json>>\n\n")
            return
        if self.mode == "error":
            self.send(handler, "data: " + json.dumps({"error": {"message": "model 'x' not found"}}) + "\n\n")
            return
        chat = handler.path.endswith("/chat/completions")
        if self.mode == "endless":
            while True:
                self.send(handler, self.chunk(chat, 0, "x", None))
                time.sleep(0.01)
        n = int(body.get("n", 1)) if chat else 1
        for step in range(3):
            for index in range(n):
                finish = "stop" if step == 2 else None
                self.send(handler, self.chunk(chat, index, f"c{index}s{step} ", finish))
                time.sleep(self.chunk_delay_s)
        self.send(handler, "data: [DONE]\n\n")

    def chunk(self, chat: bool, index: int, text: str, finish: str | None) -> str:
        """One server-sent event with a piece of text for one choice."""
        choice = {"index": index, "finish_reason": finish}
        choice.update({"delta": {"content": text}} if chat else {"text": text})
        return "data: " + json.dumps({"choices": [choice]}) + "\n\n"

    def send(self, handler: BaseHTTPRequestHandler, event: str) -> None:
        """Write and flush one event."""
        handler.wfile.write(event.encode())
        handler.wfile.flush()
        self.chunks_sent += 1
