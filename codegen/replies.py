"""Model replies to code and a complexity note: reasoning is stripped, the final answer's code is taken."""

from __future__ import annotations

import re
from dataclasses import dataclass

_SPECIAL = re.compile(r"<\|[^|>]{1,40}\|>")
_FENCED = re.compile(r"```[ \t]*([\w+#-]*)[ \t]*\n(.*?)```", re.DOTALL)
_OPEN_FENCE = re.compile(r"```[ \t]*([\w+#-]*)[ \t]*\n(.*)\Z", re.DOTALL)
_BIG_O = r"O\((?:[^()]|\([^()]*\))*\)"
_SPACE_BEFORE = re.compile(r"(space|memory)(\s+complexity)?\s*(is|of|:|=|-)?\s*$")
_SPACE_AFTER = re.compile(r"\s*(extra\s+|auxiliary\s+|additional\s+)?(space|memory)")


@dataclass(frozen=True)
class Reply:
    """What we take from a reply: the code to apply and the claimed complexity."""

    code: str | None
    complexity: str | None
    reasoning: str = ""


def strip_reasoning(text: str) -> tuple[str, str]:
    """Split a reply into (reasoning, answer); an unclosed <think> leaves no answer."""
    text = _SPECIAL.sub("", text)
    if "</think>" in text:
        reasoning, answer = text.rsplit("</think>", 1)
        return reasoning.replace("<think>", "").strip(), answer
    if "<think>" in text:
        return text.split("<think>", 1)[1].strip(), ""
    return "", text


def parse_reply(text: str, language: str = "python") -> Reply:
    """Return the last code block of the final answer and its complexity statement."""
    reasoning, answer = strip_reasoning(text)
    blocks = _FENCED.findall(answer)
    code = None
    if blocks:
        wanted = [b for lang, b in blocks if lang.lower() in _aliases(language)]
        code = (wanted or [b for _, b in blocks])[-1]
    else:
        tail = _OPEN_FENCE.search(answer)  # a block cut off by the token limit
        if tail:
            code = tail.group(2)
    if code is not None:
        code = code.strip("\n")
        code = code.rstrip() + "\n" if code.strip() else None
    return Reply(
        code=code, complexity=find_complexity(answer) or find_complexity(reasoning), reasoning=reasoning
    )


def find_complexity(text: str) -> str | None:
    """Return e.g. 'O(n log n) time, O(1) space' from a statement in the text, preferring a `Complexity:` line."""
    lines = [ln for ln in text.splitlines() if "O(" in ln]
    preferred = [ln for ln in lines if "complexity" in ln.lower()] or lines
    for line in reversed(preferred):
        terms = list(re.finditer(_BIG_O, line))
        if not terms:
            continue
        time, space = None, None
        for term in terms:
            before = line[: term.start()].lower()
            after = line[term.end() :].lower()
            is_space = bool(_SPACE_BEFORE.search(before) or _SPACE_AFTER.match(after))
            if is_space and space is None:
                space = term.group(0)
            elif time is None:
                time = term.group(0)
        if time and space:
            return f"{time} time, {space} space"
        if time:
            return f"{time} time"
    return None


def _aliases(language: str) -> set[str]:
    """Fence tags that mean the language."""
    return {
        "python": {"python", "py", "python3", ""},
        "cpp": {"cpp", "c++", "cc", "cxx", ""},
    }.get(language, {language, ""})
