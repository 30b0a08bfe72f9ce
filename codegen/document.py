"""One open document: its text and one tree-sitter tree, kept current by incremental edits.

An edit changes only the text, its line index (codegen/geometry.py) and the old tree's coordinates
(`Tree.edit`); the tree is re-parsed when something asks for it, so a burst of edits costs one incremental
parse. Positions are as in codegen/geometry.py, clamped into the text, so edits never raise. Documents in a
language we cannot parse keep their text and have no tree and no tasks.
"""

from __future__ import annotations

from pathlib import Path

from tree_sitter import Parser, Tree

from codegen.complexity import Complexity, estimate_node
from codegen.geometry import LineIndex, Position
from codegen.languages import parser
from codegen.tasks import (
    SourceFile,
    Task,
    extract_tasks,
    function_at,
    function_node_at,
)


class ParsedDocument:
    """A document's text, language and current tree; tasks are computed on demand and cached per version."""

    def __init__(self, text: str, language: str | None, path: Path | None = None) -> None:
        """Keep the text; it is parsed on the first request for the tree (when the language has a grammar)."""
        self.language = language
        self.path = path
        self.version = 0
        self._parser: Parser | None = parser(language) if language else None
        self._set_index(LineIndex(text))
        self._tree: Tree | None = None
        self._stale = self._parser is not None  # edits (or the whole text) not parsed yet

    @property
    def tree(self) -> Tree | None:
        """The syntax tree of the current text: the edits since the last request are parsed here, in one go."""
        if self._stale:
            data, old = self.index.data, self._tree
            self._tree = self._parser.parse(data) if old is None else self._parser.parse(data, old)
            self._stale = False
        return self._tree

    # -- text -----------------------------------------------------------------------------------------------

    @property
    def text(self) -> str:
        """The current text."""
        return self.index.text

    def _set_index(self, index: LineIndex) -> None:
        """Take a new text (as its line index), dropping what was cached for the old one."""
        self.index = index
        self._lines: list[str] | None = None
        self._tasks: list[Task] | None = None
        self._source: SourceFile | None = None

    def lines(self) -> list[str]:
        """The text's lines (split at "\\n"), computed once per version."""
        if self._lines is None:
            self._lines = self.index.text.split("\n")
        return self._lines

    def line_count(self) -> int:
        """The number of lines (a final "\\n" starts an empty last line)."""
        return self.index.line_count()

    def line(self, number: int) -> str:
        """The text of one 0-based line, as `lines()[number]` would give it, without splitting the text."""
        return self.index.line(number)

    def clamp(self, position: Position) -> Position:
        """Return the position moved into the text: line into [0, last], column into the line's length."""
        return self.index.clamp(position)

    def offset(self, position: Position) -> int:
        """Return the code-point offset of a (clamped) position."""
        return self.index.offset(position)

    def position(self, offset: int) -> Position:
        """Return the position of a code-point offset (clamped into the text)."""
        return self.index.position(offset)

    # -- edits ----------------------------------------------------------------------------------------------

    def apply_edit(self, start: Position, end: Position, new_text: str) -> None:
        """Replace the text between two positions; the tree learns the edit (Tree.edit), the parse waits."""
        index, edit = self.index.replaced(start, end, new_text)
        self._set_index(index)
        self.version += 1
        if self._tree is None:
            return  # never parsed (or no grammar): nothing to move
        edit.apply(self._tree)
        self._stale = True

    def replace(self, text: str) -> None:
        """Replace the whole text; it is parsed from scratch when the tree is next asked for."""
        self._set_index(LineIndex(text))
        self.version += 1
        self._tree = None
        self._stale = self._parser is not None

    # -- tasks ----------------------------------------------------------------------------------------------

    def forget_tasks(self) -> None:
        """Drop the cached tasks and parsed source (which holds the sample files read beside the document)."""
        self._tasks = None
        self._source = None

    def _src(self) -> SourceFile | None:
        """The parsed source the task functions read, shared until the next edit."""
        if self.tree is None or self.language is None:
            return None
        if self._source is None:
            self._source = SourceFile(self.text, self.language, self.path, self.tree, index=self.index)
        return self._source

    def tasks(self) -> list[Task]:
        """Every task in the document, cached until the next edit."""
        if self._tasks is None:
            src = self._src()
            self._tasks = extract_tasks(self.text, self.language, self.path, source=src) if src else []
        return self._tasks

    def tasks_in(self, first: int, last: int) -> list[Task]:
        """The marker tasks on 1-based lines first..last; reads only those lines unless tasks are cached."""
        if self._tasks is not None:
            return [t for t in self._tasks if first <= t.line <= last]
        src = self._src()
        if src is None:
            return []
        found = extract_tasks(self.text, self.language, self.path, lines=(first, last), source=src)
        return [t for t in found if first <= t.line <= last]

    def function_at(self, position: Position) -> Task | None:
        """The function under a position, as hover shows it."""
        src = self._src()
        return function_at(self.text, self.language, position, source=src) if src else None

    def complexity_at(self, position: Position) -> Complexity | None:
        """The model-free complexity estimate of the function under a position."""
        src = self._src()
        if src is None:
            return None
        node = function_node_at(self.tree, self.language, position, self.text, source=src)
        return estimate_node(node, self.language, self.index.data) if node is not None else None
