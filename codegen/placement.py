"""Where a reply goes in its file: the file's and the reply's top-level items, and the file after the edit.

A reply may be the task's function alone (a C++ `main()` relying on the file's `#include`s, a Python
`def main()` relying on the file's `if __name__ == "__main__": main()`), or that function with helpers and
includes, or a whole program. `merge` keeps the file and changes only what the reply changes:
- the task's function takes the place of the file's (the reply's new helpers go next to it, before or after
  as in the reply); a helper, constant or entry call the file already has is dropped when the same, and
  replaced in place when different;
- a whole program that lacks the task's function (a script, or a C++ program for a helper task) replaces the
  file's code, never the problem statement at its top (the module docstring and leading comments).

Pure functions over text, by byte offsets into UTF-8 (what tree-sitter gives).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from tree_sitter import Node

from codegen.languages import parser

_PY_IMPORTS = ("import_statement", "import_from_statement", "future_import_statement")
_PY_DEFINITIONS = ("function_definition", "class_definition", "decorated_definition")
_CPP_NAMED = (
    "function_definition",
    "template_declaration",
    "struct_specifier",
    "class_specifier",
    "type_definition",
    "alias_declaration",
    "preproc_def",
    "preproc_function_def",
    "declaration",
    "enum_specifier",
)


@dataclass(frozen=True)
class Item:
    """One top-level piece of code: how it is recognised in another text, where it is, whether it only
    defines things (imports, functions, types, constants) or runs (a script's statements, an entry call)."""

    key: tuple[str, str]  # ("name", "gcd"), ("entry", "main") or ("text", normalised text)
    start: int  # byte offsets into the text
    end: int
    text: str
    definition: bool = True


@dataclass(frozen=True)
class Span:
    """Replace bytes [start, end) of the file with `text`."""

    start: int
    end: int
    text: str


def normalised(text: str) -> str:
    """Text with runs of whitespace collapsed, for comparing items."""
    return " ".join(text.split())


def top_items(code: str, language: str, entry: str | None = None) -> list[Item]:
    """The top-level items of a text (comments and docstrings are not items: they stay where they are)."""
    data = code.encode("utf-8")
    tree = parser(language).parse(data)
    items = []
    for node in tree.root_node.named_children:
        end = node.end_byte
        following = node.next_sibling
        if language == "cpp" and following is not None and following.type == ";" and not following.is_named:
            end = following.end_byte  # `struct A {...};`
        text = data[node.start_byte : end].decode("utf-8", errors="replace")
        item = _item(node, text, language, entry)
        if item is not None:
            items.append(Item(item[0], node.start_byte, end, text, item[1]))
    return items


def _item(node: Node, text: str, language: str, entry: str | None) -> tuple[tuple[str, str], bool] | None:
    """(key, definition) of a top-level node, or None for comments and docstrings."""
    if node.type == "comment" or (
        node.type == "expression_statement"
        and node.named_child_count == 1
        and node.named_children[0].type == "string"
    ):
        return None
    if language == "python":
        return _python_key(node, text, entry)
    if language == "cpp":
        name = _cpp_name(node) if node.type in _CPP_NAMED else None
        return (("name", name) if name else ("text", normalised(text))), True
    return ("text", normalised(text)), True


def _python_key(node: Node, text: str, entry: str | None) -> tuple[tuple[str, str], bool]:
    """The key of a top-level Python node."""
    if node.type in _PY_IMPORTS:
        return ("text", normalised(text)), True
    if node.type in _PY_DEFINITIONS:
        inner = node.child_by_field_name("definition") if node.type == "decorated_definition" else node
        name = inner.child_by_field_name("name") if inner is not None else None
        if name is not None and name.text:
            return ("name", name.text.decode("utf-8")), True
    if node.type == "expression_statement" and node.named_child_count == 1:
        inner = node.named_children[0]
        left = inner.child_by_field_name("left") if inner.type == "assignment" else None
        if left is not None and left.type == "identifier" and left.text:
            return ("name", left.text.decode("utf-8")), True
    if entry and re.search(rf"(?<![\w.]){re.escape(entry)}\s*\(", text):
        return ("entry", entry), False
    return ("text", normalised(text)), False


def _cpp_name(node: Node) -> str | None:
    """The name a top-level C++ definition introduces (None for prototypes and multi-name declarations)."""
    if node.type == "template_declaration":
        inner = next((c for c in reversed(node.named_children) if c.type in _CPP_NAMED), None)
        return _cpp_name(inner) if inner is not None else None
    if node.type == "declaration":
        declarators = node.children_by_field_name("declarator")
        if len(declarators) != 1 or _has_type(declarators[0], "function_declarator"):
            return None
        return _identifier(declarators[0])
    field = "declarator" if node.type in ("function_definition", "type_definition") else "name"
    target = node.child_by_field_name(field)
    return _identifier(target) if target is not None else None


def _has_type(node: Node, kind: str) -> bool:
    """Whether the node or one of its descendants has the type."""
    return node.type == kind or any(_has_type(c, kind) for c in node.named_children)


def _identifier(node: Node) -> str | None:
    """The declared name inside a declarator: `ll gcd(ll a)` -> gcd, `a[N]` -> a, `Solver::run` -> run."""
    while node.type not in ("identifier", "type_identifier", "field_identifier", "qualified_identifier"):
        inner = node.child_by_field_name("declarator") or node.child_by_field_name("name")
        if inner is None:
            names = [c for c in node.named_children if c.type in ("identifier", "type_identifier")]
            if not names:
                return None
            inner = names[0]
        node = inner
    text = node.text.decode("utf-8") if node.text else ""
    return re.split(r"::", text)[-1].strip() or None


# ----------------------------------------------------------------------------------------------------------
# Merging


def merge(
    file_text: str,
    language: str,
    function: str | None,
    region: tuple[int, int],
    code_region: tuple[int, int],
    code: str,
    note: str = "",
    add_entry_call: bool = False,
) -> Span:
    """The one span of the file to replace so that the file becomes what the reply means (module docstring).

    `region` is the task's code (its function, or the program's code for a module-level task), `code_region`
    everything after the problem statement; `note` (a whole comment line, or "") goes above the new code.
    `add_entry_call` adds `if __name__ == "__main__": main()` to a Python program that would not call it."""
    reply = top_items(code, language, function)
    own = next((i for i in reply if function and i.key == ("name", function)), None)
    if own is None:
        whole = _is_program(reply, language)
        start, end = code_region if whole else region
        return Span(start, end, _with_note(note, code.strip("\n")) + ("\n" if whole else ""))
    data = file_text.encode("utf-8")
    outside = [
        i for i in top_items(file_text, language, function) if i.end <= region[0] or i.start >= region[1]
    ]
    spans: list[Span] = []
    before, after = [], []
    for item in reply:
        if item is own:
            continue
        twin = next((i for i in outside if i.key == item.key), None)
        if twin is None:
            (before if item.start < own.start else after).append(item.text)
        elif normalised(twin.text) != normalised(item.text):
            spans.append(Span(twin.start, twin.end, item.text))
    has_entry = any(i.key == ("entry", function) for i in outside + reply)
    if add_entry_call and language == "python" and not has_entry:
        after.append(f'if __name__ == "__main__":\n    {function}()')
    pieces = before + [own.text] + after
    spans.append(Span(region[0], region[1], _with_note(note, "\n\n".join(p.strip("\n") for p in pieces))))
    return _one_span(data, spans)


def _is_program(items: list[Item], language: str) -> bool:
    """Whether a reply is a whole program: a C++ `main`, or Python statements that run."""
    if language == "cpp":
        return any(i.key == ("name", "main") for i in items)
    return any(not i.definition for i in items)


def _with_note(note: str, text: str) -> str:
    """The text with the note line above it."""
    return f"{note}\n{text}" if note else text


def _one_span(data: bytes, spans: list[Span]) -> Span:
    """Several non-overlapping replacements as one span over the file."""
    spans = sorted(spans, key=lambda s: s.start)
    start, end = spans[0].start, max(s.end for s in spans)
    out, at = [], start
    for span in spans:
        if span.start < at:  # overlapping (should not happen): keep the earlier one
            continue
        out.append(data[at : span.start].decode("utf-8", errors="replace"))
        out.append(span.text)
        at = span.end
    out.append(data[at:end].decode("utf-8", errors="replace"))
    return Span(start, end, "".join(out))


# ----------------------------------------------------------------------------------------------------------
# Function-style context


def helpers_for(file_text: str, language: str, function: str | None, code: str) -> str:
    """The file's definitions that `code` needs to run alone: its imports, includes and type aliases, and the
    helpers, constants and types it uses (transitively), in file order; what `code` defines itself is left out,
    and so is a C++ `main`."""
    items = [i for i in top_items(file_text, language) if i.definition and i.key != ("name", function)]
    defined = {i.key for i in top_items(code, language)}
    kept: dict[int, Item] = {}
    always = ("preproc_include", "using_declaration", "type_definition", "alias_declaration", "preproc_def")
    data = file_text.encode("utf-8")
    tree = parser(language).parse(data)
    kinds = {n.start_byte: n.type for n in tree.root_node.named_children}
    for item in items:
        kind = kinds.get(item.start, "")
        if item.key in defined or item.key == ("name", "main"):
            continue
        if item.key[0] == "text" and (language == "python" or kind in always):
            kept[item.start] = item  # imports, includes, `using namespace std;`
        elif kind in always:
            kept[item.start] = item
    uses = code
    changed = True
    while changed:
        changed = False
        for item in items:
            if item.start in kept or item.key[0] != "name" or item.key in defined:
                continue
            if item.key[1] != "main" and re.search(rf"(?<![\w]){re.escape(item.key[1])}(?![\w])", uses):
                kept[item.start] = item
                uses += "\n" + item.text
                changed = True
    return "\n\n".join(kept[k].text.strip("\n") for k in sorted(kept))
