"""Our positions and edits <-> LSP types. Columns: ours count code points, LSP's count UTF-16 units."""

from __future__ import annotations

from lsprotocol import types

from codegen.edits import TextEdit
from codegen.geometry import Position, Range


def utf16_to_column(line: str, character: int) -> int:
    """Code-point column for a UTF-16 offset in the line; clamped, and a mid-surrogate offset rounds down."""
    if character <= 0:
        return 0
    units = 0
    for index, char in enumerate(line):
        width = 2 if ord(char) > 0xFFFF else 1
        if units + width > character:
            return index
        units += width
    return len(line)


def column_to_utf16(line: str, column: int) -> int:
    """UTF-16 offset of a code-point column in the line (clamped)."""
    column = max(0, min(column, len(line)))
    return column + sum(1 for char in line[:column] if ord(char) > 0xFFFF)


def from_lsp_position(lines: list[str], position: types.Position) -> Position:
    """Convert an LSP position to ours, clamping past-the-end lines and columns."""
    if not lines:
        return Position(0, 0)
    line = max(0, position.line)
    if line >= len(lines):
        return Position(len(lines) - 1, len(lines[-1]))
    return Position(line, utf16_to_column(lines[line], position.character))


def to_lsp_position(lines: list[str], position: Position) -> types.Position:
    """Convert our position to an LSP one."""
    line = min(max(position.line, 0), max(len(lines) - 1, 0))
    text = lines[line] if lines else ""
    return types.Position(line=line, character=column_to_utf16(text, position.column))


def to_lsp_range(lines: list[str], rng: Range) -> types.Range:
    """Convert our range to an LSP one."""
    return types.Range(start=to_lsp_position(lines, rng.start), end=to_lsp_position(lines, rng.end))


def to_lsp_edit(lines: list[str], edit: TextEdit) -> types.TextEdit:
    """Convert our text edit to an LSP one."""
    return types.TextEdit(range=to_lsp_range(lines, edit.range), new_text=edit.new_text)


def document_edit(uri: str, version: int, lines: list[str], edits: list[TextEdit]) -> types.WorkspaceEdit:
    """A WorkspaceEdit holding one versioned TextDocumentEdit."""
    return types.WorkspaceEdit(
        document_changes=[
            types.TextDocumentEdit(
                text_document=types.OptionalVersionedTextDocumentIdentifier(uri=uri, version=version),
                edits=[to_lsp_edit(lines, e) for e in edits],
            )
        ]
    )
