"""A problem pasted as text — a statement with its samples, or code with a TODO — read as tasks.

A statement is wrapped as a program file in the chosen language (the statement in comments at the top, a
`main` with a TODO below) so that the task reader in codegen/tasks.py finds its samples the way it finds them
in a source file: Codeforces/AtCoder `Input`/`Output` and `Sample Input 1` blocks make a stdin program, and
LeetCode `Input: nums = [2,7], target = 9` / `Output: [0,1]` pairs (Python) a function `solve(nums, target)`.
Pure functions over text, like the task reader; the web page and the command line share them.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass

from codegen.examples import Example, arguments_call, stdin_block_examples
from codegen.tasks import Task, extract_tasks

LANGUAGES = ("python", "cpp")
TODO_TEXT = "solve the problem stated above"
MAX_CHARS = 200_000

_TIME_LIMIT = re.compile(
    r"time\s+limit[^:\n]{0,20}:\s*(\d+(?:\.\d+)?)\s*(ms|millisec\w*|s\b|sec\w*)", re.IGNORECASE
)
_MEMORY_LIMIT = re.compile(
    r"memory\s+limit[^:\n]{0,20}:\s*(\d+(?:\.\d+)?)\s*(kb|kib|kilobytes?|mb|mib|megabytes?|gb|gib|gigabytes?)",
    re.IGNORECASE,
)
_MEMORY_FACTOR = {"k": 1 / 1024, "m": 1, "g": 1024}
_LEETCODE_INPUT = re.compile(
    r"^\s*(?:example\s*\d*\s*:?\s*)?input\s*:\s*(?P<rest>\S.*)$", re.IGNORECASE | re.M
)
_WORD = re.compile(r"[A-Za-z]{2,}")
_PROSE_WORDS = 6  # a sample line with this many words is a statement's section text, not a sample


class StatementError(ValueError):
    """The pasted text cannot be read as a problem; the message says what to do."""


@dataclass(frozen=True)
class PastedProblem:
    """What was read from a pasted problem: the task to solve, the file it was read from, and notes."""

    task: Task
    source: str  # the program file the task was read from (the pasted code itself, or the wrapper)
    wrapped: bool  # True when the text was a statement and `source` is our wrapper around it
    others: int = 0  # further tasks in pasted code that were not taken

    @property
    def verifiable(self) -> bool:
        """Whether there are samples to verify a candidate on."""
        return bool(self.task.examples)


def read_problem(text: str, language: str) -> PastedProblem:
    """Read pasted text as one task; raise StatementError with one sentence when it cannot be."""
    if language not in LANGUAGES:
        raise StatementError(f"{language!r} is not a language the page solves in; choose python or cpp.")
    if not text.strip():
        raise StatementError("The problem is empty; paste a statement with its samples, or code with a TODO.")
    if len(text) > MAX_CHARS:
        raise StatementError(
            f"The problem is longer than {MAX_CHARS:,} characters; paste the statement only."
        )
    text = text.replace("\r\n", "\n")
    own = extract_tasks(text, language)
    if own:
        return PastedProblem(own[0], text, wrapped=False, others=len(own) - 1)
    source, line = wrap_statement(text, language)
    task = next(t for t in extract_tasks(source, language) if t.line == line)
    examples = tuple(e for e in task.examples if not _is_prose(e))
    time_ms, memory_mb = statement_limits(text)
    task = dataclasses.replace(
        task,
        examples=examples,
        time_limit_ms=time_ms or task.time_limit_ms,
        memory_limit_mb=memory_mb or task.memory_limit_mb,
    )
    return PastedProblem(task, source, wrapped=True)


def wrap_statement(text: str, language: str) -> tuple[str, int]:
    """A program file with the statement in comments at the top and a TODO to implement; (source, the
    1-based line of the TODO)."""
    marker = "//" if language == "cpp" else "#"
    header = "\n".join(f"{marker} {line}".rstrip() for line in text.strip("\n").split("\n"))
    parameters = _leetcode_parameters(text) if language == "python" else None
    if parameters is not None:
        body = f"def solve({', '.join(parameters)}):\n    # TODO: {TODO_TEXT}\n    pass\n"
    elif language == "cpp":
        body = (
            "#include <bits/stdc++.h>\nusing namespace std;\n\nint main() {\n"
            f"    // TODO: {TODO_TEXT} (read standard input, write standard output)\n    return 0;\n}}\n"
        )
    else:
        body = (
            "import sys\n\n\ndef main() -> None:\n"
            f"    # TODO: {TODO_TEXT} (read standard input, write standard output)\n    pass\n\n\n"
            'if __name__ == "__main__":\n    main()\n'
        )
    source = header + "\n" + body
    todo_line = source.split("\n").index(next(x for x in source.split("\n") if f"TODO: {TODO_TEXT}" in x))
    return source, todo_line + 1


def _leetcode_parameters(text: str) -> list[str] | None:
    """The argument names of LeetCode-style `Input: nums = [2,7], target = 9` examples, when the statement
    has them and no stdin sample blocks."""
    if stdin_block_examples(text):
        return None
    match = _LEETCODE_INPUT.search(text)
    if match is None:
        return None
    call = arguments_call("f", match.group("rest").split(" Output:")[0].strip())
    if call is None:
        return None
    names = re.findall(r"(?:\(|, )([A-Za-z_]\w*)=", call)
    return names or None


def statement_limits(text: str) -> tuple[int | None, int | None]:
    """The time limit (ms) and memory limit (MB) a statement states, e.g. `time limit per test: 2 seconds`."""
    time_ms = memory_mb = None
    found = _TIME_LIMIT.search(text)
    if found:
        value, unit = float(found.group(1)), found.group(2).lower()
        time_ms = round(value if unit.startswith("ms") or unit.startswith("milli") else value * 1000)
    found = _MEMORY_LIMIT.search(text)
    if found:
        memory_mb = round(float(found.group(1)) * _MEMORY_FACTOR[found.group(2)[0].lower()])
    return (time_ms or None), (memory_mb or None)


def _is_prose(example: Example) -> bool:
    """Whether an example is really a statement's `Input`/`Output` section (sentences, not sample data)."""
    lines = (example.input + "\n" + example.output).split("\n")
    return any(len(_WORD.findall(line)) >= _PROSE_WORDS for line in lines)


def problem_text(
    name: str,
    url: str,
    samples: list[tuple[str, str]],
    time_limit_ms: int | None,
    memory_limit_mb: int | None,
) -> str:
    """A problem (e.g. from Competitive Companion) written as a statement that `read_problem` reads back:
    its name, url, limits and `Sample Input N`/`Sample Output N` blocks."""
    lines = [name]
    if url:
        lines.append(url)
    limits = []
    if time_limit_ms:
        limits.append(f"Time limit: {time_limit_ms / 1000:g} s")
    if memory_limit_mb:
        limits.append(f"Memory limit: {memory_limit_mb} MB")
    if limits:
        lines.append(" / ".join(limits))
    for number, (given, expected) in enumerate(samples, start=1):
        lines += ["", f"Sample Input {number}", given.rstrip("\n"), "", f"Sample Output {number}"]
        lines.append(expected.rstrip("\n"))
    return "\n".join(lines) + "\n"
