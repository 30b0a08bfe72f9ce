"""What a stress test needs besides the candidate, from text alone: the requests for a brute force and a
generator, the programs in their replies, function-style inputs made from the examples, and the ranking of
candidates by agreement when there is no brute force.

Pure functions; nothing here waits on a model or runs a program. The words "brute force" appear only in the
brute-force request and "generator" only in the generator request, so a reply can never be mistaken for the
other kind (tests/test_oracles.py checks every prompt builder).

Function-style inputs are made the way EvalPlus mutates seed inputs: each argument's type is read from the
examples (ints, floats, bools, strings, lists, nested lists, tuples, dicts), then values are drawn small
first (ints around 0 with negatives and duplicates, lists of length 0..8, strings over a small alphabet) or
made by mutating the examples' own values, and kept within what the statement states where it can be read
(`1 <= n <= 10`, "non-negative", "positive", "lowercase", `1 <= nums.length`).
"""

from __future__ import annotations

import ast
import random
import re
import string
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from codegen.constraints import Constraints, read_constraints
from codegen.prompts import fence
from codegen.replies import parse_reply, strip_reasoning
from codegen.tasks import SourceFile, Task
from sandbox.stress import Program

ORACLE_SYSTEM_PROMPT = (
    "You are an expert competitive programmer who writes test tools for checking solutions. Correctness "
    "matters more than anything else: write code that is obviously right. Think step by step, then give the "
    "final answer: one complete code block, its fence naming its language (```python or ```cpp)."
)
SMALL_N = 10
MAX_LIST = 8
MAX_SHOWN_EXAMPLES = 8
MIN_STATEMENT = 40
STALE_ATTEMPTS = 200  # give up after this many draws in a row found nothing new (a small input space)

_LANGUAGES = {
    "python": ("python", "py", "python3", "py3"),
    "cpp": ("cpp", "c++", "cc", "cxx", "c"),
}
_NAMES = {"cpp": "C++", "java": "Java", "rust": "Rust", "go": "Go", "javascript": "JavaScript"}
_FENCED = re.compile(r"```[ \t]*([\w+#-]*)[^\n]*\n(.*?)```", re.DOTALL)


# ----------------------------------------------------------------------------------------------------------
# Requests


def brute_force_messages(task: Task, system_prompt: str | None = None) -> list[dict[str, str]]:
    """Ask for the simplest obviously correct brute force for small inputs (the only request that says
    "brute force"); it may be written in Python whatever the solution's language."""
    lang = fence(task.language)
    parts = [
        "Write the simplest obviously correct brute force for small inputs, no matter how slow. Its answers "
        f"are compared with a fast solution's on many tiny inputs (sizes up to about {SMALL_N}), so it must be "
        "right rather than fast: try every possibility or simulate the statement literally, with no clever "
        "tricks and no optimizations."
    ]
    if task.style == "stdin":
        parts.append(
            "It is a complete program: it reads the input from standard input in exactly the format below and "
            "prints the answer to standard output in exactly the expected format."
        )
    else:
        where = f", as a method of class `{task.class_name}`" if task.class_name else ""
        parts.append(
            f"It is the function `{task.function}` with the same name, parameters and return value{where}; "
            "no input reading, no printing, no tests."
        )
    parts += _problem_parts(task)
    named = _NAMES.get(task.language, task.language)
    choice = (
        "in Python (```python)" if lang == "python" else f"in Python (```python) or in {named} (```{lang})"
    )
    parts.append(f"Answer with the complete code {choice} in one code block; the fence names its language.")
    return _messages(parts, system_prompt)


def generator_messages(task: Task, system_prompt: str | None = None) -> list[dict[str, str]]:
    """Ask for a random test generator run as `gen SEED [N]` (the only request that says "generator")."""
    limits = _constraint_lines(read_constraints(_statement(task)))
    parts = [
        "Write a random test generator for this problem: a complete Python program run as `gen SEED [N]` "
        "that prints one valid input to standard output.",
        "- SEED (the first argument, an integer) seeds all randomness (`random.seed(SEED)`): the same SEED "
        "always prints the same input, different seeds print different inputs.\n"
        f"- N (the optional second argument, default {SMALL_N}) bounds the size: every size-like quantity (n, "
        "the length of arrays and strings, the number of queries or test cases) is at most N. When N is small "
        "the values are small too, so that ties, duplicates, equal elements and edge cases are common; when N "
        "is the statement's maximum, sizes are close to N.\n"
        "- Every constraint and guarantee of the statement holds (ranges, distinct values, a connected graph, "
        "a valid answer existing, the sum of sizes over test cases); the format is exactly the input format.",
    ]
    if limits:
        parts.append("Constraints read from the statement:\n" + limits)
    parts += _problem_parts(task)
    parts.append("Answer with the complete program in one ```python block.")
    return _messages(parts, system_prompt)


def _messages(parts: list[str], system_prompt: str | None) -> list[dict[str, str]]:
    """Return the system and user messages."""
    return [
        {"role": "system", "content": system_prompt or ORACLE_SYSTEM_PROMPT},
        {"role": "user", "content": "\n\n".join(part for part in parts if part)},
    ]


def _problem_parts(task: Task) -> list[str]:
    """Return the statement, signature and samples of a task (never the candidate's own body)."""
    lang = fence(task.language)
    parts = []
    statement = _statement(task)
    if statement:
        parts.append("Problem:\n" + statement)
    if task.style != "stdin" and task.signature:
        parts.append(f"Signature:\n```{lang}\n{task.signature}\n```")
    elif task.style == "stdin" and len(statement) < MIN_STATEMENT:
        parts.append(
            f"The file (its code may be unfinished or wrong; do not copy it):\n```{lang}\n"
            + task.source.rstrip()
            + "\n```"
        )
    if task.examples:
        parts.append(_samples_text(task))
    return parts


def _statement(task: Task) -> str:
    """Return the problem text of a task: the module's leading text (stdin), the docstring, the request."""
    texts = []
    if task.style == "stdin":
        texts.append(_module_doc(task))
    texts.append(task.docstring)
    out: list[str] = []
    for text in texts:
        text = (text or "").strip()
        if text and not any(text in seen for seen in out):
            out.append(text)
    if task.text and task.kind != "selection" and not any(task.text in seen for seen in out):
        out.append(f"Request: {task.text.strip()}")
    return "\n\n".join(out)


def _module_doc(task: Task) -> str:
    """Return the leading docstring or comments of the task's file (a stdin problem's statement)."""
    text = getattr(task, "file_text", "") or task.source
    try:
        return SourceFile(text, task.language).module_doc
    except Exception:  # an unknown language or an unparsable file: no statement from it
        return ""


def _samples_text(task: Task) -> str:
    """Return the samples, as stdin/stdout blocks or as call -> value lines."""
    shown = task.examples[:MAX_SHOWN_EXAMPLES]
    if task.style == "stdin":
        blocks = [
            f"Sample input {i}:\n```\n{e.input.rstrip()}\n```\nSample output {i}:\n```\n{e.output.rstrip()}\n```"
            for i, e in enumerate(shown, 1)
        ]
        return "\n".join(blocks)
    return "Examples:\n" + "\n".join(f"- {e.input} -> {e.output}" for e in shown)


def _constraint_lines(constraints: Constraints) -> str:
    """Return `low <= name <= high` lines for the bounds read from a statement."""
    return "\n".join(f"- {low} <= {name} <= {high}" for name, (low, high) in constraints.bounds.items())


# ----------------------------------------------------------------------------------------------------------
# Replies


def program_from_reply(reply: str, default_language: str, name: str) -> Program | None:
    """Return the program in a reply's final answer: the last code block in Python or C++, its fence naming
    the language (an untagged block is `default_language`); None when there is no code."""
    _, answer = strip_reasoning(reply)
    blocks = _FENCED.findall(answer)
    for tag, body in reversed(blocks):
        language = _language_of(tag.lower(), default_language)
        if language is not None and body.strip():
            return Program(code=body.strip("\n").rstrip() + "\n", language=language, name=name)
    if blocks:
        return None
    code = parse_reply(answer, default_language).code  # a block cut off by the token limit
    if code is None:
        return None
    tail = re.search(r"```[ \t]*([\w+#-]*)", answer)
    language = _language_of(tail.group(1).lower() if tail else "", default_language)
    return Program(code=code, language=language, name=name) if language else None


def _language_of(tag: str, default_language: str) -> str | None:
    """Return the runnable language a fence tag names (python or cpp), the default for no tag, else None."""
    if not tag:
        return default_language if default_language in _LANGUAGES else None
    return next((lang for lang, tags in _LANGUAGES.items() if tag in tags), None)


# ----------------------------------------------------------------------------------------------------------
# Ranking by agreement


def agreement_ranking(outputs: dict[int, list[str | None]], passes_samples: set[int]) -> list[int]:
    """Return candidate indices, best first: those in the largest group of candidates that pass the samples
    and agree on every generated input (between groups of one size, the one with fewer crashes), then the
    other sample-passers by how many inputs they agree with that group on, then the rest. Ties keep the
    candidates' order. `outputs` holds each candidate's outputs on the same inputs (None: it crashed)."""
    signatures = {index: _signature(values) for index, values in outputs.items()}
    passing = [i for i in sorted(outputs) if i in passes_samples]
    groups = Counter(signatures[i] for i in passing)
    if not groups:
        return sorted(outputs)
    best = max(groups, key=lambda sig: (groups[sig], sum(v is not None for v in sig)))

    def rank(index: int) -> tuple[bool, bool, int, int]:
        """Sort key: outside the group, failing the samples, fewer agreements, later candidate."""
        sig = signatures[index]
        agreed = sum(a == b and a is not None for a, b in zip(sig, best, strict=False))
        passes = index in passes_samples
        return (sig != best or not passes, not passes, -agreed, index)

    return sorted(outputs, key=rank)


def _signature(values: list[str | None]) -> tuple[str | None, ...]:
    """Return a candidate's outputs with whitespace differences removed (None, a crash, stays None)."""
    return tuple(None if value is None else " ".join(value.split()) for value in values)


# ----------------------------------------------------------------------------------------------------------
# Function-style inputs: shapes


@dataclass(frozen=True)
class Shape:
    """The type of an argument as the examples show it: kind is int, float, bool, str, none, list, tuple,
    set, dict or union; `items` the element shapes (one for list/set, one per slot for tuple, key and value
    for dict, the options of a union); `nullable` when some values were None; `rectangular` for lists of lists of one length."""

    kind: str
    items: tuple[Shape | None, ...] = ()
    nullable: bool = False
    rectangular: bool = False


def shape_of(value: object) -> Shape | None:
    """Return the shape of a literal value (None for values we cannot generate)."""
    if value is None:
        return Shape("none")
    if isinstance(value, bool):
        return Shape("bool")
    if isinstance(value, int):
        return Shape("int")
    if isinstance(value, float):
        return Shape("float")
    if isinstance(value, str):
        return Shape("str")
    if isinstance(value, (list, set)):
        kind = "list" if isinstance(value, list) else "set"
        inner = _merge_all([shape_of(v) for v in value])
        lengths = {len(v) for v in value if isinstance(v, list)}
        return Shape(kind, (inner,), rectangular=len(lengths) <= 1)
    if isinstance(value, tuple):
        return Shape("tuple", tuple(shape_of(v) for v in value))
    if isinstance(value, dict):
        return Shape(
            "dict",
            (_merge_all([shape_of(k) for k in value]), _merge_all([shape_of(v) for v in value.values()])),
        )
    return None


def merge(a: Shape | None, b: Shape | None) -> Shape | None:
    """Return one shape covering both (int and float make float, None makes the other nullable)."""
    if a is None or b is None:
        return a or b
    if a.kind == "none" or b.kind == "none":
        other = b if a.kind == "none" else a
        return Shape(other.kind, other.items, True, other.rectangular) if other.kind != "none" else other
    nullable = a.nullable or b.nullable
    if {a.kind, b.kind} == {"int", "float"}:
        return Shape("float", (), nullable)
    if a.kind != b.kind or a.kind == "union":
        return _union(a, b)
    if a.kind == "tuple" and len(a.items) != len(b.items):
        return None
    items = tuple(merge(x, y) for x, y in zip(a.items, b.items, strict=False))
    if a.kind in ("list", "set") and not a.items[0]:
        items = b.items
    elif a.kind in ("list", "set") and not b.items[0]:
        items = a.items
    return Shape(a.kind, items, nullable, a.rectangular and b.rectangular)


def _union(a: Shape, b: Shape) -> Shape:
    """Return a shape that is either of two (HumanEval's `compare_one(1, "2,3")` takes ints or strings)."""
    options: list[Shape] = []
    for shape in (a, b):
        for option in shape.items if shape.kind == "union" else (shape,):
            if option is not None and all(option.kind != o.kind for o in options):
                options.append(option)
    return Shape("union", tuple(options), a.nullable or b.nullable)


def _merge_all(shapes: Sequence[Shape | None]) -> Shape | None:
    """Merge a sequence of shapes (None when empty or incompatible)."""
    out: Shape | None = None
    for i, shape in enumerate(shapes):
        if shape is None:
            return None
        out = shape if i == 0 else merge(out, shape)
        if out is None:
            return None
    return out


# ----------------------------------------------------------------------------------------------------------
# Function-style inputs: domains read from the statement


@dataclass
class Domain:
    """Where one argument's values may lie: ints in [low, high] (None: unbounded), lengths in
    [min_len, max_len], strings over `alphabet`, or made of the examples' words (`tokens`: "o o| .|"), or
    shaped like an example with its numbers and letters changed (`templates`: "1/5", "15.3")."""

    low: int | None = None
    high: int | None = None
    min_len: int = 0
    max_len: int = MAX_LIST
    alphabet: str = "ab"
    inner: Domain | None = None  # for the lists inside a list of lists
    seeds: list[object] = field(default_factory=list)
    tokens: list[str] = field(default_factory=list)
    templates: list[str] = field(default_factory=list)


_SENTENCES = re.compile(r"(?<=[.!?;])\s+|\n\s*\n|\n(?=\s*[-*•])")
_NON_NEGATIVE = re.compile(r"\b(?:non-?negative|not\s+negative|natural)\b", re.IGNORECASE)
_POSITIVE = re.compile(r"(?<!non-)(?<!non)\bpositive\b", re.IGNORECASE)
_NON_EMPTY = re.compile(r"\bnon-?empty\b|\bat\s+least\s+one\b", re.IGNORECASE)
_AT_LEAST = re.compile(
    r"\bat\s+least\s+(one|two|three|four|five|[1-5])\s+(?:\w+\s+)?(?:elements|numbers|items|values|integers|words)",
    re.IGNORECASE,
)
_COUNTS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5}
_EMPTY = re.compile(r"(?<!non-)(?<!non)\bempty\b", re.IGNORECASE)
_ALPHABETS = [
    (re.compile(r"\bbinary\s+string|\bof\s+(?:only\s+)?(?:0s?\s+and\s+1s?|'0'\s+and\s+'1')", re.I), "01"),
    (re.compile(r"\blower-?case\b|\bsmall\s+(?:english\s+|latin\s+)?letters\b", re.I), "abc"),
    (re.compile(r"\bupper-?case\b|\bcapital\s+letters\b", re.I), "ABC"),
    (re.compile(r"\b(?:only\s+)?digits\b", re.I), "0123"),
]


def _sentences_about(text: str, name: str) -> list[str]:
    """Return the sentences of a text that name an argument (as a whole word)."""
    word = re.compile(rf"(?<![\w-]){re.escape(name)}(?![\w-])")
    return [s for s in _SENTENCES.split(text) if word.search(s)]


def _sign_low(sentences: list[str]) -> int | None:
    """Return 1 for "positive", 0 for "non-negative" in the sentences, else None."""
    text = " ".join(sentences)
    if _NON_NEGATIVE.search(text):
        return 0
    if _POSITIVE.search(text):
        return 1
    return None


def _domain(
    name: str | None, shape: Shape, seeds: list[object], text: str, constraints: Constraints
) -> Domain:
    """Return an argument's domain: the statement's bounds for its name first, then what the sentences
    naming it say, then what the whole text says, then the examples' own values."""
    about = _sentences_about(text, name) if name else []
    domain = Domain(seeds=seeds)
    element = constraints.bound(name) if name else None
    if element is not None:
        domain.low, domain.high = element
    else:
        low = _sign_low(about)
        low = low if low is not None else _sign_low([text]) if not about else None
        domain.low = low if low is not None else _low_from_seeds(shape, seeds, text)
    length = constraints.bound(f"len({name})") if name else None
    if length is not None:
        domain.min_len, domain.max_len = max(0, length[0]), max(0, min(MAX_LIST, length[1]))
    elif _AT_LEAST.search(" ".join(about) or text):
        word = _AT_LEAST.search(" ".join(about) or text).group(1).lower()  # type: ignore[union-attr]
        domain.min_len = _COUNTS.get(word) or int(word)
    elif _NON_EMPTY.search(" ".join(about)) or (not about and _NON_EMPTY.search(text)):
        domain.min_len = 1
    elif _never_empty(seeds) and not _EMPTY.search(text):
        domain.min_len = 1  # the examples never show an empty one and the text never mentions one
    domain.max_len = max(domain.max_len, domain.min_len)
    _string_domain(domain, about or [text], _strings_in(seeds))
    inner = constraints.bound(f"len({name}[i])") if name else None
    if shape.kind == "list" and shape.items and shape.items[0] is not None and shape.items[0].kind == "list":
        domain.inner = Domain(domain.low, domain.high, 0, min(4, MAX_LIST), domain.alphabet)
        if inner is not None:
            domain.inner.min_len, domain.inner.max_len = max(0, inner[0]), max(inner[0], min(4, inner[1]))
    return domain


def _never_empty(seeds: list[object]) -> bool:
    """Return True when the examples give the argument as sized values (lists, strings), none empty."""
    sized = [v for v in seeds if isinstance(v, (list, str, tuple, set, dict))]
    return bool(sized) and all(len(v) > 0 for v in sized)


def _string_domain(domain: Domain, sentences: list[str], seeds: list[str]) -> None:
    """Choose how strings are made: over the alphabet the text names; from the examples' words when every
    example string has several; shaped like the examples when they hold digits or punctuation; else over a
    few characters of the classes the examples use."""
    told = _text_alphabet(sentences)
    domain.alphabet = told or _alphabet(seeds)
    if told or not seeds:
        return
    if all(len(s.split()) >= 2 for s in seeds):
        domain.tokens = sorted(dict.fromkeys(word for s in seeds for word in s.split()))
    elif any(re.search(r"[^A-Za-z\s]", s) for s in seeds):
        domain.templates = sorted(dict.fromkeys(s for s in seeds if s))


def _low_from_seeds(shape: Shape, seeds: list[object], text: str) -> int | None:
    """Return 0 when the examples show no negative number and the argument is not a collection of
    "integers"/"numbers" (a lone int is usually a count or an index), else None (negatives allowed).
    A lone int whose examples are all 1 or more starts at the smallest of them, 2 at most: a base, a
    divisor or a modulus of 0 or 1 is outside what such a function is shown to take."""
    numbers = list(_numbers_in(seeds))
    if any(n < 0 for n in numbers):
        return None
    if shape.kind == "int" and numbers and min(numbers) >= 1:
        return int(min(2, min(numbers)))
    if shape.kind in ("list", "set", "tuple", "dict") and re.search(
        r"\b(?:list|array|sequence|vector|tuple)s?\s+of\s+(?:\w+\s+)?(?:integers|numbers|ints|floats)\b",
        text,
        re.IGNORECASE,
    ):
        return None
    return 0


def _numbers_in(values: Sequence[object]):
    """Yield every int and float inside values (nested)."""
    for value in values:
        if isinstance(value, bool):
            continue
        if isinstance(value, (int, float)):
            yield value
        elif isinstance(value, (list, tuple, set)):
            yield from _numbers_in(list(value))
        elif isinstance(value, dict):
            yield from _numbers_in(list(value) + list(value.values()))


def _strings_in(values: Sequence[object]) -> list[str]:
    """Return every string inside values (nested)."""
    out: list[str] = []
    for value in values:
        if isinstance(value, str):
            out.append(value)
        elif isinstance(value, (list, tuple, set)):
            out += _strings_in(list(value))
        elif isinstance(value, dict):
            out += _strings_in(list(value) + list(value.values()))
    return out


def _text_alphabet(sentences: list[str]) -> str | None:
    """Return the alphabet the text names ("lowercase", "binary string", "digits"), else None."""
    text = " ".join(sentences)
    for pattern, letters in _ALPHABETS:
        if pattern.search(text):
            return letters
    return None


def _alphabet(seeds: list[str]) -> str:
    """Return a small alphabet: a few characters of each class the examples' strings use (lowercase,
    uppercase, digits), and up to three of their other characters (spaces, punctuation)."""
    used = "".join(seeds)
    if not used:
        return "ab"
    out: list[str] = []
    for chars in (string.ascii_lowercase, string.ascii_uppercase, string.digits):
        present = sorted(dict.fromkeys(c for c in used if c in chars))[:2]
        if present:
            out += present + [c for c in chars[:3] if c not in present][: 3 - len(present)]
    others = sorted(dict.fromkeys(c for c in used if not c.isascii() or not c.isalnum()))
    return "".join(out + others[:3])


# ----------------------------------------------------------------------------------------------------------
# Function-style inputs: drawing values


def _draw(shape: Shape, domain: Domain, rng: random.Random, size: int) -> object:
    """Return a random value of a shape within a domain, about `size` big (0..8)."""
    if shape.nullable and rng.random() < 0.15:
        return None
    kind = shape.kind
    if kind == "none":
        return None
    if kind == "union":
        return _draw(rng.choice(shape.items), domain, rng, size)
    if kind == "bool":
        return rng.random() < 0.5
    if kind == "int":
        return _draw_int(domain, rng, size)
    if kind == "float":
        return _draw_float(domain, rng, size)
    if kind == "str":
        return _draw_string(domain, rng, size)
    if kind in ("list", "set"):
        return _draw_list(shape, domain, rng, size)
    if kind == "tuple":
        return tuple(_draw(item, domain, rng, size) if item else None for item in shape.items)
    if kind == "dict":
        key, value = shape.items
        if key is None or value is None:
            return {}
        return {_draw(key, domain, rng, size): _draw(value, domain, rng, size) for _ in range(min(size, 4))}
    return None


def _draw_string(domain: Domain, rng: random.Random, size: int) -> str:
    """Return a small string: words of the examples, an example reshaped, or characters of the alphabet."""
    if domain.tokens:
        count = rng.randint(min(domain.min_len, 1), max(1, min(size, MAX_LIST)))
        return " ".join(rng.choice(domain.tokens) for _ in range(count))
    if domain.templates:
        return _reshape(rng.choice(domain.templates), domain, rng, size)
    return "".join(rng.choice(domain.alphabet) for _ in range(_length(domain, rng, size)))


def _reshape(template: str, domain: Domain, rng: random.Random, size: int) -> str:
    """Return a string shaped like an example: each number replaced by a small one, each run of letters by
    letters of the same case, everything else kept ("1/5" -> "3/2", "15.3" -> "4.7")."""

    def letters(run: str) -> str:
        """Return random letters of the run's case, up to one longer."""
        pool = [c for c in domain.alphabet if c.isupper() == run[0].isupper() and c.isalpha()] or list(run)
        return "".join(rng.choice(pool) for _ in range(rng.randint(1, len(run) + 1)))

    def number(_: str) -> str:
        """Return a small non-negative number (no leading zeros)."""
        low = 0 if domain.low is None else max(0, domain.low)
        return str(rng.randint(low, low + 2 + size))

    return re.sub(
        r"\d+|[A-Za-z]+",
        lambda m: number(m.group()) if m.group()[0].isdigit() else letters(m.group()),
        template,
    )


def _draw_int(domain: Domain, rng: random.Random, size: int) -> int:
    """Return a small int within the domain: around 0 (negatives where allowed), growing with size."""
    reach = 2 + size
    low = -reach if domain.low is None else max(domain.low, -reach)
    high = reach if domain.high is None else min(domain.high, reach)
    if domain.low is not None and domain.low > high:
        low, high = domain.low, domain.low + reach
        if domain.high is not None:
            high = min(high, domain.high)
    if domain.high is not None and domain.high < low:
        low, high = domain.high - reach, domain.high
        if domain.low is not None:
            low = max(low, domain.low)
    return rng.randint(low, high)


def _draw_float(domain: Domain, rng: random.Random, size: int) -> float:
    """Return a small float with one decimal within the domain."""
    whole = _draw_int(domain, rng, size)
    value = round(whole + rng.choice((0.0, 0.5, rng.random())), 1)
    if domain.high is not None and value > domain.high:
        value = float(domain.high)
    return value


def _length(domain: Domain, rng: random.Random, size: int) -> int:
    """Return a length in [min_len, max_len] that grows with size."""
    return rng.randint(domain.min_len, max(domain.min_len, min(domain.max_len, size)))


def _draw_list(shape: Shape, domain: Domain, rng: random.Random, size: int) -> object:
    """Return a list (or set): small, often with duplicates; a list of lists keeps the examples'
    rectangular form."""
    item = shape.items[0] if shape.items else None
    count = _length(domain, rng, size)
    if item is None:  # only empty lists in the examples
        values = [_draw_int(domain, rng, size) for _ in range(count)]
    elif item.kind in ("list", "str") and domain.inner is not None:
        width = _length(domain.inner, rng, size)
        values = [
            _draw(item, _inner_domain(domain, width if shape.rectangular else None), rng, size)
            for _ in range(count)
        ]
    elif rng.random() < 0.3 and count > 1:
        pool = [_draw(item, domain, rng, size) for _ in range(2)]
        values = [rng.choice(pool) for _ in range(count)]
    else:
        values = [_draw(item, domain, rng, size) for _ in range(count)]
    if shape.kind == "set":
        return set(_hashable(values))
    return values


def _inner_domain(domain: Domain, width: int | None) -> Domain:
    """Return the domain of the lists inside a list of lists (a fixed width for rectangular ones)."""
    inner = domain.inner or Domain(domain.low, domain.high)
    if width is None:
        return inner
    return Domain(inner.low, inner.high, width, width, inner.alphabet)


def _hashable(values: list) -> list:
    """Return the values that can go into a set."""
    out = []
    for value in values:
        try:
            hash(value)
        except TypeError:
            continue
        out.append(value)
    return out


def _mutate(value: object, shape: Shape, domain: Domain, rng: random.Random) -> object:
    """Return a small change of an example's value (EvalPlus-style): an int moved by one, negated or zeroed;
    a list or string with an element removed, repeated, replaced or swapped."""
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        choice = rng.choice((value + 1, value - 1, -value, 0, value * 2))
        return _clamp(choice, domain)
    if isinstance(value, float):
        return float(_clamp(round(value + rng.choice((-1.0, 1.0, 0.5, -0.5)), 1), domain))
    if isinstance(value, str) and domain.tokens:
        words = _mutate_sequence(value.split(), domain, rng, lambda: rng.choice(domain.tokens))
        return " ".join(words) if words or domain.min_len == 0 else value
    if isinstance(value, str) and domain.templates:
        return _reshape(value, domain, rng, 3)
    if isinstance(value, str):
        return "".join(_mutate_sequence(list(value), domain, rng, lambda: rng.choice(domain.alphabet)))
    if isinstance(value, list) and shape.kind == "list":
        item = shape.items[0] if shape.items else None
        nested = item is not None and item.kind in ("list", "str") and domain.inner is not None
        width = (
            len(value[0]) if nested and shape.rectangular and value and hasattr(value[0], "__len__") else None
        )
        inner = _inner_domain(domain, width) if nested else domain

        def fresh() -> object:
            """Return a new element (a row as wide as the others in a rectangular list)."""
            return _draw(item, inner, rng, 3) if item else 0

        return _mutate_sequence(list(value), domain, rng, fresh)
    return _draw(shape, domain, rng, 3)


def _mutate_sequence(items: list, domain: Domain, rng: random.Random, fresh) -> list:
    """Apply one edit to a sequence, keeping its length within the domain."""
    edit = rng.choice(("remove", "repeat", "replace", "swap", "insert"))
    if edit == "remove" and len(items) > domain.min_len:
        items.pop(rng.randrange(len(items)))
    elif edit == "repeat" and items and len(items) < max(domain.max_len, len(items)):
        items.insert(rng.randrange(len(items) + 1), rng.choice(items))
    elif edit == "replace" and items:
        items[rng.randrange(len(items))] = fresh()
    elif edit == "swap" and len(items) > 1:
        i, j = rng.sample(range(len(items)), 2)
        items[i], items[j] = items[j], items[i]
    elif len(items) < max(domain.max_len, len(items)):
        items.insert(rng.randrange(len(items) + 1), fresh())
    return items


def _fit(value: object, domain: Domain) -> object:
    """Return a value with its numbers (in lists too) clamped into the domain's bounds."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, (int, float)):
        return _clamp(value, domain)
    if isinstance(value, list):
        return [_fit(v, domain) for v in value]
    return value


def _clamp(value: int | float, domain: Domain) -> int | float:
    """Clamp a number into the domain's bounds."""
    if domain.low is not None and value < domain.low:
        value = type(value)(domain.low)
    if domain.high is not None and value > domain.high:
        value = type(value)(domain.high)
    return value


# ----------------------------------------------------------------------------------------------------------
# Function-style inputs: calls


@dataclass
class _Slot:
    """One argument of the call: its name (a keyword or the parameter's name), how it is passed, its
    shape and domain, and the examples' values for it."""

    name: str | None
    keyword: bool
    shape: Shape
    seeds: list[object]
    domain: Domain | None = None


@dataclass
class _CallForm:
    """How the examples call the function: the callee text and the argument slots in order."""

    callee: str
    slots: list[_Slot]
    samples: set[str]


def function_calls(task: Task, count: int, seed: int = 0) -> list[str]:
    """Return up to `count` call expressions for a function-style task, generated from the examples'
    argument types with no model: deterministic for a seed, small first, no duplicates, none of the
    samples, and within the bounds the statement gives where they can be read."""
    if task.style != "function" or count <= 0:
        return []
    form = _call_form(task)
    if form is None:
        return []
    text = "\n".join(t for t in (task.docstring, task.text) if t)
    constraints = read_constraints(text)
    for slot in form.slots:
        slot.domain = _domain(slot.name, slot.shape, slot.seeds, text, constraints)
    rng = random.Random(seed)
    out: dict[str, None] = {}
    attempts = stale = 0
    while len(out) < count and attempts < count * 20 + 50 and stale < STALE_ATTEMPTS:
        size = min(MAX_LIST, attempts * (MAX_LIST + 1) // max(count, 1))
        attempts += 1
        stale += 1
        call = _render(form, _arguments(form, rng, size, attempts))
        if call is not None and call not in form.samples and call not in out:
            out[call] = None
            stale = 0
    return sorted(out, key=len)


def _arguments(form: _CallForm, rng: random.Random, size: int, attempt: int) -> list[object]:
    """Return one set of argument values: every third call mutates an example, the others are drawn."""
    if attempt % 3 == 0 and form.slots and form.slots[0].seeds:
        pick = rng.randrange(len(form.slots[0].seeds))
        values = [slot.seeds[pick % len(slot.seeds)] if slot.seeds else None for slot in form.slots]
        which = rng.randrange(len(form.slots))
        slot = form.slots[which]
        values[which] = _mutate(values[which], slot.shape, slot.domain or Domain(), rng)
        return [_fit(value, slot.domain or Domain()) for value, slot in zip(values, form.slots, strict=True)]
    return [_draw(slot.shape, slot.domain or Domain(), rng, size) for slot in form.slots]


def _render(form: _CallForm, values: list[object]) -> str | None:
    """Return the call expression for argument values, or None when a value has no literal form."""
    pieces = []
    for slot, value in zip(form.slots, values, strict=True):
        text = repr(value)
        if _has_float(value) and not _round_trips(text, value):
            return None
        pieces.append(f"{slot.name}={text}" if slot.keyword else text)
    return f"{form.callee}({', '.join(pieces)})"


def _has_float(value: object) -> bool:
    """Return True when a value holds a float anywhere (whose repr may be nan or inf)."""
    if isinstance(value, float):
        return True
    if isinstance(value, (list, tuple, set)):
        return any(_has_float(v) for v in value)
    if isinstance(value, dict):
        return any(_has_float(v) for v in list(value) + list(value.values()))
    return False


def _round_trips(text: str, value: object) -> bool:
    """Return True when a repr reads back as the same literal (nan and inf do not)."""
    try:
        return ast.literal_eval(text) == value
    except (ValueError, SyntaxError, TypeError, RecursionError):
        return False


def _call_form(task: Task) -> _CallForm | None:
    """Read the examples' calls: the callee, the argument slots and their shapes, the samples' own calls."""
    parsed = [call for call in (_parse_call(e.input) for e in task.examples) if call is not None]
    if not parsed:
        return None
    params = parameter_names(task.signature, task.language)
    callee, first_args, first_keywords = parsed[0]
    slots: list[_Slot] = []
    for i in range(len(first_args)):
        name = params[i] if i < len(params) else None
        slots.append(_Slot(name, False, Shape("none"), []))
    for keyword in first_keywords:
        slots.append(_Slot(keyword, True, Shape("none"), []))
    samples = set()
    for _, args, keywords in parsed:
        samples.add(_render_plain(callee, args, keywords, slots))
        for index, slot in enumerate(slots):
            value = _slot_value(slot, index, args, keywords, params)
            if value is _MISSING:
                continue
            slot.seeds.append(value)
    for slot in slots:
        shape = _merge_all([shape_of(v) for v in slot.seeds])
        if shape is None:
            return None
        slot.shape = shape
    return _CallForm(callee, slots, samples)


_MISSING = object()


def _slot_value(slot: _Slot, index: int, args: list, keywords: dict, params: list[str]) -> object:
    """Return an example's value for a slot, by keyword or by position (via the parameter names)."""
    if slot.keyword:
        if slot.name in keywords:
            return keywords[slot.name]
        position = params.index(slot.name) if slot.name in params else -1
        return args[position] if 0 <= position < len(args) else _MISSING
    if index < len(args):
        return args[index]
    return keywords.get(slot.name, _MISSING) if slot.name else _MISSING


def _render_plain(callee: str, args: list, keywords: dict, slots: list[_Slot]) -> str:
    """Render an example's call the way generated calls are rendered (to leave the samples out)."""
    values = []
    for index, slot in enumerate(slots):
        value = _slot_value(slot, index, args, keywords, [s.name or "" for s in slots])
        values.append(value)
    pieces = [
        f"{slot.name}={value!r}" if slot.keyword else repr(value)
        for slot, value in zip(slots, values, strict=True)
    ]
    return f"{callee}({', '.join(pieces)})"


def _parse_call(expr: str) -> tuple[str, list, dict] | None:
    """Return (callee text, positional values, keyword values) of a literal-argument call, or None."""
    try:
        node = ast.parse(expr.strip(), mode="eval").body
        if not isinstance(node, ast.Call) or any(isinstance(a, ast.Starred) for a in node.args):
            return None
        args = [ast.literal_eval(a) for a in node.args]
        keywords = {k.arg: ast.literal_eval(k.value) for k in node.keywords if k.arg}
    except (SyntaxError, ValueError, TypeError, RecursionError, MemoryError):
        return None
    return ast.unparse(node.func), args, keywords


def parameter_names(signature: str, language: str) -> list[str]:
    """Return a function's parameter names from its signature (Python's `self`/`cls` left out)."""
    if language == "python":
        try:
            tree = ast.parse(signature.strip().rstrip(":") + ":\n    pass\n")
        except SyntaxError:
            tree = None
        func = tree.body[0] if tree is not None and tree.body else None
        if isinstance(func, (ast.FunctionDef, ast.AsyncFunctionDef)):
            names = [a.arg for a in func.args.posonlyargs + func.args.args + func.args.kwonlyargs]
            return names[1:] if names[:1] in (["self"], ["cls"]) else names
    open_at = signature.find("(")
    close_at = signature.rfind(")")
    if open_at < 0 or close_at <= open_at:
        return []
    return [
        name
        for name in (_parameter_name(p, language) for p in _split_params(signature[open_at + 1 : close_at]))
        if name
    ]


def _split_params(text: str) -> list[str]:
    """Split a parameter list at top-level commas (templates and brackets kept whole)."""
    parts, depth, start = [], 0, 0
    for i, char in enumerate(text):
        if char in "<([{":
            depth += 1
        elif char in ">)]}":
            depth -= 1
        elif char == "," and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return [p.strip() for p in parts if p.strip()]


def _parameter_name(param: str, language: str) -> str | None:
    """Return one parameter's name: before `:` (Rust, TypeScript), first (Go), else the last identifier."""
    param = param.split("=")[0].strip()
    if language in ("rust", "typescript", "tsx") and ":" in param:
        param = param.split(":")[0]
        words = re.findall(r"[A-Za-z_]\w*", param)
        return words[-1] if words else None
    words = re.findall(r"[A-Za-z_]\w*", param)
    if not words or words[-1] in ("self", "this"):
        return None
    return words[0] if language == "go" else words[-1]
