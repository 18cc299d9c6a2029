"""Fixtures for the seedcode tests (helpers live in seedcode_harness.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from seedcode_harness import SM_ENV, preprocess_in_process

from pipelines.sample_data import make_churn_dataset


@pytest.fixture
def sm_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh SageMaker root for in-process runs (other SM_* variables cleared)."""
    for name in SM_ENV:
        monkeypatch.delenv(name, raising=False)
    root = tmp_path / "opt_ml"
    root.mkdir()
    monkeypatch.setenv("SM_OPT_ML_ROOT", str(root))
    return root


@pytest.fixture(scope="session")
def prepared(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Preprocess output folders for a binary and a regression dataset (3000 rows each), built once."""
    outputs = {}
    for problem_type, seed in (("binary_classification", 11), ("regression", 12)):
        root = tmp_path_factory.mktemp(problem_type)
        frame = make_churn_dataset(3000, seed=seed, problem_type=problem_type)
        outputs[problem_type] = preprocess_in_process(root, frame, problem_type)
    return outputs
