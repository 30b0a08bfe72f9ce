"""The README documents every setting, with the defaults the server uses."""

import json
import re
from pathlib import Path

from lsp_server.settings import flatten_schema

README = Path(__file__).resolve().parents[1] / "README.md"


def test_configuration_table_matches_the_settings_tree():
    rows = re.findall(r"^\| `([\w.]+)` \| (\w+(?: or null)?) \| `(.*?)` \|", README.read_text(), re.MULTILINE)
    # "number or null" documents a nullable setting, whose schema type is ["number", "null"]
    documented = {
        key: (kind.split(" or ") if " or " in kind else kind, json.loads(default))
        for key, kind, default in rows
    }
    expected = {key: (entry["type"], entry["default"]) for key, entry in flatten_schema().items()}
    assert documented == expected
