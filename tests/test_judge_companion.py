"""Competitive Companion: the HTTP receiver and the stored problem layout."""

from __future__ import annotations

import hashlib
import json
import threading
from pathlib import Path

import httpx
import pytest

from lsp_server.companion import CompanionServer, Problem, Sample, parse_problem, store_problem
from sandbox.cli import problem_file

PAYLOAD = {
    "name": "A. Watermelon",
    "group": "Codeforces - Round 4",
    "url": "https://codeforces.com/problemset/problem/4/A",
    "interactive": False,
    "memoryLimit": 64,
    "timeLimit": 1000,
    "tests": [{"input": "8\n", "output": "YES\n"}, {"input": "3\n", "output": "NO\n"}],
    "testType": "single",
}


@pytest.fixture
def receiver():
    """A receiver on a free loopback port collecting the problems it accepts."""
    got: list[Problem] = []
    event = threading.Event()

    def on_problem(problem: Problem) -> None:
        """Collect the problem."""
        if problem.name == "explode":
            raise RuntimeError("disk full")
        got.append(problem)
        event.set()

    server = CompanionServer(on_problem, port=0)
    server.start()
    yield server, got, event
    server.stop()


def test_receives_a_problem(receiver):
    """A valid POST is answered 200 and handed to the callback, parsed."""
    server, got, event = receiver
    reply = httpx.post(f"http://127.0.0.1:{server.port}/", json=PAYLOAD)
    assert reply.status_code == 200 and event.wait(5)
    problem = got[0]
    assert (problem.name, problem.time_limit_ms, problem.memory_limit_mb) == ("A. Watermelon", 1000, 64)
    assert problem.tests == [Sample("8\n", "YES\n"), Sample("3\n", "NO\n")]
    assert problem.extra == {"testType": "single"}


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        (b"{not json", 400, "not valid JSON"),
        (
            json.dumps({**PAYLOAD, "tests": [{"input": 1}]}).encode(),
            400,
            "test 1 must have string input and output",
        ),
        (json.dumps({**PAYLOAD, "name": ""}).encode(), 400, "has no name"),
        (json.dumps({**PAYLOAD, "timeLimit": "fast"}).encode(), 400, "timeLimit must be a number"),
        (json.dumps([1, 2]).encode(), 400, "must be a JSON object"),
        (b"\xff\xfe", 400, "not UTF-8"),
        (json.dumps({**PAYLOAD, "name": "explode"}).encode(), 500, "could not be stored: disk full"),
    ],
)
def test_bad_input_gets_a_clear_answer(receiver, body, status, message):
    """Bad bodies are answered with a status and one sentence; the receiver keeps serving."""
    server, got, _ = receiver
    reply = httpx.post(f"http://127.0.0.1:{server.port}/", content=body)
    assert reply.status_code == status and message in reply.text
    assert got == []
    assert httpx.post(f"http://127.0.0.1:{server.port}/", json=PAYLOAD).status_code == 200


def test_oversized_request_is_refused(receiver):
    """A body over the cap is refused with 413 before being read."""
    server, got, _ = receiver
    reply = httpx.post(f"http://127.0.0.1:{server.port}/", content=b"x" * (1024 * 1024 + 1))
    assert reply.status_code == 413 and got == []


def test_listens_on_loopback_only(receiver):
    """The default bind address is loopback."""
    server, _, _ = receiver
    assert server.server.server_address[0] == "127.0.0.1"


def test_parse_problem_defaults():
    """Missing limits take the usual defaults."""
    problem = parse_problem({"name": "B", "tests": []})
    assert (problem.time_limit_ms, problem.memory_limit_mb, problem.url) == (2000, 256, "")


@pytest.mark.parametrize(
    ("language", "suffix", "marker"), [("python", ".py", "# TODO"), ("cpp", ".cpp", "// TODO")]
)
def test_store_problem_layout(tmp_path, language, suffix, marker):
    """A skeleton with a TODO is created once; the .prob file has the CPH layout and is replaced on re-send."""
    problem = parse_problem(PAYLOAD)
    source = store_problem(problem, tmp_path, language)
    assert source == tmp_path / f"A_Watermelon{suffix}"
    assert marker in source.read_text() and "A. Watermelon" in source.read_text()
    digest = hashlib.md5(str(source.resolve()).encode()).hexdigest()
    prob = tmp_path / ".cph" / f".A_Watermelon{suffix}_{digest}.prob"
    assert problem_file(source) == prob
    data = json.loads(prob.read_text())
    assert data["tests"] == [
        {"id": 1, "input": "8\n", "output": "YES\n"},
        {"id": 2, "input": "3\n", "output": "NO\n"},
    ]
    assert (data["timeLimit"], data["memoryLimit"], data["srcPath"]) == (1000, 64, str(source.resolve()))
    assert (
        data["name"] == "A. Watermelon" and data["group"] == "Codeforces - Round 4" and data["local"] is False
    )
    assert data["interactive"] is False and data["url"] == PAYLOAD["url"]

    source.write_text("my work\n")
    store_problem(parse_problem({**PAYLOAD, "timeLimit": 3000}), tmp_path, language)
    assert source.read_text() == "my work\n"
    assert json.loads(prob.read_text())["timeLimit"] == 3000
    assert sorted(p.name for p in (tmp_path / ".cph").iterdir()) == [prob.name]  # no temp files left


def test_store_problem_rejects_unknown_language(tmp_path):
    """Only Python and C++ skeletons exist."""
    with pytest.raises(ValueError, match="use python or cpp"):
        store_problem(parse_problem(PAYLOAD), tmp_path, "rust")
    assert not list(Path(tmp_path).iterdir())
