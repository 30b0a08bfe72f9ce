"""No lost text: an edit never lands on a document version it was not computed for, and `solve --write`
writes only verified code, atomically, to the given file only.
"""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from devtools.openai_server import FakeOpenAI
from devtools.rpc_client import ROOT, RawClient
from devtools.samples import GOOD_REPLY, TWO_SUM_SOURCE, WRONG_REPLY
from lsp_server import cli

URI = "file:///tmp/vibethinker-lost-text/two_sum.py"
HEADER = "# header\n\n"
SOURCE = HEADER + TWO_SUM_SOURCE
TODO_LINE = SOURCE.split("\n").index("    # TODO: hash map, O(n)")
SLOW_REPLY = GOOD_REPLY + "\n" + " ".join(["(padding)"] * 40)


def slow_session(fake: FakeOpenAI) -> RawClient:
    """A server on the slow fake model with the document open."""
    client = RawClient()
    client.initialize(
        {
            "model": {"backend": "openai", "baseUrl": fake.base_url, "name": "fake"},
            "generation": {"candidates": 1},
            "hover": {"explain": False},
            "verification": {"stress": False},  # the note line of the examples alone
        }
    )
    client.open(URI, SOURCE)
    return client


def start_implement(client: RawClient) -> int:
    """Start the Implement command (it answers when the job ends); its request id."""
    return client.request_async(
        "workspace/executeCommand", {"command": "vibethinker.implement", "arguments": [URI, TODO_LINE + 1]}
    )


def test_editing_the_function_during_a_generation_cancels_it_and_applies_nothing():
    with FakeOpenAI(SLOW_REPLY, chunk_delay_s=0.03) as fake, slow_session(fake) as client:
        msg_id = start_implement(client)
        client.wait_for(lambda: fake.requests, what="the generation started")
        client.change(URI, (TODO_LINE, 4), (TODO_LINE, 4), "# mine ")
        assert client.wait_response(msg_id, timeout=60)["result"] is False
        assert any("Cancelled: the function was edited" in m for m in client.messages_shown())
        assert client.editor.applied == [] and client.editor.rejected == []
        expected = SOURCE.replace("    # TODO", "    # mine # TODO")
        assert client.editor.texts[URI] == expected


def test_editing_elsewhere_during_a_generation_reanchors_the_edit_to_the_new_version():
    with FakeOpenAI(SLOW_REPLY, chunk_delay_s=0.03) as fake, slow_session(fake) as client:
        msg_id = start_implement(client)
        client.wait_for(lambda: fake.requests, what="the generation started")
        client.change(URI, (0, 0), (0, 8), "# a new first line\nimport os")
        client.change(URI, (2, 0), (2, 0), "\n")
        assert client.wait_response(msg_id, timeout=60)["result"] is True
        assert client.editor.rejected == []
        [edit] = client.editor.applied
        assert edit["documentChanges"][0]["textDocument"]["version"] == 3  # the version after both edits
        text = client.editor.texts[URI]
        assert text.startswith("# a new first line\nimport os\n\n\n# VibeThinker (AC: passed 2/2 examples)")
        assert "\ndef two_sum(nums, target):\n" in text
        assert "seen = {}" in text and "TODO" not in text
        compile(text, "two_sum.py", "exec")


def test_an_edit_resolved_before_a_keystroke_is_rejected_by_version_and_nothing_is_lost():
    with FakeOpenAI(GOOD_REPLY) as fake:
        client = RawClient()
        caps = {"textDocument": {"codeAction": {"resolveSupport": {"properties": ["edit"]}}}}
        client.initialize(
            {
                "model": {"backend": "openai", "baseUrl": fake.base_url, "name": "fake"},
                "generation": {"candidates": 1},
                "verification": {"stress": False},  # the note line of the examples alone
            },
            capabilities=caps,
        )
        with client:
            client.open(URI, SOURCE)
            pos = {"line": TODO_LINE, "character": 0}
            [action, *_] = client.result(
                "textDocument/codeAction",
                {
                    "textDocument": {"uri": URI},
                    "range": {"start": pos, "end": pos},
                    "context": {"diagnostics": []},
                },
            )
            resolved = client.result("codeAction/resolve", action, timeout=60)
            assert resolved["edit"]["documentChanges"][0]["textDocument"]["version"] == 1
            client.change(URI, (0, 0), (0, 0), "x = 1\n")  # the user typed before the editor applied it
            assert client.editor.apply(resolved["edit"]) == {
                "applied": False,
                "failureReason": "stale version",
            }
            assert client.editor.texts[URI] == "x = 1\n" + SOURCE


# -- solve --write --------------------------------------------------------------------------------------


def run_solve(path: Path, fake: FakeOpenAI) -> subprocess.CompletedProcess:
    """`vibethinker-lsp solve FILE --write --json` against the fake model."""
    command = [sys.executable, "-m", "lsp_server", "solve", str(path), "--write", "--json", "-n", "2"]
    command += ["--base-url", fake.base_url, "--model", "fake"]
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    return subprocess.run(command, capture_output=True, text=True, timeout=120, cwd=ROOT, env=env)


def test_solve_write_never_writes_unverified_code(tmp_path):
    path = tmp_path / "two_sum.py"
    path.write_text(TWO_SUM_SOURCE)
    with FakeOpenAI(WRONG_REPLY) as fake:
        done = run_solve(path, fake)
    assert done.returncode == 1, done.stderr
    [result] = json.loads(done.stdout)["results"]
    assert result["verdict"] == "WA" and result["passed"] < result["total"]
    assert path.read_text() == TWO_SUM_SOURCE
    assert sorted(p.name for p in tmp_path.iterdir()) == ["two_sum.py"]


def test_solve_write_writes_verified_code_to_the_given_file_only(tmp_path):
    path = tmp_path / "two_sum.py"
    path.write_text(TWO_SUM_SOURCE)
    path.chmod(0o640)
    neighbour = tmp_path / "notes.txt"
    neighbour.write_text("keep me")
    with FakeOpenAI(GOOD_REPLY) as fake:
        done = run_solve(path, fake)
    assert done.returncode == 0, done.stderr
    assert "seen = {}" in path.read_text()
    assert path.stat().st_mode & 0o777 == 0o640
    assert neighbour.read_text() == "keep me"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt", "two_sum.py"]


def test_a_failing_write_leaves_the_original_intact_and_no_temp_file(tmp_path, monkeypatch):
    path = tmp_path / "two_sum.py"
    path.write_text(TWO_SUM_SOURCE)

    def disk_full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", disk_full)
    with pytest.raises(OSError):
        cli.write_atomically(path, "half a solution")
    assert path.read_text() == TWO_SUM_SOURCE
    assert [p.name for p in tmp_path.iterdir()] == ["two_sum.py"]


def test_solve_write_on_a_full_disk_says_so_in_one_sentence(tmp_path, monkeypatch, capsys):
    path = tmp_path / "two_sum.py"
    path.write_text(TWO_SUM_SOURCE)

    def disk_full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    with FakeOpenAI(GOOD_REPLY) as fake:
        monkeypatch.setattr(os, "fsync", disk_full)
        status = cli.main(["solve", str(path), "--write", "--base-url", fake.base_url, "--model", "fake"])
    assert status != 0
    assert path.read_text() == TWO_SUM_SOURCE
    assert "No space left on device" in capsys.readouterr().err
