"""Tasks read from source text: TODO/FIXME comments in functions, with their examples.

Pure functions over text; nothing here waits on a model or a sandbox. Positions are 0-based lines and
code-point columns (Python string indices); the LSP edge converts them to UTF-16.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from tree_sitter import Node, Tree

from codegen.examples import Example, examples_from_docstring
from codegen.languages import parser

MARKER = re.compile(r"\b(TODO|FIXME|XXX)\b[:\s]*(.*)", re.DOTALL)


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


@dataclass(frozen=True)
class Task:
    """One thing to implement: a marker comment (or a selection) and the function around it."""

    line: int  # 1-based line of the marker (or of the selection start)
    kind: str  # "todo", "fixme", "xxx" or "selection"
    text: str  # what the comment asks for, marker removed
    language: str
    style: str  # "function" (call and compare the value) or "stdin" (feed input, compare output)
    function: str | None  # the enclosing function's name
    signature: str  # e.g. "def two_sum(nums: list[int], target: int) -> list[int]:"
    source: str  # the enclosing function's whole text
    docstring: str
    class_name: str | None = None
    imports: tuple[str, ...] = ()
    examples: tuple[Example, ...] = ()
    function_range: Range | None = None  # what an implementation replaces
    marker_range: Range | None = None  # the comment itself
    indent: str = ""  # the indentation of the function's first line

    def to_json(self) -> dict:
        """Return the task as the `tasks --json` record."""
        return {
            "line": self.line,
            "kind": self.kind,
            "text": self.text,
            "function": self.function,
            "style": self.style,
            "examples": [{"input": e.input, "output": e.output} for e in self.examples],
        }


@dataclass
class SourceFile:
    """A parsed source text and what tasks need from it."""

    text: str
    language: str
    path: Path | None = None
    tree: Tree | None = None
    _lines: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.tree is None:
            self.tree = parser(self.language).parse(self.text.encode("utf-8"))
        self._lines = self.text.split("\n")

    def node_text(self, node: Node) -> str:
        """Return the text of a node."""
        return node.text.decode("utf-8", errors="replace") if node.text is not None else ""

    def position(self, point: tuple[int, int]) -> Position:
        """Convert a tree-sitter (row, byte column) to a code-point Position."""
        row, byte_col = point
        line = self._lines[row] if row < len(self._lines) else ""
        return Position(row, len(line.encode("utf-8")[:byte_col].decode("utf-8", errors="ignore")))

    def range(self, node: Node) -> Range:
        """Return the Range a node covers."""
        return Range(self.position(node.start_point), self.position(node.end_point))


def extract_tasks(text: str, language: str, path: Path | None = None, tree: Tree | None = None) -> list[Task]:
    """Return every marker task in the text, in line order."""
    if language != "python":
        return []
    src = SourceFile(text, language, path, tree)
    imports = _python_imports(src)
    tasks: list[Task] = []
    for comment in _walk(src.tree.root_node, "comment"):
        match = MARKER.search(src.node_text(comment))
        if match is None:
            continue
        func = _enclosing_function(comment)
        if func is None:
            continue
        tasks.append(_python_task(src, comment, func, match, imports))
    return tasks


def task_at_line(tasks: list[Task], line: int) -> Task | None:
    """Return the task whose marker is on the 1-based line, if any."""
    return next((t for t in tasks if t.line == line), None)


def _walk(node: Node, node_type: str):
    """Yield every descendant of the given type, in document order."""
    cursor = node.walk()
    visited_children = False
    while True:
        if not visited_children:
            if cursor.node.type == node_type:
                yield cursor.node
            if cursor.goto_first_child():
                continue
        if cursor.goto_next_sibling():
            visited_children = False
        elif cursor.goto_parent():
            visited_children = True
        else:
            return


def _enclosing_function(node: Node) -> Node | None:
    """Return the function definition containing the node, or the one directly below the comment."""
    current = node.parent
    while current is not None:
        if current.type == "function_definition":
            return current
        current = current.parent
    sibling = node.next_named_sibling
    while sibling is not None and sibling.type == "comment":
        sibling = sibling.next_named_sibling
    if sibling is not None and sibling.type == "decorated_definition":
        sibling = sibling.child_by_field_name("definition")
    if sibling is not None and sibling.type == "function_definition":
        return sibling
    return None


def _python_task(
    src: SourceFile, comment: Node, func: Node, match: re.Match, imports: tuple[str, ...]
) -> Task:
    """Build a Task from a marker comment and its Python function."""
    name_node = func.child_by_field_name("name")
    name = src.node_text(name_node) if name_node else None
    body = func.child_by_field_name("body")
    signature = src.text.encode("utf-8")[func.start_byte : body.start_byte if body else func.end_byte]
    signature_text = " ".join(signature.decode("utf-8", errors="replace").split())
    docstring = _python_docstring(src, body)
    class_name = None
    parent = func.parent
    while parent is not None:
        if parent.type == "class_definition":
            cls_name = parent.child_by_field_name("name")
            class_name = src.node_text(cls_name) if cls_name else None
            break
        parent = parent.parent
    start = func
    if func.parent is not None and func.parent.type == "decorated_definition":
        start = func.parent
    function_range = Range(src.position(start.start_point), src.position(func.end_point))
    if comment.start_byte < start.start_byte:  # a marker directly above the function is replaced too
        function_range = Range(src.position(comment.start_point), function_range.end)
    line_text = src._lines[start.start_point[0]]
    examples = tuple(examples_from_docstring(docstring, name or "")) if name else ()
    return Task(
        line=comment.start_point[0] + 1,
        kind=match.group(1).lower(),
        text=match.group(2).strip(),
        language=src.language,
        style="function",
        function=name,
        signature=signature_text,
        source=src.node_text(func),
        docstring=docstring,
        class_name=class_name,
        imports=imports,
        examples=examples,
        function_range=function_range,
        marker_range=src.range(comment),
        indent=line_text[: len(line_text) - len(line_text.lstrip())],
    )


def _python_docstring(src: SourceFile, body: Node | None) -> str:
    """Return the cleaned docstring of a function body, or ''."""
    if body is None or body.named_child_count == 0:
        return ""
    first = body.named_children[0]
    if (
        first.type == "expression_statement"
        and first.named_child_count
        and first.named_children[0].type == "string"
    ):
        raw = src.node_text(first.named_children[0])
        raw = re.sub(r'^[rRbBuUfF]*("""|\'\'\'|"|\')', "", raw)
        raw = re.sub(r'("""|\'\'\'|"|\')$', "", raw)
        import inspect

        return inspect.cleandoc(raw)
    return ""


def _python_imports(src: SourceFile) -> tuple[str, ...]:
    """Return the module's top-level import statements."""
    out = []
    for child in src.tree.root_node.named_children:
        if child.type in ("import_statement", "import_from_statement", "future_import_statement"):
            out.append(src.node_text(child))
    return tuple(out)
