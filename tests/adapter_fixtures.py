"""One LoRA training run shared by the adapter and finetune tests (a session fixture, in conftest).

A tiny random Qwen2 whose weights are drawn with std 0.3 (with the usual 0.02 its logits are too flat for an
adapter to steer), a verified solution recorded through `solve --record` from a local OpenAI-compatible server,
and `finetune` on that record.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
from dataclasses import dataclass
from pathlib import Path

import pytest

from devtools.openai_server import FakeOpenAI
from devtools.samples import GOOD_REPLY, TWO_SUM_SOURCE
from devtools.tiny_model import TINY_1_5B_SHAPE, build_tiny_model

SHARP_SHAPE = dict(TINY_1_5B_SHAPE, initializer_range=0.3)
# The recipe; 100 steps already take the loss below 0.01 on one example (300 were asked as enough).
TRAIN_FLAGS = (
    "--target-modules",
    "all-linear",
    "--rank",
    "16",
    "--dropout",
    "0",
    "--steps",
    "100",
    "--lr",
    "1e-2",
)
# --no-stress: stress tests (tested on their own) would add seconds to every verified solve here
GREEDY = ("-n", "1", "--temperature", "0", "--max-new-tokens", "300", "--thinking-budget", "0", "--no-stress")


@dataclass
class Trained:
    """What the shared run left: the base model, the source file, the record, the adapter, the JSON result."""

    model: Path
    source: Path
    record: Path
    adapter: Path
    result: dict
    root: Path


def cli(*args: str) -> tuple[int, str]:
    """Run `vibethinker-lsp ARGS` in this process; return (exit status, stdout)."""
    from lsp_server.cli import main

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        status = main(list(args))
    return status, out.getvalue()


@contextlib.contextmanager
def offline():
    """Hugging Face offline mode for the duration (no network in tests)."""
    before = os.environ.get("HF_HUB_OFFLINE")
    os.environ["HF_HUB_OFFLINE"] = "1"
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("HF_HUB_OFFLINE", None)
        else:
            os.environ["HF_HUB_OFFLINE"] = before


@pytest.fixture(scope="session")
def trained(tmp_path_factory, one_torch_thread) -> Trained:
    """Record GOOD_REPLY twice through `solve --record`, then train an adapter on the record (once a session)."""
    root = tmp_path_factory.mktemp("adapter-run")
    model = build_tiny_model(root / "tiny-sharp", shape=SHARP_SHAPE)
    source = root / "two_sum.py"
    source.write_text(TWO_SUM_SOURCE)
    record = root / "solutions.jsonl"
    with FakeOpenAI(GOOD_REPLY) as fake:
        for _ in range(2):  # two lines: one to train on, one held out by --eval-split
            status, _ = cli(
                "solve",
                str(source),
                "--record",
                str(record),
                "--base-url",
                fake.base_url,
                "-n",
                "1",
                "--no-stress",
            )
            assert status == 0
    first = root / "first.jsonl"
    first.write_text(record.read_text().splitlines()[0] + "\n")
    adapter = root / "adapter"
    with offline():
        status, out = cli(
            "finetune", str(record), "--model", str(model), "--output", str(adapter), *TRAIN_FLAGS,
            "--eval-split", "1", "--verify", str(first), "--json",
        )  # fmt: skip
    assert status == 0, out
    return Trained(model, source, record, adapter, json.loads(out), root)
