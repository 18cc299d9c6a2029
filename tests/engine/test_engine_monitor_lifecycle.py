"""The local loop of issue 12, end to end as a user runs it: run --local -> approve -> deploy --local ->
traffic like the training data, labelled later by its callers -> `monitor run`: no violations, model quality
meets the package's gate -> shifted traffic -> baseline_drift_check on the shifted feature -> retraining registers
a new PendingManualApproval version -> a second drift inside the cool-down does not retrain.

It runs in this repo, and in a rendered team repo through the day-one test's `make test`. One endpoint serves
the whole story (the capture is read once the server has written every request); the monitor runs in this
process, the retraining as the `pipelines.run` subprocess it starts. Tracking is off: MLflow has its own tests."""

from __future__ import annotations

import contextlib
import io
import json
import shutil
import time
from pathlib import Path

import boto3
import pandas as pd
from local_project import Project, small_config, store_path, write_project
from test_engine_local_endpoint import deploy_cli

from pipelines import monitor
from pipelines.monitoring.local import LocalStage

BATCH = 25  # rows per request


def monitor_run(project: Project) -> tuple[int, str]:
    """`python -m pipelines.monitor run --local --retrain-on-drift`, in this process."""
    argv = ["run", "--local", "--config", str(project.pyproject), "--retrain-on-drift", "--retrain-rows", "2000"]
    out = io.StringIO()
    with contextlib.redirect_stdout(out):  # stderr stays a file: the retraining subprocess writes to it
        code = monitor.run_cli(monitor.main, argv)
    return code, out.getvalue()


class Callers:
    """Clients of the endpoint, through boto3's sagemaker-runtime client, each request with an InferenceId."""

    def __init__(self, project: Project, url: str) -> None:
        config = project.config
        self.project, self.endpoint = project, f"{config.project}-dev"
        self.runtime = boto3.client("sagemaker-runtime", endpoint_url=url, region_name=config.aws_region,
                                    aws_access_key_id="x", aws_secret_access_key="x")
        self.sent = 0

    def send(self, rows: pd.DataFrame, tag: str) -> list[str]:
        """Post `rows` in requests of BATCH rows; returns their InferenceIds once the capture holds them all."""
        ids = []
        for start in range(0, len(rows), BATCH):
            ids.append(f"{tag}-{start // BATCH}")
            body = rows.iloc[start:start + BATCH].to_csv(header=False, index=False)
            self.runtime.invoke_endpoint(EndpointName=self.endpoint, ContentType="text/csv", Body=body,
                                         InferenceId=ids[-1])
        self.sent += len(ids)
        self._wait_for_capture()
        return ids

    def _wait_for_capture(self, timeout: float = 20.0) -> None:
        """The server captures in the background: wait until every request is on disk."""
        root = self.project.state / "s3"
        deadline = time.monotonic() + timeout
        while sum(len(p.read_text().splitlines()) for p in root.rglob("data-capture/**/*.jsonl")) < self.sent:
            assert time.monotonic() < deadline, "the capture did not receive every request"
            time.sleep(0.1)
        time.sleep(1 - time.time() % 1)  # capture times are whole seconds; a window ends at the last whole second


def write_labels(folder: Path, ids: list[str], labels: list[str]) -> None:
    """The callers' ground truth, one line per request (its rows' labels, one per line), as they upload it."""
    folder.mkdir(parents=True, exist_ok=True)
    lines = [json.dumps({"groundTruthData": {"data": "\n".join(labels[i * BATCH:(i + 1) * BATCH]), "encoding": "CSV"},
                         "eventMetadata": {"eventId": key}, "eventVersion": "0"}) for i, key in enumerate(ids)]
    (folder / "labels.jsonl").write_text("\n".join(lines) + "\n")


def held_out_rows_and_labels(project: Project) -> tuple[pd.DataFrame, list[str]]:
    """The first version's held-out rows (raw) and their labels as the training data spells them."""
    version = project.versions()[-1]
    raw = store_path(project, version.metadata["test_rows_uri"])
    encoded = pd.read_parquet(raw.parent.parent / "test.parquet")
    evaluation = json.loads(store_path(project, version.model_metrics["ModelQuality"]["Statistics"]["S3Uri"])
                            .read_text())
    classes = {index: label for label, index in ((evaluation.get("labels") or {}).get("mapping") or {}).items()}
    target = encoded[project.config.target_column]
    labels = [classes[int(v)] if classes else repr(float(v)) for v in target]
    return pd.read_csv(raw), labels


def violations(stdout: str) -> set[tuple[str, str]]:
    return {tuple(line.split(": ")[:2]) for line in stdout.splitlines() if line.count(": ") >= 2
            and line.split(": ")[1].endswith("_check")}


def test_drift_on_served_traffic_retrains_once_per_cool_down(first_run, team_config, tmp_path) -> None:
    source, _ = first_run
    project = Project(tmp_path / "project")
    shutil.copytree(source.folder, project.folder, ignore=shutil.ignore_patterns("summary-*.json"))
    table = small_config(team_config, tracking={"uri": "none"})
    # whether a retrained model beats the champion is the gate's test (test_engine_gate.py): here the retraining
    # run trains on 2,000 fresh rows, the champion on 2,500, and either may score higher on the new test split
    table["metric"]["champion_margin"] = -1e9
    write_project(project.folder, table)
    assert project.registry_cli("approve", "latest", "--reason", "serve it").returncode == 0
    first = project.versions()[0]
    rows, labels = held_out_rows_and_labels(project)
    started = deploy_cli(project)
    assert started.returncode == 0, started.stderr
    try:
        callers = Callers(project, started.stdout.strip())
        ids = callers.send(rows, "quiet")
        ground_truth = LocalStage(project.config, project.state, "dev").ground_truth_root()
        write_labels(ground_truth / time.strftime("%Y/%m/%d/%H", time.gmtime()), ids, labels)
        code, quiet = monitor_run(project)
        assert code == 0 and violations(quiet) == set() and "0 violation(s)" in quiet, quiet
        quality = next(line for line in quiet.splitlines() if line.startswith("model quality: "))
        assert f"over {len(rows)} labelled row(s) meets the gate {first.metadata['primary_metric'].split('=')[0]}" \
               in quality and "(registry metadata metric_threshold)" in quality, quality
        assert len(project.versions()) == 1

        numeric = next(c for c in rows.columns if pd.api.types.is_float_dtype(rows[c]) and rows[c].nunique() > 50)
        shifted = rows.assign(**{numeric: rows[numeric] + 5 * rows[numeric].std()})
        callers.send(shifted, "shifted")
        code, drifted = monitor_run(project)
        assert code == 0 and violations(drifted) == {(numeric, "baseline_drift_check")}, drifted
        assert "retraining (trigger=drift) registered" in drifted, drifted
        newest = project.versions()[0]
        assert newest.version == first.version + 1 and newest.status == "PendingManualApproval"
        assert newest.metadata["RetrainTrigger"] == "drift"
        assert newest.metadata["RetrainViolationsReport"].endswith("constraint_violations.json")

        callers.send(shifted, "again")
        code, again = monitor_run(project)
        assert code == 0 and (numeric, "baseline_drift_check") in violations(again)
        assert "retraining skipped" in again and "cool-down" in again, again
        assert len(project.versions()) == 2
    finally:
        stopped = deploy_cli(project, "--delete")
        assert stopped.returncode == 0, stopped.stderr

