"""Problems from the browser: a small receiver for Competitive Companion that writes them into the workspace.

Competitive Companion POSTs a problem as JSON (`name`, `url`, `tests: [{input, output}]`, `timeLimit` in ms,
`memoryLimit` in MB, `group`, `interactive`) to a local port (27121 by default). `store_problem` writes the
samples and limits in the Competitive Programming Helper layout, `.cph/.<filename>_<md5 of srcPath>.prob`
(where `vibethinker-lsp judge` and the task reader look for them), beside a source file it creates with a
stdin skeleton and a TODO comment.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from sandbox.cli import problem_file

DEFAULT_PORT = 27121
MAX_BYTES = 1024 * 1024
EXTENSIONS = {"python": ".py", "cpp": ".cpp"}


@dataclass(frozen=True)
class Sample:
    """One sample test of a problem."""

    input: str
    output: str


@dataclass(frozen=True)
class Problem:
    """A problem as Competitive Companion sends it."""

    name: str
    url: str
    tests: list[Sample]
    time_limit_ms: int = 2000
    memory_limit_mb: int = 256
    group: str = ""
    interactive: bool = False
    extra: dict = field(default_factory=dict)


def parse_problem(data: object) -> Problem:
    """Validate Competitive Companion's JSON; raise ValueError with one sentence saying what is wrong."""
    if not isinstance(data, dict):
        raise ValueError("the problem must be a JSON object")
    name, url = data.get("name"), data.get("url", "")
    if not isinstance(name, str) or not name.strip():
        raise ValueError("the problem has no name")
    if not isinstance(url, str):
        raise ValueError("the problem's url must be a string")
    tests = data.get("tests")
    if not isinstance(tests, list):
        raise ValueError("the problem's tests must be a list of {input, output}")
    samples = []
    for index, test in enumerate(tests):
        if (
            not isinstance(test, dict)
            or not isinstance(test.get("input"), str)
            or not isinstance(test.get("output"), str)
        ):
            raise ValueError(f"test {index + 1} must have string input and output")
        samples.append(Sample(test["input"], test["output"]))
    time_limit = number(data.get("timeLimit", 2000), "timeLimit", 1, 600_000)
    memory_limit = number(data.get("memoryLimit", 256), "memoryLimit", 1, 65_536)
    known = {"name", "url", "tests", "timeLimit", "memoryLimit", "group", "interactive"}
    return Problem(
        name=name.strip(),
        url=url,
        tests=samples,
        time_limit_ms=int(time_limit),
        memory_limit_mb=int(memory_limit),
        group=str(data.get("group", "")),
        interactive=bool(data.get("interactive", False)),
        extra={k: v for k, v in data.items() if k not in known},
    )


def number(value: object, name: str, low: float, high: float) -> float:
    """A numeric field within its range, else ValueError."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise ValueError(f"{name} must be a number from {low} to {high}")
    return value


def slug(name: str) -> str:
    """A file name from a problem name: `A. Watermelon` -> `A_Watermelon`."""
    return re.sub(r"[^A-Za-z0-9]+", "_", name).strip("_") or "problem"


def skeleton(problem: Problem, language: str) -> str:
    """A stdin program with a TODO for the problem."""
    todo = f"TODO: solve {problem.name}" + (f" ({problem.url})" if problem.url else "")
    if language == "cpp":
        return (
            "#include <bits/stdc++.h>\nusing namespace std;\n\nint main() {\n"
            "    ios::sync_with_stdio(false);\n    cin.tie(nullptr);\n"
            f"    // {todo}\n    return 0;\n}}\n"
        )
    return (
        f"import sys\n\n\ndef main() -> None:\n    data = sys.stdin.read().split()\n    # {todo}\n\n\n"
        'if __name__ == "__main__":\n    main()\n'
    )


def store_problem(problem: Problem, folder: Path, language: str) -> Path:
    """Create `<folder>/<slug>.py|.cpp` (unless it exists) and write the samples and limits beside it;
    return the source file's path."""
    if language not in EXTENSIONS:
        raise ValueError(f"cannot create a {language} file; use python or cpp")
    folder.mkdir(parents=True, exist_ok=True)
    source = folder / f"{slug(problem.name)}{EXTENSIONS[language]}"
    create_exclusive(source, skeleton(problem, language))
    prob = problem_file(source)
    prob.parent.mkdir(exist_ok=True)
    record = {
        "name": problem.name,
        "url": problem.url,
        "tests": [{"id": i + 1, "input": t.input, "output": t.output} for i, t in enumerate(problem.tests)],
        "interactive": problem.interactive,
        "memoryLimit": problem.memory_limit_mb,
        "timeLimit": problem.time_limit_ms,
        "srcPath": str(source.resolve()),
        "group": problem.group,
        "local": False,
    }
    write_atomic(prob, json.dumps(record, indent=2))
    return source


def write_atomic(path: Path, text: str) -> None:
    """Write through a temporary file in the same folder and rename it into place."""
    handle, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def create_exclusive(path: Path, text: str) -> bool:
    """Create a file with the text unless it exists (never overwriting); True when created."""
    handle, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        os.chmod(temp, 0o644)
        os.link(temp, path)
        return True
    except FileExistsError:
        return False
    finally:
        Path(temp).unlink(missing_ok=True)


class CompanionServer:
    """Receives problems from Competitive Companion on a local port and hands them to a callback."""

    def __init__(
        self,
        on_problem: Callable[[Problem], None],
        port: int = DEFAULT_PORT,
        host: str = "127.0.0.1",
        max_bytes: int = MAX_BYTES,
    ) -> None:
        """Bind the port now (raising OSError if taken); serve once start() is called."""
        handler = type(
            "Handler", (_Handler,), {"on_problem": staticmethod(on_problem), "max_bytes": max_bytes}
        )
        self.server = ThreadingHTTPServer((host, port), handler)
        self.server.daemon_threads = True
        self.thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        """The port actually bound (useful with port 0)."""
        return self.server.server_address[1]

    def start(self) -> None:
        """Serve in a background thread."""
        self.thread = threading.Thread(target=self.server.serve_forever, name="companion", daemon=True)
        self.thread.start()

    def stop(self) -> None:
        """Stop serving and release the port."""
        if self.thread is not None:
            self.server.shutdown()
            self.thread.join(timeout=5)
        self.server.server_close()


class _Handler(BaseHTTPRequestHandler):
    """One HTTP request from the browser extension."""

    on_problem: Callable[[Problem], None]
    max_bytes: int

    def do_POST(self) -> None:  # noqa: N802 - the name http.server calls
        """Validate the problem and pass it on."""
        length = self.headers.get("Content-Length")
        if length is None or not length.isdigit():
            return self.answer(411, "send the problem with a Content-Length header")
        if int(length) > self.max_bytes:
            return self.answer(413, f"the problem is larger than {self.max_bytes} bytes")
        body = self.rfile.read(int(length))
        try:
            problem = parse_problem(json.loads(body.decode("utf-8")))
        except UnicodeDecodeError:
            return self.answer(400, "the body is not UTF-8 text")
        except ValueError as exc:
            reason = "the body is not valid JSON" if isinstance(exc, json.JSONDecodeError) else str(exc)
            return self.answer(400, reason)
        try:
            self.on_problem(problem)
        except Exception as exc:  # noqa: BLE001 - the browser gets the reason, the server stays up
            return self.answer(500, f"the problem could not be stored: {exc}")
        return self.answer(200, "ok")

    def do_GET(self) -> None:  # noqa: N802 - the name http.server calls
        """Only POST is served."""
        self.answer(405, "POST a problem as JSON")

    def answer(self, status: int, message: str) -> None:
        """Reply with a status and a one-line text body."""
        body = (message + "\n").encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - signature of the base class
        """Stay quiet; the server logs what it stores."""
