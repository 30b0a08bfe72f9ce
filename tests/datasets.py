"""Where the test data sets are: `../shared/datasets` next to the repository (absent on most machines)."""

from __future__ import annotations

from pathlib import Path

REPOSITORY = Path(__file__).resolve().parent.parent
DATASETS = REPOSITORY.parent / "shared" / "datasets"
HUMANEVAL = DATASETS / "humaneval" / "HumanEval.jsonl.gz"
