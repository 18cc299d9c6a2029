"""`pipelines.run --local --retry`: which executions can be retried, and the one-line errors for the others
(the retry itself, resuming training from its checkpoint, runs in test_engine_sharded_training.py)."""

from __future__ import annotations

import json
import os

import pytest

from pipelines.engine.retry import failed_execution
from pipelines.errors import UserError


def _execution(runs, execution_id: str, status: str, age: int) -> None:
    folder = runs / execution_id
    folder.mkdir(parents=True)
    summary = folder / "summary.json"
    summary.write_text(json.dumps({"status": status, "pipeline": "churn-dev", "failed_step": "Train"}))
    os.utime(summary, (1_700_000_000 + age, 1_700_000_000 + age))


def test_last_is_the_newest_execution_and_an_id_names_one(tmp_path):
    _execution(tmp_path, "older", "Failed", 1)
    _execution(tmp_path, "newer", "Failed", 2)
    assert failed_execution(tmp_path, "last")[0] == "newer"
    assert failed_execution(tmp_path, "older")[0] == "older"


@pytest.mark.parametrize("wanted, message", [
    ("last", "--retry: execution ok1 succeeded; only a failed execution can be retried"),
    ("nope", "--retry nope: no local execution with that id in "),
])
def test_what_cannot_be_retried_is_refused_in_one_line(tmp_path, wanted, message):
    _execution(tmp_path, "ok1", "Succeeded", 1)
    with pytest.raises(UserError) as error:
        failed_execution(tmp_path, wanted)
    assert message in str(error.value) and "\n" not in str(error.value)


def test_retry_before_any_run_says_to_run_first(tmp_path):
    with pytest.raises(UserError, match="no local execution in .* yet; run the pipeline first"):
        failed_execution(tmp_path / "runs", "last")
