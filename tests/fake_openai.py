"""A small OpenAI-compatible HTTP server on 127.0.0.1 for tests: a test double at the backend boundary.

Replies come from a callable (messages -> list of reply texts) or a fixed list; chat replies stream as
server-sent events word by word, optionally slowly, so cancellation and progress can be observed.

Run standalone for editor end-to-end tests:
    python -m tests.fake_openai --port 0 --reply-file reply.txt --port-file port.txt
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


class FakeOpenAI:
    """A running fake server; use as a context manager or call start()/stop()."""

    def __init__(
        self,
        responder: Responder | str | None = None,
        *,
        completion: Callable[[str], str] | str = "",
        chunk_delay_s: float = 0.0,
        port: int = 0,
    ) -> None:
        self.responder = responder if callable(responder) else (lambda _m, r=responder or "": r)
        self.completion = completion if callable(completion) else (lambda _p, c=completion: c)
        self.chunk_delay_s = chunk_delay_s
        self.requests: list[dict] = []
        self.cancelled_streams = 0
        self._server = ThreadingHTTPServer(("127.0.0.1", port), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        """The `/v1` base URL clients use."""
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

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

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def do_GET(self):
                if self.path.rstrip("/").endswith("/models"):
                    self._json({"object": "list", "data": [{"id": "fake", "object": "model"}]})
                else:
                    self._json({"error": "not found"}, 404)

            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                body = json.loads(self.rfile.read(length) or b"{}")
                fake.requests.append(body)
                if self.path.endswith("/chat/completions"):
                    n = int(body.get("n", 1))
                    texts = [fake.responder(body.get("messages", [])) for _ in range(n)]
                    self._stream(texts, chat=True, streaming=body.get("stream", False))
                elif self.path.endswith("/completions"):
                    text = fake.completion(body.get("prompt", ""))
                    self._stream([text], chat=False, streaming=body.get("stream", False))
                else:
                    self._json({"error": "not found"}, 404)

            def _json(self, data, status=200):
                raw = json.dumps(data).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def _stream(self, texts: list[str], chat: bool, streaming: bool):
                if not streaming:
                    key = "message" if chat else "text"
                    choices = [
                        {
                            "index": i,
                            key: {"role": "assistant", "content": t} if chat else t,
                            "finish_reason": "stop",
                        }
                        for i, t in enumerate(texts)
                    ]
                    self._json({"id": "fake", "choices": choices})
                    return
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.end_headers()
                pieces = [re.findall(r"\s*\S+|\s+", t) for t in texts]
                try:
                    for step in range(max((len(p) for p in pieces), default=0)):
                        for i, p in enumerate(pieces):
                            if step < len(p):
                                if chat:
                                    choice = {"index": i, "delta": {"content": p[step]}}
                                else:
                                    choice = {"index": i, "text": p[step]}
                                choice["finish_reason"] = "stop" if step == len(p) - 1 else None
                                self.wfile.write(f"data: {json.dumps({'choices': [choice]})}\n\n".encode())
                        self.wfile.flush()
                        if fake.chunk_delay_s:
                            time.sleep(fake.chunk_delay_s)
                    self.wfile.write(b"data: [DONE]\n\n")
                    self.wfile.flush()
                except (BrokenPipeError, ConnectionResetError):
                    fake.cancelled_streams += 1

        return Handler


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
        args.port_file.write_text(str(fake._server.server_address[1]))
    print(fake.base_url, flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        fake.stop()


if __name__ == "__main__":
    main()
