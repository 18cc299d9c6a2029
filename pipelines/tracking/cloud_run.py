"""Log a succeeded cloud execution (`python -m pipelines.run --wait`, CodeBuild) after it ends.

The pipeline's jobs run VPC-only without internet and never talk to MLflow: this runs on the CLI
side, reads what the steps wrote from S3 with boto3 (evaluation.json and evaluation_details.json
from the Evaluate job's output, the test split from Preprocess's, the model and the data-quality
baseline from the registered package) and logs one run, through the `sagemaker-mlflow` plugin
when the tracking URI is the stage's tracking server ARN (wiring key mlflow-tracking-server-arn).
The registered package gets the run in its CustomerMetadataProperties (UpdateModelPackage, within
the API's 50 entries, see pipelines/registry_cloud.py), and the run gets the package as tags.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipelines.cloud import list_steps
from pipelines.config import Config
from pipelines.definition import PARAM_DATA_HASH, PARAM_GIT_COMMIT, PARAM_INPUT, STEP_EVALUATE, STEP_PREPROCESS
from pipelines.tracking.mlflow_runs import TrackingTarget, log_run, logged_outcome, tag_run, warn_skipped
from pipelines.tracking.package_link import package_metadata, package_tags
from pipelines.tracking.run_record import RunFacts, RunFiles, build_record
from pipelines.wiring import NO_TRACKING_SERVER, Wiring

EVALUATION_OUTPUT, TEST_OUTPUT = "evaluation", "test"


@dataclass(frozen=True)
class CloudExecution:
    """A finished cloud execution, as `pipelines.run --wait` knows it."""

    execution_arn: str
    parameters: dict[str, Any]  # the parameters it ran with
    code_digest: str
    trigger: str


@dataclass(frozen=True)
class CloudClients:
    sagemaker: Any
    s3: Any


def cloud_target(config: Config, wiring: Wiring) -> TrackingTarget | None:
    """The config's tracking URI, else the stage's tracking server; None when neither is set."""
    uri = config.tracking.uri or wiring.tracking_server_arn
    if config.tracking.disabled or not uri or uri.lower() == NO_TRACKING_SERVER:
        return None
    return TrackingTarget(uri, config.tracking.experiment or config.pipeline_name)


def _step_metadata(steps: list[dict[str, Any]], kind: str) -> dict[str, Any]:
    return next((s["Metadata"][kind] for s in steps if kind in (s.get("Metadata") or {})), {})


def _download(s3: Any, uri: str, folder: Path) -> Path:
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    path = folder / Path(key).name
    s3.download_file(bucket, key, str(path))
    return path


def _job_outputs(clients: CloudClients, steps: list[dict[str, Any]], step_name: str) -> dict[str, str]:
    """OutputName -> S3Uri of the processing job of one step."""
    step = next((s for s in steps if s["StepName"] == step_name), None)
    arn = ((step or {}).get("Metadata") or {}).get("ProcessingJob", {}).get("Arn")
    if not arn:
        return {}
    job = clients.sagemaker.describe_processing_job(ProcessingJobName=arn.rsplit("/", 1)[1])
    return {o["OutputName"]: o["S3Output"]["S3Uri"] for o in job["ProcessingOutputConfig"]["Outputs"]}


def cloud_files(clients: CloudClients, steps: list[dict[str, Any]], package: dict[str, Any], folder: Path) -> RunFiles:
    """Download what the run logs; a package gives the model and the data-quality baseline."""
    evaluation = _job_outputs(clients, steps, STEP_EVALUATE).get(EVALUATION_OUTPUT)
    test = _job_outputs(clients, steps, STEP_PREPROCESS).get(TEST_OUTPUT)
    quality = (package.get("ModelMetrics") or {}).get("ModelDataQuality") or {}
    model = ((package.get("InferenceSpecification") or {}).get("Containers") or [{}])[0].get("ModelDataUrl")
    named = {"evaluation": f"{evaluation.rstrip('/')}/evaluation.json" if evaluation else None,
             "details": f"{evaluation.rstrip('/')}/evaluation_details.json" if evaluation else None,
             "test": f"{test.rstrip('/')}/test.parquet" if test else None, "model": model}
    local: dict[str, Path] = {}
    for name, uri in named.items():
        if uri:
            (folder / name).mkdir()
            local[name] = _download(clients.s3, uri, folder / name)
    baseline = []
    for part in ("Statistics", "Constraints"):
        if (quality.get(part) or {}).get("S3Uri"):
            (folder / part).mkdir()
            baseline.append(_download(clients.s3, quality[part]["S3Uri"], folder / part))
    return RunFiles(evaluation=local.get("evaluation"), details=local.get("details"), baseline=tuple(baseline),
                    model_archive=local.get("model"), test_split=local.get("test"))


def cloud_facts(config: Config, execution: CloudExecution, files: RunFiles, package: dict[str, Any]) -> RunFacts:
    from pipelines.engine.summary import metrics_from
    from pipelines.lineage import KEY_CODE_DIGEST, KEY_DATA_HASH, KEY_DATA_URI, KEY_GIT_COMMIT, config_hash
    from pipelines.tracking.run_record import read_json

    metrics, _ = metrics_from({STEP_EVALUATE: {"evaluation.json": read_json(files.evaluation)}})
    lineage = {KEY_DATA_URI: str(execution.parameters.get(PARAM_INPUT, "")),
               KEY_DATA_HASH: str(execution.parameters.get(PARAM_DATA_HASH, "")),
               KEY_GIT_COMMIT: str(execution.parameters.get(PARAM_GIT_COMMIT, "")),
               "config_hash": config_hash(config), KEY_CODE_DIGEST: execution.code_digest,
               **(package.get("CustomerMetadataProperties") or {})}
    return RunFacts(config=config, execution_id=execution.execution_arn.rsplit("/", 1)[1], failed=False,
                    trigger=execution.trigger, metrics=metrics, parameters=execution.parameters,
                    lineage={k: v for k, v in lineage.items() if v})


def link_cloud_package(clients: CloudClients, package: dict[str, Any], entries: dict[str, str]) -> None:
    """The run in the package's CustomerMetadataProperties, oldest status history entries making room."""
    from pipelines.registry_cloud import add_entries, fit

    update = add_entries(package.get("CustomerMetadataProperties") or {},
                         {key: fit(value, 256) for key, value in entries.items()})
    removal = {"CustomerMetadataPropertiesToRemove": update.removed} if update.removed else {}
    clients.sagemaker.update_model_package(ModelPackageArn=package["ModelPackageArn"],
                                           CustomerMetadataProperties=update.properties, **removal)


def track_cloud_run(config: Config, wiring: Wiring, clients: CloudClients, execution: CloudExecution) -> dict[str, Any]:
    """Log the execution; the summary's `tracking` entry. Never raises: a failure is one warning."""
    target = cloud_target(config, wiring)
    if target is None:
        return {"status": "off", "reason": "no tracking server in the wiring (mlflow-tracking-server-arn = none) "
                                           "and no [tool.ml-factory.tracking] uri"}
    try:
        steps = list_steps(clients.sagemaker, execution.execution_arn)  # each step's job and package
        registered = _step_metadata(steps, "RegisterModel").get("Arn")
        package = clients.sagemaker.describe_model_package(ModelPackageName=registered) if registered else {}
        with tempfile.TemporaryDirectory(prefix="ml-factory-tracking-") as workdir:
            files = cloud_files(clients, steps, package, Path(workdir))
            logged = log_run(target, build_record(cloud_facts(config, execution, files, package), files, Path(workdir)))
        if package:
            link_cloud_package(clients, package, package_metadata(target.uri, logged.experiment_id, logged.run_id))
            tag_run(target, logged.run_id, package_tags(package["ModelPackageArn"], package["ModelPackageGroupName"],
                                                        package["ModelPackageVersion"]))
    except Exception as exc:  # noqa: BLE001 - tracking is never the reason a run fails
        return warn_skipped(f"execution {execution.execution_arn}", target, exc)
    return logged_outcome(target, logged)
