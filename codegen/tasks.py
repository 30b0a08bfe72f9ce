"""Tasks read from source text: TODO/FIXME/XXX comments in functions (or in a program's main), selections,
and everything an implementation needs to know about them, examples included.

Pure functions over text; nothing here waits on a model or a sandbox. Positions and ranges are those of
codegen/geometry.py (0-based lines, code-point columns; a "\\r" before a "\\n" is outside any column we
report); the LSP edge converts them to UTF-16.

A `Task` is one thing to implement; the function it sits in is its `definition` (a `Function`: name,
signature, docstring, text, range), None for a program's code at module level.

What an implementation replaces (`Task.replace_range`):
- `function` style: the whole definition (decorators, `template<>` and `export` included), extended upward
  to the marker comment when the marker sits directly above the definition;
- `stdin` style in a function (`main`, `solve`, a helper): that function, as for `function` style; at module
  level: the program's code (`Task.program_range`: everything after the problem statement, i.e. the module
  docstring and the comments above the first line of code). The model may answer with the function alone or
  with a whole program; codegen/placement.py fits either into the file, which keeps its statement, includes,
  imports, helpers and entry call, and the judge runs the file as it will be after the edit.

Which style a task has:
- `function` when the function has examples of its own (doctest, LeetCode, call-result lines, asserts);
- `stdin` when the marker is inside `main` (C++, Java, Rust, Go, Python), or when the file is a program (it
  reads standard input, or has stdin samples: `Sample Input` blocks, sample files, a `.cph` problem) and the
  marker is at module level, in `main`/`solve`, or in a function without examples of its own;
- `function` otherwise. A marker at module level is a task only in a program.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from tree_sitter import Node, Tree

from codegen.examples import (
    Example,
    SampleSet,
    assert_examples,
    clean_comment,
    clean_docstring,
    function_examples,
    sample_files,
    stdin_block_examples,
    stdin_examples,
    trusted_examples,
)
from codegen.geometry import LineIndex, Position, Range
from codegen.languages import LanguageQueries, language_for, parser, queries

MARKER = re.compile(r"(?<![\w])(TODO|FIXME|XXX)(?![\w])(?:\([^)\n]*\))?(:?)[ \t]*(.*)", re.DOTALL)
ENTRY_POINTS = ("main",)
PROGRAM_FUNCTIONS = ("main", "solve", "run")
MAX_FILE_BYTES = 8 << 20


@dataclass(frozen=True)
class Function:
    """A function definition: the one a task sits in, or the one under a position (hover, Fix, Explain...)."""

    name: str | None
    signature: str  # e.g. "def two_sum(nums: list[int], target: int) -> list[int]:"
    source: str  # the definition's whole text
    docstring: str  # the docstring, or the comment block directly above the definition
    body: str = ""  # the body's text
    indent: str = ""  # the indentation of the definition's first line
    class_name: str | None = None  # the class (struct, impl) it is defined in
    range: Range | None = None  # the definition's own range (decorators, `template<>`, `export` included)


@dataclass(frozen=True)
class Task:
    """One thing to implement: a marker comment, or the function under a position (kind "selection"), with
    the function it sits in (None for a program's code at module level) and what an implementation replaces."""

    line: int  # 1-based line of the marker (or of the function's start)
    kind: str  # "todo", "fixme", "xxx" or "selection"
    text: str  # what the comment asks for, marker removed ("" for a function under a position)
    language: str
    style: str  # "function" (call and compare the value) or "stdin" (feed input, compare output)
    definition: Function | None  # the enclosing function
    source: str  # the code the model is shown: the function's text (the whole file for stdin style)
    docstring: str  # the function's docstring (the module's for a program at module level)
    imports: tuple[str, ...] = ()
    examples: tuple[Example, ...] = ()
    replace_range: Range | None = None  # what an implementation replaces (see the module docstring)
    marker_range: Range | None = None  # the marker comment itself
    time_limit_ms: int | None = None  # from a .cph problem file
    memory_limit_mb: int | None = None  # from a .cph problem file
    path: Path | None = None
    dropped_examples: tuple[Example, ...] = ()  # read, but disagreeing with the Examples section
    program_range: Range | None = None  # the code after the problem statement (see the module docstring)
    file_text: str = ""  # the whole text the task was read from

    @property
    def function(self) -> str | None:
        """The enclosing function's name (None for a program at module level)."""
        return self.definition.name if self.definition is not None else None

    @property
    def class_name(self) -> str | None:
        """The class the enclosing function is defined in, if any."""
        return self.definition.class_name if self.definition is not None else None

    @property
    def signature(self) -> str:
        """The enclosing function's signature ("" for a program at module level)."""
        return self.definition.signature if self.definition is not None else ""

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


# ----------------------------------------------------------------------------------------------------------
# The parsed source and module-wide facts


@dataclass
class SourceFile:
    """A parsed text and the module-wide facts tasks need, each computed once and only when asked.

    Pass `source=` to the functions below to share one between calls (a ParsedDocument does, per version,
    with its own line index)."""

    text: str
    language: str
    path: Path | None = None
    tree: Tree | None = None
    index: LineIndex | None = None

    def __post_init__(self) -> None:
        """Index and parse what the caller did not provide."""
        if self.index is None:
            self.index = LineIndex(self.text)
        if self.tree is None:
            self.tree = parser(self.language).parse(self.index.data)

    @property
    def data(self) -> bytes:
        """The text's UTF-8 bytes (what the tree's offsets count)."""
        return self.index.data

    @cached_property
    def q(self) -> LanguageQueries:
        """The language's queries."""
        return queries(self.language)

    def node_text(self, node: Node) -> str:
        """Return the text of a node."""
        return self.data[node.start_byte : node.end_byte].decode("utf-8", errors="replace")

    def range(self, node: Node) -> Range:
        """Return the Range a node covers."""
        return Range(self.index.from_point(node.start_point), self.index.from_point(node.end_point))

    @cached_property
    def imports(self) -> tuple[str, ...]:
        """The top-level import / #include / use lines."""
        out = []
        for child in self.tree.root_node.named_children:
            if child.type in self.q.node_types.get("import", ()) and self.q.matches_at("import", child):
                out.append(self.node_text(child).strip())
        return tuple(out)

    @cached_property
    def module_doc(self) -> str:
        """The module docstring and the comments before the first definition, cleaned and joined."""
        parts = []
        function_types = self.q.node_types.get("function", frozenset())
        class_types = self.q.node_types.get("class", frozenset())
        for child in self.tree.root_node.named_children:
            if child.type in self.q.node_types.get("comment", ()):
                parts.append(clean_comment(self.node_text(child)))
            elif self.language == "python" and _python_string_statement(child):
                parts.append(clean_docstring(self.node_text(child.named_children[0])))
            elif child.type in function_types or child.type in class_types or _wraps_definition(child):
                break
        return "\n".join(parts)

    @cached_property
    def assert_lines(self) -> str:
        """The lines of the file that contain `assert` (searched once, then per function)."""
        found = []
        index = self.text.find("assert")
        while index >= 0:
            start = self.text.rfind("\n", 0, index) + 1
            end = self.text.find("\n", index)
            end = len(self.text) if end < 0 else end
            found.append(self.text[start:end])
            index = self.text.find("assert", end)
        return "\n".join(found)

    @cached_property
    def reads_stdin(self) -> bool:
        """Whether the program reads standard input anywhere."""
        return any(self.q.captures("stdin", self.tree.root_node).values())

    @cached_property
    def samples(self) -> SampleSet:
        """Examples from sample files beside the source (and a .cph problem's limits)."""
        return sample_files(self.path) if self.path is not None else SampleSet()

    @cached_property
    def stdin_doc_examples(self) -> tuple[Example, ...]:
        """Stdin samples written as heading blocks in the module docstring or leading comments."""
        return tuple(stdin_block_examples(self.module_doc))

    @cached_property
    def code_start(self) -> Position:
        """Where the code starts: the first top-level node that is not a comment or the module docstring."""
        comment_types = self.q.node_types.get("comment", ())
        for child in self.tree.root_node.named_children:
            if child.type in comment_types or (self.language == "python" and _python_string_statement(child)):
                continue
            return self.index.from_point(child.start_point)
        return self.index.end()

    def program_range(self, marker_range: Range | None) -> Range:
        """The program's code: from where it starts (or the marker, when that is above) to the end."""
        start = self.code_start
        if marker_range is not None and (marker_range.start.line, marker_range.start.column) < (
            start.line,
            start.column,
        ):
            start = marker_range.start
        return Range(start, self.index.end())

    @cached_property
    def is_program(self) -> bool:
        """Whether the file is a stdin/stdout program: it reads input or carries stdin samples."""
        return bool(self.stdin_doc_examples or self.samples.examples or self.reads_stdin)


def _python_string_statement(node: Node) -> bool:
    """Return True for an expression statement that is just a string (a docstring)."""
    return (
        node.type == "expression_statement"
        and node.named_child_count == 1
        and node.named_children[0].type == "string"
    )


_WRAPPERS = ("decorated_definition", "template_declaration", "export_statement", "lexical_declaration")


def _wraps_definition(node: Node) -> bool:
    """Return True for nodes that wrap a definition (decorators, templates, exports)."""
    return node.type in _WRAPPERS


# ----------------------------------------------------------------------------------------------------------
# Public API


def extract_tasks(
    text: str,
    language: str,
    path: Path | None = None,
    tree: Tree | None = None,
    lines: tuple[int, int] | None = None,
    source: SourceFile | None = None,
) -> list[Task]:
    """Return every marker task in the text, in line order.

    `lines` (1-based, inclusive) limits the search to markers in those lines, which keeps a code-action
    request on a long file cheap.
    """
    src = source or SourceFile(text, language, path, tree)
    return _marker_tasks(src, lines)


def function_at(
    text: str, language: str, position: Position, tree: Tree | None = None, source: SourceFile | None = None
) -> Task | None:
    """Return the innermost function under a position as a Task of kind "selection" with empty text (what
    hover shows: name, signature, docstring, examples), or None when the position is outside functions."""
    src = source or SourceFile(text, language, None, tree)
    func = function_node_at(src.tree, language, position, text, source=src)
    if func is None:
        return None
    return _build_task(
        src,
        func,
        kind="selection",
        line=func.start_point[0] + 1,
        text="",
        marker_range=None,
        marker_start=None,
    )


def function_node_at(
    tree: Tree, language: str, position: Position, text: str, source: SourceFile | None = None
) -> Node | None:
    """Return the innermost function definition node under a position, or None."""
    src = source or SourceFile(text, language, None, tree)
    offset, _ = src.index.byte_point(src.index.clamp(position))
    for probe in (offset, offset - 1):
        node = tree.root_node.descendant_for_byte_range(max(probe, 0), max(probe, 0))
        func = _enclosing_function(src, node) if node is not None else None
        if func is not None:
            return func
    return None


def file_tasks(path: Path) -> tuple[str | None, list[Task]]:
    """Read a file, detect its language from the extension and return (language, tasks).

    Raises ValueError with one clear sentence when the file cannot be read or is not a supported language."""
    text, language = read_source(path)
    return language, extract_tasks(text, language, Path(path))


def read_source(path: Path) -> tuple[str, str]:
    """A source file's (text, language): the one way `solve`, `tasks` and file_tasks read a file.

    Raises ValueError with one clear sentence when the file cannot be read or is not a supported language."""
    path = Path(path)
    language = language_for(path)
    if language is None:
        raise ValueError(
            f"{path}: unsupported file type {path.suffix or '(none)'!r}, which is not a language we read; "
            "use a .py, .cpp, .java, .rs, .go, .js or .ts file."
        )
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise ValueError(f"{path}: the file is larger than {MAX_FILE_BYTES >> 20} MiB; split it first.")
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ValueError(f"{path}: is not UTF-8 text; save it as UTF-8 first.") from None
    except FileNotFoundError:
        raise ValueError(f"{path}: no such file (it does not exist); check the path.") from None
    except IsADirectoryError:
        raise ValueError(f"{path}: is a directory; give a source file.") from None
    except OSError as error:
        raise ValueError(f"{path}: cannot be read ({error.strerror}); check its permissions.") from None
    return text, language


# ----------------------------------------------------------------------------------------------------------
# Markers


def _marker_tasks(src: SourceFile, lines: tuple[int, int] | None) -> list[Task]:
    """Find marker comments (optionally only on some 1-based lines) and build their tasks."""
    query = src.q.queries.get("comment")
    if query is None:
        return []
    from tree_sitter import QueryCursor

    cursor = QueryCursor(query)
    if lines is not None:
        first, last = max(lines[0] - 1, 0), max(lines[1], lines[0])
        cursor.set_point_range((first, 0), (last, 0))
    comments = sorted(
        {n.id: n for nodes in cursor.captures(src.tree.root_node).values() for n in nodes}.values(),
        key=lambda n: n.start_byte,
    )
    tasks: list[Task] = []
    consumed: set[int] = set()
    for comment in comments:
        if comment.id in consumed:
            continue
        task = _comment_task(src, comment, consumed)
        if task is not None:
            tasks.append(task)
    return tasks


def _find_marker(comment_text: str) -> re.Match | None:
    """Return the marker match in a cleaned comment: at the start of a line, or anywhere when followed by ':'."""
    for match in MARKER.finditer(comment_text):
        line_start = comment_text.rfind("\n", 0, match.start()) + 1
        at_start = not comment_text[line_start : match.start()].strip(" \t*-")
        if at_start or match.group(2) == ":":
            return match
    return None


def _comment_task(src: SourceFile, comment: Node, consumed: set[int]) -> Task | None:
    """Return the task of one comment, or None when it has no marker or is not where tasks live."""
    cleaned = clean_comment(src.node_text(comment))
    match = _find_marker(cleaned)
    if match is None or _disabled(src, comment):
        return None
    text = match.group(3).strip()
    for follower in _continuation_comments(src, comment):
        consumed.add(follower.id)
        text = (text + " " + clean_comment(src.node_text(follower)).strip()).strip()
    func = _enclosing_function(src, comment)
    marker_above = False
    if func is None:
        func = _function_below(src, comment)
        marker_above = func is not None
    if func is None and not (src.is_program or _in_python_main_block(src, comment)):
        return None
    return _build_task(
        src,
        func,
        kind=match.group(1).lower(),
        line=comment.start_point[0] + 1,
        text=text,
        marker_range=src.range(comment),
        marker_start=comment if marker_above else None,
    )


def _in_python_main_block(src: SourceFile, node: Node) -> bool:
    """Return True when a Python node is inside `if __name__ == "__main__":`."""
    if src.language != "python":
        return False
    current = node.parent
    while current is not None:
        if current.type == "if_statement":
            condition = current.child_by_field_name("condition")
            if condition is not None and "__main__" in src.node_text(condition):
                return True
        current = current.parent
    return False


def _continuation_comments(src: SourceFile, comment: Node) -> list[Node]:
    """Return the line comments on the lines right after a marker comment that continue its text."""
    out = []
    comment_types = src.q.node_types.get("comment", ())
    current = comment
    while True:
        following = current.next_sibling
        if (
            following is None
            or following.type not in comment_types
            or following.start_point[0] != current.end_point[0] + 1
            or src.node_text(following).startswith("/*")
        ):
            return out
        cleaned = clean_comment(src.node_text(following)).strip()
        if not cleaned or _find_marker(cleaned) is not None:
            return out
        out.append(following)
        current = following


def _disabled(src: SourceFile, comment: Node) -> bool:
    """Return True when the comment is in a disabled preprocessor branch (`#if 0`, or `#else` of `#if 1`)."""
    if src.language != "cpp":
        return False
    node = comment.parent
    while node is not None:
        if node.type == "preproc_if":
            condition = node.child_by_field_name("condition")
            value = src.node_text(condition).strip() if condition is not None else ""
            alternative = node.child_by_field_name("alternative")
            in_alternative = alternative is not None and comment.start_byte >= alternative.start_byte
            if value in ("0", "false") and not in_alternative:
                return True
            if value in ("1", "true") and in_alternative:
                return True
        node = node.parent
    return False


# ----------------------------------------------------------------------------------------------------------
# Functions


def _enclosing_function(src: SourceFile, node: Node) -> Node | None:
    """Return the innermost function definition containing the node (the node itself included)."""
    function_types = src.q.node_types.get("function", ())
    current: Node | None = node
    while current is not None:
        if current.type in function_types and src.q.matches_at("function", current):
            return current
        current = current.parent
    if src.language == "python":
        return _python_trailing_owner(src, node)
    return None


def _python_trailing_owner(src: SourceFile, comment: Node) -> Node | None:
    """Return the function a Python comment belongs to when tree-sitter left it after the function's block
    (an indented comment after the body's last statement)."""
    previous = comment.prev_named_sibling
    while previous is not None and previous.type == "comment":
        previous = previous.prev_named_sibling
    if previous is None:
        return None
    definition = _unwrap(src, previous)
    if definition is None or comment.start_point[1] <= previous.start_point[1]:
        return None
    inner = definition
    while True:
        body = inner.child_by_field_name("body")
        last = body.named_children[-1] if body is not None and body.named_children else None
        nested = _unwrap(src, last) if last is not None else None
        if nested is None or comment.start_point[1] <= last.start_point[1]:
            return inner
        inner = nested


def _unwrap(src: SourceFile, node: Node) -> Node | None:
    """Return the function definition a node is or wraps (decorators, templates, exports), else None."""
    function_types = src.q.node_types.get("function", ())
    for _ in range(3):
        if node.type in function_types and src.q.matches_at("function", node):
            return node
        if node.type == "lexical_declaration" or node.type == "variable_declaration":
            inner = node.named_children[0] if node.named_children else None
        elif node.type in _WRAPPERS:
            inner = node.child_by_field_name("definition") or node.child_by_field_name("declaration")
            if inner is None and node.named_children:
                inner = node.named_children[-1]
        else:
            return None
        if inner is None:
            return None
        node = inner
    return None


def _function_below(src: SourceFile, comment: Node) -> Node | None:
    """Return the function right below a comment (only comments and at most one blank line between)."""
    comment_types = src.q.node_types.get("comment", ())
    last = comment
    sibling = comment.next_named_sibling
    while sibling is not None and sibling.type in comment_types:
        last = sibling
        sibling = sibling.next_named_sibling
    while sibling is not None and sibling.type in ("access_specifier", "attribute_item", "modifiers"):
        sibling = sibling.next_named_sibling
    if sibling is None or sibling.start_point[0] - last.end_point[0] > 2:
        return None
    return _unwrap(src, sibling)


def _outer(src: SourceFile, func: Node) -> Node:
    """Return the node a definition's text starts at: its decorators, template or export wrapper."""
    node = func
    while node.parent is not None and (
        node.parent.type in _WRAPPERS or node.parent.type in ("variable_declaration",)
    ):
        if node.parent.type == "lexical_declaration" and node.parent.named_child_count != 1:
            break
        node = node.parent
    return node


def _function_name(src: SourceFile, func: Node) -> str | None:
    """Return a function's name (the last part of a qualified C++ name)."""
    captures = src.q.matches_at("function", func)
    names = captures.get("name") if captures else None
    if not names:
        return None
    name = src.node_text(names[0])
    return re.split(r"::|\.", name)[-1].strip() or None


def _class_name(src: SourceFile, func: Node) -> str | None:
    """Return the name of the class (struct, impl, interface) a function is defined in."""
    class_types = src.q.node_types.get("class", ())
    node = func.parent
    while node is not None:
        if node.type in class_types:
            captures = src.q.matches_at("class", node)
            if captures and captures.get("name"):
                return src.node_text(captures["name"][0])
        if node.type in src.q.node_types.get("function", ()):
            return None
        node = node.parent
    if src.language == "cpp":
        qualified = re.match(r"^(\w+)::", _function_qualified_name(src, func))
        return qualified.group(1) if qualified else None
    return None


def _function_qualified_name(src: SourceFile, func: Node) -> str:
    """Return the full declarator name of a C++ function (e.g. `Solver::run`)."""
    captures = src.q.matches_at("function", func)
    names = captures.get("name") if captures else None
    return src.node_text(names[0]) if names else ""


def _body(func: Node) -> Node | None:
    """Return a function's body node."""
    body = func.child_by_field_name("body")
    if body is None and func.type == "variable_declarator":
        value = func.child_by_field_name("value")
        body = value.child_by_field_name("body") if value is not None else None
    return body


def _signature(src: SourceFile, func: Node, outer: Node) -> str:
    """Return the text from the definition's start to its body, whitespace collapsed."""
    body = _body(func)
    start = func.start_byte if outer.type == "decorated_definition" else outer.start_byte
    end = body.start_byte if body is not None else func.end_byte
    colon = next((c for c in func.children if c.type == ":"), None) if src.language == "python" else None
    if colon is not None:
        end = colon.end_byte
    signature = src.data[start:end].decode("utf-8", errors="replace")
    return " ".join(signature.split()).rstrip("{").rstrip()


def _docstring(src: SourceFile, func: Node, outer: Node) -> str:
    """Return a Python docstring, or the comment block directly above the definition."""
    if src.language == "python":
        body = _body(func)
        if body is not None and body.named_child_count and _python_string_statement(body.named_children[0]):
            return clean_docstring(src.node_text(body.named_children[0].named_children[0]))
    return _leading_comments(src, outer)


def _leading_comments(src: SourceFile, node: Node) -> str:
    """Return the cleaned comments directly above a node (no blank line between them and it)."""
    comment_types = src.q.node_types.get("comment", ())
    parts = []
    row = node.start_point[0]
    previous = node.prev_sibling
    while previous is not None and previous.type in ("access_specifier", ":", "attribute_item"):
        previous = previous.prev_sibling
    while previous is not None and previous.type in comment_types and row - previous.end_point[0] <= 1:
        cleaned = clean_comment(src.node_text(previous))
        if _find_marker(cleaned) is None:
            parts.append(cleaned)
        row = previous.start_point[0]
        previous = previous.prev_sibling
    return "\n".join(reversed(parts))


def _inner_comments(src: SourceFile, func: Node) -> str:
    """Return the cleaned text of every comment inside a function."""
    captures = src.q.captures("comment", func, func.start_byte, func.end_byte)
    nodes = sorted({n.id: n for ns in captures.values() for n in ns}.values(), key=lambda n: n.start_byte)
    return "\n".join(clean_comment(src.node_text(n)) for n in nodes)


def _class_node(src: SourceFile, func: Node) -> Node | None:
    """Return the class node enclosing a function, if any."""
    class_types = src.q.node_types.get("class", ())
    node = func.parent
    while node is not None:
        if node.type in class_types:
            return node
        node = node.parent
    return None


# ----------------------------------------------------------------------------------------------------------
# Building tasks


def _build_task(
    src: SourceFile,
    func: Node | None,
    kind: str,
    line: int,
    text: str,
    marker_range: Range | None,
    marker_start: Node | None,
) -> Task:
    """Build a Task for a marker (or selection) and its enclosing function (None at module level)."""
    if func is None:
        return _program_task(src, kind, line, text, marker_range)
    outer = _outer(src, func)
    name = _function_name(src, func)
    docstring = _docstring(src, func, outer)
    own = _own_examples(src, func, outer, name, docstring)
    kept, dropped = trusted_examples(own, docstring, name, src.language)
    examples = tuple(kept)
    if examples:
        style = "function"
    elif name in ENTRY_POINTS and src.language != "javascript" and src.language not in ("typescript", "tsx"):
        style = "stdin"
    elif src.is_program and (name in PROGRAM_FUNCTIONS or not _class_name(src, func)):
        style = "stdin"
    else:
        style = "function"
    if style == "function" and not examples and name:
        examples = tuple(_shared_examples(src, func, function_examples(src.module_doc, name, src.language)))
    definition = _function(src, func, outer, name, docstring)
    start = definition.range.start
    if marker_start is not None:
        start = src.index.from_point(marker_start.start_point)
    if style == "stdin":
        examples = _stdin_examples(src, docstring + "\n\n" + _inner_comments(src, func))
    return Task(
        line=line,
        kind=kind,
        text=text,
        language=src.language,
        style=style,
        definition=definition,
        source=src.text if style == "stdin" else definition.source,
        docstring=docstring,
        imports=src.imports,
        examples=examples,
        replace_range=Range(start, definition.range.end),
        marker_range=marker_range,
        time_limit_ms=src.samples.time_limit_ms,
        memory_limit_mb=src.samples.memory_limit_mb,
        path=src.path,
        dropped_examples=tuple(dropped) if style == "function" else (),
        program_range=src.program_range(marker_range) if style == "stdin" else None,
        file_text=src.text,
    )


def _function(src: SourceFile, func: Node, outer: Node, name: str | None, docstring: str) -> Function:
    """The Function a definition node is (`outer` is the node its text starts at)."""
    body = _body(func)
    return Function(
        name=name,
        signature=_signature(src, func, outer),
        source=src.node_text(outer),
        docstring=docstring,
        body=src.node_text(body) if body is not None else "",
        indent=src.index.indent(outer.start_point[0]),
        class_name=_class_name(src, func),
        range=src.range(outer),
    )


def _own_examples(
    src: SourceFile, func: Node, outer: Node, name: str | None, docstring: str
) -> tuple[Example, ...]:
    """Return the function-style examples written for this function: in its docstring or comments, in the
    comments above its class, and in assert lines of the file."""
    if not name or name in ENTRY_POINTS:
        return ()
    text = docstring + "\n\n" + _inner_comments(src, func)
    found = function_examples(text, name, src.language)
    if not found:
        class_node = _class_node(src, func)
        if class_node is not None:
            shared = function_examples(_leading_comments(src, _outer(src, class_node)), name, src.language)
            found = _shared_examples(src, func, shared)
    found = found + assert_examples(src.assert_lines, name, src.language)
    seen: set[tuple[str, str]] = set()
    unique = []
    for example in found:
        if (example.input, example.output) not in seen:
            seen.add((example.input, example.output))
            unique.append(example)
    return tuple(unique)


_NAMELESS_LAYOUTS = ("leetcode", "for-output")


def _shared_examples(src: SourceFile, func: Node, examples: list[Example]) -> list[Example]:
    """Filter examples written for a class or module: those that do not name the function (LeetCode's
    `Input:`/`Output:`) belong to the first function of its class or module only."""
    if _is_first_function(src, func):
        return examples
    return [e for e in examples if e.layout not in _NAMELESS_LAYOUTS]


def _is_first_function(src: SourceFile, func: Node) -> bool:
    """Return True when no function definition precedes this one in its class or module."""
    outer = _outer(src, func)
    sibling = outer.prev_named_sibling
    while sibling is not None:
        if _unwrap(src, sibling) is not None:
            return False
        sibling = sibling.prev_named_sibling
    return True


def _stdin_examples(src: SourceFile, local_doc: str) -> tuple[Example, ...]:
    """Return a program's stdin examples: sample files and .cph tests first, then heading blocks in the
    function's comments or the module docstring, then inline `Input:`/`Output:` pairs."""
    if src.samples.examples:
        return src.samples.examples
    local = stdin_block_examples(local_doc)
    if local:
        return tuple(local)
    if src.stdin_doc_examples:
        return src.stdin_doc_examples
    return tuple(stdin_examples(local_doc) or stdin_examples(src.module_doc))


def program_task(src: SourceFile) -> Task:
    """A program's code as a stdin task with no marker (what a brute force or a generator is asked about)."""
    return _program_task(src, "selection", 1, "", None)


def _program_task(src: SourceFile, kind: str, line: int, text: str, marker_range: Range | None) -> Task:
    """Build a stdin-style task for a marker (or selection) outside any function: the program's code."""
    whole = src.program_range(marker_range)
    return Task(
        line=line,
        kind=kind,
        text=text,
        language=src.language,
        style="stdin",
        definition=None,
        source=src.text,
        docstring=src.module_doc,
        imports=src.imports,
        examples=_stdin_examples(src, ""),
        replace_range=whole,
        marker_range=marker_range,
        time_limit_ms=src.samples.time_limit_ms,
        memory_limit_mb=src.samples.memory_limit_mb,
        path=src.path,
        program_range=whole,
        file_text=src.text,
    )
