"""End to end in a browser: `vibethinker-lsp web` driven by headless Chromium like a user.

The page runs as a real subprocess (`python -m lsp_server web`) against a local OpenAI-compatible test server
(devtools/openai_server.py) that this test controls: a statement with samples is pasted and solved to `AC` with
its code and a download; a wrongly answering model is shown unverified with its first failing sample; Cancel
stops a slow run while a second tab is told it waits; an empty problem, a statement without samples and a
model server that is down each get one clear message while the page keeps serving; a problem sent by
Competitive Companion appears in the Problem box. Chromium is the system one (as the code-server test uses);
the tests skip only when it is absent. VIBETHINKER_UPDATE_SCREENSHOT=1 copies the AC screenshot to
docs/web.png.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from devtools.openai_server import FakeOpenAI

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("VIBETHINKER_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
SCREENSHOT = REPO / "docs" / "web.png"

STATEMENT = """B. Sum of Two
time limit per test: 1 second
memory limit per test: 256 megabytes

Alice has two integers a and b. Help her: print their sum.

Input
The only line contains two integers a and b separated by a space (1 <= a, b <= 10^9).

Output
Print one integer, the value of a + b.

Examples
Input
1 2
Output
3
Input
10 20
Output
30
"""

GOOD = """<think>
The input is one line with two integers a and b, and we print a + b. Python integers do not overflow, so
10^9 + 10^9 is fine. Check the samples: 1 + 2 = 3 and 10 + 20 = 30. Reading the whole input and splitting
handles extra spaces and newlines.
</think>
Read both numbers and print their sum.

```python
import sys


def main() -> None:
    a, b = map(int, sys.stdin.read().split())
    print(a + b)


main()
```

Complexity: O(1) time, O(1) space
"""

WRONG = """<think>Probably the larger number plus one.</think>
```python
a, b = map(int, input().split())
print(max(a, b) + 1)
```
Complexity: O(1) time, O(1) space
"""

SLOW = "<think>" + " ".join(f"step{i}" for i in range(400)) + "</think>\n```python\nprint(0)\n```\n"

pytestmark = [
    pytest.mark.skipif(
        not Path(CHROMIUM).exists(), reason=f"no Chromium at {CHROMIUM} (the system chromium package)"
    ),
    pytest.mark.timeout(180),
]


def _free_port() -> int:
    """A loopback port that is free now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Model:
    """The fake model server on a fixed port, which a test can take down and bring back."""

    def __init__(self) -> None:
        self.port = _free_port()
        self.server = FakeOpenAI(GOOD, port=self.port).start()

    @property
    def base_url(self) -> str:
        """The URL the page is started with."""
        return f"http://127.0.0.1:{self.port}/v1"

    def answer(self, reply: str, delay_s: float = 0.0) -> None:
        """Answer every request with this reply, streamed with this delay between words."""
        self.server.responder = lambda _messages: reply
        self.server.chunk_delay_s = delay_s

    def down(self) -> None:
        """Stop listening: connections are refused."""
        self.server.stop()

    def up(self) -> None:
        """Listen again on the same port, answering with GOOD."""
        self.server = FakeOpenAI(GOOD, port=self.port).start()


@pytest.fixture(scope="module")
def model():
    """The fake model server for the whole module."""
    fake = Model()
    yield fake
    fake.server.stop()


@pytest.fixture(scope="module")
def web(model, tmp_path_factory):
    """`vibethinker-lsp web` as a subprocess on free ports; yields (page URL, Companion port)."""
    port, companion = _free_port(), _free_port()
    log = tmp_path_factory.mktemp("web") / "web.log"
    command = [
        sys.executable,
        "-m",
        "lsp_server",
        "web",
        "--port",
        str(port),
        "--companion",
        str(companion),
        "--base-url",
        model.base_url,
        "--model",
        "fake",
        "-n",
        "2",
        "--no-stress",  # the page with the examples alone; stress results have their own tests
    ]
    with log.open("w") as out:
        process = subprocess.Popen(command, cwd=REPO, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    try:
        _wait_for_page(url, process, log)
        yield url, companion
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_for_page(url: str, process: subprocess.Popen, log: Path, timeout_s: float = 60) -> None:
    """Wait until the page answers; fail with the server's log if it exits first."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the web server exited with {process.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    pytest.fail(f"the page did not answer within {timeout_s:.0f} s:\n{log.read_text()}")


@pytest.fixture(scope="module")
def browser():
    """Headless system Chromium."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield chromium
        chromium.close()


@pytest.fixture
def open_page(browser, web):
    """Open the page in a fresh tab (its own Gradio session); closes every tab it opened."""
    pages = []

    def opener():
        page = browser.new_page(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
        page.goto(web[0])
        page.locator("#problem textarea").wait_for()
        pages.append(page)
        return page

    yield opener
    for page in pages:
        page.close()


def solve(page, problem: str) -> None:
    """Paste a problem and press Solve."""
    page.locator("#problem textarea").fill(problem)
    page.locator("#solve").click()


def wait_text(page, selector: str, pattern: str, timeout_s: float = 30) -> str:
    """Wait until an element's text matches a regular expression; its text."""
    locator = page.locator(selector)
    deadline = time.monotonic() + timeout_s
    text = ""
    while time.monotonic() < deadline:
        text = locator.inner_text()
        if re.search(pattern, text):
            return text
        time.sleep(0.1)
    raise AssertionError(f"{selector} never matched {pattern!r}; it shows {text!r}")


def test_a_statement_with_samples_is_solved_verified_and_downloadable(open_page, model):
    model.answer(GOOD, delay_s=0.01)  # a believable tokens/s in the screenshot
    page = open_page()
    solve(page, STATEMENT)
    verdict = wait_text(page, "#verdict", r"\bAC\b")
    assert "Verified on all 2 samples" in verdict and "O(1) time" in verdict
    assert "print(a + b)" in page.locator("#code").inner_text()
    assert "1 AC · 2 AC" in page.locator("#candidates").inner_text()
    assert "Python integers do not overflow" in page.locator("#reasoning textarea").input_value()
    assert re.search(r"Reasoning \(\d+\.\d tokens/s\)", page.inner_text("body"))
    request = model.server.requests[-1]
    assert "1 2" in request["messages"][-1]["content"] and request["n"] == 2
    with page.expect_download() as download:
        page.locator("#download").click()
    assert download.value.suggested_filename == "solution.py"
    assert "print(a + b)" in Path(download.value.path()).read_text()
    shot = Path(os.environ.get("TMPDIR", "/tmp")) / "vibethinker-web.png"
    page.screenshot(path=str(shot), full_page=True)
    if os.environ.get("VIBETHINKER_UPDATE_SCREENSHOT"):
        shutil.copyfile(shot, SCREENSHOT)


def test_a_wrong_model_is_shown_unverified_with_its_first_failing_sample(open_page, model):
    model.answer(WRONG)
    page = open_page()
    solve(page, STATEMENT)
    verdict = wait_text(page, "#verdict", r"not verified")
    assert not re.search(r"\bAC\b", verdict)
    assert "WA" in verdict and "passed 1/2 samples" in verdict
    assert "First failing sample: sample 2" in verdict and "30" in verdict and "21" in verdict
    assert "max(a, b) + 1" in page.locator("#code").inner_text()
    assert "1 AC · 2 WA" in page.locator("#candidates").inner_text()
    with page.expect_download() as download:
        page.locator("#download").click()
    assert download.value.suggested_filename == "unverified.py"


def test_cancel_stops_a_slow_run_and_a_second_tab_is_told_it_waits(open_page, model):
    model.answer(SLOW, delay_s=0.05)
    first, second = open_page(), open_page()
    solve(first, STATEMENT)
    wait_text(first, "#status", r"tokens/s")
    solve(second, STATEMENT)
    wait_text(second, "#status", r"Another run .* is solving")
    second.locator("#cancel").click()
    wait_text(second, "#status", r"Cancelled before it started")
    streamed = first.locator("#reasoning textarea").input_value()
    assert "step1" in streamed and "step399" not in streamed
    first.locator("#cancel").click()
    wait_text(first, "#verdict", r"Cancelled", timeout_s=10)
    deadline = time.monotonic() + 10
    while model.server.cancelled_streams == 0 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert model.server.cancelled_streams >= 1  # the model server saw the request dropped
    model.answer(GOOD)
    solve(first, STATEMENT)
    wait_text(first, "#verdict", r"\bAC\b")


def test_bad_input_and_a_model_server_that_is_down_get_clear_messages(open_page, model):
    model.answer(GOOD)
    page = open_page()
    solve(page, "   \n")
    wait_text(page, "#status", r"The problem is empty; paste a statement")
    solve(page, "Print the sum of two integers given on one line.")
    verdict = wait_text(page, "#verdict", r"Unverified")
    assert "no samples, so nothing could be verified" in verdict and not re.search(r"\bAC\b", verdict)
    assert "print(a + b)" in page.locator("#code").inner_text()
    model.down()
    try:
        solve(page, STATEMENT)
        status = wait_text(page, "#status", r"Cannot reach the model server")
        assert model.base_url in status
    finally:
        model.up()
    solve(page, STATEMENT)
    wait_text(page, "#verdict", r"\bAC\b")


def test_a_problem_from_competitive_companion_appears_in_the_problem_box(open_page, web, model):
    model.answer(GOOD)
    page = open_page()
    problem = {
        "name": "C. Companion Sum",
        "url": "https://codeforces.com/contest/1/problem/C",
        "tests": [{"input": "4 5\n", "output": "9\n"}, {"input": "7 8\n", "output": "15\n"}],
        "timeLimit": 1500,
        "memoryLimit": 128,
    }
    connection = http.client.HTTPConnection("127.0.0.1", web[1], timeout=10)
    connection.request("POST", "/", body=json.dumps(problem), headers={"Content-Type": "application/json"})
    assert connection.getresponse().status == 200
    connection.close()
    box = page.locator("#problem textarea")
    deadline = time.monotonic() + 10
    while "C. Companion Sum" not in box.input_value() and time.monotonic() < deadline:
        time.sleep(0.1)
    text = box.input_value()
    assert "Sample Input 2\n7 8" in text and "Time limit: 1.5 s" in text and "Memory limit: 128 MB" in text
    page.locator("#solve").click()
    verdict = wait_text(page, "#verdict", r"\bAC\b")
    assert "Verified on all 2 samples" in verdict
