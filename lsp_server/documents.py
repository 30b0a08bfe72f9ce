"""Open documents: text, version, language, and the parsed tree kept up to date by incremental edits."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from lsprotocol import types
from pygls.uris import to_fs_path

from codegen.document import ParsedDocument
from codegen.geometry import Position
from codegen.languages import language_for
from codegen.tasks import Task
from lsp_server.convert import utf16_to_column


@dataclass
class OpenDocument:
    """One open document."""

    uri: str
    version: int
    parsed: ParsedDocument
    path: Path | None = None

    @property
    def text(self) -> str:
        """The current text."""
        return self.parsed.text

    @property
    def lines(self) -> list[str]:
        """The current text's lines (split once per version, when asked for)."""
        return self.parsed.lines()

    def position(self, position: types.Position) -> Position:
        """Our position for an LSP one, clamped like `convert.from_lsp_position`, without splitting the text."""
        last = self.parsed.line_count() - 1
        if position.line > last:
            return Position(last, len(self.parsed.line(last)))
        line = max(0, position.line)
        return Position(line, utf16_to_column(self.parsed.line(line), position.character))

    @property
    def language(self) -> str | None:
        """Our language name, or None for a language we do not read."""
        return self.parsed.language

    def refresh_files(self) -> None:
        """Read the files beside the document again (sample files were added): its tasks are recomputed."""
        self.parsed.forget_tasks()

    def tasks(self) -> list[Task]:
        """The tasks of the current version (cached by the parsed document)."""
        if self.language is None:
            return []
        return self.parsed.tasks()

    def tasks_in(self, first: int, last: int) -> list[Task]:
        """Marker tasks on 1-based lines first..last (cheap on long files)."""
        if self.language is None:
            return []
        return self.parsed.tasks_in(first, last)

    def function_at(self, position: Position) -> Task | None:
        """The function under a position, as a selection-kind Task, or None."""
        if self.language is None:
            return None
        return self.parsed.function_at(position)

    def find_same(self, task: Task) -> Task | None:
        """The task or function that `task` was, in the current text (lines may have moved), or None."""
        if task.kind != "selection":
            return next(
                (
                    t
                    for t in self.tasks()
                    if t.function == task.function and t.kind == task.kind and t.text == task.text
                ),
                None,
            )
        if task.function is None:
            return None
        for number, line in enumerate(self.lines):
            column = line.find(task.function)
            if column < 0:
                continue
            found = self.function_at(Position(number, column))
            if (
                found is not None
                and found.function == task.function
                and found.replace_range.start.line == number
            ):
                return found
        return None

    def estimate(self, task: Task) -> str | None:
        """The model-free complexity estimate of a function, e.g. 'O(n^2) time (2 nested loops)'."""
        if self.language is None or task.replace_range is None:
            return None
        found = self.parsed.complexity_at(task.replace_range.start)
        return found.summary if found else None


class Documents:
    """The open documents by URI."""

    def __init__(self) -> None:
        self._docs: dict[str, OpenDocument] = {}

    def open(self, item: types.TextDocumentItem) -> OpenDocument:
        """Start tracking a document."""
        path = _path(item.uri)
        language = language_for(path, item.language_id)
        parsed = ParsedDocument(item.text, language, path)
        doc = OpenDocument(item.uri, item.version, parsed, path)
        self._docs[item.uri] = doc
        return doc

    def change(self, params: types.DidChangeTextDocumentParams) -> OpenDocument | None:
        """Apply content changes in order (text only: the tree is re-parsed when next needed); returns None
        for a document that is not open."""
        doc = self._docs.get(params.text_document.uri)
        if doc is None:
            return None
        for change in params.content_changes:
            if isinstance(change, types.TextDocumentContentChangePartial):
                start, end = doc.position(change.range.start), doc.position(change.range.end)
                if (end.line, end.column) < (start.line, start.column):
                    start, end = end, start
                doc.parsed.apply_edit(start, end, change.text)
            else:
                doc.parsed.replace(change.text)
        doc.version = params.text_document.version
        return doc

    def close(self, uri: str) -> None:
        """Stop tracking a document."""
        self._docs.pop(uri, None)

    def get(self, uri: str) -> OpenDocument | None:
        """The open document, or None."""
        return self._docs.get(uri)

    def __len__(self) -> int:
        return len(self._docs)


def _path(uri: str) -> Path | None:
    """The file path of a file URI, or None."""
    try:
        fs = to_fs_path(uri)
    except Exception:  # noqa: BLE001 - a malformed URI is just not a file
        return None
    return Path(fs) if fs else None
