"""ParsedDocument: incremental edits keep text and tree equal to a fresh parse, whatever the edits."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from codegen.document import ParsedDocument
from codegen.geometry import Position
from codegen.languages import parser


def reference_edit(text: str, start: Position, end: Position, new_text: str) -> str:
    """Apply an edit to a plain string with the documented clamping rules (the model the document must match)."""
    lines = text.split("\n")

    def offset(position: Position) -> int:
        line = min(max(position.line, 0), len(lines) - 1)
        content = lines[line][:-1] if lines[line].endswith("\r") else lines[line]
        column = min(max(position.column, 0), len(content))
        return sum(len(x) + 1 for x in lines[:line]) + column

    a, b = sorted((offset(start), offset(end)))
    return text[:a] + new_text + text[b:]


def node_list(tree) -> list[tuple]:
    """Return every node's type, byte range and points, in document order."""
    out = []
    cursor = tree.walk()
    stack_done = False
    while True:
        if not stack_done:
            node = cursor.node
            out.append(
                (node.type, node.start_byte, node.end_byte, tuple(node.start_point), tuple(node.end_point))
            )
            if cursor.goto_first_child():
                continue
        if cursor.goto_next_sibling():
            stack_done = False
        elif cursor.goto_parent():
            stack_done = True
        else:
            return out


def assert_matches_fresh_parse(doc: ParsedDocument) -> None:
    """The document's tree equals a fresh parse of its text."""
    fresh = parser(doc.language).parse(doc.text.encode("utf-8"))
    assert str(doc.tree.root_node) == str(fresh.root_node)
    assert node_list(doc.tree) == node_list(fresh)


def test_edit_inside_line_with_multibyte_characters():
    """Columns are code points: edits after emoji and CJK land on the right bytes."""
    doc = ParsedDocument("s = '😀漢'\nx = 1\n", "python")
    doc.apply_edit(Position(0, 7), Position(0, 7), "字字")
    assert doc.text == "s = '😀漢字字'\nx = 1\n"
    doc.apply_edit(Position(1, 4), Position(1, 5), "'é'")
    assert doc.text == "s = '😀漢字字'\nx = 'é'\n"
    assert_matches_fresh_parse(doc)


def test_crlf_columns_stop_before_carriage_return():
    """With CRLF endings a column past the line's end stops before the "\\r"."""
    doc = ParsedDocument("a = 1\r\nb = 2\r\n", "python")
    doc.apply_edit(Position(0, 99), Position(0, 99), "0")
    assert doc.text == "a = 10\r\nb = 2\r\n"
    doc.apply_edit(Position(0, 6), Position(1, 0), "\r\n\r\n")
    assert doc.text == "a = 10\r\n\r\nb = 2\r\n"
    assert_matches_fresh_parse(doc)


def test_out_of_range_positions_are_clamped():
    """Positions before the start or after the end are clamped and reversed ranges are ordered."""
    doc = ParsedDocument("abc\ndef", "cpp")
    doc.apply_edit(Position(9, 9), Position(9, 9), "!")
    assert doc.text == "abc\ndef!"
    doc.apply_edit(Position(1, 2), Position(-1, -1), "")
    assert doc.text == "f!"
    assert_matches_fresh_parse(doc)


def test_tasks_cached_until_edit_and_code_action_lookup():
    """tasks() is cached per version; the code-action lookup (the markers on some lines, the function
    under the cursor) finds the marker's task with or without the cache."""
    doc = ParsedDocument("def f():\n    # TODO: one\n    pass\n", "python")
    first = doc.tasks()
    assert doc.tasks() is first
    assert doc.tasks_in(2, 2)[0].text == "one"
    doc.apply_edit(Position(1, 12), Position(1, 15), "two")
    assert doc.tasks_in(2, 2)[0].text == "two"  # the cheap path, before tasks() runs
    assert doc.function_at(Position(2, 4)).function == "f"  # inside the function
    assert doc.tasks_in(1, 2)[0].text == "two"  # also without the cache
    assert doc.tasks_in(3, 3) == []
    assert doc.tasks()[0].text == "two"
    assert [t.line for t in doc.tasks_in(1, 9)] == [2]
    doc.replace("int main() {\n}\n")
    assert doc.tasks() == []


def test_hover_and_complexity_through_the_document():
    """Hover and complexity read the document's current tree."""
    doc = ParsedDocument("def f(a):\n    for x in a:\n        for y in a:\n            pass\n", "python")
    assert doc.function_at(Position(3, 12)).function == "f"
    assert doc.complexity_at(Position(3, 0)).summary == "O(n^2) time (2 nested loops)"


def test_unknown_language_keeps_text_without_tree():
    """A document in a language without a grammar keeps its text, and has no tree and no tasks."""
    doc = ParsedDocument("TODO: nothing\n", None)
    doc.apply_edit(Position(0, 0), Position(0, 4), "DONE")
    assert doc.text == "DONE: nothing\n"
    assert doc.tree is None
    assert doc.tasks() == [] and doc.tasks_in(1, 1) == [] and doc.complexity_at(Position(0, 0)) is None
    assert doc.function_at(Position(0, 0)) is None


PIECES = [
    "def ",
    "f",
    "(",
    ")",
    ":",
    "\n",
    "\r\n",
    "    ",
    "# TODO ",
    "x = 1",
    "'😀'",
    "漢字",
    "é",
    '"',
    "[",
    "]",
    "for i in a:",
    "return ",
    "{",
    "}",
    "int main() ",
    ";",
    "/* ",
    " */",
    "\t",
]
positions = st.builds(Position, st.integers(-2, 12), st.integers(-2, 30))
edits = st.lists(
    st.tuples(positions, positions, st.lists(st.sampled_from(PIECES), max_size=5).map("".join)), max_size=12
)
starts = st.lists(st.sampled_from(PIECES), max_size=30).map("".join)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    language=st.sampled_from(["python", "cpp"]),
    initial=starts,
    steps=edits,
    looks=st.lists(st.booleans(), max_size=12),
)
def test_incremental_edits_equal_fresh_parse(language: str, initial: str, steps: list, looks: list[bool]):
    """After any sequence of edits, text equals the string model and the tree equals a fresh parse, also
    when the tree is asked for between edits (each request parses the edits since the last one)."""
    doc = ParsedDocument(initial, language)
    model = initial
    for index, (start, end, new_text) in enumerate(steps):
        doc.apply_edit(start, end, new_text)
        model = reference_edit(model, start, end, new_text)
        assert doc.text == model
        if index < len(looks) and looks[index]:
            assert_matches_fresh_parse(doc)
    assert_matches_fresh_parse(doc)
    doc.tasks()  # never raises on whatever the edits made
