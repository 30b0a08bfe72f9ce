"""The record of verified solutions: one JSON object a line, in the chat format fine-tuning tools read.

Each line is `{"messages": [system, user, assistant], ...}`: the prompt the model was given and its reply that
passed the judge (reasoning and code), plus our own fields (task, language, verdict, examples passed, model,
adapter, time). Only verified solutions are recorded. Appends are atomic: a lock, one write of one whole line,
and a cut-off line from an earlier crash or full disk is removed before the next append, so every line parses.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from codegen.examples import Example
from codegen.tasks import Function, Task

APP = "vibethinker-lsp"
RECORD_NAME = "solutions.jsonl"


class RecordError(Exception):
    """The record cannot be written or read; the message is one sentence."""


def data_folder() -> Path:
    """The user's data folder for this program (XDG on Linux, Application Support on macOS, LOCALAPPDATA)."""
    if sys.platform == "win32":
        root = os.environ.get("LOCALAPPDATA") or str(Path.home() / "AppData" / "Local")
    elif sys.platform == "darwin":
        root = str(Path.home() / "Library" / "Application Support")
    else:
        root = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(root) / APP


def default_record_path() -> Path:
    """Where the server records verified solutions unless `history.file` says otherwise."""
    return data_folder() / RECORD_NAME


def record_path(configured: str) -> Path:
    """The record file for a `history.file` setting ('' means the default in the data folder)."""
    return Path(configured).expanduser() if configured else default_record_path()


@dataclass(frozen=True)
class Solution:
    """A verified solution to record: the prompt, the verified reply, and what the judge said."""

    messages: list[dict[str, str]]  # system and user turns, as sent to the model
    reply: str  # the model's whole reply (reasoning and code)
    task: Task
    verdict: str
    passed: int
    total: int
    complexity: str | None = None
    measured: str | None = None
    model: str = ""
    adapter: str = ""
    source: str = "solve"  # "solve" (the command line) or "editor" (an applied edit)
    stress: dict | None = None  # the stress test's verdict, runs and oracle, when one ran


def entry(solution: Solution, now: float | None = None) -> dict:
    """The JSON object for one record line."""
    task = solution.task
    return {
        "messages": [*solution.messages, {"role": "assistant", "content": solution.reply}],
        "task": task_fields(task),
        "language": task.language,
        "verdict": solution.verdict,
        "passed": solution.passed,
        "total": solution.total,
        "complexity": solution.complexity,
        "measured": solution.measured,
        "stress": solution.stress,
        "model": solution.model,
        "adapter": solution.adapter,
        "source": solution.source,
        "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now)),
    }


def task_fields(task: Task) -> dict:
    """What re-judging the task needs (finetune --verify): its code, style and examples."""
    return {
        "function": task.function,
        "class": task.class_name,
        "style": task.style,
        "text": task.text,
        "signature": task.signature,
        "source": task.source,
        "imports": list(task.imports),
        "examples": [{"input": e.input, "output": e.output} for e in task.examples],
        "timeLimitMs": task.time_limit_ms,
        "memoryLimitMb": task.memory_limit_mb,
    }


def task_from_entry(data: dict) -> Task | None:
    """Rebuild a judgeable Task from a record line; None when the line has no task (e.g. other chat data)."""
    raw = data.get("task")
    if not isinstance(raw, dict) or not isinstance(raw.get("examples"), list) or not raw["examples"]:
        return None
    examples = tuple(
        Example(str(e.get("input", "")), str(e.get("output", "")))
        for e in raw["examples"]
        if isinstance(e, dict)
    )
    return Task(
        line=1,
        kind="todo",
        text=str(raw.get("text") or ""),
        language=str(data.get("language") or "python"),
        style=str(raw.get("style") or "function"),
        definition=_definition(raw),
        source=str(raw.get("source") or ""),
        docstring="",
        imports=tuple(str(i) for i in raw.get("imports") or ()),
        examples=examples,
        time_limit_ms=raw.get("timeLimitMs"),
        memory_limit_mb=raw.get("memoryLimitMb"),
    )


def _definition(raw: dict) -> Function | None:
    """The function a record line's task names (None for a program)."""
    if raw.get("function") is None:
        return None
    source = str(raw.get("source") or "")
    signature = str(raw.get("signature") or "")
    return Function(raw["function"], signature, source, "", class_name=raw.get("class"))


def append(path: Path, solution: Solution) -> dict:
    """Append one verified solution to the record (creating its folder); return the line's object.

    RecordError (one sentence) when it is not verified or the file cannot be written."""
    if solution.verdict != "AC" or solution.total <= 0:
        raise RecordError("Only verified solutions (AC on at least one example) are recorded.")
    data = entry(solution)
    line = (json.dumps(data, ensure_ascii=False) + "\n").encode("utf-8")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        append_line(path, line)
    except OSError as exc:
        raise RecordError(
            f"Cannot append to the record {path} ({exc.strerror or exc}); nothing was recorded."
        ) from exc
    return data


def append_line(path: Path, line: bytes) -> None:
    """Append one whole line under an exclusive lock; on failure the file is left as it was."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        _lock(fd)
        size = _drop_cut_line(fd)
        try:
            written = os.write(fd, line)
            if written != len(line):
                raise OSError(28, "short write (disk full?)")
            os.fsync(fd)
        except OSError:
            os.ftruncate(fd, size)
            raise
    finally:
        os.close(fd)  # closing releases the lock


def _lock(fd: int) -> None:
    """Take an exclusive lock on the open file (POSIX; elsewhere appends rely on O_APPEND alone)."""
    try:
        import fcntl
    except ImportError:
        return
    fcntl.flock(fd, fcntl.LOCK_EX)


def _drop_cut_line(fd: int) -> int:
    """Cut the file back to its last newline if it ends mid-line; return its size."""
    size = os.fstat(fd).st_size
    if size == 0 or os.pread(fd, 1, size - 1) == b"\n":
        return size
    chunk = 1 << 16
    end = size
    while end > 0:
        start = max(0, end - chunk)
        block = os.pread(fd, end - start, start)
        cut = block.rfind(b"\n")
        if cut >= 0:
            os.ftruncate(fd, start + cut + 1)
            return start + cut + 1
        end = start
    os.ftruncate(fd, 0)
    return 0


def read(paths: list[Path]) -> Iterator[tuple[Path, int, dict]]:
    """Every JSON object line of the files as (file, line number, object); RecordError for a missing file.

    Lines that are not JSON objects are skipped (the caller counts what it could not use)."""
    for path in paths:
        try:
            handle = open(path, encoding="utf-8")
        except FileNotFoundError:
            raise RecordError(f"{path} does not exist; give a JSONL file of chat examples.") from None
        except OSError as exc:
            raise RecordError(f"Cannot read {path} ({exc.strerror or exc}).") from exc
        with handle:
            for number, text in enumerate(handle, 1):
                text = text.strip()
                if not text:
                    continue
                try:
                    data = json.loads(text)
                except ValueError:
                    continue
                if isinstance(data, dict):
                    yield path, number, data


def count(path: Path) -> int:
    """How many lines the record holds (0 when it does not exist yet)."""
    try:
        with open(path, "rb") as handle:
            return sum(1 for line in handle if line.strip())
    except OSError:
        return 0


def solution_of(task: Task, messages: list[dict[str, str]], candidate, **fields) -> Solution:
    """A Solution from the pipeline's verified candidate (`fields`: model, adapter, source)."""
    report = candidate.report
    stress = getattr(candidate, "stress", None)
    return Solution(
        messages=[m for m in messages if m.get("role") in ("system", "user")],
        reply=candidate.reply,
        task=task,
        verdict=report.verdict.value if report else "unverified",
        passed=report.passed if report else 0,
        total=report.total if report else 0,
        complexity=candidate.complexity,
        measured=candidate.measured,
        stress={"verdict": stress.verdict.value, "runs": stress.runs, "oracle": stress.oracle}
        if stress
        else None,
        **fields,
    )


def summary(configured: str, enabled: bool) -> dict:
    """What doctor shows about the record of verified solutions."""
    path = record_path(configured)
    return {
        "record": "on" if enabled else "off (history.record)",
        "file": str(path),
        "solutions": count(path),
    }
