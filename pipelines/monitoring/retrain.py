"""Continuous training on this machine: `monitor run --local --retrain-on-drift` starts a local pipeline run
(`python -m pipelines.run --local --trigger drift`) when a window has violations, at most once per cool-down.

The cool-down is enforced by state, not hope: <state>/monitoring/<stage>/retrain.json records when the last
retraining started (written before it starts, so a failing or noisy feature cannot start one per window),
the trigger and the violations report that caused it. The new version lands as PendingManualApproval like
every run's; its registry metadata names the trigger and the report too, so whoever approves sees why.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from pipelines.monitoring.local import LocalStage

RETRAIN_FILE = "retrain.json"
DEFAULT_COOL_DOWN = timedelta(hours=24)
TRIGGER = "drift"
META_TRIGGER, META_REPORT = "RetrainTrigger", "RetrainViolationsReport"


@dataclass(frozen=True)
class RetrainRequest:
    pyproject: Path
    cool_down: timedelta = DEFAULT_COOL_DOWN
    rows: int | None = None  # --rows of the run (the generated sample data's size)


@dataclass(frozen=True)
class RetrainOutcome:
    started: bool
    line: str  # one line for stdout
    registered: dict[str, Any] | None = None


def _last_start(stage: LocalStage) -> datetime | None:
    path = stage.folder / RETRAIN_FILE
    return datetime.fromisoformat(json.loads(path.read_text())["started"]) if path.is_file() else None


def run_command(stage: LocalStage, request: RetrainRequest, summary: Path) -> list[str]:
    command = [sys.executable, "-m", "pipelines.run", "--local", "--stage", stage.stage, "--config",
               str(request.pyproject), "--state-dir", str(stage.state_root), "--trigger", TRIGGER,
               "--summary", str(summary)]
    return command + (["--rows", str(request.rows)] if request.rows else [])


def _record(stage: LocalStage, content: dict[str, Any]) -> None:
    stage.folder.mkdir(parents=True, exist_ok=True)
    (stage.folder / RETRAIN_FILE).write_text(json.dumps(content, indent=2) + "\n")


def retrain_on_drift(stage: LocalStage, request: RetrainRequest, violations: Path, now: datetime,
                     run: Callable[[list[str]], int] | None = None) -> RetrainOutcome:
    """Start a local run unless one started within the cool-down; record why."""
    last = _last_start(stage)
    if last is not None and now - last < request.cool_down:
        until = (last + request.cool_down).isoformat()
        return RetrainOutcome(False, f"retraining skipped: the last one started at {last.isoformat()}, within "
                                     f"the {request.cool_down} cool-down (until {until})")
    summary = violations.parent / "retrain-summary.json"
    record = {"started": now.isoformat(), "trigger": TRIGGER, "violations": str(violations), "summary": str(summary)}
    _record(stage, record)
    code = (run or _subprocess)(run_command(stage, request, summary))
    registered = json.loads(summary.read_text()).get("registered") if summary.is_file() else None
    _record(stage, {**record, "exit_code": code, "registered": registered})
    if code != 0:
        return RetrainOutcome(True, f"retraining (trigger=drift) failed with exit code {code}; see {summary}")
    if registered is None:
        return RetrainOutcome(True, "retraining (trigger=drift) registered nothing (the same model is registered)")
    _tag_version(stage, registered, violations)
    return RetrainOutcome(True, f"retraining (trigger=drift) registered {registered['group']} version "
                                f"{registered['version']} ({registered['status']})", registered)


def _tag_version(stage: LocalStage, registered: dict[str, Any], violations: Path) -> None:
    from pipelines.engine.registry import LocalRegistry
    from pipelines.engine.state import REGISTRY_FILE

    registry = LocalRegistry(stage.state_root / REGISTRY_FILE, region=stage.config.aws_region,
                             account_id=stage.config.account_id)
    registry.add_metadata(registered["group"], int(registered["version"]),
                          {META_TRIGGER: TRIGGER, META_REPORT: str(violations)})


def _subprocess(command: list[str]) -> int:
    """The run's progress goes to this process's stderr; stdout stays the monitor's."""
    code_root = str(Path(__file__).resolve().parent.parent.parent)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (code_root, os.environ.get("PYTHONPATH", "")) if p)}
    return subprocess.run(command, stdout=sys.stderr, check=False, env=env, cwd=code_root).returncode
