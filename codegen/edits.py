"""Turning verified code into text edits: where it goes, how it is indented, and the note above it."""

from __future__ import annotations

import textwrap
from dataclasses import dataclass

from codegen.geometry import Position, Range
from codegen.languages import parser
from codegen.placement import merge
from codegen.tasks import Task

_LINE_COMMENT = {"python": "#"}


@dataclass(frozen=True)
class TextEdit:
    """Replace `range` (0-based, code-point columns) with `new_text`."""

    range: Range
    new_text: str


def comment_prefix(language: str) -> str:
    """The line-comment marker of a language."""
    return _LINE_COMMENT.get(language, "//")


def note_line(
    verdict: str,
    passed: int,
    total: int,
    complexity: str | None,
    measured: str | None = None,
    stress: str | None = None,
) -> str:
    """The one-line note put above the code, without the comment marker; `stress` says what the stress test
    checked, e.g. "300 stress tests vs brute force (brute.py), n=2e5 in 0.4 s"."""
    if total:
        check = f"{verdict}: passed {passed}/{total} examples"
        if stress:
            check += f", {stress}"
    else:
        check = "unverified: no examples to run"
    parts = [f"VibeThinker ({check})"]
    if complexity:
        parts.append(f"complexity {complexity}")
    if measured:
        parts.append(measured)
    return "; ".join(parts)


def implementation_edit(task: Task, code: str, note: str) -> TextEdit:
    """Return the edit replacing the task's function (and a marker above it) with `code` and a note line.

    In a Python or C++ file (outside a class) the reply is fitted into the file (codegen/placement.py): the
    task's function, or for a whole program the code after the problem statement, changes; the rest stays."""
    body = textwrap.dedent(code).strip("\n")
    body = _drop_repeated_note(body, task.language)
    body = keep_docstring(task, body)
    if fits_in_file(task):
        return placed_edit(task, body, f"{comment_prefix(task.language)} {note}")
    indent = _indent(task)
    lines = [f"{comment_prefix(task.language)} {note}"] + body.split("\n")
    text = "\n".join((indent + ln) if ln.strip() else "" for ln in lines)
    assert task.replace_range is not None
    rng = task.replace_range
    # The range starts at the function's first column; the indentation before it is already there.
    first = text[len(indent) :] if rng.start.column >= len(indent) else text
    return TextEdit(rng, first)


def fits_in_file(task: Task) -> bool:
    """Whether the task's reply is fitted into its file rather than replacing the function alone."""
    return (
        task.language in ("python", "cpp")
        and bool(task.file_text)
        and task.class_name is None
        and task.replace_range is not None
        and (task.style == "stdin" or task.function is not None)
    )


def placed_edit(task: Task, code: str, note_comment: str) -> TextEdit:
    """The edit that fits `code` into the task's file (see codegen/placement.py), with the note line above."""
    text = task.file_text
    region = task.replace_range
    program = task.program_range or region
    span = merge(
        text,
        task.language,
        task.function,
        (byte_offset(text, region.start), byte_offset(text, region.end)),
        (byte_offset(text, program.start), byte_offset(text, program.end)),
        code,
        note_comment,
        add_entry_call=task.style == "stdin",
    )
    return TextEdit(Range(position_at(text, span.start), position_at(text, span.end)), span.text)


def file_after(task: Task, code: str, note: str = "") -> str:
    """The task's file as it will be after the edit that puts `code` in (what the judge runs for stdin)."""
    edit = implementation_edit(task, code, note or "VibeThinker")
    return apply_edits(task.file_text, [edit])


def byte_offset(text: str, position: Position) -> int:
    """The UTF-8 byte offset of a (line, code-point column) position, clamped into the text."""
    lines = text.split("\n")
    line = min(max(position.line, 0), len(lines) - 1)
    before = sum(len(ln.encode("utf-8")) + 1 for ln in lines[:line])
    return before + len(lines[line][: max(position.column, 0)].encode("utf-8"))


def position_at(text: str, offset: int) -> Position:
    """The (line, code-point column) position of a UTF-8 byte offset."""
    before = text.encode("utf-8")[:offset].decode("utf-8", errors="ignore")
    line = before.count("\n")
    return Position(line, len(before) - (before.rfind("\n") + 1))


def comment_edit(task: Task, note: str) -> TextEdit:
    """Return an edit inserting a one-line comment above the task's function."""
    assert task.replace_range is not None
    start = task.replace_range.start
    at = Position(start.line, start.column)
    return TextEdit(Range(at, at), f"{comment_prefix(task.language)} {note}\n{_indent(task)}")


def _indent(task: Task) -> str:
    """The indentation of the task's function ("" for a program at module level)."""
    return task.definition.indent if task.definition is not None else ""


def apply_edits(text: str, edits: list[TextEdit]) -> str:
    """Apply non-overlapping edits to text (used by the CLI and tests)."""
    lines = text.split("\n")
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line) + 1)

    def offset(p: Position) -> int:
        line = min(max(p.line, 0), len(lines) - 1)
        return starts[line] + min(max(p.column, 0), len(lines[line]))

    out = text
    for edit in sorted(edits, key=lambda e: (e.range.start.line, e.range.start.column), reverse=True):
        out = out[: offset(edit.range.start)] + edit.new_text + out[offset(edit.range.end) :]
    return out


def _drop_repeated_note(body: str, language: str) -> str:
    """Drop a note line from an earlier run that the model copied back."""
    marker = f"{comment_prefix(language)} VibeThinker ("
    return "\n".join(ln for ln in body.split("\n") if not ln.strip().startswith(marker))


def keep_docstring(task: Task, code: str) -> str:
    """Put the original docstring (with its examples) back into a Python function the model rewrote
    without one, so Run examples and Fix keep working after Implement."""
    if task.language != "python" or not task.docstring or not task.function:
        return code
    tree = parser("python").parse(code.encode("utf-8"))
    func = next((n for n in _functions(tree.root_node) if _name(n) == task.function), None)
    body = func.child_by_field_name("body") if func is not None else None
    if body is None or body.named_child_count == 0:
        return code
    first = body.named_children[0]
    if (
        first.type == "expression_statement"
        and first.named_child_count
        and first.named_children[0].type == "string"
    ):
        return code
    lines = code.split("\n")
    row = first.start_point[0]
    indent = lines[row][: len(lines[row]) - len(lines[row].lstrip())]
    doc = task.docstring.replace('"""', '\\"""').split("\n")
    block = [f'{indent}"""{doc[0]}'] + [f"{indent}{ln}" if ln.strip() else "" for ln in doc[1:]]
    if len(doc) > 1:
        block.append(f'{indent}"""')
    else:
        block[0] += '"""'
    return "\n".join(lines[:row] + block + lines[row:])


def _functions(node):
    """Every function definition under a node, outermost first."""
    if node.type == "function_definition":
        yield node
    for child in node.named_children:
        yield from _functions(child)


def _name(node) -> str | None:
    """A function definition's name."""
    name = node.child_by_field_name("name")
    return name.text.decode("utf-8") if name is not None and name.text is not None else None
