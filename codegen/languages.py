"""Languages we read: names, file extensions, LSP language ids and their tree-sitter grammars."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from tree_sitter import Language, Parser

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
    raise ValueError(f"unsupported language: {language}")


def parser(language: str) -> Parser:
    """Return a new parser for the language (parsers are cheap; trees are not shared across threads)."""
    return Parser(grammar(language))
