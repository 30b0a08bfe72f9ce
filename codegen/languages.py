"""Languages we read: names, file extensions, LSP language ids and their tree-sitter grammars."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from tree_sitter import Language, Node, Parser, Query, QueryCursor

_EXTENSIONS = {
    ".py": "python",
    ".pyi": "python",
    ".cpp": "cpp",
    ".cc": "cpp",
    ".cxx": "cpp",
    ".hpp": "cpp",
    ".hh": "cpp",
    ".h": "cpp",
    ".java": "java",
    ".rs": "rust",
    ".go": "go",
    ".js": "javascript",
    ".mjs": "javascript",
    ".cjs": "javascript",
    ".jsx": "javascript",
    ".ts": "typescript",
    ".tsx": "tsx",
}

_LANGUAGE_IDS = {
    "python": "python",
    "cpp": "cpp",
    "c++": "cpp",
    "c": "cpp",
    "java": "java",
    "rust": "rust",
    "go": "go",
    "javascript": "javascript",
    "javascriptreact": "javascript",
    "typescript": "typescript",
    "typescriptreact": "tsx",
}

SUPPORTED = ("python", "cpp", "java", "rust", "go", "javascript", "typescript", "tsx")


def language_for(path: str | Path | None = None, language_id: str | None = None) -> str | None:
    """Return our language name from an LSP languageId (preferred) or a file extension, or None."""
    if language_id and language_id.lower() in _LANGUAGE_IDS:
        return _LANGUAGE_IDS[language_id.lower()]
    if path is not None:
        return _EXTENSIONS.get(Path(str(path)).suffix.lower())
    return None


@cache
def grammar(language: str) -> Language:
    """Return the tree-sitter Language for one of SUPPORTED."""
    if language == "python":
        import tree_sitter_python as mod

        return Language(mod.language())
    if language == "cpp":
        import tree_sitter_cpp as mod

        return Language(mod.language())
    if language == "java":
        import tree_sitter_java as mod

        return Language(mod.language())
    if language == "rust":
        import tree_sitter_rust as mod

        return Language(mod.language())
    if language == "go":
        import tree_sitter_go as mod

        return Language(mod.language())
    if language == "javascript":
        import tree_sitter_javascript as mod

        return Language(mod.language())
    if language in ("typescript", "tsx"):
        import tree_sitter_typescript as mod

        return Language(mod.language_typescript() if language == "typescript" else mod.language_tsx())
    raise ValueError(f"unsupported language: {language}; supported: {', '.join(SUPPORTED)}")


def parser(language: str) -> Parser:
    """Return a new parser for the language (parsers are cheap; trees are not shared across threads)."""
    return Parser(grammar(language))


_QUERY_FILES = {"tsx": "typescript"}  # languages that share another language's query file
_GROUPS = ("function", "class", "comment", "import", "stdin", "loop", "call")


@dataclass(frozen=True)
class LanguageQueries:
    """One language's compiled queries, by group, and the node types each group's patterns start at."""

    queries: dict[str, Query]
    node_types: dict[str, frozenset[str]]

    def captures(self, group: str, node: Node, start_byte: int | None = None, end_byte: int | None = None):
        """Return the group's captures (name -> nodes) under node, optionally within a byte range."""
        query = self.queries.get(group)
        if query is None:
            return {}
        cursor = QueryCursor(query)
        if start_byte is not None and end_byte is not None:
            cursor.set_byte_range(start_byte, end_byte)
        return cursor.captures(node)

    def matches_at(self, group: str, node: Node) -> dict[str, list[Node]] | None:
        """Return the captures of the group's first pattern that matches node itself, or None."""
        query = self.queries.get(group)
        if query is None or node.type not in self.node_types.get(group, ()):
            return None
        cursor = QueryCursor(query)
        cursor.set_max_start_depth(0)
        for _, captures in cursor.matches(node):
            if any(n.id == node.id for n in captures.get(group, ())):
                return captures
        return None


def split_patterns(source: str) -> list[str]:
    """Split query source into its top-level patterns (comments dropped), keeping trailing captures."""
    patterns: list[str] = []
    current: list[str] = []
    depth = 0
    i = 0
    while i < len(source):
        char = source[i]
        if char == ";":
            end = source.find("\n", i)
            i = len(source) if end < 0 else end
            continue
        if char == '"':
            end = i + 1
            while end < len(source) and source[end] != '"':
                end += 2 if source[end] == "\\" else 1
            current.append(source[i : end + 1])
            i = end + 1
            continue
        if char in "([" and depth == 0 and "".join(current).strip():
            patterns.append("".join(current).strip())
            current = []
        depth += char in "(["
        depth -= char in ")]"
        current.append(char)
        i += 1
    if "".join(current).strip():
        patterns.append("".join(current).strip())
    return patterns


def _pattern_group(pattern: str) -> str | None:
    """Return the group a pattern belongs to: its first capture that names a group."""
    for name in re.findall(r"@([\w.]+)", pattern):
        if name in _GROUPS:
            return name
    return None


def _pattern_node_types(pattern: str) -> set[str]:
    """Return the node types a pattern's outermost node can have."""
    body = pattern.lstrip("(").lstrip()
    if body.startswith("["):
        depth, types = 0, set()
        for match in re.finditer(r"[\[\]()]|\w+", body):
            token = match.group()
            if token in "[(":
                depth += 1
            elif token in "])":
                depth -= 1
                if depth == 0:
                    break
            elif depth == 2 and body[match.start() - 1] == "(":
                types.add(token)
        return types
    match = re.match(r"(\w+)", body)
    return {match.group(1)} if match else set()


@cache
def queries(language: str) -> LanguageQueries:
    """Return the compiled queries of a language, read from codegen/queries/<language>.scm."""
    name = _QUERY_FILES.get(language, language)
    source = (Path(__file__).parent / "queries" / f"{name}.scm").read_text(encoding="utf-8")
    grouped: dict[str, list[str]] = {}
    for pattern in split_patterns(source):
        group = _pattern_group(pattern)
        if group is not None:
            grouped.setdefault(group, []).append(pattern)
    lang = grammar(language)
    compiled = {group: Query(lang, "\n".join(patterns)) for group, patterns in grouped.items()}
    node_types = {
        group: frozenset(t for p in patterns for t in _pattern_node_types(p))
        for group, patterns in grouped.items()
    }
    return LanguageQueries(compiled, node_types)
