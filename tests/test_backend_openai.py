"""The OpenAI-compatible backend against a local HTTP double: streaming, n, cancel, hand-off, errors."""

from __future__ import annotations

import socket
import threading

import pytest

from codegen.backends.base import BackendError, GenerationParams, ModelConfig
from codegen.backends.openai_backend import OpenAIBackend
from devtools.openai_server import FakeOpenAI

MESSAGES = [{"role": "user", "content": "hi"}]


@pytest.fixture
def server():
    """A fresh double per test."""
    with FakeOpenAI(mode="numbered") as double:
        yield double


def backend_for(url: str, timeout_s: float = 10.0) -> OpenAIBackend:
    """A backend pointed at the URL."""
    return OpenAIBackend(ModelConfig(backend="openai", name="vibe", base_url=url, timeout_s=timeout_s))


def test_chat_streams_n_candidates_and_sends_the_settings(server):
    pieces = []
    replies = backend_for(server.base_url).chat(
        MESSAGES,
        GenerationParams(max_new_tokens=50, temperature=0.6, top_p=0.9, n=2, seed=5),
        lambda i, t: pieces.append((i, t)),
    )
    assert replies == ["c0s0 c0s1 c0s2 ", "c1s0 c1s1 c1s2 "]
    assert pieces[:2] == [(0, "c0s0 "), (1, "c1s0 ")]
    sent = server.requests[0]
    assert sent["path"] == "/v1/chat/completions" and sent["stream"] is True
    assert (sent["n"], sent["max_tokens"], sent["temperature"], sent["top_p"], sent["seed"]) == (
        2,
        50,
        0.6,
        0.9,
        5,
    )


def test_on_candidate_true_closes_the_stream_early(server):
    offered = []
    replies = backend_for(server.base_url).chat(
        MESSAGES, GenerationParams(n=3), on_candidate=lambda i, t: offered.append(i) or True
    )
    assert offered == [0]
    assert replies[0] == "c0s0 c0s1 c0s2 " and replies[2] == "c2s0 c2s1 "


def test_should_stop_closes_an_endless_stream(server):
    server.mode = "endless"
    seen = []
    replies = backend_for(server.base_url).chat(
        MESSAGES, GenerationParams(n=1), lambda i, t: seen.append(t), should_stop=lambda: len(seen) >= 5
    )
    assert replies == ["xxxxx"]
    assert server.client_gone.wait(5)  # the server noticed the closed connection


def test_complete_streams_text(server):
    seen = []
    text = backend_for(server.base_url).complete(
        "def f", 10, stop=("\n",), on_text=lambda i, t: seen.append(t)
    )
    assert text == "c0s0 c0s1 c0s2 " and "".join(seen) == text
    assert server.requests[0]["path"] == "/v1/completions" and server.requests[0]["stop"] == ["\n"]


@pytest.mark.parametrize(
    ("mode", "message"),
    [
        ("garbage", r"sent something that is not JSON \('<<not json>>'\); check that `model.baseUrl`"),
        (
            "http500",
            r"answered HTTP 500 \(<html> <body>Internal error</body></html>\); check `model.baseUrl`",
        ),
        ("html", r"answered without a stream of completions; check that `model.baseUrl`"),
        ("error", r"reported an error: model 'x' not found\.$"),
    ],
)
def test_bad_answers_become_one_sentence(server, mode, message):
    server.mode = mode
    with pytest.raises(BackendError, match=message) as info:
        backend_for(server.base_url).chat(MESSAGES, GenerationParams())
    assert "\n" not in str(info.value)


def test_timeout_becomes_one_sentence(server):
    server.mode = "hang"
    with pytest.raises(BackendError, match="did not answer in time; check that it is running"):
        backend_for(server.base_url, timeout_s=0.3).chat(MESSAGES, GenerationParams())


def test_connection_refused_becomes_one_sentence():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(BackendError, match=rf"Cannot reach the model server at http://127.0.0.1:{port}/v1"):
        backend_for(f"http://127.0.0.1:{port}/v1").chat(MESSAGES, GenerationParams())


@pytest.mark.parametrize("mode", ["silent", "hang"])
def test_stop_while_the_server_is_silent_returns_and_hangs_up(server, mode):
    server.mode = mode
    asked = threading.Event()

    def should_stop() -> bool:
        return asked.is_set()

    threading.Timer(0.3, asked.set).start()
    replies = backend_for(server.base_url, timeout_s=60).chat(
        MESSAGES, GenerationParams(n=2), should_stop=should_stop
    )
    assert replies == ["", ""]
    if mode == "silent":
        assert server.client_gone.wait(10)  # the connection was shut down, freeing the server
