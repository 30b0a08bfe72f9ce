"""Examples (input, expected output) read from docstrings, comments, assert lines and sample files.

Function-style examples are Python-like expressions: `input` is a call of the function (e.g.
`two_sum(nums=[2,7,11,15], target=9)`) and `output` the expected value (`[0,1]`); literals written in other
languages' spelling (`true`, `null`, `{1, 2}`) are rewritten to Python's, and an example whose input or
output is not a valid Python expression is dropped rather than guessed at. Stdin-style examples carry the
raw text fed to the program and the text expected from it.
"""

from __future__ import annotations

import ast
import json
import re
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

MAX_EXAMPLES = 50
MAX_SAMPLE_BYTES = 1 << 20


@dataclass(frozen=True)
class Example:
    """One sample: for `function` style, `input` is a call expression and `output` the expected value's
    expression; for `stdin` style, both are the raw text fed to and expected from the program."""

    input: str
    output: str
    layout: str = "doctest"


@dataclass(frozen=True)
class SampleSet:
    """Examples read from files beside a source file, with the problem's limits when the files give them."""

    examples: tuple[Example, ...] = ()
    time_limit_ms: int | None = None
    memory_limit_mb: int | None = None


# ----------------------------------------------------------------------------------------------------------
# Comments


def clean_comment(raw: str) -> str:
    """Return a comment's prose without its syntax (`#`, `//`, `///`, `/* */`, leading `*`)."""
    text = raw.strip()
    if text.startswith("/*"):
        text = re.sub(r"^/\*+!?", "", text)
        text = re.sub(r"\*+/$", "", text)
        lines = text.split("\n")
        rest = [line for line in lines[1:] if line.strip()]
        if rest and all(line.lstrip().startswith("*") for line in rest):
            lines = [lines[0]] + [re.sub(r"^\s*\*\s?", "", line) for line in lines[1:]]
        return _dedent_lines(lines)
    lines = [re.sub(r"^\s*(///?!?|#+!?|--)", "", line, count=1) for line in text.split("\n")]
    return _dedent_lines(lines)


def _dedent_lines(lines: list[str]) -> str:
    """Join lines with trailing spaces removed and common indentation dedented."""
    return textwrap.dedent("\n".join(line.rstrip() for line in lines)).strip("\n")


def clean_docstring(raw: str) -> str:
    """Return a Python string literal's content, dedented the way `inspect.cleandoc` does."""
    import inspect

    text = re.sub(r'^[rRbBuUfF]*("""|\'\'\'|"|\')', "", raw)
    text = re.sub(r'("""|\'\'\'|"|\')$', "", text)
    return inspect.cleandoc(text)


# ----------------------------------------------------------------------------------------------------------
# Python-like expressions


_WORDS = {"true": "True", "false": "False", "null": "None", "nullptr": "None", "nil": "None", "None": "None"}


def pythonize(expr: str, braces: bool = True) -> str:
    """Rewrite another language's literals (`true`, `null`, and with braces=True `{1, 2}`) to Python's."""
    out: list[str] = []
    i = 0
    while i < len(expr):
        char = expr[i]
        if char in "\"'":
            end = _string_end(expr, i)
            out.append(expr[i:end])
            i = end
            continue
        word = re.match(r"[A-Za-z_]\w*", expr[i:])
        if word and (i == 0 or not (expr[i - 1].isalnum() or expr[i - 1] in "_.")):
            out.append(_WORDS.get(word.group(), word.group()))
            i += len(word.group())
            continue
        out.append({"{": "[", "}": "]"}.get(char, char) if braces else char)
        i += 1
    return "".join(out).strip()


def _string_end(text: str, start: int) -> int:
    """Return the index just past the string literal opening at start (or the text's end)."""
    quote = text[start]
    i = start + 1
    while i < len(text):
        if text[i] == "\\":
            i += 2
            continue
        if text[i] == quote:
            return i + 1
        i += 1
    return len(text)


def is_expression(text: str) -> bool:
    """Return True when text parses as one Python expression."""
    if not text.strip():
        return False
    try:
        ast.parse(text.strip(), mode="eval")
    except (SyntaxError, ValueError):
        return False
    return True


def _value(text: str) -> str | None:
    """Return text as a Python expression (literals rewritten, a trailing period or remark dropped)."""
    text = text.strip()
    candidates = [text, text.rstrip(".,;")]
    if text.endswith(".") and not text.endswith(".."):
        candidates.reverse()  # "should return 9." ends a sentence
    for cut in (" (", "  ", " #", " //", ". "):
        if cut in text:
            candidates.append(text[: text.index(cut)].rstrip(".,;"))
    for candidate in candidates:
        for form in (pythonize(candidate, braces=False), pythonize(candidate)):
            if is_expression(form):
                return form.strip()
    return None


def _value_exact(text: str) -> str | None:
    """Return text as a Python expression with literals rewritten, nothing cut away, or None."""
    for form in (pythonize(text, braces=False), pythonize(text)):
        if is_expression(form):
            return form.strip()
    return None


def _balance(text: str) -> int:
    """Return how many brackets are left open in text (strings skipped)."""
    depth = 0
    i = 0
    while i < len(text):
        if text[i] in "\"'":
            i = _string_end(text, i)
            continue
        depth += text[i] in "([{"
        depth -= text[i] in ")]}"
        i += 1
    return depth


def _split_top_level(text: str) -> list[str]:
    """Split text at commas that are outside brackets and strings."""
    parts, depth, start, i = [], 0, 0, 0
    while i < len(text):
        char = text[i]
        if char in "\"'":
            i = _string_end(text, i)
            continue
        if char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
        elif char == "," and depth == 0:
            parts.append(text[start:i])
            start = i + 1
        i += 1
    parts.append(text[start:])
    return [p.strip() for p in parts if p.strip()]


def arguments_call(function: str, args: str) -> str | None:
    """Turn `nums = [2,7], target = 9` (or positional values) into `function(nums=[2,7], target=9)`."""
    pieces = []
    for part in _split_top_level(" ".join(args.split())):
        named = re.match(r"^([A-Za-z_]\w*)\s*=(?!=)\s*(.+)$", part, re.DOTALL)
        if named:
            value = _value_exact(named.group(2))
            if value is None:
                return None
            pieces.append(f"{named.group(1)}={value}")
        else:
            value = _value_exact(part)
            if value is None:
                return None
            pieces.append(value)
    call = f"{function}({', '.join(pieces)})"
    return call if is_expression(call) else None


# ----------------------------------------------------------------------------------------------------------
# Function-style examples


def function_examples(text: str, function: str, language: str = "python") -> list[Example]:
    """Return doctest, call-result (`f(x) == y`, `f(x) => y`, `f(x) ➞ y`, `f(x) should return y`),
    LeetCode `Input:`/`Output:` and `For x = .. the output should be ..` examples of function."""
    if not function or not text:
        return []
    found = (
        _doctest_examples(text, function)
        + _call_result_examples(text, function)
        + _leetcode_examples(text, function)
        + _for_output_examples(text, function)
    )
    return _unique(for_language(found, language))


def for_language(examples: list[Example], language: str) -> list[Example]:
    """Rewrite brace literals (`{1, 2}`) to Python lists for languages other than Python."""
    if language == "python":
        return examples
    out = []
    for example in examples:
        given, expected = pythonize(example.input), pythonize(example.output)
        if is_expression(given) and is_expression(expected):
            out.append(Example(given, expected, example.layout))
        else:
            out.append(example)
    return out


def _unique(examples: list[Example]) -> list[Example]:
    """Drop repeated examples (same input and output), keeping the first, up to MAX_EXAMPLES."""
    seen: set[tuple[str, str]] = set()
    out = []
    for example in examples:
        key = (example.input, example.output)
        if key not in seen:
            seen.add(key)
            out.append(example)
    return out[:MAX_EXAMPLES]


def _calls_function(expr: str, function: str) -> bool:
    """Return True when the expression calls the function (possibly as a method)."""
    return re.search(rf"(?<![\w]){re.escape(function)}\s*\(", expr) is not None


def _doctest_examples(text: str, function: str) -> list[Example]:
    """Read `>>> expr` lines (with `...` continuations) and the expected output below them."""
    out: list[Example] = []
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        stripped = lines[i].strip()
        if not stripped.startswith(">>>"):
            i += 1
            continue
        expr = [stripped[3:].strip()]
        i += 1
        while i < len(lines) and lines[i].strip().startswith("..."):
            expr.append(lines[i].strip()[3:].strip())
            i += 1
        expected = []
        while i < len(lines) and lines[i].strip() and not _ends_doctest(lines[i]):
            expected.append(lines[i].strip())
            i += 1
        example = _doctest_example(" ".join(expr), "\n".join(expected), function)
        if example is not None:
            out.append(example)
    return out


def _ends_doctest(line: str) -> bool:
    """Return True for a line that ends a doctest's expected output (a new prompt or a closing quote)."""
    return line.strip().startswith(">>>") or line.strip() in ('"""', "'''")


def _doctest_example(expr: str, expected: str, function: str) -> Example | None:
    """Return the example of one doctest, reading `f(x) == y` (output True or none) as f(x) -> y."""
    if not _calls_function(expr, function):
        return None
    call_result = _split_call_result(expr, function)
    if call_result is not None and call_result[1] == "==" and expected.strip() in ("True", ""):
        return Example(call_result[0], call_result[2], "doctest")
    value = _value(expected) if expected else None
    if value is None or not is_expression(expr):
        return None
    return Example(expr.strip(), value, "doctest")


_SEPARATOR = re.compile(
    r"^\s*(?:#|//)?\s*(?P<sep>==>|=>|->|➞|→|==|=|:|should\s+(?:return|be|give|output)|returns?|gives?|is)"
    r"\s*(?P<rest>.*)$",
    re.IGNORECASE | re.DOTALL,
)


def _split_call_result(line: str, function: str) -> tuple[str, str, str] | None:
    """Split `f(args) SEP value` into (call, separator, value), or None when the line is not that shape."""
    match = re.search(rf"(?<![\w]){re.escape(function)}\s*\(", line)
    if match is None:
        return None
    end = _call_end(line, match.end() - 1)
    if end is None:
        return None
    call = line[match.start() : end]
    sep = _SEPARATOR.match(line[end:])
    if sep is None or not sep.group("rest").strip():
        return None
    value = _value(sep.group("rest").strip())
    if value is None or _calls_function(value, function) or _is_bare_name(value):
        return None
    call_py = pythonize(call, braces=False)
    call_py = call_py if is_expression(call_py) else pythonize(call)
    if not is_expression(call_py):
        return None
    return call_py, sep.group("sep").lower(), value


def _is_bare_name(value: str) -> bool:
    """Return True for a lone identifier other than True/False/None (prose like `f(x) is used`)."""
    return re.fullmatch(r"[A-Za-z_]\w*", value) is not None and value not in ("True", "False", "None")


def _call_end(text: str, open_paren: int) -> int | None:
    """Return the index just past the parenthesis matching the one at open_paren."""
    depth = 0
    i = open_paren
    while i < len(text):
        char = text[i]
        if char in "\"'":
            i = _string_end(text, i)
            continue
        if char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    return None


def _call_result_examples(text: str, function: str) -> list[Example]:
    """Read `f(x) == y` / `f(x) => y` / `f(x) ➞ y` / `f(x) = y` / `f(x) should return y` lines."""
    out = []
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        line = lines[i].strip()
        i += 1
        if line.startswith(">>>") or not _calls_function(line, function):
            continue
        while _balance(line) > 0 and i < len(lines):
            line += " " + lines[i].strip()
            i += 1
        line = re.sub(r"^(?:assert\s+|#\s*|[-*•]\s+|(?:for\s+)?example:?\s*)", "", line, flags=re.IGNORECASE)
        parts = _split_call_result(line, function)
        if parts is not None:
            out.append(Example(parts[0], parts[2], "call"))
    return out


_INLINE_INPUT = re.compile(r"^\s*(?:example\s*\d*\s*:?\s*)?input\s*:\s*(?P<rest>\S.*)$", re.IGNORECASE)
_INLINE_OUTPUT = re.compile(r"^\s*output\s*:\s*(?P<rest>\S.*)$", re.IGNORECASE)


def _inline_pairs(text: str) -> list[tuple[str, str]]:
    """Return the (input, output) texts of `Input: ...` / `Output: ...` pairs written inline."""
    pairs = []
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        match = _INLINE_INPUT.match(lines[i])
        i += 1
        if match is None:
            continue
        given = match.group("rest").strip()
        same_line = re.search(r"\s+output\s*:\s*", given, re.IGNORECASE)
        if same_line is not None:
            expected = re.split(r"\s+explanation\s*:", given[same_line.end() :], flags=re.IGNORECASE)[0]
            pairs.append((given[: same_line.start()].strip(), expected.strip()))
            continue
        while _balance(given) > 0 and i < len(lines) and not _INLINE_OUTPUT.match(lines[i]):
            given += " " + lines[i].strip()
            i += 1
        while i < len(lines) and not lines[i].strip():
            i += 1
        output = _INLINE_OUTPUT.match(lines[i]) if i < len(lines) else None
        if output is None:
            continue
        expected = output.group("rest").strip()
        i += 1
        while _balance(expected) > 0 and i < len(lines):
            expected += " " + lines[i].strip()
            i += 1
        pairs.append((given, expected))
    return pairs


def _leetcode_examples(text: str, function: str) -> list[Example]:
    """Read LeetCode's `Example 1: Input: nums = [2,7], target = 9 Output: [0,1]` blocks."""
    out = []
    for given, expected in _inline_pairs(text):
        call = arguments_call(function, given)
        value = _value(expected)
        if call is not None and value is not None:
            out.append(Example(call, value, "leetcode"))
    return out


_FOR_OUTPUT = re.compile(
    r"for\s+(?P<args>[A-Za-z_]\w*\s*=.+?)\s*,?\s+the\s+(?:output|result|answer)\s+should\s+be\s*:?\s*(?P<out>.+)$",
    re.IGNORECASE,
)


def _for_output_examples(text: str, function: str) -> list[Example]:
    """Read `For lst = [1,2,3] the output should be 14` lines."""
    out = []
    for line in text.split("\n"):
        match = _FOR_OUTPUT.search(line.strip())
        if match is None:
            continue
        args = match.group("args")
        call = arguments_call(function, args) or arguments_call(function, _split_top_level(args)[0])
        value = _value(match.group("out"))
        if call is not None and value is not None:
            out.append(Example(call, value, "for-output"))
    return out


def assert_examples(source: str, function: str, language: str = "python") -> list[Example]:
    """Read `assert f(...) == value` lines (Python) and `assert(f(...) == value);` statements (C-like)."""
    if not function or function not in source:
        return []
    out = []
    pattern = re.compile(rf"(?<![\w.])assert\b[ \t]*(?P<body>[^\n]*\b{re.escape(function)}\s*\([^\n]*)")
    for match in pattern.finditer(source):
        body = match.group("body").strip()
        if body.startswith("("):
            end = _call_end(body, 0)
            body = body[1 : end - 1] if end is not None else body[1:]
        else:
            body = re.sub(r",\s*(['\"]).*\1\s*$", "", body)  # assert f(x) == y, "message"
        parts = _split_call_result(body, function)
        if parts is not None and parts[1] == "==":
            out.append(Example(parts[0], parts[2], "assert"))
    return _unique(for_language(out, language))


# ----------------------------------------------------------------------------------------------------------
# Examples that are not examples


_EXAMPLES_HEADING = re.compile(r"^\s*(?:#+\s*)?(?:examples?|sample\s+tests?)\s*\d*\s*:?\s*$", re.IGNORECASE)
_OTHER_HEADING = re.compile(r"^\s*(?:#+\s*)?[A-Za-z][A-Za-z ]{0,30}:\s*$")
_CODE_LAYOUTS = ("doctest", "assert")


def value_kind(expr: str) -> str | None:
    """Return the kind of a literal value ("number", "str", "bool", "list", "tuple", "set", "dict"), or
    None for None and for anything that is not a plain literal (which then agrees with every kind)."""
    try:
        node = ast.parse(expr.strip(), mode="eval").body
    except (SyntaxError, ValueError):
        return None
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        node = node.operand
    if isinstance(node, ast.Constant):
        if node.value is None:
            return None
        if isinstance(node.value, bool):
            return "bool"
        return "number" if isinstance(node.value, (int, float, complex)) else type(node.value).__name__
    kinds = {ast.List: "list", ast.ListComp: "list", ast.Tuple: "tuple", ast.Set: "set", ast.Dict: "dict"}
    return kinds.get(type(node))


def examples_section(text: str) -> str:
    """Return the lines under `Examples:` / `Example 1:` headings (up to the next other heading)."""
    out: list[str] = []
    inside = False
    for line in text.split("\n"):
        if _EXAMPLES_HEADING.match(line):
            inside = True
        elif _OTHER_HEADING.match(line):
            inside = False
        elif inside:
            out.append(line)
    return "\n".join(out)


def trusted_examples(
    examples: Sequence[Example], text: str, function: str | None, language: str = "python"
) -> tuple[list[Example], list[Example]]:
    """Split a function's examples into (kept, dropped): when their values disagree in kind (an int where
    the `Examples:` section shows lists, as a recurrence `tri(1) = 3` in the prose does), the ones under the
    heading are trusted and the others of a kind the heading never shows are dropped. Doctests and asserts
    (code that runs) are always kept, and nothing is dropped when there is no such heading."""
    kept = list(examples)
    kinds = {value_kind(e.output) for e in kept} - {None}
    if len(kinds) < 2 or not function:
        return kept, []
    under = {(e.input, e.output) for e in function_examples(examples_section(text), function, language)}
    trusted = {value_kind(output) for _, output in under} - {None}
    if not trusted:
        return kept, []
    dropped = [
        e
        for e in kept
        if (e.input, e.output) not in under
        and e.layout not in _CODE_LAYOUTS
        and value_kind(e.output) not in trusted | {None}
    ]
    return [e for e in kept if e not in dropped], dropped


def dropped_note(dropped: Sequence[Example]) -> str:
    """Say which examples were dropped for disagreeing with the `Examples:` section ("" when none)."""
    if not dropped:
        return ""
    shown = ", ".join(f"{e.input} -> {e.output}" for e in dropped[:5])
    more = f" and {len(dropped) - 5} more" if len(dropped) > 5 else ""
    noun = "example" if len(dropped) == 1 else "examples"
    return f"Ignored {len(dropped)} {noun} that disagree with the Examples section: {shown}{more}."


# ----------------------------------------------------------------------------------------------------------
# Stdin-style examples


_HEADING = re.compile(
    r"^\s*(?:#+\s*|\*\*)?(?:(?P<kind1>sample|example|expected)s?\s+)?(?P<which>input|output)"
    r"(?:\s*(?:#|no\.?)?\s*\d+)?\s*:?\s*(?:\*\*)?\s*$"
    r"|^\s*(?P<cjk>入力例|出力例)\s*\d*\s*:?\s*$",
    re.IGNORECASE,
)
_SECTION_END = re.compile(
    r"^\s*(?:explanation|note|notes|hint|constraints|example\s*\d*\s*:?|examples?\s*:?)\s*:?\s*$",
    re.IGNORECASE,
)
_PROSE = re.compile(r"[A-Za-z]{2,}[,.]?\s+[A-Za-z]{2,}[,.]?\s+[A-Za-z]{2,}")


def _heading_kind(line: str) -> str | None:
    """Return "input" or "output" when the line is a sample heading on its own, else None."""
    match = _HEADING.match(line)
    if match is None:
        return None
    if match.group("cjk"):
        return "input" if match.group("cjk") == "入力例" else "output"
    return match.group("which").lower()


def stdin_block_examples(text: str) -> list[Example]:
    """Read multi-line `Sample Input`/`Sample Output` (and `Input`/`Output`, `Example Input 1`, ...)
    blocks: a heading on its own line, then the sample text up to the next heading or section."""
    blocks: list[tuple[str, str]] = []
    kind: str | None = None
    body: list[str] = []
    for line in text.split("\n") + [""]:
        heading = _heading_kind(line)
        if heading is not None or _SECTION_END.match(line):
            if kind is not None:
                blocks.append((kind, _sample_text(body)))
            kind, body = heading, []
            continue
        if kind is not None and line.strip().startswith("```"):
            continue
        if kind is not None:
            body.append(line)
    if kind is not None:
        blocks.append((kind, _sample_text(body)))
    return _pair_blocks(blocks, "sample")


def _sample_text(lines: list[str]) -> str:
    """Return a sample block's text: dedented, cut before prose that follows a blank line."""
    while lines and not lines[0].strip():
        lines = lines[1:]
    for i, line in enumerate(lines):
        if not line.strip() and any(_PROSE.search(rest) for rest in lines[i + 1 : i + 2]):
            lines = lines[:i]
            break
    text = textwrap.dedent("\n".join(line.rstrip() for line in lines)).strip("\n")
    return text + "\n" if text else ""


def _pair_blocks(blocks: list[tuple[str, str]], layout: str) -> list[Example]:
    """Pair each input block with the output block that follows it."""
    out = []
    pending: str | None = None
    for kind, body in blocks:
        if kind == "input":
            pending = body
        elif pending is not None and body:
            out.append(Example(pending, body, layout))
            pending = None
    return _unique(out)


def stdin_inline_examples(text: str) -> list[Example]:
    """Read single-line `Input: 3 4` / `Output: 7` pairs as stdin examples."""
    return _unique(
        [Example(given + "\n", expected + "\n", "inline") for given, expected in _inline_pairs(text)]
    )


def stdin_examples(text: str) -> list[Example]:
    """Return every stdin-style example in a text: heading blocks, else inline pairs."""
    return stdin_block_examples(text) or stdin_inline_examples(text)


# ----------------------------------------------------------------------------------------------------------
# Sample files


_SAMPLE_FOLDERS = ("tests", "samples", "test", "sample", "examples")
_OUTPUT_SUFFIXES = (".out", ".ans", ".a", ".expected")


def sample_files(path: Path) -> SampleSet:
    """Return examples from files beside a source: the `.cph/` problem of the Competitive Programming
    Helper, `NAME.in`/`NAME.out` (or `.ans`) pairs, and pairs in a `tests/` or `samples/` folder."""
    try:
        cph = _cph_problem(path)
        if cph is not None and cph.examples:
            return cph
        pairs = _pairs_beside(path) or _pairs_in_folders(path)
    except OSError:
        return SampleSet()
    examples = tuple(Example(given, expected, "file") for given, expected in pairs[:MAX_EXAMPLES])
    if cph is not None:
        return SampleSet(examples, cph.time_limit_ms, cph.memory_limit_mb)
    return SampleSet(examples)


def _read_small(path: Path) -> str | None:
    """Return a small text file's content, or None when it is too big or unreadable."""
    try:
        if path.stat().st_size > MAX_SAMPLE_BYTES:
            return None
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None


def _cph_problem(path: Path) -> SampleSet | None:
    """Return the tests and limits of the `.cph/.<file>_<hash>.prob` problem file for path, if any."""
    folder = path.parent / ".cph"
    if not folder.is_dir():
        return None
    for prob in sorted(folder.glob(f".{path.name}_*.prob")):
        text = _read_small(prob)
        try:
            data = json.loads(text) if text else None
        except json.JSONDecodeError:
            continue
        if not isinstance(data, dict):
            continue
        src = data.get("srcPath")
        if isinstance(src, str) and src and Path(src).name != path.name:
            continue
        tests = [t for t in data.get("tests") or [] if isinstance(t, dict)]
        examples = tuple(
            Example(str(t.get("input", "")), str(t.get("output", "")), "cph")
            for t in tests[:MAX_EXAMPLES]
            if str(t.get("output", "")).strip()
        )
        return SampleSet(examples, _int_or_none(data.get("timeLimit")), _int_or_none(data.get("memoryLimit")))
    return None


def _int_or_none(value: object) -> int | None:
    """Return value as a positive int, or None."""
    try:
        number = int(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return number if number > 0 else None


def _output_for(input_path: Path) -> Path | None:
    """Return the expected-output file that pairs with an input file, if one exists."""
    stem = input_path.with_suffix("")
    for suffix in _OUTPUT_SUFFIXES:
        candidate = stem.with_name(stem.name + suffix)
        if candidate.is_file():
            return candidate
    if input_path.name.startswith("input"):
        candidate = input_path.with_name("output" + input_path.name[5:])
        if candidate.is_file():
            return candidate
    return None


def _read_pairs(inputs: list[Path]) -> list[tuple[str, str]]:
    """Read the (input, expected output) texts of input files that have an output file."""
    pairs = []
    for input_path in sorted(inputs, key=_natural_key):
        output_path = _output_for(input_path)
        if output_path is None:
            continue
        given, expected = _read_small(input_path), _read_small(output_path)
        if given is not None and expected is not None:
            pairs.append((given, expected))
    return pairs


def _natural_key(path: Path) -> list[object]:
    """Sort key putting `2.in` before `10.in`."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", path.name)]


def _is_input_file(path: Path) -> bool:
    """Return True for files named like sample inputs (`x.in`, `input1.txt`)."""
    return path.is_file() and (path.suffix == ".in" or re.match(r"input\d*\.txt$", path.name) is not None)


def _pairs_beside(path: Path) -> list[tuple[str, str]]:
    """Return `NAME.in`/`NAME.out`, `NAME.1.in`, `NAME_1.in` ... pairs in the source's folder."""
    name = path.stem
    inputs = [
        p
        for p in path.parent.glob(f"{glob_escape(name)}*.in")
        if re.fullmatch(rf"{re.escape(name)}(?:[._-]?\d+)?\.in", p.name)
    ]
    return _read_pairs(inputs)


def glob_escape(text: str) -> str:
    """Escape glob metacharacters in a file name."""
    return re.sub(r"([*?\[])", r"[\1]", text)


def _pairs_in_folders(path: Path) -> list[tuple[str, str]]:
    """Return pairs from a `tests/` or `samples/` folder: those named after the source, else all."""
    for folder_name in _SAMPLE_FOLDERS:
        folder = path.parent / folder_name
        if not folder.is_dir():
            continue
        inputs = [p for p in folder.iterdir() if _is_input_file(p)]
        own = [p for p in inputs if p.name.startswith(path.stem)]
        pairs = _read_pairs(own or inputs)
        if pairs:
            return pairs
    return []
