"""bench/stress.py runs in its quick mode and reports every figure it promises."""

from __future__ import annotations

import json

import pytest

from devtools.scripts import load_bench
from sandbox.isolation import IsolationUnavailable, choose


@pytest.fixture(scope="module")
def bench():
    """The benchmark script as a module."""
    try:
        choose("strong")
    except IsolationUnavailable as exc:
        pytest.skip(str(exc))
    return load_bench("stress")


def test_quick_run_prints_the_whole_record(bench, capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert bench.main(["--quick", "--json"]) == 0
    record = json.loads(capsys.readouterr().out)
    assert [row["program"] for row in record["rates"]] == ["python (~1 ms)", "c++"]
    for row in record["rates"]:
        assert row["inputs"] == 20 and row["loop_inputs_per_s"] > 0 and row["bare_inputs_per_s"] > 0
        assert (
            row["loop_vs_bare"] > 0 and row["loop_inputs_per_cpu_s"] > 0 and row["bare_inputs_per_cpu_s"] > 0
        )
    run = record["default_run"]
    assert run["runs"] >= 1 and run["wall_s"] > 0 and run["max_n"] == 2000
    assert run["describe"].startswith(f"{run['runs']} stress test")
