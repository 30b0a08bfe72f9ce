"""One open document: its text and one tree-sitter tree, kept current by incremental edits.

An edit changes only the text, its line indexes and the old tree's coordinates (`Tree.edit`); the tree is
re-parsed when something asks for it, so a burst of edits costs one incremental parse.

Positions are 0-based lines and code-point columns (Python string indices), lines separated by "\\n"; a
"\\r\\n" ending counts as one break and a column never reaches past the "\\r". Out-of-range positions are
clamped into the text (a line past the end means the last line, a column past the end the line's end), so
edits never raise. Documents in a language we cannot parse keep their text and have no tree and no tasks.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from tree_sitter import Parser, Point, Tree

from codegen.complexity import Complexity, estimate_node
from codegen.languages import parser
from codegen.tasks import (
    Position,
    SourceFile,
    Task,
    extract_tasks,
    function_at,
    function_node_at,
)


def _line_starts(text: str) -> np.ndarray:
    """Return the code-point offset at which each line of text starts."""
    if text.isascii():
        return _byte_starts(text.encode("ascii"))
    points = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)
    return np.concatenate(([0], np.flatnonzero(points == 10) + 1)).astype(np.int64)


def _byte_starts(data: bytes) -> np.ndarray:
    """Return the byte offset at which each line of the encoded text starts."""
    return np.concatenate(([0], np.flatnonzero(np.frombuffer(data, dtype=np.uint8) == 10) + 1)).astype(
        np.int64
    )


class ParsedDocument:
    """A document's text, language and current tree; tasks are computed on demand and cached per version."""

    def __init__(self, text: str, language: str | None, path: Path | None = None) -> None:
        """Keep the text; it is parsed on the first request for the tree (when the language has a grammar)."""
        self.language = language
        self.path = path
        self.version = 0
        self._parser: Parser | None = parser(language) if language else None
        self._set_text(text)
        self._tree: Tree | None = None
        self._stale = self._parser is not None  # edits (or the whole text) not parsed yet

    @property
    def tree(self) -> Tree | None:
        """The syntax tree of the current text: the edits since the last request are parsed here, in one go."""
        if self._stale:
            old = self._tree
            self._tree = (
                self._parser.parse(self._data) if old is None else self._parser.parse(self._data, old)
            )
            self._stale = False
        return self._tree

    # -- text -----------------------------------------------------------------------------------------------

    @property
    def text(self) -> str:
        """The current text."""
        return self._text

    def _set_text(self, text: str) -> None:
        """Store a new text with its bytes and line index, dropping cached results."""
        self._text = text
        self._data = text.encode("utf-8")
        self._ascii = text.isascii()
        self._starts = _line_starts(text)
        self._bytes_at = _byte_starts(self._data)
        self._lines: list[str] | None = None
        self._tasks: list[Task] | None = None
        self._source: SourceFile | None = None

    def lines(self) -> list[str]:
        """The text's lines (split at "\\n"), computed once per version."""
        if self._lines is None:
            self._lines = self._text.split("\n")
        return self._lines

    def line_count(self) -> int:
        """The number of lines (a final "\\n" starts an empty last line)."""
        return len(self._starts)

    def line(self, number: int) -> str:
        """The text of one 0-based line, as `lines()[number]` would give it, without splitting the text."""
        start = int(self._starts[number])
        end = int(self._starts[number + 1]) - 1 if number + 1 < len(self._starts) else len(self._text)
        return self._text[start:end]

    def _line_end(self, line: int) -> int:
        """Return the code-point offset where a line's content ends (before "\n" and a final "\r")."""
        start = int(self._starts[line])
        end = int(self._starts[line + 1]) - 1 if line + 1 < len(self._starts) else len(self._text)
        if end > start and self._text[end - 1] == "\r":
            end -= 1
        return end

    def clamp(self, position: Position) -> Position:
        """Return the position moved into the text: line into [0, last], column into the line's length."""
        line = min(max(position.line, 0), len(self._starts) - 1)
        width = self._line_end(line) - int(self._starts[line])
        return Position(line, min(max(position.column, 0), width))

    def offset(self, position: Position) -> int:
        """Return the code-point offset of a (clamped) position."""
        position = self.clamp(position)
        return int(self._starts[position.line]) + position.column

    def position(self, offset: int) -> Position:
        """Return the position of a code-point offset (clamped into the text)."""
        offset = min(max(offset, 0), len(self._text))
        line = int(np.searchsorted(self._starts, offset, side="right")) - 1
        return Position(line, offset - int(self._starts[line]))

    def _point(self, position: Position) -> tuple[int, Point]:
        """Return the byte offset and tree-sitter point (row, byte column) of a clamped position."""
        line_start = int(self._starts[position.line])
        prefix = self._text[line_start : line_start + position.column]
        column = position.column if self._ascii else len(prefix.encode("utf-8"))
        return int(self._bytes_at[position.line]) + column, Point(position.line, column)

    # -- edits ----------------------------------------------------------------------------------------------

    def apply_edit(self, start: Position, end: Position, new_text: str) -> None:
        """Replace the text between two positions; the tree learns the edit (Tree.edit), the parse waits."""
        start, end = sorted((self.clamp(start), self.clamp(end)), key=lambda p: (p.line, p.column))
        start_offset, end_offset = self.offset(start), self.offset(end)
        start_byte, start_point = self._point(start)
        old_end_byte, old_end_point = self._point(end)
        new_bytes = new_text.encode("utf-8")
        new_end_byte = start_byte + len(new_bytes)
        breaks = new_text.count("\n")
        if breaks:
            new_end_point = Point(start.line + breaks, len(new_bytes) - new_bytes.rfind(b"\n") - 1)
        else:
            new_end_point = Point(start_point.row, start_point.column + len(new_bytes))
        self._splice(start, end, start_offset, end_offset, new_text)
        self._splice_bytes(start, end, start_byte, old_end_byte, new_text, new_bytes)
        self._data = self._data[:start_byte] + new_bytes + self._data[old_end_byte:]
        self.version += 1
        if self._tree is None:
            return  # never parsed (or no grammar): nothing to move
        self._tree.edit(
            start_byte=start_byte,
            old_end_byte=old_end_byte,
            new_end_byte=new_end_byte,
            start_point=start_point,
            old_end_point=old_end_point,
            new_end_point=new_end_point,
        )
        self._stale = True

    def _splice(
        self, start: Position, end: Position, start_offset: int, end_offset: int, new_text: str
    ) -> None:
        """Update the text and the code-point line index for one replacement."""
        self._text = self._text[:start_offset] + new_text + self._text[end_offset:]
        self._ascii = self._ascii and new_text.isascii()
        delta = len(new_text) - (end_offset - start_offset)
        inserted = [start_offset + i + 1 for i, char in enumerate(new_text) if char == "\n"]
        self._starts = np.concatenate(
            (
                self._starts[: start.line + 1],
                np.array(inserted, dtype=np.int64),
                self._starts[end.line + 1 :] + delta,
            )
        )
        self._lines = None
        self._tasks = None
        self._source = None

    def _splice_bytes(
        self,
        start: Position,
        end: Position,
        start_byte: int,
        old_end_byte: int,
        new_text: str,
        new_bytes: bytes,
    ) -> None:
        """Update the byte line index for one replacement."""
        delta = len(new_bytes) - (old_end_byte - start_byte)
        if new_text.isascii():
            inserted = [start_byte + i + 1 for i, char in enumerate(new_text) if char == "\n"]
        else:
            inserted = [start_byte + i + 1 for i, byte in enumerate(new_bytes) if byte == 10]
        self._bytes_at = np.concatenate(
            (
                self._bytes_at[: start.line + 1],
                np.array(inserted, dtype=np.int64),
                self._bytes_at[end.line + 1 :] + delta,
            )
        )

    def replace(self, text: str) -> None:
        """Replace the whole text; it is parsed from scratch when the tree is next asked for."""
        self._set_text(text)
        self.version += 1
        self._tree = None
        self._stale = self._parser is not None

    # -- tasks ----------------------------------------------------------------------------------------------

    def _src(self) -> SourceFile | None:
        """The parsed source the task functions read, shared until the next edit."""
        if self.tree is None or self.language is None:
            return None
        if self._source is None:
            self._source = SourceFile(
                self._text, self.language, self.path, self.tree, self._data, self.lines()
            )
            self._source.line_bytes = self._bytes_at  # the document's index, instead of computing one
        return self._source

    def tasks(self) -> list[Task]:
        """Every task in the document, cached until the next edit."""
        if self._tasks is None:
            src = self._src()
            self._tasks = extract_tasks(self._text, self.language, self.path, source=src) if src else []
        return self._tasks

    def tasks_in(self, first: int, last: int) -> list[Task]:
        """The marker tasks on 1-based lines first..last; reads only those lines unless tasks are cached."""
        if self._tasks is not None:
            return [t for t in self._tasks if first <= t.line <= last]
        src = self._src()
        if src is None:
            return []
        found = extract_tasks(self._text, self.language, self.path, lines=(first, last), source=src)
        return [t for t in found if first <= t.line <= last]

    def function_at(self, position: Position) -> Task | None:
        """The function under a position, as hover shows it."""
        src = self._src()
        return function_at(self._text, self.language, position, source=src) if src else None

    def complexity_at(self, position: Position) -> Complexity | None:
        """The model-free complexity estimate of the function under a position."""
        src = self._src()
        if src is None:
            return None
        node = function_node_at(self.tree, self.language, position, self._text, source=src)
        return estimate_node(node, self.language, self._data) if node is not None else None
