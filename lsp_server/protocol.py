"""A protocol that answers every request: bad params, garbage and requests after shutdown get JSON-RPC errors.

Stock pygls raises InvalidParams without the request id when params fail to deserialize, which leaves the
client waiting forever; here the error goes back to the request's id.
"""

from __future__ import annotations

import json
import logging
from types import SimpleNamespace
from typing import Any

from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pygls.protocol import LanguageServerProtocol

log = logging.getLogger(__name__)

_IGNORED = SimpleNamespace(jsonrpc="ignored")  # handle_message drops messages of an unknown version


def _valid_id(value: Any) -> bool:
    """Whether a value can be a JSON-RPC request id."""
    return isinstance(value, (int, str)) and not isinstance(value, bool)


class VibeProtocol(LanguageServerProtocol):
    """LanguageServerProtocol that never leaves a request unanswered."""

    def structure_message(self, data: dict[str, Any]):
        """Deserialize; a request whose params do not fit gets an InvalidParams error for its own id."""
        try:
            return super().structure_message(data)
        except JsonRpcException as exc:
            if "method" in data and _valid_id(data.get("id")):
                method = data.get("method")
                self._send_error(
                    data["id"],
                    types.ErrorCodes.InvalidParams,
                    f"The params of {method!r} do not match the LSP specification; the request was ignored.",
                )
                log.warning("invalid params for %r (id %r): %s", method, data.get("id"), exc.__cause__)
                return _IGNORED
            raise

    def handle_message(self, message):
        """Answer requests after shutdown with InvalidRequest instead of dropping them."""
        method = getattr(message, "method", None)
        msg_id = getattr(message, "id", None)
        if not hasattr(message, "jsonrpc"):
            log.warning("ignoring a message that is not a JSON-RPC object: %r", message)
            self._send_error(None, types.ErrorCodes.InvalidRequest, "A JSON-RPC message must be an object.")
            return None
        if self._shutdown and method is not None and method != types.EXIT and _valid_id(msg_id):
            self._send_error(
                msg_id, types.ErrorCodes.InvalidRequest, "The server is shut down; only 'exit' is accepted."
            )
            return None
        return super().handle_message(message)

    def _send_error(self, msg_id: Any, code: int, message: str) -> None:
        """Write an error response directly (the id may be null for unparseable input)."""
        self._send_data({"jsonrpc": "2.0", "id": msg_id, "error": {"code": int(code), "message": message}})


def report_parse_error(protocol: VibeProtocol, error: Exception) -> bool:
    """Send a Parse error (id null) for a body that was not JSON; True when handled."""
    if isinstance(error, json.JSONDecodeError) or isinstance(error.__cause__, json.JSONDecodeError):
        protocol._send_error(None, types.ErrorCodes.ParseError, "The message body is not valid JSON.")
        return True
    return False
