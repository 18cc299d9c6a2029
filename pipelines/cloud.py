"""The cloud run: upload step code, upsert the pipeline, start it, follow it, report Spot savings."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

from pipelines.aws import client_error_message
from pipelines.code_bundle import CodeBundle
from pipelines.errors import UserError
from pipelines.progress import Progress

TERMINAL = ("Succeeded", "Failed", "Stopped")


class CloudRunError(UserError):
    """An AWS call on the run path failed in a way the user can act on."""


def _client_error(operation: str, exc: Exception) -> CloudRunError:
    return CloudRunError(f"{operation} failed: {client_error_message(exc)}")


def upload_code(s3: Any, bundle: CodeBundle, bucket: str, project: str, kms_key: str) -> int:
    """Upload the step code under its digest unless it is there already; returns objects written."""
    from botocore.exceptions import ClientError

    tar_key = bundle.tarball_uri(bucket, project).removeprefix(f"s3://{bucket}/")
    try:
        s3.head_object(Bucket=bucket, Key=tar_key)
        return 0
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") not in ("404", "NoSuchKey", "NotFound"):
            raise _client_error(f"reading s3://{bucket}/{tar_key}", exc) from None
    objects = bundle.objects(bucket, project)
    try:
        for uri, data in objects:
            s3.put_object(Bucket=bucket, Key=uri.removeprefix(f"s3://{bucket}/"), Body=data,
                          ServerSideEncryption="aws:kms", SSEKMSKeyId=kms_key)
    except ClientError as exc:
        raise _client_error(f"uploading step code to {bundle.prefix(bucket, project)}", exc) from None
    return len(objects)


def upsert_pipeline(sm: Any, name: str, definition: str, role_arn: str, tags: dict[str, str],
                    description: str) -> str:
    """Create or update the pipeline; `unchanged` when the stored definition already matches."""
    from botocore.exceptions import ClientError

    try:
        current = sm.describe_pipeline(PipelineName=name)
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code")
        if code not in ("ResourceNotFound", "ValidationException"):
            raise _client_error("describe_pipeline", exc) from None
        current = None
    try:
        if current is None:
            sm.create_pipeline(PipelineName=name, PipelineDefinition=definition, RoleArn=role_arn,
                               PipelineDescription=description,
                               Tags=[{"Key": k, "Value": v} for k, v in tags.items()])
            return "created"
        if json.loads(current.get("PipelineDefinition") or "{}") == json.loads(definition) \
                and current.get("RoleArn") == role_arn:
            return "unchanged"
        sm.update_pipeline(PipelineName=name, PipelineDefinition=definition, RoleArn=role_arn,
                           PipelineDescription=description)
        return "updated"
    except ClientError as exc:
        raise _client_error("upserting the pipeline", exc) from None


def start_execution(sm: Any, name: str, parameters: list[dict[str, str]], display_name: str) -> str:
    from botocore.exceptions import ClientError

    try:
        response = sm.start_pipeline_execution(PipelineName=name, PipelineParameters=parameters,
                                               PipelineExecutionDisplayName=display_name)
    except ClientError as exc:
        raise _client_error("start_pipeline_execution", exc) from None
    return response["PipelineExecutionArn"]


@dataclass
class ExecutionResult:
    arn: str
    status: str
    failure_reason: str = ""
    failed_step: str = ""
    steps: list[dict[str, Any]] = field(default_factory=list)


def list_steps(sm: Any, arn: str) -> list[dict[str, Any]]:
    steps: list[dict[str, Any]] = []
    token = None
    while True:
        kwargs: dict[str, Any] = {"PipelineExecutionArn": arn, "SortOrder": "Ascending"}
        if token:
            kwargs["NextToken"] = token
        page = sm.list_pipeline_execution_steps(**kwargs)
        steps += page.get("PipelineExecutionSteps", [])
        token = page.get("NextToken")
        if not token:
            return steps


def _duration(step: dict[str, Any]) -> float | None:
    start, end = step.get("StartTime"), step.get("EndTime")
    return (end - start).total_seconds() if start and end else None


def wait_for_execution(sm: Any, arn: str, progress: Progress, poll_seconds: float = 30.0,
                       sleep: Any = time.sleep) -> ExecutionResult:
    """Follow an execution to its end, reporting each step's transitions with durations."""
    seen: dict[str, str] = {}
    while True:
        execution = sm.describe_pipeline_execution(PipelineExecutionArn=arn)
        steps = list_steps(sm, arn)
        for step in steps:
            name, status = step["StepName"], step["StepStatus"]
            if seen.get(name) != status:
                seen[name] = status
                detail = step.get("FailureReason", "") if status == "Failed" else ""
                if step.get("CacheHitResult"):
                    detail = "cache hit"
                progress.step(name, status, _duration(step), detail)
        status = execution["PipelineExecutionStatus"]
        if status in TERMINAL:
            failed = next((s for s in steps if s["StepStatus"] == "Failed"), None)
            return ExecutionResult(
                arn=arn, status=status, steps=steps,
                failure_reason=(failed or {}).get("FailureReason") or execution.get("FailureReason", ""),
                failed_step=(failed or {}).get("StepName", ""),
            )
        sleep(poll_seconds)


def training_job_name(steps: list[dict[str, Any]]) -> str | None:
    """The name of the run's (first) training job, from its step metadata."""
    for step in steps:
        job_arn = step.get("Metadata", {}).get("TrainingJob", {}).get("Arn")
        if job_arn:
            return job_arn.rsplit("/", 1)[-1]
    return None


def spot_savings(sm: Any, steps: list[dict[str, Any]], prices: Any = None) -> dict[str, Any] | None:
    """Training seconds vs billable seconds of the run's training job: the Spot saving; with a price
    table (pipelines/finops/prices.py), also in USD (see `pipelines.finops.savings.priced`)."""
    name = training_job_name(steps)
    if name is None:
        return None
    job = sm.describe_training_job(TrainingJobName=name)
    training = job.get("TrainingTimeInSeconds")
    billable = job.get("BillableTimeInSeconds")
    if not training or billable is None:
        return None
    saving = {
        "training_job": job["TrainingJobName"],
        "spot": bool(job.get("EnableManagedSpotTraining")),
        "training_seconds": training,
        "billable_seconds": billable,
        "saving_percent": round(100.0 * (1 - billable / training), 1),
    }
    if prices is None:
        return saving
    from pipelines.finops.savings import priced

    return priced(saving, job.get("ResourceConfig", {}), sm.meta.region_name, prices)


@dataclass(frozen=True)
class SpotReport:
    """The Spot saving, or why it could not be read (`warning`, with the fix)."""

    saving: dict[str, Any] | None
    warning: str = ""


def spot_report(sm: Any, steps: list[dict[str, Any]], prices: Any = None) -> SpotReport:
    """`spot_savings` for a succeeded execution: a failure to read becomes a warning, never an error.

    Reporting runs after the pipeline succeeded; a build role without sagemaker:DescribeTrainingJob
    (or a throttled or malformed answer) must not turn that success into a failed build.
    """
    try:
        return SpotReport(spot_savings(sm, steps, prices))
    except Exception as exc:  # any failure to report is reported, never raised
        code = (getattr(exc, "response", None) or {}).get("Error", {}).get("Code", "")
        fix = "; grant sagemaker:DescribeTrainingJob to the build role" if code.startswith("AccessDenied") else ""
        job = training_job_name(steps) or "the training job"
        return SpotReport(None, f"could not read Spot billing for {job}: {client_error_message(exc)}{fix}")
