"""Experiment tracking of local runs: every run is an MLflow run with its params, metrics, artifacts
and model; the registered version and its run name each other; a tracking store that cannot be
reached never fails a run; a real `mlflow server` on 127.0.0.1 receives runs like the embedded store."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import mlflow
import numpy as np
import pandas as pd
import pytest
from local_project import NUM_ROUND, REPO_ROOT, Project, store_path
from mlflow import MlflowClient

from pipelines.serving.script_mode import ScriptModeHandler, ServingPackage


def tracking_uri(project: Project) -> str:
    return f"sqlite:///{project.state.resolve() / 'mlflow.db'}"


@contextlib.contextmanager
def tracking_at(uri: str) -> Iterator[None]:
    """mlflow's fluent API pointed at `uri` for a block (tests share one process)."""
    mlflow.set_tracking_uri(uri)
    try:
        yield
    finally:
        mlflow.set_tracking_uri("")


def runs_of(uri: str, experiment: str) -> pd.DataFrame:
    with tracking_at(uri):
        return mlflow.search_runs(experiment_names=[experiment], order_by=["start_time DESC"])


def artifact_paths(client: MlflowClient, run_id: str, folder: str | None = None) -> set[str]:
    found = set()
    for item in client.list_artifacts(run_id, folder):
        found |= artifact_paths(client, run_id, item.path) if item.is_dir else {item.path}
    return found


@pytest.fixture(scope="module")
def logged(first_run) -> dict[str, Any]:
    project, run = first_run
    assert run.summary["tracking"]["status"] == "logged", run.summary["tracking"]
    runs = runs_of(tracking_uri(project), project.config.pipeline_name)
    client = MlflowClient(tracking_uri(project))
    return {"project": project, "summary": run.summary, "runs": runs, "client": client,
            "run": client.get_run(run.summary["tracking"]["run_id"])}


def test_search_runs_finds_the_run_with_its_params_metrics_and_tags(logged):
    summary, runs, run = logged["summary"], logged["runs"], logged["run"]
    assert list(runs["run_id"]) == [run.info.run_id]
    assert run.info.status == "FINISHED" and run.info.run_name == summary["execution_id"]
    params, metric = run.data.params, logged["project"].config.metric.name
    assert params["config.metric.name"] == metric and params["config.training.num_round"] == str(NUM_ROUND)
    assert params["config.training.hyperparameters.subsample"] == "1.0"
    assert params["parameter.InputDataUri"] == summary["input_data_uri"]
    assert params["lineage.data_uri"] == summary["input_data_uri"]
    assert run.data.metrics[metric] == pytest.approx(summary["metrics"][metric])
    tags = run.data.tags
    assert tags["execution_id"] == summary["execution_id"] and tags["trigger"] == "manual"
    assert tags["stage"] == "dev" and tags["config_hash"].startswith("sha256:")
    assert tags["git_commit"] and tags["code_digest"] == summary["code_digest"]


def test_the_training_curve_has_one_point_per_round(logged):
    run = logged["run"]
    [curve] = [name for name in run.data.metrics if name.startswith("validation-")]  # xgboost's eval metric
    history = logged["client"].get_metric_history(run.info.run_id, curve)
    assert [point.step for point in history] == list(range(1, NUM_ROUND + 1))
    first, last = history[0].value, history[-1].value
    assert last > first if curve.endswith("auc") else last < first, f"{curve}: the model learned nothing"


def test_artifacts_hold_evaluation_report_baseline_chart_and_model(logged):
    paths = artifact_paths(logged["client"], logged["run"].info.run_id)
    assert {"evaluation/evaluation.json", "evaluation/evaluation_details.json", "report/report.html",
            "report/summary.json", "data_quality/statistics.json", "data_quality/constraints.json",
            "charts/feature_importance.png", "model_package/features.json"} <= paths
    local = Path(mlflow.artifacts.download_artifacts(run_id=logged["run"].info.run_id,
                                                     artifact_path="charts/feature_importance.png",
                                                     tracking_uri=tracking_uri(logged["project"])))
    assert local.read_bytes().startswith(b"\x89PNG")


def test_the_model_is_logged_in_the_xgboost_flavour_with_signature_and_example(logged):
    with tracking_at(tracking_uri(logged["project"])):
        info = mlflow.models.get_model_info(f"runs:/{logged['run'].info.run_id}/model")
    assert "xgboost" in info.flavors
    names = info.signature.inputs.input_names()
    features = json.loads((next(logged["project"].state.glob("s3/**/Preprocess/test/features.json"))).read_text())
    assert names == features["feature_names"]  # the encoded columns, named as the booster names them
    assert info.saved_input_example_info is not None


def test_the_model_loaded_back_predicts_what_the_package_serves(logged, tmp_path):
    """MLflow's model takes the encoded test rows; the package takes the same rows raw through
    inference.py's encoding, as its endpoint would: the predictions agree."""
    project = logged["project"]
    version = project.versions()[0]
    [test_file] = sorted(project.state.glob("s3/**/Preprocess/test/test.parquet"))
    from pipelines.code_bundle import bundle_seedcode
    from pipelines.engine.build import local_wiring

    serving = bundle_seedcode().for_step("inference.py")  # the code the package serves with
    config = project.config
    code = store_path(project, serving.tarball_uri(local_wiring(config).artifact_bucket, config.project))
    with tracking_at(tracking_uri(project)):
        model = mlflow.pyfunc.load_model(f"runs:/{logged['run'].info.run_id}/model")
    signature = model.metadata.get_input_schema().input_names()
    encoded = pd.read_parquet(test_file).iloc[:, 1:]
    encoded.columns = signature
    from_mlflow = np.asarray(model.predict(encoded.astype("float32")))

    handler = ScriptModeHandler(ServingPackage(store_path(project, version.model_data_url), code, "inference.py"),
                                tmp_path)
    body, _ = handler.invoke((test_file.parent / "raw" / "test_raw.csv").read_bytes(), "text/csv", "text/csv")
    served = np.array([float(line) for line in body.decode().splitlines()])
    assert len(served) == len(from_mlflow) > 100
    np.testing.assert_allclose(from_mlflow, served, rtol=1e-6)


def test_the_package_and_the_run_name_each_other(logged):
    project, run = logged["project"], logged["run"]
    listing = project.registry_cli("list")
    assert listing.returncode == 0, listing.stderr
    assert run.info.run_id in listing.stdout.splitlines()[1].split()  # `registry list` shows the run
    [version] = json.loads(project.registry_cli("list", "--json").stdout)
    assert version["metadata"]["mlflow_run_id"] == run.info.run_id
    assert version["metadata"]["mlflow_run_uri"].endswith(f"/runs/{run.info.run_id}")
    assert version["metadata"]["mlflow_tracking_uri"] == tracking_uri(project)
    assert run.data.tags["model_package_arn"] == version["arn"]
    assert run.data.tags["model_package_version"] == str(version["version"])
    history = project.registry_cli("history", "latest")
    assert any(line.split() == ["mlflow", "run:", version["metadata"]["mlflow_run_uri"]]
               for line in history.stdout.splitlines())


def with_tracking(project: Project, uri: str) -> None:
    project.pyproject.write_text(project.pyproject.read_text()
                                 + f'\n[tool.ml-factory.tracking]\nuri = "{uri}"\nexperiment = "remote"\n')


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_an_unreachable_store_warns_once_and_the_run_finishes(project):
    with_tracking(project, f"http://127.0.0.1:{free_port()}")  # nothing listens there
    started = time.monotonic()
    run = project.run("--rows", "2500")
    assert run.code == 0, run.stderr
    assert run.summary["status"] == "Succeeded"
    warnings = [line for line in run.stderr.splitlines() if "not logged to MLflow" in line]
    assert len(warnings) == 1 and warnings[0].startswith("warning: ")
    assert run.summary["tracking"]["status"] == "skipped" and run.summary["tracking"]["reason"]
    saved = json.loads(Path(run.summary["summary_path"]).read_text())
    assert saved["tracking"]["status"] == "skipped"
    assert time.monotonic() - started < 120


@contextlib.contextmanager
def serving(command: list[str], url: str, folder: Path) -> Iterator[str]:
    """Start an MLflow server process, wait until `url`/health answers, always terminate it."""
    log = folder / "server.log"
    with open(log, "wb") as stderr:
        server = subprocess.Popen(command, cwd=folder, stdout=subprocess.DEVNULL, stderr=stderr,
                                  start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while not healthy(url):
            assert server.poll() is None, log.read_text()[-3000:]
            assert time.monotonic() < deadline, "mlflow server not ready in 120 s"
            time.sleep(0.5)
        yield url
    finally:
        os.killpg(server.pid, signal.SIGTERM)  # make's child too: the whole session the test started
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


def healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


@pytest.fixture
def mlflow_server(tmp_path) -> Iterator[str]:
    """A real `mlflow server` on 127.0.0.1 (sqlite backend, proxied artifacts in tmp)."""
    port = free_port()
    with serving([str(Path(sys.executable).parent / "mlflow"), "server", "--host", "127.0.0.1", "--port", str(port),
                  "--workers", "1", "--backend-store-uri", f"sqlite:///{tmp_path / 'server.db'}",
                  "--artifacts-destination", str(tmp_path / "artifacts")], f"http://127.0.0.1:{port}", tmp_path) as url:
        yield url


def test_a_remote_tracking_server_receives_the_run(project, mlflow_server):
    with_tracking(project, mlflow_server)
    run = project.run("--rows", "2500")
    assert run.code == 0, run.stderr
    outcome = run.summary["tracking"]
    assert outcome["status"] == "logged" and outcome["uri"] == mlflow_server, outcome
    [logged] = runs_of(mlflow_server, "remote")["run_id"]
    client = MlflowClient(mlflow_server)
    remote = client.get_run(logged)
    assert remote.data.tags["execution_id"] == run.summary["execution_id"]
    metric = project.config.metric.name
    assert remote.data.metrics[metric] == pytest.approx(run.summary["metrics"][metric])
    assert "evaluation/evaluation.json" in artifact_paths(client, logged)
    with tracking_at(mlflow_server):
        assert "xgboost" in mlflow.models.get_model_info(f"runs:/{logged}/model").flavors
    assert "not logged" not in run.stderr


def test_make_ui_serves_the_embedded_store_on_loopback(logged, tmp_path):
    project, run = logged["project"], logged["run"]
    port = free_port()
    command = ["make", "--no-print-directory", "-C", str(REPO_ROOT), "-o", ".venv/.installed", "ui",
               f"STATE_DIR={project.state}", f"UI_PORT={port}"]
    with serving(command, f"http://127.0.0.1:{port}", tmp_path) as url:
        found = MlflowClient(url).search_runs([run.info.experiment_id])
        assert [r.info.run_id for r in found] == [run.info.run_id]
        assert project.config.pipeline_name in urllib.request.urlopen(
            f"{url}/ajax-api/2.0/mlflow/experiments/search?max_results=10", timeout=10).read().decode()


def put_tree(s3: Any, bucket: str, prefix: str, files: dict[str, Path]) -> str:
    """Upload `files` (name -> local file) under s3://bucket/prefix/; returns that URI."""
    for name, path in files.items():
        s3.put_object(Bucket=bucket, Key=f"{prefix}/{name}", Body=path.read_bytes())
    return f"s3://{bucket}/{prefix}"


def stage_cloud_execution(project: Project, first: Project, monkeypatch: Any) -> dict[str, Any]:
    """What a succeeded cloud execution leaves behind, in moto: wiring, the Evaluate and Preprocess
    jobs with their S3 outputs (the first local run's real files) and the registered package.
    ListPipelineExecutionSteps (not in moto) is answered in process, as tests/test_run_cloud.py does."""
    import boto3
    from botocore.awsrequest import AWSResponse

    import pipelines.aws
    from pipelines.wiring import WIRING_KEYS, parameter_name

    config = project.config
    region = config.aws_region
    values = {"execution-role-arn": f"arn:aws:iam::{config.account_id}:role/r", "artifact-bucket": "artifacts",
              "data-bucket": "data", "kms-key-arn": f"arn:aws:kms:{region}:{config.account_id}:key/1",
              "subnet-ids": "subnet-a", "security-group-ids": "sg-a", "model-package-group": config.pipeline_name,
              "mlflow-tracking-server-arn": "none"}  # the config's uri (the test's server) wins over the wiring
    ssm, s3 = boto3.client("ssm", region_name=region), boto3.client("s3", region_name=region)
    sm = boto3.client("sagemaker", region_name=region)
    for spec in WIRING_KEYS:
        ssm.put_parameter(Name=parameter_name(config.project, "dev", spec.key), Value=values[spec.key],
                          Type="StringList" if spec.is_list else "String")
    location = {} if region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": region}}
    for bucket in ("artifacts", "data"):
        s3.create_bucket(Bucket=bucket, **location)
    s3.put_object(Bucket="data", Key=f"{config.project}/input/part-0.csv",
                  Body=f"a,{config.target_column}\n1,0\n".encode())
    local = {name: next(first.state.glob(f"s3/**/{pattern}")) for name, pattern in (
        ("evaluation.json", "Evaluate/evaluation/evaluation.json"),
        ("evaluation_details.json", "Evaluate/evaluation/evaluation_details.json"),
        ("test.parquet", "Preprocess/test/test.parquet"), ("model.tar.gz", "Train/**/model.tar.gz"),
        ("statistics.json", "DataQualityCheck/**/statistics.json"),
        ("constraints.json", "DataQualityCheck/**/constraints.json"))}
    outputs = {"evaluation": put_tree(s3, "artifacts", "run/evaluation", {k: local[k] for k in (
        "evaluation.json", "evaluation_details.json")}),
        "test": put_tree(s3, "artifacts", "run/test", {"test.parquet": local["test.parquet"]})}
    jobs = {}
    for step, output in (("Preprocess", "test"), ("Evaluate", "evaluation")):
        jobs[step] = sm.create_processing_job(
            ProcessingJobName=f"pipelines-{step.lower()}", RoleArn=values["execution-role-arn"],
            AppSpecification={"ImageUri": "img"}, ProcessingResources={"ClusterConfig": {
                "InstanceCount": 1, "InstanceType": "ml.m5.large", "VolumeSizeInGB": 30}},
            ProcessingOutputConfig={"Outputs": [{"OutputName": output, "S3Output": {
                "S3Uri": outputs[output], "LocalPath": "/opt/ml/processing/out", "S3UploadMode": "EndOfJob"}}]},
        )["ProcessingJobArn"]
    sm.create_model_package_group(ModelPackageGroupName=config.pipeline_name)
    model = put_tree(s3, "artifacts", "run/model", {"model.tar.gz": local["model.tar.gz"]})
    baseline = put_tree(s3, "artifacts", "run/baseline", {k: local[k] for k in ("statistics.json", "constraints.json")})
    package = sm.create_model_package(
        ModelPackageGroupName=config.pipeline_name, ModelApprovalStatus="PendingManualApproval",
        InferenceSpecification={"Containers": [{"Image": "img", "ModelDataUrl": f"{model}/model.tar.gz"}],
                                "SupportedContentTypes": ["text/csv"], "SupportedResponseMIMETypes": ["text/csv"]},
        ModelMetrics={"ModelDataQuality": {
            "Statistics": {"ContentType": "application/json", "S3Uri": f"{baseline}/statistics.json"},
            "Constraints": {"ContentType": "application/json", "S3Uri": f"{baseline}/constraints.json"}}},
        CustomerMetadataProperties={"git_commit": "0123abc", **{
            f"status_history/2026-01-01T00:00:{i:02d}.000000Z": f"Approved by x: {i}" for i in range(48)}},
    )["ModelPackageArn"]
    steps = [{"StepName": name, "StepStatus": "Succeeded", "Metadata": metadata} for name, metadata in (
        ("Preprocess", {"ProcessingJob": {"Arn": jobs["Preprocess"]}}),
        ("Evaluate", {"ProcessingJob": {"Arn": jobs["Evaluate"]}}),
        ("RegisterModel", {"RegisterModel": {"Arn": package}}))]
    real = pipelines.aws.aws_session

    def session_with_steps(region: str) -> Any:
        session = real(region)
        session.events.register("before-call.sagemaker.ListPipelineExecutionSteps", lambda **_: (
            AWSResponse("https://api.sagemaker.invalid", 200, {}, None), {"PipelineExecutionSteps": steps}))
        return session

    monkeypatch.setattr(pipelines.aws, "aws_session", session_with_steps)
    return {"package": package, "sagemaker": sm}


@pytest.fixture
def aws(fake_aws) -> Iterator[None]:
    from moto import mock_aws

    with mock_aws():
        yield


def test_a_cloud_run_is_logged_after_it_succeeds_and_linked_to_its_package(first_run, project, aws, mlflow_server,
                                                                             monkeypatch, capsys):
    """`pipelines.run --wait` downloads the execution's outputs from S3 (moto) and logs them to a real
    MLflow server; the package (48 status history entries already) names the run, the run the package."""
    from pipelines.errors import run_cli
    from pipelines.run import main

    with_tracking(project, mlflow_server)
    staged = stage_cloud_execution(project, first_run[0], monkeypatch)
    summary = project.folder / "cloud-summary.json"
    code = run_cli(main, ["--config", str(project.pyproject), "--state-dir", str(project.state), "--wait",
                          "--poll-seconds", "0", "--trigger", "merge", "--summary", str(summary)])
    err = capsys.readouterr().err
    assert code == 0, err
    outcome = json.loads(summary.read_text())["tracking"]
    assert outcome["status"] == "logged", (outcome, err)
    run = MlflowClient(mlflow_server).get_run(outcome["run_id"])
    assert run.data.tags["trigger"] == "merge" and run.data.tags["git_commit"] == "0123abc"
    assert run.data.tags["model_package_arn"] == staged["package"]
    metric = project.config.metric.name  # the staged evaluation is the first local run's
    assert run.data.metrics[metric] == pytest.approx(first_run[1].summary["metrics"][metric])
    assert {"evaluation/evaluation.json", "data_quality/statistics.json", "model_package/features.json"} <= \
        artifact_paths(MlflowClient(mlflow_server), outcome["run_id"])
    with tracking_at(mlflow_server):
        assert "xgboost" in mlflow.models.get_model_info(f"runs:/{outcome['run_id']}/model").flavors
    metadata = staged["sagemaker"].describe_model_package(ModelPackageName=staged["package"])[
        "CustomerMetadataProperties"]
    assert metadata["mlflow_run_id"] == outcome["run_id"] and metadata["git_commit"] == "0123abc"
    # 1 lineage + 3 link entries + the dropped counter leave 45 of the 50 for the 48 history entries
    assert len(metadata) == 50 and int(metadata["status_history_dropped"]) == 3
