"""A statement's constraints read from its text: `1 <= n <= 2*10^5`, `|a_i| <= 10^9`, `1 ≤ n ≤ 2·10^5`,
`$1 \\le n \\le 2 \\cdot 10^5$`, `n (1 ≤ n ≤ 100000)`, `1 <= nums.length <= 10<sup>4</sup>`.

Pure functions over text. Variables are keyed by a canonical name: an element's index is dropped
(`a_i`, `a[i]`, `a_{i}` -> `a`), a length is written `len(x)` (`x.length`, `x.size()`, `len(x)`, `|s|` for
a string-like name), and an absolute value bounds both sides (`|a_i| <= 10^9` -> a in [-10^9, 10^9]).
When a text states a variable more than once (subtasks), the widest range is kept.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

MAX_EXPONENT = 100
SIZE_NAMES = ("n", "N", "m", "M", "q", "Q")
STRING_NAMES = ("s", "t", "p", "w", "S", "T", "P", "W")


@dataclass(frozen=True)
class Constraints:
    """What a statement bounds: the size to time at (`max_n`) and each variable's [low, high] range."""

    max_n: int | None = None
    bounds: dict[str, tuple[int, int]] = field(default_factory=dict)

    def bound(self, name: str) -> tuple[int, int] | None:
        """Return the range of a variable (its canonical name), or None when the text does not give one."""
        return self.bounds.get(name)


# ----------------------------------------------------------------------------------------------------------
# Normalising the notations to `<=`, `*`, `^`


_UNICODE = {
    "≤": "<=",
    "⩽": "<=",
    "≦": "<=",
    "≥": ">=",
    "⩾": ">=",
    "≧": ">=",
    "·": "*",
    "⋅": "*",
    "∙": "*",
    "×": "*",
    "∗": "*",
    "−": "-",
    "\u00a0": " ",
    "\u2009": " ",
    "\u202f": " ",
    "…": "...",
    "∣": "|",
}
_SUPERSCRIPTS = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁻", "0123456789-")
_LATEX = [
    (r"\\(?:leqslant|leq|le)(?![A-Za-z])", "<="),
    (r"\\(?:geqslant|geq|ge)(?![A-Za-z])", ">="),
    (r"\\lt(?![A-Za-z])", "<"),
    (r"\\gt(?![A-Za-z])", ">"),
    (r"\\(?:cdot|times|ast)(?![A-Za-z])", "*"),
    (r"\\(?:ldots|cdots|dots)(?![A-Za-z])", "..."),
    (r"\\(?:left|right|big|Big|bigg|Bigg)(?![A-Za-z])", ""),
    (r"\\(?:lvert|rvert|vert|mid)(?![A-Za-z])", "|"),
    (r"\\(?:mathrm|text|textrm|mathit|operatorname|mathbf)\s*\{([^{}]*)\}", r"\1"),
    (r"\\[,;:! ]", " "),
    (r"\\\{|\\\}", ""),
]
_HTML = [
    (r"&le;|&leq;", "<="),
    (r"&ge;|&geq;", ">="),
    (r"&lt;", "<"),
    (r"&gt;", ">"),
    (r"&nbsp;", " "),
    (r"&middot;|&times;|&sdot;", "*"),
    (r"<sup>\s*", "^"),
    (r"<sub>\s*", "_"),
    (r"</?(?:sup|sub|code|b|i|em|strong|p|li|ul|ol|span|var|pre|div|font|tt)\b[^<>]*>", ""),
]


def normalize(text: str) -> str:
    """Rewrite Unicode, LaTeX and HTML spellings of comparisons, products and powers to ASCII."""
    for name, ascii_form in _UNICODE.items():
        text = text.replace(name, ascii_form)
    text = re.sub(r"[⁰¹²³⁴⁵⁶⁷⁸⁹⁻]+", lambda m: "^" + m.group().translate(_SUPERSCRIPTS), text)
    for pattern, replacement in _HTML:
        text = re.sub(pattern, replacement, text, flags=re.IGNORECASE)
    for pattern, replacement in _LATEX:
        text = re.sub(pattern, replacement, text)
    text = re.sub(r"_\{([^{}]*)\}", lambda m: "_" + re.sub(r"[\s,]+", "", m.group(1)), text)
    text = re.sub(r"\^\{([^{}]*)\}", lambda m: "^" + m.group(1).replace(" ", ""), text)
    text = text.replace("$", " ").replace("`", " ").replace("{", "").replace("}", "")
    text = re.sub(r"(?<=\d)\s*\*\*\s*(?=\d)", "^", text)
    text = re.sub(r"(?<=\d),(?=\d{3}(?!\d))", "", text)  # 100,000
    return text


# ----------------------------------------------------------------------------------------------------------
# Numbers


_ATOM = r"(?>\d++(?:\.\d++)?(?:[eE]\+?\d++)?(?:\s*+\^\s*+\d++)?)"
NUMBER = rf"-?\s*{_ATOM}(?:\s*\*\s*{_ATOM})?(?:\s*[-+]\s*\d+(?![\d.^eE*]))?"


def parse_number(text: str) -> int | None:
    """Return the integer a constraint number denotes (`2*10^5`, `1e5`, `2^31-1`, `-10^9`), or None."""
    compact = re.sub(r"\s+", "", text)
    match = re.fullmatch(r"(-?)([^-+]+?)(?:([-+])(\d+))?", compact)
    if match is None:
        return None
    value = Decimal(1)
    for factor in match.group(2).split("*"):
        atom = _atom_value(factor)
        if atom is None:
            return None
        value *= atom
    if match.group(3):
        value += Decimal(match.group(4)) * (1 if match.group(3) == "+" else -1)
    if match.group(1):
        value = -value
    return int(value) if value == value.to_integral_value() else None


def _atom_value(text: str) -> Decimal | None:
    """Return the value of `12`, `1.5`, `1e5` or `10^9`, refusing absurd exponents."""
    base, _, power = text.partition("^")
    try:
        number = Decimal(base)
    except InvalidOperation:
        return None
    if number.as_tuple().exponent and abs(int(number.as_tuple().exponent)) > MAX_EXPONENT:
        return None
    if not power:
        return number
    if not power.isdigit() or int(power) > MAX_EXPONENT:
        return None
    return number ** int(power)


# ----------------------------------------------------------------------------------------------------------
# Variables


_INDEX = r"(?:_[A-Za-z0-9]++|\[[^\[\]]*+\])*+"
_NAME = r"[A-Za-z][A-Za-z0-9]*+"
_TOKEN = re.compile(
    rf"(?P<op><=|>=|<|>)"
    rf"|(?P<num>(?<![A-Za-z0-9_.]){NUMBER})"
    rf"|(?P<var>\|{_NAME}{_INDEX}\||len\(\s*{_NAME}{_INDEX}\s*\)|{_NAME}{_INDEX}(?:\.(?:length|size)(?:\(\))?)?|\.\.\.)"
    rf"|(?P<comma>,)"
    rf"|(?P<space>\s+)"
    rf"|(?P<other>.)",
    re.DOTALL,
)
_AT_MOST = re.compile(
    r"\s+(?:is\s+|are\s+)?(?:at\s+most|does\s+not\s+exceed|do\s+not\s+exceed|doesn't\s+exceed|"
    r"don't\s+exceed|not\s+exceeding|no\s+more\s+than)\s+",
    re.IGNORECASE,
)
_PROSE_WORDS = {"and", "or", "the", "of", "is", "are", "for", "all", "each", "every", "where", "if", "then"}


def canonical(variable: str) -> str | None:
    """Return a variable's canonical name (`a_i` -> `a`, `nums.length` -> `len(nums)`), None for `...`."""
    text = variable.strip()
    if text == "...":
        return None
    bars = text.startswith("|") and text.endswith("|") and len(text) > 2
    if bars:
        text = text[1:-1]
    length = re.fullmatch(r"len\(\s*(.+?)\s*\)", text) or re.fullmatch(
        r"(.+?)\.(?:length|size)(?:\(\))?", text
    )
    if length:
        return f"len({_base(length.group(1), keep_index=True)})"
    base = _base(text, keep_index=False)
    if base.lower() in _PROSE_WORDS:
        return None
    if bars and not re.search(r"[_\[]", text) and (base in STRING_NAMES or re.search("str|word|text", base)):
        return f"len({base})"
    return base


def _base(text: str, keep_index: bool) -> str:
    """Return a name without its index (`a_i`, `a[i]`), or with its indices written `[i]` (`grid[i]`)."""
    name = re.match(_NAME, text)
    base = name.group() if name else text
    if not keep_index:
        return base
    return base + "[i]" * len(re.findall(r"_\w+|\[[^\[\]]*\]", text[len(base) :]))


def _is_absolute(variable: str) -> bool:
    """Return True for `|a_i|` (an absolute value rather than a string's length)."""
    text = variable.strip()
    return text.startswith("|") and not (canonical(text) or "").startswith("len(")


# ----------------------------------------------------------------------------------------------------------
# Reading


@dataclass
class _Ranges:
    """Lower and upper bounds seen for each variable, and variables bounded by other variables."""

    lows: dict[str, list[int]] = field(default_factory=dict)
    highs: dict[str, list[int]] = field(default_factory=dict)
    high_refs: dict[str, list[str]] = field(default_factory=dict)

    def add(self, name: str, low: int | None, high: int | None) -> None:
        """Record a lower and/or upper bound."""
        if low is not None:
            self.lows.setdefault(name, []).append(low)
        if high is not None:
            self.highs.setdefault(name, []).append(high)


def read_constraints(text: str) -> Constraints:
    """Return the constraints a statement states: each bounded variable's widest range, and max_n."""
    ranges = _Ranges()
    for terms, ops in _chains(_tokens(normalize(text or ""))):
        _read_chain(terms, ops, ranges)
    bounds = _combine(ranges)
    return Constraints(max_n=_max_n(bounds), bounds=bounds)


def _tokens(text: str) -> list[tuple[str, str]]:
    """Split normalised text into (kind, text) tokens: op, num, var, comma, other (spaces dropped)."""
    text = _AT_MOST.sub(" <= ", text)
    out = []
    for match in _TOKEN.finditer(text):
        kind = match.lastgroup or "other"
        if kind != "space":
            out.append((kind, match.group()))
    return out


def _chains(tokens: list[tuple[str, str]]) -> list[tuple[list[str], list[str]]]:
    """Return every `term op term (op term)*` run; a term is a number or a comma-separated variable list."""
    found = []
    i = 0
    while i < len(tokens):
        term, j = _term_at(tokens, i)
        if term is None:
            i += 1
            continue
        terms, ops = [term], []
        while j < len(tokens) and tokens[j][0] == "op":
            following, k = _term_at(tokens, j + 1)
            if following is None:
                break
            ops.append(tokens[j][1])
            terms.append(following)
            j = k
        if ops:
            found.append((terms, ops))
        i = j
    return found


def _term_at(tokens: list[tuple[str, str]], i: int) -> tuple[str | None, int]:
    """Return the term starting at token i (as text) and the index after it, or (None, i)."""
    if i >= len(tokens):
        return None, i
    kind, text = tokens[i]
    if kind == "num":
        return text, i + 1
    if kind != "var":
        return None, i
    parts = [text]
    j = i + 1
    while j + 1 < len(tokens) and tokens[j][0] == "comma" and tokens[j + 1][0] == "var":
        parts.append(tokens[j + 1][1])
        j += 2
    return ", ".join(parts), j


def _split_vars(text: str) -> list[str]:
    """Split a `n, m` list of variables."""
    return [part.strip() for part in text.split(",") if part.strip()]


def _read_chain(terms: list[str], ops: list[str], ranges: _Ranges) -> None:
    """Record the bounds of one `LO <= x, y <= HI` chain (either direction, strict or not)."""
    if any(op.startswith(">") for op in ops):
        if not all(op.startswith(">") for op in ops):
            return
        terms, ops = terms[::-1], [op.replace(">", "<") for op in reversed(ops)]
    values = [_term_value(term) for term in terms]
    for i, term in enumerate(terms):
        if values[i] is not None or not _is_variable_term(term):
            continue
        low, high, high_ref = _neighbours(values, terms, ops, i)
        for variable in _split_vars(term):
            name = canonical(variable)
            if name is None:
                continue
            if _is_absolute(variable):
                if high is not None:
                    ranges.add(name, -high, high)
                continue
            ranges.add(name, low, high)
            if high is None and high_ref is not None:
                ranges.high_refs.setdefault(name, []).append(high_ref)


def _is_variable_term(term: str) -> bool:
    """Return True for a variable list (as opposed to a number)."""
    return term[:1].isalpha() or term[:1] in "|."


def _term_value(term: str) -> int | None:
    """Return a numeric term's value, None for a variable term (or a number too odd to use)."""
    return None if _is_variable_term(term) else parse_number(term)


def _neighbours(
    values: list[int | None], terms: list[str], ops: list[str], i: int
) -> tuple[int | None, int | None, str | None]:
    """Return the nearest numeric bound left and right of term i (strict comparisons tightened by one),
    and the variable right of it when no number bounds it from above."""
    low = high = None
    strict = 0
    for j in range(i - 1, -1, -1):
        strict += ops[j] == "<"
        if values[j] is not None:
            low = values[j] + strict
            break
    strict = 0
    for j in range(i + 1, len(terms)):
        strict += ops[j - 1] == "<"
        if values[j] is not None:
            high = values[j] - strict
            break
    high_ref = None
    if high is None and i + 1 < len(terms) and "," not in terms[i + 1]:
        high_ref = canonical(terms[i + 1])
    return low, high, high_ref


def _combine(ranges: _Ranges) -> dict[str, tuple[int, int]]:
    """Return each variable's widest [low, high]; a variable bounded only by another inherits its high."""
    bounds: dict[str, tuple[int, int]] = {}
    for name, highs in ranges.highs.items():
        high = max(highs)
        low = min(ranges.lows.get(name, [min(0, high)]))
        if low <= high:
            bounds[name] = (low, high)
    for name, refs in ranges.high_refs.items():
        inherited = [bounds[ref][1] for ref in refs if ref in bounds]
        if name not in bounds and inherited:
            low = min(ranges.lows.get(name, [0]))
            if low <= max(inherited):
                bounds[name] = (low, max(inherited))
    return bounds


def _max_n(bounds: dict[str, tuple[int, int]]) -> int | None:
    """Return the bound of n, else the largest bound of a size-like variable (m, q, a length)."""
    for name in ("n", "N"):
        if name in bounds and bounds[name][1] > 0:
            return bounds[name][1]
    sizes = [high for name, (_, high) in bounds.items() if name in SIZE_NAMES or name.startswith("len(")]
    sizes = [high for high in sizes if high > 0]
    return max(sizes) if sizes else None
