"""The record of verified solutions and `vibethinker-lsp finetune`: one real training run on a tiny model."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from codegen import record
from devtools.samples import GOOD_REPLY, TWO_SUM_SOURCE
from tests.adapter_fixtures import GREEDY, Trained, cli, offline

ROOT = Path(__file__).resolve().parents[1]
GOOD_CODE = GOOD_REPLY.split("```python\n")[2].split("```")[0]


def test_solve_record_appends_the_verified_reply_in_chat_format(trained: Trained):
    lines = trained.record.read_text().splitlines()
    assert len(lines) == 2
    entry = json.loads(lines[0])
    assert [m["role"] for m in entry["messages"]] == ["system", "user", "assistant"]
    assert entry["messages"][-1]["content"] == GOOD_REPLY  # the model's reply: reasoning and code
    assert "two_sum" in entry["messages"][1]["content"]
    assert entry["verdict"] == "AC" and entry["passed"] == entry["total"] == 2
    assert entry["language"] == "python" and entry["source"] == "solve"
    assert entry["task"]["examples"][0] == {"input": "two_sum([2, 7, 11, 15], 9)", "output": "[0, 1]"}
    assert record.task_from_entry(entry).function == "two_sum"


def test_finetune_reports_losses_and_saves_an_adapter_peft_loads(trained: Trained):
    result = trained.result
    assert result["adapter"] == str(trained.adapter)
    assert result["examples"] == 1 and result["held_out"] == 1 and result["steps"] == 100
    assert result["loss_last"] < result["loss_first"] / 50
    # the held-out copy of the solution: its loss fell with training
    assert result["eval_loss"] < result["eval_loss_before"] / 50
    # re-solving the recorded task: verified with the adapter, not without
    assert result["verify"] == {"tasks": 1, "verified_without": 0, "verified_with": 1}
    assert sorted(p.name for p in trained.root.iterdir() if p.name.startswith(".")) == []  # no temp folders

    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    base = AutoModelForCausalLM.from_pretrained(trained.model)
    loaded = PeftModel.from_pretrained(base, trained.adapter)
    assert loaded.peft_config["default"].r == 16
    assert json.loads((trained.adapter / "training.json").read_text())["steps"] == 100


def test_solve_with_the_adapter_writes_the_verified_code_and_without_it_does_not(trained: Trained, tmp_path):
    target = tmp_path / "two_sum.py"
    target.write_text(TWO_SUM_SOURCE)
    common = (
        "solve",
        str(target),
        "--write",
        "--json",
        "--backend",
        "transformers",
        "--model",
        str(trained.model),
    )
    with offline():
        without, out_without = cli(*common, *GREEDY)
        assert without == 1 and target.read_text() == TWO_SUM_SOURCE
        assert json.loads(out_without)["results"][0]["verdict"] != "AC"
        status, out = cli(*common, *GREEDY, "--adapter", str(trained.adapter))
    assert status == 0, out
    assert json.loads(out)["results"][0]["verdict"] == "AC"
    assert GOOD_CODE.strip().splitlines()[-1].strip() in target.read_text()
    assert "seen[target - x], i" in target.read_text()


def test_solve_with_a_missing_adapter_is_one_sentence(trained: Trained, tmp_path, capsys):
    target = tmp_path / "two_sum.py"
    target.write_text(TWO_SUM_SOURCE)
    with offline():
        status, _ = cli(
            "solve", str(target), "--model", str(trained.model), "--adapter", str(tmp_path / "nope")
        )
    err = capsys.readouterr().err
    assert status == 2 and "Traceback" not in err
    [line] = [line for line in err.splitlines() if line.startswith("vibethinker-lsp:")]
    assert "nope" in line and "does not exist" in line


@pytest.mark.parametrize(
    ("extra", "needle"),
    [
        (("--quantize", "4bit"), "needs a CUDA GPU"),
        (("--rank", "0"), "--rank must be at least 1"),
    ],
)
def test_bad_finetune_options_are_one_sentence(trained: Trained, tmp_path, capsys, extra, needle):
    status, _ = cli(
        "finetune", str(trained.record), "--model", str(trained.model), "-o", str(tmp_path / "a"), *extra
    )
    err = capsys.readouterr().err.strip()
    assert status == 2 and needle in err and len(err.splitlines()) == 1
    assert not (tmp_path / "a").exists()


def test_data_without_chat_examples_is_one_sentence(tmp_path, capsys):
    data = tmp_path / "data.jsonl"
    data.write_text('{"text": "no messages"}\nnot json\n')
    status, _ = cli("finetune", str(data), "-o", str(tmp_path / "a"))
    err = capsys.readouterr().err.strip()
    assert status == 2 and "holds no chat examples" in err and len(err.splitlines()) == 1
    status, _ = cli("finetune", str(tmp_path / "missing.jsonl"), "-o", str(tmp_path / "a"))
    assert status == 2 and "does not exist" in capsys.readouterr().err


def test_an_existing_output_is_kept(trained: Trained, capsys):
    status, _ = cli(
        "finetune", str(trained.record), "--model", str(trained.model), "-o", str(trained.adapter)
    )
    assert status == 2 and "already exists" in capsys.readouterr().err
    assert (trained.adapter / "adapter_config.json").is_file()


def test_ctrl_c_during_training_leaves_no_adapter_folder(trained: Trained, tmp_path):
    output = tmp_path / "adapter"
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    args = [
        "finetune",
        str(trained.record),
        "--model",
        str(trained.model),
        "-o",
        str(output),
        "--steps",
        "100000",
    ]
    proc = subprocess.Popen(
        [sys.executable, "-m", "lsp_server", *args], stderr=subprocess.PIPE, text=True, env=env, cwd=tmp_path
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:  # the first progress line: training has started
        line = proc.stderr.readline()
        if line.startswith("step ") or not line:
            break
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130 and "interrupted" in err and "Traceback" not in err
    assert list(tmp_path.iterdir()) == []  # neither the adapter nor a partial folder


def test_record_appends_whole_lines_and_drops_a_cut_one(tmp_path, trained: Trained):
    entry = json.loads(trained.record.read_text().splitlines()[0])
    solution = record.Solution(
        messages=entry["messages"][:2],
        reply=entry["messages"][2]["content"],
        task=record.task_from_entry(entry),
        verdict="AC",
        passed=2,
        total=2,
    )
    path = tmp_path / "deep" / "solutions.jsonl"
    record.append(path, solution)
    with open(path, "a") as handle:
        handle.write('{"messages": [{"role": "sys')  # a crash mid-line
    record.append(path, solution)
    lines = path.read_text().splitlines()
    assert len(lines) == 2 and all(json.loads(line)["verdict"] == "AC" for line in lines)
    with pytest.raises(record.RecordError, match="Only verified"):
        record.append(path, record.Solution(solution.messages, "x", solution.task, "WA", 0, 2))
    assert record.count(path) == 2
