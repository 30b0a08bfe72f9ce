"""The VS Code extension's package.json mirrors the server: every setting, and every language it reads."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from codegen.languages import SUPPORTED, language_for
from lsp_server.settings import flatten_schema

EXTENSION = Path(__file__).resolve().parents[1] / "editor-extension" / "vscode"
PREFIX = "vibethinker."
EXTENSION_ONLY = {"server.path", "server.python", "trace.server"}
SCHEMA_FIELDS = ("type", "default", "description", "enum", "minimum", "maximum")


def _package() -> dict:
    """The extension's package.json."""
    return json.loads((EXTENSION / "package.json").read_text(encoding="utf-8"))


def _contributed() -> dict[str, dict]:
    """Every contributed property, keyed without the `vibethinker.` prefix."""
    blocks = _package()["contributes"]["configuration"]
    blocks = blocks if isinstance(blocks, list) else [blocks]
    properties: dict[str, dict] = {}
    for block in blocks:
        for name, schema in block["properties"].items():
            assert name.startswith(PREFIX), f"{name} is outside the vibethinker section"
            assert name[len(PREFIX) :] not in properties, f"{name} is contributed twice"
            properties[name[len(PREFIX) :]] = schema
    return properties


def _schema_fields(schema: dict) -> dict:
    """The fields the server's settings tree defines, as package.json states them."""
    return {key: schema[key] for key in SCHEMA_FIELDS if key in schema}


def test_every_server_setting_is_contributed_and_nothing_else():
    contributed = set(_contributed()) - EXTENSION_ONLY
    server = set(flatten_schema())
    assert contributed - server == set(), "package.json has settings the server does not know"
    assert server - contributed == set(), (
        "server settings missing from package.json (run editor-extension/vscode/scripts/sync_settings.py)"
    )


@pytest.mark.parametrize("key", sorted(flatten_schema()))
def test_setting_matches_the_server(key):
    contributed = _contributed().get(key)
    assert contributed is not None, (
        f"vibethinker.{key} is missing from package.json; run scripts/sync_settings.py"
    )
    assert _schema_fields(contributed) == flatten_schema()[key]
    # JSON keeps the number kind: integer settings must not default to 4.0 and number settings accept floats
    assert type(contributed["default"]) is type(flatten_schema()[key]["default"])


def test_extension_only_settings_are_documented_launch_and_trace_settings():
    contributed = _contributed()
    for key in EXTENSION_ONLY:
        assert key in contributed, f"vibethinker.{key} is missing"
        assert contributed[key]["description"], f"vibethinker.{key} has no description"
    assert contributed["server.path"]["default"] == "" and contributed["server.python"]["default"] == ""
    assert "Read by the extension only" in contributed["server.path"]["description"]


def test_activation_covers_exactly_the_languages_the_server_reads():
    package = _package()
    activated = [
        m.group(1) for event in package["activationEvents"] if (m := re.fullmatch(r"onLanguage:(\S+)", event))
    ]
    mapped = {language_id: language_for(language_id=language_id) for language_id in activated}
    assert None not in mapped.values(), f"activation languages the server does not read: {mapped}"
    assert set(mapped.values()) == set(SUPPORTED)


def test_vsix_manifest_fields_vsce_requires():
    package = _package()
    assert package["license"] == "MIT" and (EXTENSION / "LICENSE").is_file()
    assert package["publisher"] and package["version"]
    assert package["main"] == "./dist/extension.js"
    assert (EXTENSION / "README.md").is_file()
