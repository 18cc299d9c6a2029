"""Retraining on drift: the cool-down is kept in state, and the retraining records why it started."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from test_monitor_local import HOUR, definitions, stage  # noqa: F401  (the stage fixture and what it uses)

from pipelines.monitoring.local import LocalStage
from pipelines.monitoring.retrain import RETRAIN_FILE, RetrainRequest, retrain_on_drift


def fake_run(calls: list[list[str]]):  # noqa: ANN201
    """A pipeline run that registers version 7 and writes the summary it is asked for."""
    def run(command: list[str]) -> int:
        calls.append(command)
        summary = Path(command[command.index("--summary") + 1])
        summary.write_text(json.dumps({"registered": {"group": "g", "version": 7, "status": "PendingManualApproval",
                                                      "arn": "arn:g/7", "model_data_url": ""}}))
        return 0
    return run


def test_a_second_drift_within_the_cool_down_does_not_retrain(stage: LocalStage, tmp_path: Path,  # noqa: F811
                                                               monkeypatch) -> None:
    monkeypatch.setattr("pipelines.monitoring.retrain._tag_version", lambda *args: None)
    calls: list[list[str]] = []
    violations = tmp_path / "run1" / "constraint_violations.json"
    violations.parent.mkdir()
    request = RetrainRequest(stage.state_root.parent / "pyproject.toml", timedelta(hours=24), rows=600)
    first = retrain_on_drift(stage, request, violations, HOUR, fake_run(calls))
    assert first.started and "registered g version 7 (PendingManualApproval)" in first.line
    assert calls[0][calls[0].index("--trigger") + 1] == "drift" and calls[0][-2:] == ["--rows", "600"]
    record = json.loads((stage.folder / RETRAIN_FILE).read_text())
    assert record["trigger"] == "drift" and record["violations"] == str(violations)
    assert record["registered"]["version"] == 7

    second = retrain_on_drift(stage, request, violations, HOUR + timedelta(hours=23), fake_run(calls))
    assert not second.started and "cool-down" in second.line and len(calls) == 1

    third = retrain_on_drift(stage, request, violations, HOUR + timedelta(hours=25), fake_run(calls))
    assert third.started and len(calls) == 2


def test_a_failed_retraining_still_starts_the_cool_down(stage: LocalStage, tmp_path: Path) -> None:  # noqa: F811
    request = RetrainRequest(stage.state_root.parent / "pyproject.toml")
    failed = retrain_on_drift(stage, request, tmp_path / "v.json", HOUR, lambda command: 1)
    assert failed.started and "failed with exit code 1" in failed.line
    again = retrain_on_drift(stage, request, tmp_path / "v.json", HOUR + timedelta(hours=1), lambda command: 0)
    assert not again.started
