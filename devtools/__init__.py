"""Development helpers that tests/ and bench/ share: the OpenAI-compatible server double, the tiny-model builder,
the raw JSON-RPC client and the sample sources and replies. Not shipped: the wheel holds lsp_server, codegen and
sandbox only (pyproject.toml), and nothing in those imports this package."""
