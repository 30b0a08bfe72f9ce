"""Inline completions: a plain continuation of the code before the cursor, debounced, cached by prefix and
cancelled when a newer keystroke arrives."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from lsprotocol import types

from codegen.backends.base import BackendError
from codegen.completion import PrefixCache, clean_completion, completion_prefix, stop_strings
from codegen.engine import Cancelled, Priority
from lsp_server.convert import from_lsp_position

if TYPE_CHECKING:
    from lsp_server.state import State

log = logging.getLogger(__name__)


class Completer:
    """The completion cache (by prefix) and the latest request per document (older ones give up)."""

    def __init__(self) -> None:
        self.cache = PrefixCache()
        self.serial: dict[str, int] = {}

    def newest(self, uri: str) -> int:
        """Number a new request for a document; it is superseded when another one comes."""
        self.serial[uri] = self.serial.get(uri, 0) + 1
        return self.serial[uri]

    def superseded(self, uri: str, serial: int) -> bool:
        """Whether a newer request for the document came since `serial`."""
        return self.serial.get(uri) != serial


async def complete(state: State, uri: str, position: types.Position) -> str:
    """Debounced, cached, cancellable plain continuation at a position; '' when there is none."""
    doc = state.documents.get(uri)
    if not state.settings.completions.enabled or doc is None:
        return ""
    completer = state.completer
    serial = completer.newest(uri)
    at = from_lsp_position(doc.lines, position)
    line_text = doc.lines[at.line]
    before = "\n".join(doc.lines[: at.line] + [line_text[: at.column]])
    after = "\n".join([line_text[at.column :]] + doc.lines[at.line + 1 :])
    prefix = completion_prefix(before)
    raw = completer.cache.get(prefix)
    if raw is None:
        await asyncio.sleep(state.settings.completions.debounce_ms / 1000)
        if completer.superseded(uri, serial):
            return ""  # a newer keystroke superseded this request
        raw = await _generate(state, prefix, doc.language)
        if raw is None:
            return ""
        completer.cache.put(prefix, raw)
    return clean_completion(raw, line_text[: at.column], after, doc.language)


async def _generate(state: State, prefix: str, language: str | None) -> str | None:
    """The model's continuation of a prefix (urgent: it goes before background work); None on failure."""
    settings = state.settings.completions
    job = state.engine().complete(prefix, settings.max_tokens, stop_strings(language), Priority.INTERACTIVE)
    try:
        return await asyncio.wrap_future(job.future)
    except asyncio.CancelledError:
        job.cancel()
        raise
    except (BackendError, Cancelled) as exc:
        log.info("completion failed: %s", exc)
        return None
