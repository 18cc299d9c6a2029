"""Running the seedcode steps in tests: import paths, an isolated /opt/ml root, subprocess runs.

The step scripts import their sibling modules by bare name (they run with seedcode/ as the code
directory), so seedcode/ goes on sys.path for in-process imports. Subprocess runs use
``sys.executable`` with ``SM_OPT_ML_ROOT`` pointing at a temporary directory.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

REPO = Path(__file__).resolve().parents[2]
SEEDCODE = REPO / "seedcode"
for entry in (str(REPO), str(SEEDCODE)):
    if entry not in sys.path:
        sys.path.insert(0, entry)

from pipelines.sample_data import write_dataset  # noqa: E402

SM_ENV = ("SM_OPT_ML_ROOT", "SM_MODEL_DIR", "SM_CHANNEL_TRAIN", "SM_CHANNEL_VALIDATION", "SM_OUTPUT_DATA_DIR", "SM_HPS")
TEST_PARAMS = {"max_depth": 4, "eta": 0.2, "subsample": 1.0, "colsample_bytree": 1.0, "nthread": 1}



def run_script(script: str, args: list[str], root: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """Run ``seedcode/<script>`` the way a container does, with ``root`` as /opt/ml."""
    environment = {key: value for key, value in os.environ.items() if not key.startswith("SM_")}
    environment.update(SM_OPT_ML_ROOT=str(root), **env)
    return subprocess.run(
        [sys.executable, str(SEEDCODE / script), *args],
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
    )


def input_dir(root: Path) -> Path:
    return root / "processing" / "input" / "data"


def write_input(root: Path, frame: pd.DataFrame, name: str = "data.csv") -> Path:
    return write_dataset(frame, input_dir(root) / name)


def preprocess_in_process(root: Path, frame: pd.DataFrame, problem_type: str) -> Path:
    """Run the preprocess step in this process on ``frame``; returns <root>/processing/output."""
    write_input(root, frame, "data.parquet")
    return run_preprocess(root, ["--target-column", "churned", "--problem-type", problem_type])


def run_preprocess(root: Path, args: list[str]) -> Path:
    """Run the preprocess step in this process on the input under ``root``; returns <root>/processing/output."""
    import preprocess

    with pytest.MonkeyPatch.context() as patch:
        for name in SM_ENV:
            patch.delenv(name, raising=False)
        patch.setenv("SM_OPT_ML_ROOT", str(root))
        code = preprocess.main(args)
    assert code == 0
    return root / "processing" / "output"
