"""A stress test's counterexample kept as a test, where the task reader finds samples (codegen/examples.py
`sample_files`), so that the next Run examples, Implement, Fix and `solve` use it.

- A stdin program: appended to the Competitive Programming Helper's `.cph/.NAME_*.prob` problem when that is
  where the samples come from; else a new `NAME.K.in`/`NAME.K.out` pair beside the file, or in the `tests/`
  (`samples/`, ...) folder the samples come from (`K.in`/`K.out` there when its files are not named after
  the source). When the samples were only in the statement, they are written as files first too (sample
  files take the place of the statement's samples, which would otherwise be lost).
- A function: a doctest (`>>> call` and the expected value) added to its docstring, or a
  `// call == expected` comment line above a C++ function; an edit of the document, not a file.

Files are written atomically and never over an existing one: each is written to a temporary name in the
same folder and hard-linked to a name that is free (the link fails rather than replace a file).
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from pathlib import Path

from codegen.edits import TextEdit
from codegen.examples import (
    _OUTPUT_SUFFIXES,
    _SAMPLE_FOLDERS,
    _cph_problem,
    _is_input_file,
    _pairs_beside,
    _pairs_in_folders,
    glob_escape,
)
from codegen.geometry import Position, Range
from codegen.tasks import Task


class SampleWriteError(Exception):
    """The counterexample could not be kept; the message is one sentence."""


def add_stdin_sample(path: Path, given: str, expected: str, statement_samples=()) -> list[Path]:
    """Keep a stdin counterexample as a sample of the program at `path`; return the files written.

    `statement_samples` are the (input, output) samples the task has now when they come from its statement:
    written first when no sample file exists yet, so that they stay samples."""
    path = Path(path)
    given, expected = _ends_with_newline(given), _ends_with_newline(expected)
    try:
        prob = _cph_file(path)
        if prob is not None:
            _append_cph_test(prob, given, expected)
            return [prob]
        if _pairs_beside(path):
            return _write_pair(path.parent, f"{path.stem}.", given, expected)
        folder = _sample_folder(path)
        if folder is not None:
            own = [p for p in folder.iterdir() if _is_input_file(p) and p.name.startswith(path.stem)]
            return _write_pair(folder, f"{path.stem}." if own else "", given, expected)
        written: list[Path] = []
        for old_input, old_output in statement_samples:
            written += _write_pair(
                path.parent, f"{path.stem}.", _ends_with_newline(old_input), _ends_with_newline(old_output)
            )
        return written + _write_pair(path.parent, f"{path.stem}.", given, expected)
    except OSError as exc:
        raise SampleWriteError(f"Cannot write the test beside {path.name} ({exc.strerror or exc}).") from None


def function_sample_edit(task: Task, call: str, expected: str, lines: list[str]) -> TextEdit | None:
    """The edit that adds a counterexample to a function's examples: a doctest at the end of a Python
    docstring, or a `// call == expected` line above a C++ function; None when there is nowhere to put it."""
    call, expected = call.strip(), expected.strip()
    start = task.replace_range.start.line if task.replace_range else None
    if start is None:
        return None
    if task.language == "python":
        return _doctest_edit(lines, start, call, expected)
    if task.language == "cpp":
        indent = re.match(r"\s*", lines[start]).group()
        return TextEdit(Range(Position(start, 0), Position(start, 0)), f"{indent}// {call} == {expected}\n")
    return None


def _doctest_edit(lines: list[str], start: int, call: str, expected: str) -> TextEdit | None:
    """A doctest before the closing quotes of the docstring of the function defined at line `start`."""
    quotes = None
    for number in range(start + 1, min(len(lines), start + 200)):
        line = lines[number]
        if quotes is None:
            stripped = line.strip()
            if not stripped:
                continue
            found = re.match(r'[rRuU]?("""|\'\'\')', stripped)
            if found is None:
                return None  # no docstring
            quotes = found.group(1)
            rest = stripped[found.end() :]
            if quotes in rest:
                return None  # a one-line docstring: left alone
            indent = re.match(r"\s*", line).group()
            continue
        if quotes in line:
            close = line.index(quotes)
            text = f"\n{indent}>>> {call}\n{indent}{expected}\n"
            if line[:close].strip():  # the closing quotes end a line of text
                return TextEdit(Range(Position(number, close), Position(number, close)), text + indent)
            return TextEdit(Range(Position(number, 0), Position(number, 0)), text.lstrip("\n"))
    return None


def _ends_with_newline(text: str) -> str:
    """Text ending with one newline, as sample files do."""
    return text if text.endswith("\n") else text + "\n"


def _cph_file(path: Path) -> Path | None:
    """The `.cph` problem file the samples come from, if they do."""
    cph = _cph_problem(path)
    if cph is None or not cph.examples:
        return None
    for prob in sorted((path.parent / ".cph").glob(f".{glob_escape(path.name)}_*.prob")):
        try:
            data = json.loads(prob.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            continue
        src = data.get("srcPath") if isinstance(data, dict) else None
        if isinstance(data, dict) and (not isinstance(src, str) or not src or Path(src).name == path.name):
            return prob
    return None


def _append_cph_test(prob: Path, given: str, expected: str) -> None:
    """Add a test to a `.cph` problem file, replacing the file atomically (its other tests are kept)."""
    data = json.loads(prob.read_text(encoding="utf-8"))
    tests = data.setdefault("tests", [])
    ids = [t.get("id") for t in tests if isinstance(t, dict) and isinstance(t.get("id"), int)]
    tests.append({"id": max(ids, default=0) + 1, "input": given, "output": expected})
    _replace_atomically(prob, json.dumps(data))


def _sample_folder(path: Path) -> Path | None:
    """The `tests/`-like folder the samples come from, if they come from one."""
    if not _pairs_in_folders(path):
        return None
    for name in _SAMPLE_FOLDERS:
        folder = path.parent / name
        if folder.is_dir() and any(_is_input_file(p) for p in folder.iterdir()):
            return folder
    return None


def _write_pair(folder: Path, prefix: str, given: str, expected: str) -> list[Path]:
    """Write `PREFIXK.in` and `PREFIXK.out` for the first K whose input and outputs are all free."""
    number = 1
    while True:
        stem = folder / f"{prefix}{number}"
        names = [stem.with_name(stem.name + ".in")] + [
            stem.with_name(stem.name + s) for s in _OUTPUT_SUFFIXES
        ]
        if not any(p.exists() for p in names):
            output, given_path = names[1], names[0]
            if _create_new(output, expected) and _create_new(given_path, given):
                return [given_path, output]
        number += 1
        if number > 10_000:
            raise OSError("no free sample name")


def _create_new(path: Path, text: str) -> bool:
    """Write a new file atomically; False (and nothing written) when the name was taken meanwhile."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        try:
            os.link(temporary, path)
        except FileExistsError:
            return False
        except OSError:  # a file system without hard links: exclusive create, then write
            try:
                with open(path, "x", encoding="utf-8") as out:
                    out.write(text)
            except FileExistsError:
                return False
        return True
    finally:
        os.unlink(temporary)


def _replace_atomically(path: Path, text: str) -> None:
    """Replace a file's content atomically (a temporary file in its folder, renamed over it)."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise
