"""`python -m pipelines.run --local` end to end on small generated data: the same definition the
cloud runs, executed here, with caching, the drift check lifecycle and the local registry."""

from __future__ import annotations

import hashlib
import io
import json
import subprocess
import sys
import tarfile
import threading
from pathlib import Path

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
from pipelines.engine.quality_check import ACCEPT_HINT, NEW_BASELINE_PARAMS
from pipelines.engine.registry import LocalRegistry, local_user
from pipelines.lineage import (
    KEY_CODE_DIGEST,
    KEY_CONFIG_HASH,
    KEY_DATA_HASH,
    KEY_DATA_URI,
    KEY_EXECUTION_ID,
    KEY_GIT_COMMIT,
    KEY_TARGET,
    LINEAGE_KEYS,
    config_hash,
)
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


UNCHANGED_V1 = ("model unchanged: same data, code and config as version 1 (status PendingManualApproval); "
                "not registered again")


def test_second_run_hits_the_cache_and_registers_no_duplicate(project, first_run):
    _, first = first_run
    run = project.run("--rows", ROWS)
    assert run.code == 0, run.stderr
    sources = cache_sources(run.summary)
    assert all(sources[name] == first.summary["execution_id"] for name in CACHED_STEPS)
    assert sources[STEP_REGISTER] is None  # registering is never cached: the step itself finds the model
    assert statuses(run.summary)[STEP_REGISTER] == "Succeeded"
    assert run.summary["metrics"] == first.summary["metrics"]
    assert run.summary["registered"] is None
    assert run.summary["model_unchanged"]["version"] == 1
    assert run.summary["model_unchanged"]["arn"] == first.summary["registered"]["arn"]
    assert f"registered: nothing ({UNCHANGED_V1})" in run.stdout
    assert UNCHANGED_V1 in run.stderr
    assert UNCHANGED_V1 in Path(run.summary["report_path"]).read_text()
    assert [v.version for v in project.versions()] == [1]
    assert f"cache hit from {first.summary['execution_id']}" in run.stderr


def test_changed_parameter_reruns_only_what_it_feeds(project, first_run):
    _, first = first_run
    run = project.run("--rows", ROWS, "--param", "ModelApprovalStatus=Approved")
    assert run.code == 0, run.stderr
    assert all(cache_sources(run.summary)[name] == first.summary["execution_id"] for name in CACHED_STEPS)
    # the same model again: a status parameter is no reason for a new version, and it approves nothing
    assert run.summary["model_unchanged"]["version"] == 1
    assert [(v.version, v.status) for v in project.versions()] == [(1, PENDING)]


def test_registered_version_links_to_its_run(first_run):
    project, run = first_run
    (version,) = project.versions()
    config = project.config
    sample = store_path(project, run.summary["input_data_uri"] + "churn.parquet")
    assert {k: version.metadata.get(k) for k in LINEAGE_KEYS} == {
        KEY_EXECUTION_ID: run.summary["execution_id"],
        KEY_DATA_URI: run.summary["input_data_uri"],
        KEY_DATA_HASH: "sha256:" + hashlib.sha256(sample.read_bytes()).hexdigest(),
        KEY_TARGET: config.target_column,
        KEY_CONFIG_HASH: config_hash(config),
        KEY_CODE_DIGEST: run.summary["code_digest"],
        KEY_GIT_COMMIT: "unknown",  # the project folder is no git repository
    }
    (registered,) = LocalRegistry(project.state / "registry.db").history(version)
    assert (registered.status, registered.who) == (PENDING, local_user())
    assert registered.reason == f"registered by pipeline execution {run.summary['execution_id']}"


def test_approved_model_turns_the_drift_check_on(project, first_run):
    approve = project.registry_cli("approve", "1", "--reason", "first model looks fine")
    assert approve.returncode == 0, approve.stderr
    listing = project.registry_cli("list")
    assert APPROVED in listing.stdout and "first model looks fine" in listing.stdout

    run = project.run("--rows", ROWS)
    assert run.code == 0, run.stderr
    drift = run.summary["drift"]
    assert drift["status"] == "passed", drift
    assert drift["baseline"]["source"] == f"approved version 1 of '{project.versions()[0].group}'"
    assert run.summary["parameters"]["SkipDataQualityCheck"] is False
    sources = cache_sources(run.summary)
    assert sources[STEP_DATA_QUALITY] is None  # a new comparison, not the cached profile
    assert sources[STEP_TRAIN] == first_run[1].summary["execution_id"]
    assert "checking drift against the baseline of approved version 1" in run.stderr
    assert run.summary["model_unchanged"]["status"] == APPROVED  # the model that was approved, not a copy


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
    assert ACCEPT_HINT in run.stderr

    # the advice works: the run registers the new data's baseline, and once approved the data passes
    accepted = project.run("--data", str(shifted), *NEW_BASELINE_PARAMS.split())
    assert accepted.code == 0, accepted.stderr
    assert accepted.summary["drift"]["register_new_baseline"] is True
    new_version = accepted.summary["registered"]["version"]
    assert project.registry_cli("approve", str(new_version), "--reason", "new market").returncode == 0
    again = project.run("--data", str(shifted))
    assert again.code == 0, again.stderr
    assert again.summary["drift"]["status"] == "passed"
    assert again.summary["model_unchanged"]["version"] == new_version


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


def test_two_runs_at_once_of_one_model_register_it_once(project):
    (project.state / "registry.db").unlink()  # a fresh registry; the cached steps stay
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
    failed = [f"exit {r.returncode}:\n" + "\n".join(r.stderr.splitlines()[-25:]) for r in results if r.returncode]
    assert len(results) == 2 and not failed, "\n\n".join(failed) or "a run timed out"
    assert [v.version for v in project.versions()] == [1]
    outcomes = [line.strip() for r in results for line in io.StringIO(r.stdout) if line.startswith("registered:")]
    assert sorted(outcomes) == sorted([f"registered: {project.versions()[0].group} version 1 ({PENDING})",
                                       f"registered: nothing ({UNCHANGED_V1})"])
