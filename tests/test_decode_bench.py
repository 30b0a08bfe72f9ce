"""bench/decode.py smoke-runs on a tiny model on the CPU and reports every number it promises."""

from __future__ import annotations

import json

import pytest

from devtools.scripts import load_bench

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def bench():
    """The benchmark script as a module."""
    return load_bench("decode")


def test_tiny_run_prints_the_whole_record(bench, capsys):
    argv = ["--tiny", "--json", "--device", "cpu", "--repeats", "1", "--new-tokens", "6", "--batches", "2"]
    assert bench.main([*argv, "--ttft-prompt-tokens", "200"]) == 0
    record = json.loads(capsys.readouterr().out)
    names = [(row["name"], row["batch"]) for row in record["rows"]]
    assert names == [("model.generate", 1), ("engine", 1), ("engine", 2), ("engine + LoRA", 1)]
    assert record["merged_adapter_vs_base"] > 0  # batch 1 with a merged adapter over the base, same run
    for row in record["rows"]:
        assert row["tokens_per_s"] > 0 and 0 < row["roofline_fraction"] and row["peak_memory_gib"] > 0
    assert record["time_to_first_token_ms"] > 0 and record["ttft_prompt_tokens"] == 200
    assert set(record["best_of_n_vs_batch_1"]) == {"2"}
    assert record["compiled"] is False and record["tied_embeddings"] is True


def test_table_output_and_untied_model(bench, capsys):
    argv = ["--tiny", "--untied", "--device", "cpu", "--repeats", "1", "--new-tokens", "4", "--batches", "2"]
    assert bench.main([*argv, "--ttft-prompt-tokens", "50"]) == 0
    out = capsys.readouterr().out
    assert "model.generate" in out and "time to first token (50-token prompt)" in out


def test_tiny_3b_twin_runs_and_the_real_3b_shape_is_the_models(bench, capsys):
    argv = ["--arch", "3b", "--tiny", "--json", "--device", "cpu", "--repeats", "1", "--new-tokens", "4"]
    assert bench.main([*argv, "--batches", "2", "--ttft-prompt-tokens", "50"]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["arch"] == "3b" and record["model"] == "VibeThinker-3B shape (tiny twin)"
    assert all(row["roofline_fraction"] > 0 for row in record["rows"]) and record["tied_embeddings"] is True
    _, real, tiny = bench.ARCHS["3b"]
    assert tiny["num_hidden_layers"] > bench.TINY["num_hidden_layers"]
    assert (real["num_hidden_layers"], real["hidden_size"], real["num_key_value_heads"]) == (36, 2048, 2)
    assert bench.parse_args([]).arch == "1.5b" and bench.REAL["num_hidden_layers"] == 28


def test_weight_bytes_counts_tied_embeddings_once(bench):
    args = bench.parse_args(["--tiny", "--device", "cpu"])
    tied, _ = bench.build_model(args)
    untied, _ = bench.build_model(bench.parse_args(["--tiny", "--untied", "--device", "cpu"]))
    embedding = tied.config.vocab_size * tied.config.hidden_size * 4
    assert bench.weight_bytes(untied) - bench.weight_bytes(tied) == embedding
