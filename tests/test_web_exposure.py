"""Exposure of the web playground: it listens on 127.0.0.1 unless told otherwise, refuses a wider bind
without a log-in (one sentence, exit status 2), and with --auth nothing of the page's app is served before
logging in.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest

from devtools.rpc_client import ROOT
from tests.test_exposure import free_port, listening_addresses, non_loopback_ip

DEAD_MODEL = "http://127.0.0.1:9/v1"  # never contacted: no problem is solved here


def web(*options: str) -> list[str]:
    """The command line of `vibethinker-lsp web` with these options."""
    return [sys.executable, "-m", "lsp_server", "web", "--base-url", DEAD_MODEL, *options]


def status_of(request: urllib.request.Request | str) -> int:
    """The HTTP status of a request (errors included)."""
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def wait_for_http(url: str, process: subprocess.Popen, timeout_s: float = 60) -> None:
    """Wait until the server answers HTTP at all."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        assert process.poll() is None, f"the web server exited with {process.returncode}"
        try:
            status_of(url)
            return
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"{url} did not answer within {timeout_s:.0f} s")


@pytest.mark.parametrize(
    ("options", "says"),
    [
        (("--host", "0.0.0.0"), "add --auth USER:PASSWORD"),
        (("--host", "::"), "add --auth USER:PASSWORD"),
        (("--host", "192.0.2.7"), "add --auth USER:PASSWORD"),
        (("--host", "0.0.0.0", "--auth", "admin"), "--auth wants USER:PASSWORD"),
        (("--auth", ":secret"), "--auth wants USER:PASSWORD"),
    ],
)
def test_a_wider_bind_without_a_log_in_is_refused_in_one_sentence(options, says):
    done = subprocess.run(
        web(*options), cwd=ROOT, capture_output=True, text=True, timeout=60, env=_no_auth_env()
    )
    assert done.returncode == 2
    assert says in done.stderr and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def _no_auth_env() -> dict:
    """The environment without VIBETHINKER_WEB_AUTH, which would supply a log-in."""
    return {k: v for k, v in os.environ.items() if k != "VIBETHINKER_WEB_AUTH"}


def test_the_page_listens_on_loopback_by_default_and_asks_for_the_log_in_it_was_given():
    port = free_port()
    process = subprocess.Popen(
        web("--port", str(port), "--auth", "ada:s3cret"),
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=_no_auth_env(),
    )
    base = f"http://127.0.0.1:{port}"
    try:
        assert listening_addresses(process.pid, port, timeout=60) == ["127.0.0.1"]
        outside = non_loopback_ip()
        if outside is not None:
            with pytest.raises(OSError):
                urllib.request.urlopen(f"http://{outside}:{port}/", timeout=2)
        wait_for_http(base + "/", process)
        assert status_of(base + "/config") == 401
        wrong = urllib.parse.urlencode({"username": "ada", "password": "guess"}).encode()
        assert status_of(urllib.request.Request(base + "/login", data=wrong)) >= 400
        right = urllib.parse.urlencode({"username": "ada", "password": "s3cret"}).encode()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor())
        with opener.open(urllib.request.Request(base + "/login", data=right), timeout=10) as response:
            assert response.status == 200
        with opener.open(base + "/config", timeout=10) as response:
            assert "VibeThinker playground" in json.dumps(json.load(response))
    finally:
        process.terminate()
        process.wait(timeout=30)
