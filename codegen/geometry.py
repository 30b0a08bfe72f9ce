"""Positions, ranges and the line index that every text here is measured with.

Positions are 0-based lines and code-point columns (Python string indices); the LSP edge converts columns to
UTF-16 and tree-sitter counts UTF-8 bytes, so the index keeps where each line starts in both. Lines are
separated by "\\n"; a "\\r\\n" ending counts as one break and a clamped column never reaches past the "\\r".
Out-of-range positions are clamped into the text (a line past the end means the last line, a column past the
end the line's end), so nothing here raises on a stale position.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from tree_sitter import Point


@dataclass(frozen=True)
class Position:
    """A 0-based line and a code-point column."""

    line: int
    column: int


@dataclass(frozen=True)
class Range:
    """A half-open span of text between two positions."""

    start: Position
    end: Position

    def contains_line(self, line: int) -> bool:
        """Return True when the 0-based line is inside the range."""
        return self.start.line <= line <= self.end.line


@dataclass(frozen=True)
class ByteEdit:
    """One replacement in tree-sitter's terms (bytes and (row, byte column) points), for `Tree.edit`."""

    start_byte: int
    old_end_byte: int
    new_end_byte: int
    start_point: Point
    old_end_point: Point
    new_end_point: Point

    def apply(self, tree) -> None:
        """Tell a tree-sitter tree about the edit, so the next parse can reuse what did not change."""
        tree.edit(
            start_byte=self.start_byte,
            old_end_byte=self.old_end_byte,
            new_end_byte=self.new_end_byte,
            start_point=self.start_point,
            old_end_point=self.old_end_point,
            new_end_point=self.new_end_point,
        )


def _starts(encoded: np.ndarray) -> np.ndarray:
    """Return the offsets at which lines start, given the text as an array of code units."""
    return np.concatenate(([0], np.flatnonzero(encoded == 10) + 1)).astype(np.int64)


class LineIndex:
    """A text, its UTF-8 bytes and where each line starts (in code points and in bytes); immutable.

    An edit makes a new index (`replaced`) by splicing the old one, which costs the text copy and the line
    arrays, never a re-scan of the whole text."""

    def __init__(self, text: str, data: bytes | None = None) -> None:
        """Index a text (pass its UTF-8 bytes when they are at hand)."""
        self.text = text
        self.data = text.encode("utf-8") if data is None else data
        self.ascii = text.isascii()
        self.byte_starts = _starts(np.frombuffer(self.data, dtype=np.uint8))
        if self.ascii:
            self.starts = self.byte_starts
        else:
            self.starts = _starts(np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32))

    @classmethod
    def _spliced(
        cls, text: str, data: bytes, is_ascii: bool, starts: np.ndarray, byte_starts: np.ndarray
    ) -> LineIndex:
        """An index from parts already computed (what `replaced` builds)."""
        index = cls.__new__(cls)
        index.text, index.data, index.ascii = text, data, is_ascii
        index.starts, index.byte_starts = starts, byte_starts
        return index

    # -- lines ----------------------------------------------------------------------------------------------

    def line_count(self) -> int:
        """The number of lines (a final "\\n" starts an empty last line)."""
        return len(self.starts)

    def line(self, number: int) -> str:
        """The text of one 0-based line ("\\r" included), as `text.split("\\n")[number]` would give it."""
        start = int(self.starts[number])
        end = int(self.starts[number + 1]) - 1 if number + 1 < len(self.starts) else len(self.text)
        return self.text[start:end]

    def end(self) -> Position:
        """The position just after the last character."""
        last = len(self.starts) - 1
        return Position(last, len(self.text) - int(self.starts[last]))

    def whole(self) -> Range:
        """The range of the whole text."""
        return Range(Position(0, 0), self.end())

    def indent(self, number: int) -> str:
        """The leading whitespace of a line ("" past the end)."""
        line = self.line(number) if 0 <= number < len(self.starts) else ""
        return line[: len(line) - len(line.lstrip())]

    # -- conversions ----------------------------------------------------------------------------------------

    def clamp(self, position: Position) -> Position:
        """The position moved into the text: line into [0, last], column into the line (before a "\\r")."""
        line = min(max(position.line, 0), len(self.starts) - 1)
        width = len(self.line(line).removesuffix("\r"))
        return Position(line, min(max(position.column, 0), width))

    def offset(self, position: Position) -> int:
        """The code-point offset of a (clamped) position."""
        position = self.clamp(position)
        return int(self.starts[position.line]) + position.column

    def position(self, offset: int) -> Position:
        """The position of a code-point offset (clamped into the text)."""
        offset = min(max(offset, 0), len(self.text))
        line = int(np.searchsorted(self.starts, offset, side="right")) - 1
        return Position(line, offset - int(self.starts[line]))

    def byte_point(self, position: Position) -> tuple[int, Point]:
        """The byte offset and tree-sitter point (row, byte column) of a position, which must be clamped."""
        if self.ascii:
            column = position.column
        else:
            start = int(self.starts[position.line])
            column = len(self.text[start : start + position.column].encode("utf-8"))
        return int(self.byte_starts[position.line]) + column, Point(position.line, column)

    def from_point(self, point: tuple[int, int]) -> Position:
        """The position of a tree-sitter (row, byte column) point, clamped to the line (before a "\\r")."""
        row, byte_column = point
        line = (self.line(row) if row < len(self.starts) else "").removesuffix("\r")
        if line.isascii():
            return Position(row, min(byte_column, len(line)))
        return Position(row, len(line.encode("utf-8")[:byte_column].decode("utf-8", errors="ignore")))

    # -- edits ----------------------------------------------------------------------------------------------

    def replaced(self, start: Position, end: Position, new_text: str) -> tuple[LineIndex, ByteEdit]:
        """The index after replacing the text between two positions (clamped, either order), and the edit
        in bytes."""
        start, end = sorted((self.clamp(start), self.clamp(end)), key=lambda p: (p.line, p.column))
        start_offset, end_offset = self.offset(start), self.offset(end)
        start_byte, start_point = self.byte_point(start)
        old_end_byte, old_end_point = self.byte_point(end)
        new_bytes = new_text.encode("utf-8")
        breaks = new_text.count("\n")
        if breaks:
            new_end_point = Point(start.line + breaks, len(new_bytes) - new_bytes.rfind(b"\n") - 1)
        else:
            new_end_point = Point(start_point.row, start_point.column + len(new_bytes))
        is_ascii = self.ascii and new_text.isascii()
        byte_starts = _splice(self.byte_starts, start, end, start_byte, old_end_byte, new_bytes)
        starts = (
            byte_starts if is_ascii else _splice(self.starts, start, end, start_offset, end_offset, new_text)
        )
        index = LineIndex._spliced(
            self.text[:start_offset] + new_text + self.text[end_offset:],
            self.data[:start_byte] + new_bytes + self.data[old_end_byte:],
            is_ascii,
            starts,
            byte_starts,
        )
        edit = ByteEdit(
            start_byte, old_end_byte, start_byte + len(new_bytes), start_point, old_end_point, new_end_point
        )
        return index, edit


def _splice(
    starts: np.ndarray,
    start: Position,
    end: Position,
    start_offset: int,
    end_offset: int,
    inserted: str | bytes,
) -> np.ndarray:
    """Line starts after replacing [start_offset, end_offset) with `inserted`, counted in one unit: code points
    for a str, bytes for bytes."""
    newline = b"\n" if isinstance(inserted, bytes) else "\n"
    breaks, at = [], inserted.find(newline)
    while at >= 0:
        breaks.append(start_offset + at + 1)
        at = inserted.find(newline, at + 1)
    delta = len(inserted) - (end_offset - start_offset)
    return np.concatenate(
        (starts[: start.line + 1], np.array(breaks, dtype=np.int64), starts[end.line + 1 :] + delta)
    )
