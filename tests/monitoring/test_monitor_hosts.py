"""The monitoring pipeline's DriftCheck step on `[tool.ml-factory.monitoring] instance_count` hosts: the local
engine runs it as N processes on 127.0.0.1 (pipelines/engine/hosts.py); the first host lists the window's capture
files, each host reads every N-th, the statistics are merged over XGBoost's collective before the checks, and the
first host alone writes the files and the watermark. Two hosts must find what one host finds on the same capture."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from test_monitor_local import HOUR, capture, features, make_stage, shifted

from pipelines.monitoring import names
from pipelines.monitoring.local import LocalStage
from pipelines.monitoring.local_run import DriftRun, LocalWindow, run_drift_check
from pipelines.serving.capture import Invocation, capture_record

SEEDCODE = Path(__file__).resolve().parents[2] / "seedcode"


def _with_hosts(stage: LocalStage, count: int) -> LocalStage:
    monitoring = dataclasses.replace(stage.config.monitoring, instance_count=count)
    return dataclasses.replace(stage, config=dataclasses.replace(stage.config, monitoring=monitoring))


def _captured(stage: LocalStage) -> None:
    """Three capture files in one hour (one drifted on age) and a malformed line: a window worth sharing out."""
    for seed, change in ((21, shifted), (22, lambda f: f), (23, shifted)):
        capture(stage, change(features(700, seed)))
    with (stage.capture_root() / HOUR.strftime("%Y/%m/%d/%H") / "1.jsonl").open("a") as handle:
        handle.write("{not json\n")
        handle.write(json.dumps(capture_record(Invocation(HOUR.timestamp(), b"1,2\n", "text/csv", b"", "text/csv")))
                     + "\n")


@dataclass(frozen=True)
class Runs:
    stage: LocalStage
    two_hosts: DriftRun  # the pipeline on the local engine, DriftCheck on 2 host processes
    one_host: Path  # the step's script run on its own (one host): its output folder


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory, container_python: Path) -> Runs:
    """The same capture checked by a two-host DriftCheck and by the step's script on one host, both on the
    SageMaker image's libraries."""
    folder = tmp_path_factory.mktemp("hosts")
    stage = _with_hosts(make_stage(folder, tracking=False), 2)
    _captured(stage)
    until = HOUR + timedelta(hours=1)
    two_hosts = run_drift_check(stage, LocalWindow(None, until, container_python), HOUR)
    served, store = stage.served(), stage.store()
    done = subprocess.run([
        str(container_python), str(SEEDCODE / names.DRIFT_SCRIPT), "--capture-uri", stage.capture_uri(),
        "--state-uri", f"s3://{stage.wiring.artifact_bucket}/one-host", "--window-end", until.isoformat(),
        "--endpoint", "e", "--schedule", "s", "--output", str(folder / "one"),
        "--baseline-statistics", str(store.path(served.statistics_uri)),
        "--baseline-constraints", str(store.path(served.constraints_uri))],
        env={**os.environ, "ML_FACTORY_LOCAL_S3": str(store.root), "SM_OPT_ML_ROOT": str(folder / "opt_ml")},
        capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    return Runs(stage, two_hosts, folder / "one")


def test_two_hosts_find_the_same_statistics_and_violations_as_one(runs) -> None:
    two, one = runs.two_hosts, runs.one_host
    summary = json.loads((one / "drift_summary.json").read_text())
    assert two.rows == summary["rows"] == 2100 and two.malformed == summary["malformed"]["count"] == 2
    for name in ("statistics.json", "constraint_violations.json"):
        assert two.files[name].read_text() == (one / name).read_text(), name
    assert {(v["feature_name"], v["constraint_check_type"]) for v in two.violations} == {
        ("age", "baseline_drift_check")}
    assert two.distances == {name: d["distance"] for name, d in summary["drift"].items()}
    assert runs.stage.watermark() == HOUR + timedelta(hours=1)


def test_each_host_reads_its_share_and_only_the_first_writes(runs) -> None:
    [step] = runs.stage.folder.glob(f"executions/*/{names.STEP_DRIFT}")
    second = step / "hosts" / "algo-2"
    log = "".join(path.read_text() for path in (second / "logs").glob("*.log"))
    assert "host algo-2 (rank 1) checked 1 of the window's 3 capture file(s)" in log
    assert not [path for path in (second / "opt_ml" / "processing" / "output").rglob("*") if path.is_file()]
