"""Start-up: the user is told when generated code will run with weaker isolation than bubblewrap."""

from __future__ import annotations

import pytest_lsp
from lsprotocol import types
from pytest_lsp import LanguageClient, client_capabilities

from tests.e2e.lsp_helpers import SERVER, wait_until


@pytest_lsp.fixture(config=SERVER)
async def weak_client(lsp_client: LanguageClient):
    await lsp_client.initialize_session(
        types.InitializeParams(
            capabilities=client_capabilities("neovim"),
            initialization_options={"judge": {"isolation": "fallback"}},
        )
    )
    yield
    await lsp_client.shutdown_session()


async def test_a_weaker_sandbox_is_said_to_the_user(weak_client: LanguageClient):
    await wait_until(lambda: any("weaker isolation: fallback" in m.message for m in weak_client.messages))
    [message] = [m for m in weak_client.messages if "weaker isolation" in m.message]
    assert message.type == types.MessageType.Warning and "bubblewrap" in message.message
