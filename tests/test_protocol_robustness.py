"""Bad protocol input never crashes or hangs the server: every request gets a result or a JSON-RPC error.

A raw JSON-RPC writer (devtools/rpc_client.py) sends broken JSON, non-object bodies, wrong types, unknown
methods, bad ids, out-of-range and mid-surrogate positions, huge documents and very long lines, and
hypothesis generates thousands more; after each input the server must still list the TODO code action on a
valid document.
"""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from devtools.openai_server import FakeOpenAI
from devtools.rpc_client import RawClient
from devtools.samples import GOOD_REPLY, TWO_SUM_SOURCE

CANARY = "file:///tmp/vibethinker-robust/canary.py"
FUZZ = "file:///tmp/vibethinker-robust/fuzz.py"
TODO_LINE = TWO_SUM_SOURCE.split("\n").index("    # TODO: hash map, O(n)")
PARSE_ERROR, INVALID_REQUEST, METHOD_NOT_FOUND, INVALID_PARAMS, INTERNAL_ERROR = (
    -32700,
    -32600,
    -32601,
    -32602,
    -32603,
)


@pytest.fixture(scope="module")
def server():
    """One server (openai backend on a fake model) shared by the module, with the canary document open."""
    with FakeOpenAI(GOOD_REPLY, completion="    return [0, 1]\n") as fake, RawClient() as client:
        client.initialize(
            {
                "model": {"backend": "openai", "baseUrl": fake.base_url, "name": "fake"},
                "generation": {"candidates": 1},
                "completions": {"debounceMs": 0},
            }
        )
        client.open(CANARY, TWO_SUM_SOURCE)
        client.open(FUZZ, TWO_SUM_SOURCE)
        yield client
        assert client.process.poll() is None, "the server exited during the module"


def assert_still_works(client: RawClient) -> None:
    """The server is alive, in sync, and lists the TODO action on the canary document."""
    assert client.process.poll() is None, "".join(client.stderr_lines[-20:])
    assert "Implement TODO: hash map, O(n)" in client.code_action_titles(CANARY, TODO_LINE, timeout=20)


def errors_after(client: RawClient, body: bytes) -> list[dict]:
    """Send one raw body, then a normal request; the id-less error responses the body caused."""
    before = len(client.errors_without_id)
    client.send_body(body)
    assert_still_works(client)
    return client.errors_without_id[before:]


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (b"{not json", PARSE_ERROR),
        (b'{"jsonrpc": "2.0", "id": 1, "method": "textDocument/hover"', PARSE_ERROR),
        (b"\xff\xfe\x00{}", PARSE_ERROR),
        (b"", None),
        (b"[1, 2]", INVALID_REQUEST),
        (b"[]", INVALID_REQUEST),
        (b"42", INVALID_REQUEST),
        (b'"textDocument/hover"', INVALID_REQUEST),
        (b"null", INVALID_REQUEST),
        (b'{"method": "textDocument/hover"}', INVALID_REQUEST),
        (b'{"jsonrpc": "2.0", "id": true, "method": "textDocument/hover"}', INVALID_REQUEST),
        (b'{"jsonrpc": "2.0", "id": null, "method": "textDocument/hover"}', INVALID_REQUEST),
        (b'{"jsonrpc": "2.0", "id": [7], "method": "textDocument/hover"}', INVALID_REQUEST),
        (b'{"jsonrpc": "2.0", "id": {"a": 1}, "method": "shutdown"}', INVALID_REQUEST),
    ],
)
def test_garbage_bodies_get_one_error_without_id(server, body, code):
    errors = errors_after(server, body)
    if code is None:
        assert errors == []
    else:
        assert [e["error"]["code"] for e in errors] == [code], errors
        assert all(e["id"] is None and e["error"]["message"].endswith(".") for e in errors)


@pytest.mark.parametrize(
    ("message", "code"),
    [
        ({"jsonrpc": "1.0", "method": "textDocument/hover"}, INVALID_REQUEST),
        ({"method": "textDocument/hover"}, INVALID_REQUEST),
        ({"jsonrpc": "2.0", "method": 5}, INVALID_REQUEST),
        ({"jsonrpc": "2.0", "method": "no/suchMethod"}, METHOD_NOT_FOUND),
        ({"jsonrpc": "2.0", "method": "$/unknownRequest", "params": {}}, METHOD_NOT_FOUND),
        ({"jsonrpc": "2.0", "method": "textDocument/hover"}, INVALID_PARAMS),
        ({"jsonrpc": "2.0", "method": "$/cancelRequest", "params": {"id": 1}}, INVALID_REQUEST),
        (
            {"jsonrpc": "2.0", "method": "textDocument/didClose", "params": {"textDocument": {"uri": FUZZ}}},
            INVALID_REQUEST,
        ),
        ({"jsonrpc": "2.0", "method": "textDocument/hover", "params": 5}, INVALID_PARAMS),
        ({"jsonrpc": "2.0", "method": "textDocument/hover", "params": {"textDocument": 3}}, INVALID_PARAMS),
        (
            {
                "jsonrpc": "2.0",
                "method": "textDocument/codeAction",
                "params": {"textDocument": {"uri": CANARY}, "range": "all", "context": {"diagnostics": []}},
            },
            INVALID_PARAMS,
        ),
        (
            {
                "jsonrpc": "2.0",
                "method": "workspace/executeCommand",
                "params": {"command": "no.such", "arguments": []},
            },
            INVALID_PARAMS,
        ),
    ],
)
def test_malformed_requests_get_an_error_for_their_own_id(server, message, code):
    msg_id = server.new_id()
    server.send({**message, "id": msg_id})
    response = server.wait_response(msg_id, timeout=20)
    assert response["error"]["code"] == code, response
    assert_still_works(server)


def test_a_fractional_id_is_echoed_on_its_error(server):
    server.send({"jsonrpc": "2.0", "id": 12.5, "method": "textDocument/hover", "params": {}})
    assert server.wait_response(12.5, timeout=20)["error"]["code"] == INVALID_REQUEST


def test_objects_that_look_like_messages_inside_params_are_not_answered_separately(server):
    """json.loads' object hook sees nested objects first; only the whole body is a message."""
    nested_id = server.new_id()
    inner = {"jsonrpc": "2.0", "id": nested_id, "method": "shutdown"}
    msg_id = server.new_id()
    server.send(
        {
            "jsonrpc": "2.0",
            "id": msg_id,
            "method": "codeAction/resolve",
            "params": {"title": "echo", "data": {"inner": inner}},
        }
    )
    response = server.wait_response(msg_id, timeout=20)
    assert response["result"]["data"] == {"inner": inner}
    assert_still_works(server)
    assert server._responses.get(json.dumps(nested_id)) is None  # nothing answered the nested "request"


def test_garbage_header_lines_are_skipped(server):
    server.send_bytes(b"X-Nonsense: 1\r\n\r\nnot a header at all\r\n\r\ncontent-type: utf-8\r\n\r\n")
    assert_still_works(server)


def _position_request(method: str, uri: str, line: int, character: int) -> dict:
    """Params of a position request (hover, completion) or a code action at one point."""
    pos = {"line": line, "character": character}
    if method == "textDocument/codeAction":
        return {
            "textDocument": {"uri": uri},
            "range": {"start": pos, "end": pos},
            "context": {"diagnostics": []},
        }
    return {"textDocument": {"uri": uri}, "position": pos}


EMOJI_SOURCE = 'def f(s):\r\n\t"""😀😀 → ✓"""  # 😀 x\r\n\t# TODO: count 😀 in s\r\n\tpass\r\n'


@pytest.mark.parametrize(
    "method", ["textDocument/hover", "textDocument/codeAction", "textDocument/completion"]
)
@pytest.mark.parametrize(
    ("line", "character"),
    [(0, 10**6), (10**6, 0), (2**31 - 1, 2**31 - 1), (1, 3), (1, 4), (2, 13), (2, 14), (3, 999)],
)
def test_out_of_range_and_mid_surrogate_positions_are_clamped(server, method, line, character):
    """(1, 4) and (2, 14) fall between the two UTF-16 halves of an emoji on a CRLF + tab line."""
    uri = "file:///tmp/vibethinker-robust/emoji.py"
    server.open(uri, EMOJI_SOURCE)
    response = server.request(method, _position_request(method, uri, line, character), timeout=30)
    assert "result" in response, response
    assert_still_works(server)


def test_emoji_todo_on_crlf_lines_is_listed_with_its_text(server):
    uri = "file:///tmp/vibethinker-robust/emoji-todo.py"
    server.open(uri, EMOJI_SOURCE)
    assert server.code_action_titles(uri, 2) == ["Implement TODO: count 😀 in s"]


def test_huge_document_and_very_long_lines(server):
    """A 3 MB document, a 1 MB line, and edits at both ends still get answers and keep the TODO action."""
    uri = "file:///tmp/vibethinker-robust/huge.py"
    filler = "".join(f"def f{i}(x):\n    return x + {i}  # 😀 filler\n\n" for i in range(60_000))
    text = filler + TWO_SUM_SOURCE + "LONG = '" + "x" * 1_000_000 + "'\n"
    assert len(text.encode()) > 3_000_000
    server.open(uri, text)
    todo = text.split("\n").index("    # TODO: hash map, O(n)")
    long_line = todo + len(TWO_SUM_SOURCE.split("\n")) - 1
    assert "Implement TODO: hash map, O(n)" in server.code_action_titles(uri, todo, timeout=60)
    server.change(uri, (long_line, 500_000), (long_line, 500_001), "😀")
    server.change(uri, (0, 0), (0, 0), "# head\n")
    assert "Implement TODO: hash map, O(n)" in server.code_action_titles(uri, todo + 1, timeout=60)
    hover = server.request(
        "textDocument/hover", _position_request("textDocument/hover", uri, long_line + 1, 10**6)
    )
    assert "result" in hover
    server.notify("textDocument/didClose", {"textDocument": {"uri": uri}})
    assert_still_works(server)


def test_did_change_for_an_unopened_document_is_ignored(server):
    uri = "file:///tmp/vibethinker-robust/never-opened.py"
    rng = {"start": {"line": 0, "character": 0}, "end": {"line": 0, "character": 0}}
    server.notify(
        "textDocument/didChange",
        {
            "textDocument": {"uri": uri, "version": 2},
            "contentChanges": [{"range": rng, "text": "# TODO: x\n"}],
        },
    )
    assert server.code_action_titles(uri, 0) == []
    assert_still_works(server)


# -- hypothesis: random messages ------------------------------------------------------------------------

JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=8,
)
POSITIONS = st.fixed_dictionaries(
    {
        "line": st.one_of(st.integers(-3, 40), st.sampled_from([2**31 - 1, 2**31, 2**53, -(2**31)])),
        "character": st.one_of(st.integers(-3, 200), st.sampled_from([2**31 - 1, 2**32, -1])),
    }
)
METHODS = [
    "textDocument/hover",
    "textDocument/codeAction",
    "textDocument/completion",
    "textDocument/inlineCompletion",
    "codeAction/resolve",
    "workspace/executeCommand",
    "textDocument/didOpen",
    "textDocument/didChange",
    "textDocument/didClose",
    "textDocument/didSave",
    "workspace/didChangeConfiguration",
    "$/cancelRequest",
    "$/setTrace",
    "window/workDoneProgress/cancel",
    "textDocument/definition",
    "workspace/symbol",
]


@st.composite
def templates(draw) -> dict:
    """Valid-looking params for the fuzz document with random positions, ranges, texts and commands."""
    start, end = draw(POSITIONS), draw(POSITIONS)
    text = draw(st.text(alphabet=st.sampled_from("a😀\r\n\t# TODO:é\ud7ff"), max_size=20))
    doc = {"uri": FUZZ}
    return draw(
        st.sampled_from(
            [
                {"textDocument": doc, "position": start},
                {"textDocument": doc, "range": {"start": start, "end": end}, "context": {"diagnostics": []}},
                {
                    "textDocument": {**doc, "version": draw(st.integers(-5, 10**6))},
                    "contentChanges": [{"range": {"start": start, "end": end}, "text": text}],
                },
                {
                    "textDocument": {
                        **doc,
                        "languageId": "python",
                        "version": 1,
                        "text": TWO_SUM_SOURCE + text,
                    }
                },
                {
                    "command": draw(st.sampled_from(["vibethinker.runExamples", "vibethinker.fix", "x"])),
                    "arguments": [FUZZ, start["line"]],
                },
                {
                    "title": "t",
                    "data": {
                        "uri": FUZZ,
                        "line": start["line"],
                        "action": draw(st.sampled_from(["explain", "optimize", "zzz"])),
                    },
                },
                {"id": draw(st.integers(-2, 10**4) | st.text(max_size=3))},
                {"settings": {"hover": {"explain": draw(JSON_VALUES)}, "generation": draw(JSON_VALUES)}},
            ]
        )
    )


def mutate(value, path_choice: int, replacement):
    """Replace one leaf of a JSON value (chosen by index) with a random value."""
    leaves = []

    def walk(node, setter):
        if isinstance(node, dict) and node:
            for key in list(node):
                walk(node[key], lambda v, k=key, n=node: n.__setitem__(k, v))
        elif isinstance(node, list) and node:
            for index in range(len(node)):
                walk(node[index], lambda v, i=index, n=node: n.__setitem__(i, v))
        else:
            leaves.append(setter)

    walk(value, None)
    setters = [s for s in leaves if s is not None]
    if setters:
        setters[path_choice % len(setters)](replacement)
    return value


MESSAGES = st.fixed_dictionaries(
    {
        "method": st.sampled_from(METHODS)
        | st.text(max_size=16).filter(lambda m: m not in ("exit", "shutdown", "initialize")),
        "is_request": st.booleans(),
        "params": st.one_of(
            templates(),
            st.builds(mutate, templates(), st.integers(0, 20), JSON_VALUES),
            JSON_VALUES,
        ),
        "omit_params": st.booleans(),
    }
)


def test_random_messages_are_answered_and_the_server_keeps_working(server):
    """1,000 random messages, each answered (requests) without an internal error; afterwards the server
    still lists the TODO action (checked here, so the test does not rely on the order tests run in)."""

    @settings(
        max_examples=1000,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
        derandomize=True,
    )
    @given(case=MESSAGES)
    def one_message(case):
        send_random_message(server, case)

    one_message()
    assert_still_works(server)


def send_random_message(server: RawClient, case: dict) -> None:
    """Send one generated message; a request must get a result or a non-internal error; the server lives."""
    message = {"jsonrpc": "2.0", "method": case["method"]}
    if not case["omit_params"]:
        message["params"] = case["params"]
    msg_id = None
    if case["is_request"]:
        msg_id = message["id"] = server.new_id()
    server.send(message)
    if msg_id is not None:
        response = server.wait_response(msg_id, timeout=30)
        assert ("result" in response) != ("error" in response), response
        if "error" in response:
            assert isinstance(response["error"]["code"], int) and response["error"]["message"]
            assert response["error"]["code"] != INTERNAL_ERROR, (message, response)  # a handler raised
    assert server.process.poll() is None
    ping = server.request(
        "textDocument/hover", _position_request("textDocument/hover", CANARY + "x", 0, 0), 20
    )
    assert ping.get("result") is None and "error" not in ping


def test_requests_after_shutdown_get_errors_and_exit_ends_the_server():
    with RawClient() as client:
        client.initialize({})
        client.open(CANARY, TWO_SUM_SOURCE)
        assert client.result("shutdown") is None
        for method in ("textDocument/hover", "textDocument/codeAction", "shutdown", "initialize"):
            response = client.request(method, {}, timeout=10)
            assert response["error"]["code"] == INVALID_REQUEST, response
            assert "shut down" in response["error"]["message"]
        client.notify(
            "textDocument/didChange", {"textDocument": {"uri": CANARY, "version": 2}, "contentChanges": []}
        )
        assert client.process.poll() is None
        client.notify("exit")
        assert client.process.wait(timeout=20) == 0
