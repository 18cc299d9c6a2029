"""`python -m pipelines.run --local` end to end on small generated data: the same definition the
cloud runs, executed here, with caching, the drift check lifecycle and the local registry."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import tarfile
import threading

from local_project import REPO_ROOT, ROWS, store_path

from pipelines.definition import (
    STEP_DATA_QUALITY,
    STEP_EVALUATE,
    STEP_FAIL,
    STEP_GATE,
    STEP_PREPROCESS,
    STEP_REGISTER,
    STEP_TRAIN,
)
from pipelines.engine.registry import LocalRegistry
from pipelines.registry_model import APPROVED, PENDING
from pipelines.sample_data import make_churn_dataset, shift_dataset, write_dataset

CACHED_STEPS = (STEP_PREPROCESS, STEP_DATA_QUALITY, STEP_TRAIN, STEP_EVALUATE)


def statuses(summary: dict) -> dict[str, str]:
    return {step["name"]: step["status"] for step in summary["steps"]}


def cache_sources(summary: dict) -> dict[str, str | None]:
    return {step["name"]: step["cache"]["source_execution_id"] for step in summary["steps"]}


def test_first_run_succeeds_and_registers_a_pending_model(first_run):
    project, run = first_run
    summary = run.summary
    assert statuses(summary) == {STEP_PREPROCESS: "Succeeded", STEP_DATA_QUALITY: "Succeeded", STEP_TRAIN: "Succeeded",
                                 STEP_EVALUATE: "Succeeded", STEP_GATE: "Succeeded", STEP_REGISTER: "Succeeded",
                                 STEP_FAIL: "Skipped"}
    assert summary["status"] == "Succeeded" and summary["failed_step"] is None
    assert all(step["duration_seconds"] is not None for step in summary["steps"] if step["status"] == "Succeeded")
    assert not any(step["cache"]["hit"] for step in summary["steps"])

    metric = project.config.metric.name
    assert summary["primary_metric"]["name"] == metric
    assert summary["metrics"][metric] == summary["primary_metric"]["value"]
    assert summary["drift"]["status"] == "skipped" and summary["drift"]["register_new_baseline"] is True
    assert summary["parameters"]["SkipDataQualityCheck"] is True  # the bootstrap rule, applied locally too
    assert summary["spot"]["simulated"] is False

    registered = summary["registered"]
    assert (registered["version"], registered["status"]) == (1, PENDING)
    (version,) = project.versions()
    assert (version.version, version.status) == (1, PENDING)
    assert version.approval_description == ""  # the reason comes with approval
    description = LocalRegistry(project.state / "registry.db").description(registered["group"], 1)
    assert description.startswith(f"{project.config.project_name}: XGBoost")
    assert version.metadata["primary_metric"].startswith(f"{metric}=")
    assert float(version.metadata["primary_metric"].split("=")[1]) == summary["metrics"][metric]
    # every URI the package points at is a real object in the local store
    baselines = version.drift_check_baselines["ModelDataQuality"]
    for uri in (version.model_data_url, baselines["Statistics"]["S3Uri"], baselines["Constraints"]["S3Uri"],
                version.model_metrics["ModelQuality"]["Statistics"]["S3Uri"]):
        assert store_path(project, uri).is_file(), uri

    # the same summary on disk beside an HTML report, and the human summary on stdout
    run_dir = project.state / "runs" / summary["execution_id"]
    assert json.loads((run_dir / "summary.json").read_text()) == summary
    report = (run_dir / "report.html").read_text()
    assert "<table>" in report and STEP_TRAIN in report and metric in report
    assert f"registered: {registered['group']} version 1 ({PENDING})" in run.stdout
    assert "Succeeded" in run.stderr  # progress lines go to stderr


def test_model_archive_is_what_sagemaker_writes(first_run):
    project, run = first_run
    properties_uri = run.summary["registered"]["model_data_url"]
    assert properties_uri.endswith("/output/model.tar.gz")
    job_name = next(s["job_name"] for s in run.summary["steps"] if s["name"] == STEP_TRAIN)
    assert f"/{STEP_TRAIN}/{job_name}/output/model.tar.gz" in properties_uri
    with tarfile.open(store_path(project, properties_uri), "r:gz") as tar:
        assert {"xgboost-model", "features.json"} <= set(tar.getnames())


def test_second_run_hits_the_cache(project, first_run):
    _, first = first_run
    run = project.run("--rows", ROWS)
    assert run.code == 0, run.stderr
    sources = cache_sources(run.summary)
    assert all(sources[name] == first.summary["execution_id"] for name in CACHED_STEPS)
    assert sources[STEP_REGISTER] is None  # registering is never cached
    assert run.summary["metrics"] == first.summary["metrics"]
    assert run.summary["registered"]["version"] == 2
    assert f"cache hit from {first.summary['execution_id']}" in run.stderr


def test_changed_parameter_reruns_only_what_it_feeds(project, first_run):
    _, first = first_run
    run = project.run("--rows", ROWS, "--param", "ModelApprovalStatus=Approved")
    assert run.code == 0, run.stderr
    assert all(cache_sources(run.summary)[name] == first.summary["execution_id"] for name in CACHED_STEPS)
    assert run.summary["registered"]["status"] == APPROVED


def test_approved_model_turns_the_drift_check_on(project, first_run):
    approve = project.registry_cli("approve", "1", "--reason", "first model looks fine")
    assert approve.returncode == 0, approve.stderr
    listing = project.registry_cli("list")
    assert APPROVED in listing.stdout and "first model looks fine" in listing.stdout

    run = project.run("--rows", ROWS)
    assert run.code == 0, run.stderr
    drift = run.summary["drift"]
    assert drift["status"] == "passed", drift
    assert drift["baseline"]["source"] == f"approved version 1 of '{run.summary['registered']['group']}'"
    assert run.summary["parameters"]["SkipDataQualityCheck"] is False
    sources = cache_sources(run.summary)
    assert sources[STEP_DATA_QUALITY] is None  # a new comparison, not the cached profile
    assert sources[STEP_TRAIN] == first_run[1].summary["execution_id"]
    assert "checking drift against the baseline of approved version 1" in run.stderr


def test_shifted_data_fails_the_drift_check_and_registers_nothing(project, tmp_path):
    config = project.config
    project.registry_cli("approve", "1", "--reason", "baseline")
    base = make_churn_dataset(int(ROWS), seed=config.seed, problem_type=config.problem_type,
                              target_column=config.target_column)
    shifted = write_dataset(shift_dataset(base, seed=7, target_column=config.target_column),
                            tmp_path / "shifted.parquet")
    before = project.versions()

    run = project.run("--data", str(shifted))
    assert run.code == 1
    assert f"error: pipeline failed at step {STEP_DATA_QUALITY}: data quality check failed" in run.stderr
    assert "baseline_drift_check" in run.stderr and "Traceback" not in run.stderr
    drift = run.summary["drift"]
    assert drift["status"] == "violations"
    assert {v["constraint_check_type"] for v in drift["violations"]} >= {"baseline_drift_check"}
    drifted = {v["feature_name"] for v in drift["violations"] if v["constraint_check_type"] == "baseline_drift_check"}
    assert drifted and drifted <= set(base.columns)
    assert any(row["violations"] for row in drift["features"])
    assert run.summary["registered"] is None
    assert statuses(run.summary)[STEP_REGISTER] == "NotStarted"
    assert [(v.version, v.status) for v in project.versions()] == [(v.version, v.status) for v in before]
    assert store_path(project, drift["violations_report"]).is_file()


def test_simulated_spot_interruption_resumes_to_the_same_model(project, first_run):
    _, first = first_run
    run = project.run("--rows", ROWS, "--simulate-spot-interruption", "12")
    assert run.code == 0, run.stderr
    spot = run.summary["spot"]
    assert spot["simulated"] and spot["interrupted"] and spot["attempts"] == 2
    assert spot["interrupted_at_round"] >= 12
    assert spot["resumed_from_round"] == 10 and spot["rounds_saved"] == 10  # checkpoint_every_rounds = 5
    assert spot["rounds_redone"] == spot["interrupted_at_round"] - 10
    assert cache_sources(run.summary)[STEP_TRAIN] is None  # the simulation always trains
    assert "Spot interruption after round" in run.stderr

    def model_bytes(summary: dict) -> bytes:
        uri = next(s["model"] for s in summary["steps"] if s["name"] == STEP_TRAIN)
        with tarfile.open(store_path(project, uri), "r:gz") as tar:
            return tar.extractfile("xgboost-model").read()

    resumed, uninterrupted = model_bytes(run.summary), model_bytes(first.summary)
    assert resumed == uninterrupted or _same_predictions(resumed, uninterrupted)


def _same_predictions(a: bytes, b: bytes) -> bool:
    import numpy as np
    import xgboost as xgb

    boosters = []
    for raw in (a, b):
        booster = xgb.Booster()
        booster.load_model(bytearray(raw))
        boosters.append(booster)
    rows = np.random.default_rng(0).normal(size=(200, boosters[0].num_features()))
    matrix = xgb.DMatrix(rows, feature_names=boosters[0].feature_names)
    return bool(np.array_equal(boosters[0].predict(matrix), boosters[1].predict(matrix)))


def test_two_runs_at_once_register_distinct_versions(project):
    command = [sys.executable, "-m", "pipelines.run", "--local", "--config", str(project.pyproject),
               "--state-dir", str(project.state), "--rows", ROWS,
               "--param", f"MetricThreshold={project.lenient_threshold()}"]
    results: list[subprocess.CompletedProcess[str]] = []

    def launch() -> None:
        results.append(subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=300))

    threads = [threading.Thread(target=launch) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(r.returncode == 0 for r in results), [r.stderr for r in results]
    assert sorted(v.version for v in project.versions()) == [1, 2, 3]
    announced = sorted(int(line.split(" version ")[1].split()[0]) for r in results
                       for line in io.StringIO(r.stdout) if line.startswith("registered:"))
    assert announced == [2, 3]
