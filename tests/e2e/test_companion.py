"""Competitive Companion through the server: a POSTed problem becomes a file with samples the tasks read."""

from __future__ import annotations

import json
import socket
import urllib.request

import pytest_lsp
from lsprotocol import types
from pytest_lsp import LanguageClient, client_capabilities

from codegen.tasks import file_tasks
from tests.e2e.lsp_helpers import SERVER, wait_until

PROBLEM = {
    "name": "A. Sum of Two",
    "group": "Codeforces - Round 1",
    "url": "https://codeforces.com/problemset/problem/1/A",
    "interactive": False,
    "memoryLimit": 64,
    "timeLimit": 1000,
    "tests": [{"input": "1 2\n", "output": "3\n"}, {"input": "5 7\n", "output": "12\n"}],
    "testType": "single",
    "input": {"type": "stdin"},
    "output": {"type": "stdout"},
    "languages": {},
}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest_lsp.fixture(config=SERVER)
async def client(lsp_client: LanguageClient, tmp_path):
    lsp_client.port = _free_port()
    lsp_client.root = tmp_path
    await lsp_client.initialize_session(
        types.InitializeParams(
            capabilities=client_capabilities("visual-studio-code"),
            root_uri=tmp_path.as_uri(),
            initialization_options={
                "companion": {"enabled": True, "port": lsp_client.port, "language": "cpp"}
            },
        )
    )
    yield
    await lsp_client.shutdown_session()


async def test_received_problem_is_stored_and_read_back(client: LanguageClient):
    await wait_until(lambda: any("Competitive Companion receiver" in m.message for m in client.log_messages))
    request = urllib.request.Request(
        f"http://127.0.0.1:{client.port}/",
        data=json.dumps(PROBLEM).encode(),
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        assert response.status == 200
    await wait_until(lambda: any(m.message.startswith("Saved A. Sum of Two") for m in client.messages))
    [source] = list(client.root.glob("*.cpp"))
    language, tasks = file_tasks(source)
    assert language == "cpp"
    [task] = tasks
    assert task.style == "stdin"
    assert [(e.input, e.output) for e in task.examples] == [("1 2\n", "3\n"), ("5 7\n", "12\n")]
    assert (task.time_limit_ms, task.memory_limit_mb) == (1000, 64)


async def test_bad_json_is_refused_with_400(client: LanguageClient):
    await wait_until(lambda: any("Competitive Companion receiver" in m.message for m in client.log_messages))
    request = urllib.request.Request(f"http://127.0.0.1:{client.port}/", data=b"{not json", method="POST")
    try:
        urllib.request.urlopen(request, timeout=5)
        raise AssertionError("bad JSON was accepted")
    except urllib.error.HTTPError as exc:
        assert exc.code == 400
    assert list(client.root.iterdir()) == []
