"""Inline completions: the prompt is the plain code prefix; the result is cleaned and cut at the block's end."""

from __future__ import annotations

import re
from collections import OrderedDict

_SPECIAL = re.compile(r"<\|[^|>]{1,40}\|>|</?think>")
MAX_PREFIX_CHARS = 6000
MAX_LINES = 12


def completion_prefix(text_before: str) -> str:
    """The prefix sent to the model: the text before the cursor, trimmed to whole lines from the end."""
    if len(text_before) <= MAX_PREFIX_CHARS:
        return text_before
    cut = text_before[-MAX_PREFIX_CHARS:]
    newline = cut.find("\n")
    return cut[newline + 1 :] if newline >= 0 else cut


def stop_strings(language: str | None) -> tuple[str, ...]:
    """Strings at which a continuation ends: a blank line ends a block, and new top-level definitions."""
    if language == "python":
        return ("\n\n\n", "\ndef ", "\nclass ", "\nif __name__")
    return ("\n\n\n", "\n}\n")


def clean_completion(raw: str, line_prefix: str, text_after: str, language: str | None) -> str:
    """Drop special tokens, cut at the end of the statement or block, and drop text that duplicates what
    follows the cursor. Returns '' when nothing useful remains."""
    text = _SPECIAL.sub("", raw)
    for stop in stop_strings(language):
        if stop in text:
            text = text[: text.index(stop)]
    lines = text.split("\n")[:MAX_LINES]
    if language == "python" and len(lines) > 1:
        lines = _cut_at_dedent(lines, line_prefix)
    following = [ln.strip() for ln in text_after.split("\n") if ln.strip()]
    first_after = following[0] if following else None
    # Cut where the completion starts repeating the code that follows the cursor.
    for i, line in enumerate(lines):
        if i > 0 and first_after is not None and line.strip() == first_after:
            lines = lines[:i]
            break
    text = "\n".join(lines).rstrip()
    rest_of_line = text_after.split("\n", 1)[0]
    if rest_of_line and text.endswith(rest_of_line):
        text = text[: -len(rest_of_line)]
    if rest_of_line.strip() and text.strip() == rest_of_line.strip():
        return ""
    return text if text.strip() else ""


def _cut_at_dedent(lines: list[str], line_prefix: str) -> list[str]:
    """Keep lines while they stay inside the block the cursor is in (Python)."""
    base = len(line_prefix) - len(line_prefix.lstrip())
    kept = [lines[0]]
    for line in lines[1:]:
        if line.strip() and len(line) - len(line.lstrip()) < base:
            break
        kept.append(line)
    while kept and not kept[-1].strip():
        kept.pop()
    return kept


class PrefixCache:
    """A small LRU cache of completions by prefix; a longer prefix typed along a cached completion reuses it."""

    def __init__(self, size: int = 256) -> None:
        self.size = size
        self._items: OrderedDict[str, str] = OrderedDict()

    def get(self, prefix: str) -> str | None:
        """The cached completion for this prefix, or the rest of one the user is typing along."""
        if prefix in self._items:
            self._items.move_to_end(prefix)
            return self._items[prefix]
        for key in reversed(self._items):
            value = self._items[key]
            if prefix.startswith(key) and len(prefix) - len(key) <= len(value):
                typed = prefix[len(key) :]
                if value.startswith(typed) and len(value) > len(typed):
                    return value[len(typed) :]
        return None

    def put(self, prefix: str, completion: str) -> None:
        """Remember a completion."""
        self._items[prefix] = completion
        self._items.move_to_end(prefix)
        while len(self._items) > self.size:
            self._items.popitem(last=False)
