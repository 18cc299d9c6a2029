"""The local loop of issue 12, end to end as a user runs it: run --local -> approve -> deploy --local ->
traffic like the training data -> `monitor run`: no violations -> shifted traffic -> baseline_drift_check on
the shifted feature -> retraining registers a new PendingManualApproval version -> a second drift inside the
cool-down does not retrain."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pandas as pd
from local_project import REPO_ROOT, Project, store_path
from test_engine_local_endpoint import deploy_cli, post

BATCH = 25  # rows per request


def monitor_cli(project: Project, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pipelines.monitor", "run", "--local", "--config",
                           str(project.pyproject), *args], cwd=REPO_ROOT, capture_output=True, text=True, timeout=900)


def send(project: Project, rows: pd.DataFrame) -> None:
    """Serve the approved version, post `rows` in small CSV requests, stop (draining the capture)."""
    started = deploy_cli(project)
    assert started.returncode == 0, started.stderr
    url = started.stdout.strip()
    for start in range(0, len(rows), BATCH):
        status, _, _ = post(url, rows.iloc[start:start + BATCH].to_csv(header=False, index=False).encode())
        assert status == 200
    stopped = deploy_cli(project, "--delete")
    assert stopped.returncode == 0, stopped.stderr


def violations(stdout: str) -> set[tuple[str, str]]:
    return {tuple(line.split(": ")[:2]) for line in stdout.splitlines() if line.count(": ") >= 2
            and line.split(": ")[1].endswith("_check")}


def test_drift_on_served_traffic_retrains_once_per_cool_down(first_run, tmp_path) -> None:
    source, _ = first_run
    project = Project(tmp_path / "project")
    shutil.copytree(source.folder, project.folder, ignore=shutil.ignore_patterns("summary-*.json"))
    assert project.registry_cli("approve", "latest", "--reason", "serve it").returncode == 0
    first = project.versions()[0]
    rows = pd.read_csv(store_path(project, first.metadata["test_rows_uri"]))

    send(project, rows)
    quiet = monitor_cli(project, "--retrain-on-drift", "--retrain-rows", "2000")
    assert quiet.returncode == 0, quiet.stderr
    assert violations(quiet.stdout) == set() and "0 violation(s)" in quiet.stdout
    assert len(project.versions()) == 1

    numeric = next(c for c in rows.columns if pd.api.types.is_float_dtype(rows[c]) and rows[c].nunique() > 50)
    shifted = rows.assign(**{numeric: rows[numeric] + 5 * rows[numeric].std()})
    send(project, shifted)
    drifted = monitor_cli(project, "--retrain-on-drift", "--retrain-rows", "2000")
    assert drifted.returncode == 0, drifted.stderr
    assert violations(drifted.stdout) == {(numeric, "baseline_drift_check")}
    assert "retraining (trigger=drift) registered" in drifted.stdout, drifted.stdout + drifted.stderr
    newest = project.versions()[0]
    assert newest.version == first.version + 1 and newest.status == "PendingManualApproval"
    assert newest.metadata["RetrainTrigger"] == "drift"
    assert newest.metadata["RetrainViolationsReport"].endswith("constraint_violations.json")

    send(project, shifted)
    again = monitor_cli(project, "--retrain-on-drift", "--retrain-rows", "2000")
    assert again.returncode == 0, again.stderr
    assert (numeric, "baseline_drift_check") in violations(again.stdout)
    assert "retraining skipped" in again.stdout and "cool-down" in again.stdout
    assert len(project.versions()) == 2


