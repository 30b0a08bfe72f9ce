"""An instant, model-free estimate of a function's time complexity, for hover.

Read from the function's tree: how deeply loops nest (for/while/range-for loops and comprehensions; a loop
whose variable halves or doubles counts as log n), sorting calls (n log n), linear library calls on a whole
collection (`sum(a)`, `min_element(...)`), and recursion (one call on n-1: n times the work per call;
several calls: exponential unless memoized; calls on n/2: the master theorem's log n / n / n log n cases).
It is a rough guide, not a proof: it cannot see the cost of the user's own helper functions.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from tree_sitter import Node, Tree

from codegen.languages import queries

_COMPREHENSIONS = (
    "list_comprehension",
    "set_comprehension",
    "dictionary_comprehension",
    "generator_expression",
)
_HALVING = re.compile(
    r"(//=?\s*2\b|/=\s*2\b|>>=?\s*1\b|\*=\s*2\b|<<=\s*1\b|\bmid\b|\b(lo|low|left|l)\s*\+\s*\(?\s*(hi|high|right|r)"
    r"|\b\w+\s*/\s*2\b|\b\w+\s*>>\s*1\b)"
)
_SORTS = re.compile(
    r"(^|[.:>])(sorted|sort|stable_sort|sort_unstable|sort_by|sort_by_key|sort_unstable_by|Sort|"
    r"SliceStable|Slice|Ints|Strings|nlargest|nsmallest)$"
)
_LINEAR_PY = re.compile(r"^(sum|min|max|any|all|sorted|list|set|reversed|Counter)$|\.(count|index)$")
_LINEAR_CPP = re.compile(r"(^|::)(accumulate|count|find|reverse|min_element|max_element|count_if|find_if)$")
_MEMO = re.compile(r"@(functools\.)?(lru_)?cache|\bmemo\b|\bmemo\[|\bdp\[|\bcache\[|\bmemo\.|\bcache\.")


@dataclass(frozen=True, order=True)
class Cost:
    """n^n_power * log^log_power n, or exponential."""

    exponential: bool = False
    n_power: int = 0
    log_power: int = 0

    def times(self, other: Cost) -> Cost:
        """Return the product of two costs."""
        return Cost(
            self.exponential or other.exponential,
            self.n_power + other.n_power,
            self.log_power + other.log_power,
        )

    def big_o(self) -> str:
        """Return the cost in O(...) notation."""
        if self.exponential:
            return "O(2^n)"
        parts = []
        if self.n_power:
            parts.append("n" if self.n_power == 1 else f"n^{self.n_power}")
        if self.log_power:
            parts.append("log n" if self.log_power == 1 else f"log^{self.log_power} n")
        return f"O({' '.join(parts) or '1'})"


@dataclass(frozen=True)
class Complexity:
    """An estimate: the time bound and the reason for it."""

    time: str  # e.g. "O(n^2)"
    reason: str  # e.g. "2 nested loops"

    @property
    def summary(self) -> str:
        """One line for hover: `O(n^2) time (2 nested loops)`."""
        return f"{self.time} time ({self.reason})"


@dataclass(frozen=True)
class _Path:
    """The costliest chain of nested work found under a node, with what makes it up."""

    cost: Cost = Cost()
    steps: tuple[str, ...] = field(default=())

    def inside(self, cost: Cost, step: str) -> _Path:
        """Return this path nested inside one more step."""
        return _Path(cost.times(self.cost), (step, *self.steps))


def estimate(
    text: str, language: str, line: int, column: int = 0, tree: Tree | None = None
) -> Complexity | None:
    """Return the estimate for the innermost function at a 0-based line/column, or None outside functions."""
    from codegen.geometry import Position
    from codegen.tasks import function_node_at

    if tree is None:
        from codegen.languages import parser

        tree = parser(language).parse(text.encode("utf-8"))
    node = function_node_at(tree, language, Position(line, column), text)
    return estimate_node(node, language, text.encode("utf-8")) if node is not None else None


def estimate_node(function: Node, language: str, data: bytes) -> Complexity:
    """Return the estimate for one function definition node (data: the whole document's bytes)."""
    q = queries(language)
    name = _name(function, language, data)
    walker = _Walker(
        language, data, name, q.node_types.get("loop", frozenset()), q.node_types.get("function", frozenset())
    )
    walker.halves = _halved_names(data[function.start_byte : function.end_byte].decode("utf-8", "replace"))
    path = walker.walk(function, root=True)
    return _combine(path, walker, _memoized(function, data))


def _name(function: Node, language: str, data: bytes) -> str | None:
    """Return a function definition's name."""
    captures = queries(language).matches_at("function", function)
    names = captures.get("name") if captures else None
    if not names:
        return None
    text = data[names[0].start_byte : names[0].end_byte].decode("utf-8", errors="replace")
    return re.split(r"::|\.", text)[-1]


def _halved_names(text: str) -> set[str]:
    """Return the names assigned half of something (`m = len(a) // 2`, `mid = (lo + hi) >> 1`)."""
    return set(re.findall(r"\b(\w+)\s*=\s*[^=\n;]*(?://\s*2\b|/\s*2\b|>>\s*1\b)", text))


def _memoized(function: Node, data: bytes) -> bool:
    """Return True when the function (or its decorators) shows memoization."""
    node = (
        function.parent
        if function.parent is not None and function.parent.type == "decorated_definition"
        else function
    )
    return _MEMO.search(data[node.start_byte : node.end_byte].decode("utf-8", errors="replace")) is not None


class _Walker:
    """Walks one function's tree, tracking the costliest nesting and its recursive calls."""

    def __init__(
        self, language: str, data: bytes, name: str | None, loops: frozenset, functions: frozenset
    ) -> None:
        """Remember what to look for."""
        self.language = language
        self.data = data
        self.name = name
        self.loops = loops
        self.functions = functions
        self.recursive_calls = 0
        self.halving_calls = 0
        self.halves: set[str] = set()

    def text(self, node: Node) -> str:
        """Return a node's text."""
        return self.data[node.start_byte : node.end_byte].decode("utf-8", errors="replace")

    def walk(self, node: Node, root: bool = False) -> _Path:
        """Return the costliest path under node."""
        if not root and node.type in self.functions:
            return _Path()  # a nested function's cost is counted where it is called, which we cannot see
        if node.type in _COMPREHENSIONS:
            return self._comprehension(node)
        inner = max(
            (self.walk(child) for child in node.named_children), key=lambda p: p.cost, default=_Path()
        )
        if node.type in self.loops and node.type != "for_in_clause":
            if self._halving_loop(node):
                return inner.inside(Cost(log_power=1), "halving loop")
            return inner.inside(Cost(n_power=1), "loop")
        if node.type in ("call", "call_expression", "method_invocation", "macro_invocation"):
            return max(inner, self._call(node), key=lambda p: p.cost)
        return inner

    def _comprehension(self, node: Node) -> _Path:
        """A comprehension with k `for` clauses nests k loops around its body."""
        clauses = [c for c in node.named_children if c.type == "for_in_clause"]
        others = [c for c in node.named_children if c.type != "for_in_clause"]
        inner = max((self.walk(c) for c in others), key=lambda p: p.cost, default=_Path())
        for _ in clauses:
            inner = inner.inside(Cost(n_power=1), "loop")
        return inner

    def _halving_loop(self, node: Node) -> bool:
        """Return True when a while-style loop's variable halves or doubles (binary search, bit loops)."""
        if node.type in ("for_in_clause", "for_range_loop", "enhanced_for_statement", "for_in_statement"):
            return False
        if self.language == "python" and node.type == "for_statement":
            return False
        text = self.text(node)
        body = node.child_by_field_name("body")
        head = (
            text if body is None else self.data[node.start_byte : body.start_byte].decode("utf-8", "replace")
        )
        own = text if body is None else head + self._own_statements(body)
        return _HALVING.search(own) is not None

    def _own_statements(self, body: Node) -> str:
        """Return the text of a loop body's statements that are not loops themselves."""
        return "\n".join(self.text(c) for c in body.named_children if c.type not in self.loops)

    def _call(self, node: Node) -> _Path:
        """Return the cost of a call: a sort, a linear library call, or a recursive call (counted)."""
        function = (
            node.child_by_field_name("function")
            or node.child_by_field_name("name")
            or node.child_by_field_name("macro")
        )
        callee = self.text(function) if function is not None else ""
        arguments = node.child_by_field_name("arguments")
        args_text = self.text(arguments) if arguments is not None else ""
        last = re.split(r"::|\.|->", callee)[-1]
        if (
            self.name
            and last == self.name
            and (callee == last or re.match(r"^(self|this|Self|\w+)\s*(\.|->|::)", callee))
        ):
            self.recursive_calls += 1
            halves = _HALVING.search(args_text) is not None or any(
                re.search(rf"\b{re.escape(name)}\b", args_text) for name in self.halves
            )
            self.halving_calls += halves
            return _Path()
        if _SORTS.search(callee):
            return _Path(Cost(n_power=1, log_power=1), ("sort",))
        if self._linear_call(callee, arguments):
            return _Path(Cost(n_power=1), ("linear call",))
        return _Path()

    def _linear_call(self, callee: str, arguments: Node | None) -> bool:
        """Return True for library calls that walk a whole collection."""
        count = arguments.named_child_count if arguments is not None else 0
        if self.language == "python":
            return _LINEAR_PY.search(callee) is not None and (
                count == 1 or callee.endswith((".count", ".index"))
            )
        if self.language == "cpp":
            return _LINEAR_CPP.search(callee) is not None and "begin" in (
                self.text(arguments) if arguments else ""
            )
        return False


def _combine(path: _Path, walker: _Walker, memoized: bool) -> Complexity:
    """Combine the loop path with the recursion found into the final estimate."""
    calls, halving = walker.recursive_calls, walker.halving_calls
    loop_reason = _describe(path.steps)
    if calls == 0:
        return Complexity(path.cost.big_o(), loop_reason)
    if memoized:
        cost = Cost(n_power=1).times(path.cost)
        return Complexity(cost.big_o(), "memoized recursion" + _with(loop_reason, path))
    if halving and halving == calls:
        if calls == 1:
            if path.cost.n_power:
                return Complexity(
                    path.cost.big_o(), "one recursive call on half the input" + _with(loop_reason, path)
                )
            cost = Cost(log_power=1).times(path.cost)
            return Complexity(cost.big_o(), "one recursive call on half the input")
        if path.cost.n_power == 0:
            return Complexity("O(n)", f"{calls} recursive calls on halves")
        if path.cost.n_power == 1:
            cost = Cost(log_power=1).times(path.cost)
            return Complexity(
                cost.big_o(),
                f"{calls} recursive calls on halves (divide and conquer)" + _with(loop_reason, path),
            )
        return Complexity(path.cost.big_o(), f"{calls} recursive calls on halves" + _with(loop_reason, path))
    if calls == 1:
        cost = Cost(n_power=1).times(path.cost)
        return Complexity(cost.big_o(), "one recursive call per step" + _with(loop_reason, path))
    return Complexity("O(2^n)", f"{calls} recursive calls per step, not memoized")


def _with(reason: str, path: _Path) -> str:
    """Return ', each with <loop reason>' when the loop path adds work per call."""
    return f", each with {reason}" if path.steps else ""


def _describe(steps: tuple[str, ...]) -> str:
    """Describe a costliest path in words: `2 nested loops`, `a sort inside 1 loop`, `halving loop`."""
    if not steps:
        return "no loops or recursion"
    loops = steps.count("loop")
    halving = steps.count("halving loop")
    parts = []
    if loops:
        parts.append("1 loop" if loops == 1 else f"{loops} nested loops")
    if halving:
        parts.append("a halving loop" if halving == 1 else f"{halving} nested halving loops")
    loop_text = " and ".join(parts)
    if steps[-1] in ("sort", "linear call"):
        what = "a sort" if steps[-1] == "sort" else "a linear library call"
        return f"{what} inside {loop_text}" if loop_text else what
    return loop_text
