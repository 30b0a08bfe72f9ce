"""A protocol that answers every request: bad params, garbage and requests after shutdown get JSON-RPC errors.

Stock pygls raises InvalidParams without the request id when params fail to deserialize, which leaves the
client waiting forever; here the error goes back to the request's id. Stock pygls also structures every
nested JSON object that has a "jsonrpc" key as a message of its own (json.loads' object_hook runs bottom-up),
so a request whose params merely contain such an object could be swallowed or answered twice; here only the
whole body is structured. Requests with a wrong "jsonrpc" version or an id that is not a number or string get
an Invalid Request error instead of silence, and unknown methods without params get Method Not Found.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import attrs
from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pygls.protocol import LanguageServerProtocol
from pygls.protocol.language_server import lsp_method

log = logging.getLogger(__name__)

JSONRPC_VERSION = "2.0"


class _Unstructured(dict):
    """A JSON object with a "jsonrpc" key, kept as a dict until it turns out to be the whole message."""


def _valid_id(value: Any) -> bool:
    """Whether a value can be a JSON-RPC request id that pygls can echo (an integer or a string)."""
    return isinstance(value, (int, str)) and not isinstance(value, bool)


def _echo_id(value: Any) -> Any:
    """The id to put on an error for a request whose id is unusable: a number is echoed, anything else null."""
    if isinstance(value, (int, float, str)) and not isinstance(value, bool):
        return value
    return None


class VibeProtocol(LanguageServerProtocol):
    """LanguageServerProtocol that never leaves a request unanswered."""

    def structure_message(self, data: dict[str, Any]):
        """json.loads' object hook: defer structuring, since nested objects pass through here first."""
        if "jsonrpc" not in data:
            return data
        return _Unstructured(data)

    # Document sync goes to the server's own documents (lsp_server/documents.py) only. Stock pygls also keeps
    # a copy of every text in its workspace, applying each edit character by character: more than a
    # millisecond per keystroke on a 5,000-line file, for a copy nothing here reads.

    @lsp_method(types.TEXT_DOCUMENT_DID_OPEN)
    def lsp_text_document__did_open(self, params: types.DidOpenTextDocumentParams):
        """Pass didOpen to the server's handler, without a workspace copy."""
        yield from self._user_handler(types.TEXT_DOCUMENT_DID_OPEN, params)

    @lsp_method(types.TEXT_DOCUMENT_DID_CHANGE)
    def lsp_text_document__did_change(self, params: types.DidChangeTextDocumentParams):
        """Pass didChange to the server's handler, without a workspace copy."""
        yield from self._user_handler(types.TEXT_DOCUMENT_DID_CHANGE, params)

    @lsp_method(types.TEXT_DOCUMENT_DID_CLOSE)
    def lsp_text_document__did_close(self, params: types.DidCloseTextDocumentParams):
        """Pass didClose to the server's handler, without a workspace copy."""
        yield from self._user_handler(types.TEXT_DOCUMENT_DID_CLOSE, params)

    def _user_handler(self, method: str, params):
        """The server's own handler for a method, in the form pygls' built-in handlers hand it on."""
        handler = self.fm.features.get(method)
        if handler is not None:
            yield handler, (params,), None

    def handle_message(self, message):
        """Structure the whole body, answer what is malformed, refuse requests after shutdown, then dispatch."""
        if isinstance(message, dict):
            message = self._structure_body(dict(message))
            if message is None:
                return None
        if not hasattr(message, "jsonrpc"):
            log.warning("ignoring a message that is not a JSON-RPC object: %r", message)
            self._send_error(
                None,
                types.ErrorCodes.InvalidRequest,
                'A JSON-RPC message must be an object with "jsonrpc": "2.0".',
            )
            return None
        method = getattr(message, "method", None)
        msg_id = getattr(message, "id", None)
        if self._shutdown and method is not None and method != types.EXIT and _valid_id(msg_id):
            self._send_error(
                msg_id, types.ErrorCodes.InvalidRequest, "The server is shut down; only 'exit' is accepted."
            )
            return None
        return super().handle_message(message)

    def _structure_body(self, data: dict[str, Any]):
        """The typed message for a whole body, or None after answering (or dropping) a malformed one."""
        is_request = "method" in data and "id" in data
        if data.get("jsonrpc") != JSONRPC_VERSION:
            self._send_error(
                _echo_id(data.get("id")),
                types.ErrorCodes.InvalidRequest,
                'A JSON-RPC message must be an object with "jsonrpc": "2.0".',
            )
            return None
        if is_request and not _valid_id(data["id"]):
            self._send_error(
                _echo_id(data["id"]),
                types.ErrorCodes.InvalidRequest,
                "A request id must be an integer or a string; the request was ignored.",
            )
            return None
        if "method" in data and not isinstance(data["method"], str):
            if is_request:
                self._send_error(
                    data["id"], types.ErrorCodes.InvalidRequest, "A method name must be a string."
                )
            return None
        if is_request and self._shutdown:
            self._send_error(
                data["id"],
                types.ErrorCodes.InvalidRequest,
                "The server is shut down; only 'exit' is accepted.",
            )
            return None
        message_type = self.get_message_type(data["method"]) if "method" in data else None
        if is_request and message_type is not None and "id" not in attrs.fields_dict(message_type):
            self._send_error(
                data["id"],
                types.ErrorCodes.InvalidRequest,
                f"{data['method']!r} is a notification and takes no id; it was ignored.",
            )
            return None
        if "method" in data and "params" not in data and message_type is None:
            data["params"] = None  # an unknown method: let pygls answer Method Not Found
        try:
            return super().structure_message(data)
        except JsonRpcException as exc:
            if is_request:
                method = data["method"]
                self._send_error(
                    data["id"],
                    types.ErrorCodes.InvalidParams,
                    f"The params of {method!r} do not match the LSP specification; the request was ignored.",
                )
                log.warning("invalid params for %r (id %r): %s", method, data["id"], exc.__cause__)
                return None
            raise

    def _send_error(self, msg_id: Any, code: int, message: str) -> None:
        """Write an error response directly (the id may be null for unparseable input)."""
        self._send_data({"jsonrpc": "2.0", "id": msg_id, "error": {"code": int(code), "message": message}})


def report_parse_error(protocol: VibeProtocol, error: Exception) -> bool:
    """Send a Parse error (id null) for a body that was not JSON or not UTF-8; True when handled."""
    parse_errors = (json.JSONDecodeError, UnicodeDecodeError)
    if isinstance(error, parse_errors) or isinstance(error.__cause__, parse_errors):
        protocol._send_error(
            None, types.ErrorCodes.ParseError, "The message body is not valid JSON in UTF-8."
        )
        return True
    return False
