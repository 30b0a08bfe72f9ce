"""Write package.json's `contributes.configuration` from the server's settings tree (lsp_server.settings).

Every server setting `section.key` becomes `vibethinker.section.key` with the same type, default,
description, enum, minimum and maximum, grouped in one block per section; the extension-only launch and
trace settings follow. Run after changing lsp_server/settings.py:

    .venv/bin/python editor-extension/vscode/scripts/sync_settings.py           # rewrite package.json
    .venv/bin/python editor-extension/vscode/scripts/sync_settings.py --check   # exit 1 when out of date
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

EXTENSION_DIR = Path(__file__).resolve().parents[1]
REPO_ROOT = EXTENSION_DIR.parents[1]
PACKAGE_JSON = EXTENSION_DIR / "package.json"
PREFIX = "vibethinker"

SECTION_TITLES = {
    "model": "Model",
    "generation": "Generation",
    "judge": "Judge (sandbox)",
    "completions": "Inline completions",
    "hover": "Hover",
    "companion": "Competitive Companion",
}

EXTENSION_ONLY = {
    "title": "Server launch",
    "properties": {
        f"{PREFIX}.server.path": {
            "type": "string",
            "default": "",
            "description": (
                "Command that runs the language server (a path, or a name on PATH), started as `<command> serve`. "
                "Empty: vibethinker.server.python, then vibethinker-lsp on PATH, then a workspace .venv. "
                "Read by the extension only."
            ),
            "scope": "machine-overridable",
            "order": 0,
        },
        f"{PREFIX}.server.python": {
            "type": "string",
            "default": "",
            "description": (
                "Python interpreter with vibethinker-lsp installed, started as `<python> -m lsp_server serve` "
                "when vibethinker.server.path is empty. Read by the extension only."
            ),
            "scope": "machine-overridable",
            "order": 1,
        },
        f"{PREFIX}.trace.server": {
            "type": "string",
            "default": "off",
            "enum": ["off", "messages", "verbose"],
            "description": (
                "How much of each LSP message to log in the VibeThinker output once its log level is Trace "
                "(Developer: Set Log Level...): messages (off means the same) or verbose (with contents)."
            ),
            "order": 2,
        },
    },
}


def server_schema() -> dict[str, dict]:
    """The server's flattened settings (`section.camelKey` -> schema)."""
    sys.path.insert(0, str(REPO_ROOT))
    from lsp_server.settings import flatten_schema

    return flatten_schema()


def configuration_blocks(schema: dict[str, dict]) -> list[dict]:
    """One `contributes.configuration` block per server section, then the extension-only block."""
    blocks: dict[str, dict] = {}
    for key, entry in schema.items():
        section = key.split(".", 1)[0]
        title = f"VibeThinker: {SECTION_TITLES.get(section, section.title())}"
        block = blocks.setdefault(section, {"title": title, "properties": {}})
        prop = dict(entry)
        prop["order"] = len(block["properties"])
        block["properties"][f"{PREFIX}.{key}"] = prop
    extension_only = {
        "title": f"VibeThinker: {EXTENSION_ONLY['title']}",
        "properties": EXTENSION_ONLY["properties"],
    }
    return [extension_only, *blocks.values()]


def render(package: dict, blocks: list[dict]) -> str:
    """package.json text with the configuration replaced (2-space indent, trailing newline)."""
    package = dict(package)
    contributes = dict(package.get("contributes", {}))
    contributes["configuration"] = blocks
    package["contributes"] = contributes
    return json.dumps(package, indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Rewrite package.json, or with --check report whether it is current."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--check", action="store_true", help="exit 1 when package.json is out of date")
    args = parser.parse_args(argv)
    current = PACKAGE_JSON.read_text(encoding="utf-8")
    wanted = render(json.loads(current), configuration_blocks(server_schema()))
    if args.check:
        if current != wanted:
            print(
                f"{PACKAGE_JSON} is out of date; run {Path(__file__).name} to regenerate it.", file=sys.stderr
            )
            return 1
        return 0
    if current != wanted:
        PACKAGE_JSON.write_text(wanted, encoding="utf-8")
        print(f"Updated {PACKAGE_JSON}.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
