"""Exposure: TCP mode and the Competitive Companion receiver listen on loopback by default, the receiver caps
request sizes and validates its JSON, no code runs a shell, and nothing outside open documents is written.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import socket
import subprocess
import sys
import time

import psutil
import pytest

from devtools.openai_server import FakeOpenAI
from devtools.rpc_client import ROOT, RawClient, frame
from devtools.samples import GOOD_REPLY, TWO_SUM_SOURCE

PRODUCT_PACKAGES = ("lsp_server", "codegen", "sandbox")


def free_port() -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def listening_addresses(pid: int, port: int, timeout: float = 30.0) -> list[str]:
    """The local IPs a process listens on at a port (waits until it listens)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = [
            c.laddr.ip
            for c in psutil.Process(pid).net_connections(kind="inet")
            if c.status == psutil.CONN_LISTEN and c.laddr.port == port
        ]
        if found:
            return found
        time.sleep(0.1)
    raise AssertionError(f"process {pid} never listened on port {port}")


def non_loopback_ip() -> str | None:
    """An address of this machine that is not loopback, if it has one."""
    for addresses in psutil.net_if_addrs().values():
        for address in addresses:
            if address.family == socket.AF_INET and not address.address.startswith("127."):
                return address.address
    return None


@pytest.mark.parametrize("spec", [":{port}", "{port}"])
def test_serve_tcp_without_a_host_listens_on_loopback_only(spec):
    port = free_port()
    command = [sys.executable, "-m", "lsp_server", "serve", "--tcp", spec.format(port=port)]
    server = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        assert listening_addresses(server.pid, port) == ["127.0.0.1"]
        outside = non_loopback_ip()
        if outside is not None:
            with pytest.raises(OSError):
                socket.create_connection((outside, port), timeout=2).close()
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            body = json.dumps(
                {
                    "jsonrpc": "2.0",
                    "id": 1,
                    "method": "initialize",
                    "params": {"processId": None, "capabilities": {}},
                }
            ).encode()
            sock.sendall(frame(body))
            assert b'"capabilities"' in sock.recv(65536)
    finally:
        server.kill()
        server.wait()


def test_serve_tcp_rejects_a_malformed_address_in_one_sentence():
    done = subprocess.run(
        [sys.executable, "-m", "lsp_server", "serve", "--tcp", "localhost:http"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "HOST:PORT" in done.stderr and "Traceback" not in done.stderr


def post(port: int, body: bytes, headers: dict | None = None) -> tuple[int, str]:
    """POST a body to the companion receiver; (status, text)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
    try:
        connection.request("POST", "/", body=body, headers=headers or {"Content-Type": "application/json"})
        response = connection.getresponse()
        return response.status, response.read().decode()
    finally:
        connection.close()


def declared_too_large(port: int, size: int) -> bytes:
    """Announce a body of `size` bytes without sending it; the receiver's answer (it must not wait for it)."""
    with socket.create_connection(("127.0.0.1", port), timeout=20) as sock:
        sock.sendall(b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: %d\r\n\r\n" % size)
        return sock.recv(4096)


def test_the_companion_receiver_listens_on_loopback_caps_sizes_and_validates_json(tmp_path):
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    port = free_port()
    with RawClient(cwd=ROOT) as client:
        client.initialize({"companion": {"enabled": True, "port": port}}, root=workspace.as_uri())
        assert listening_addresses(client.process.pid, port) == ["127.0.0.1"]
        assert declared_too_large(port, 2 * 1024 * 1024).split(b"\r\n")[0].split()[1] == b"413"
        assert post(port, b"{not json")[0] == 400
        assert post(port, b"\xff\xfe")[0] == 400
        assert post(port, b"[1, 2, 3]")[0] == 400
        assert post(port, json.dumps({"name": "A", "tests": "none"}).encode())[0] == 400
        problem = {
            "name": "../../../escape/A. Sum",
            "url": "https://example.com/a",
            "tests": [{"input": "1 2\n", "output": "3\n"}],
            "timeLimit": 1000,
            "memoryLimit": 256,
        }
        status, text = post(port, json.dumps(problem).encode())
        assert status == 200, text
        client.wait_for(lambda: any("Saved" in m for m in client.messages_shown()), what="the problem stored")
        assert not (tmp_path / "escape").exists()
        stored = [p for p in workspace.rglob("*") if p.is_file()]
        assert stored and all(workspace in p.resolve().parents for p in stored)
        assert client.process.poll() is None


def test_no_product_code_runs_a_shell():
    """No shell=True, os.system or os.popen in the packages that ship."""
    pattern = re.compile(r"shell\s*=\s*True|os\.system\(|os\.popen\(|create_subprocess_shell")
    offenders = []
    for package in PRODUCT_PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
                if pattern.search(line):
                    offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert offenders == []
    assert sum(1 for package in PRODUCT_PACKAGES for _ in (ROOT / package).rglob("*.py")) > 20


def test_the_server_never_writes_files_only_edits_open_documents(tmp_path):
    """A command naming a file that is not open changes nothing; an open file is edited via applyEdit only."""
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    outside = tmp_path / "elsewhere" / "two_sum.py"
    outside.parent.mkdir()
    outside.write_text(TWO_SUM_SOURCE)
    inside = workspace / "two_sum.py"
    inside.write_text(TWO_SUM_SOURCE)
    line = TWO_SUM_SOURCE.split("\n").index("    # TODO: hash map, O(n)") + 1
    with FakeOpenAI(GOOD_REPLY) as fake, RawClient() as client:
        options = {"model": {"backend": "openai", "baseUrl": fake.base_url, "name": "fake"}}
        client.initialize({**options, "generation": {"candidates": 1}}, root=workspace.as_uri())
        for uri in (outside.as_uri(), "file:///etc/passwd", inside.as_uri()):
            result = client.result(
                "workspace/executeCommand", {"command": "vibethinker.implement", "arguments": [uri, line]}, 60
            )
            assert result is False
        assert fake.requests == [] and client.server_requests_of("workspace/applyEdit") == []
        assert sum("no longer open" in m for m in client.messages_shown()) == 3
        client.open(inside.as_uri(), TWO_SUM_SOURCE)
        result = client.result(
            "workspace/executeCommand",
            {"command": "vibethinker.implement", "arguments": [inside.as_uri(), line]},
            60,
        )
        assert result is True
        [edit] = client.server_requests_of("workspace/applyEdit")
        assert [c["textDocument"]["uri"] for c in edit["params"]["edit"]["documentChanges"]] == [
            inside.as_uri()
        ]
        assert "seen = {}" in client.editor.texts[inside.as_uri()]
    assert inside.read_text() == TWO_SUM_SOURCE and outside.read_text() == TWO_SUM_SOURCE
    assert sorted(p.name for p in workspace.iterdir()) == ["two_sum.py"]
    assert os.path.getsize("/etc/passwd") > 0
