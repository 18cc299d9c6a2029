"""Processing steps: a processing job's container command, run in a sandbox.

Inputs are placed at their LocalPath, ContainerEntrypoint + ContainerArguments run with
`python3` as the step interpreter (EngineSettings.step_python), and each output's LocalPath is
uploaded to its S3Uri when the command exits 0. A non-zero exit fails the step with the job's failure file
(`/opt/ml/processing/output/failure`) or its last stderr line as the reason.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from pipelines.engine.process import JobProcess, ProcessResult, failure_reason
from pipelines.engine.sandbox import Sandbox
from pipelines.engine.step_job import StepFailed, StepJob, StepResult
from pipelines.engine.store import StoreError

FAILURE_FILE = "/opt/ml/processing/output/failure"
RESOURCE_CONFIG = {"current_host": "algo-1", "hosts": ["algo-1"], "current_instance_type": "local",
                   "current_group_name": "homogeneousCluster"}


def place_inputs(job: StepJob, sandbox: Sandbox, inputs: list[dict[str, Any]]) -> None:
    """Put each S3 input at its LocalPath, as a File-mode processing job does."""
    for item in inputs:
        name = item.get("InputName", "?")
        source = item.get("S3Input")
        if not isinstance(source, dict):
            raise StepFailed(f"processing input {name!r} is not an S3Input (e.g. a DatasetDefinition); "
                             "the local engine supports S3 inputs only")
        local = sandbox.local(source.get("LocalPath", f"/opt/ml/processing/input/{name}"))
        try:
            job.store.get_tree(source["S3Uri"], local)
        except StoreError as exc:
            raise StepFailed(f"input {name!r}: {exc}") from None


def output_specs(arguments: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(OutputName, S3Uri, LocalPath) of each S3 output."""
    specs = []
    for item in (arguments.get("ProcessingOutputConfig") or {}).get("Outputs") or []:
        output = item.get("S3Output")
        if isinstance(output, dict):
            specs.append((item.get("OutputName", "?"), output["S3Uri"], output["LocalPath"]))
    return specs


def upload_outputs(job: StepJob, sandbox: Sandbox, arguments: dict[str, Any]) -> list[str]:
    written: list[str] = []
    for _, uri, local in output_specs(arguments):
        written += job.store.put_tree(uri, sandbox.local(local))
    return written


def write_job_config(sandbox: Sandbox, arguments: dict[str, Any], job_name: str) -> None:
    """/opt/ml/config/processingjobconfig.json and resourceconfig.json, as the service writes them."""
    config = sandbox.local("/opt/ml/config")
    config.mkdir(parents=True, exist_ok=True)
    (config / "processingjobconfig.json").write_text(
        json.dumps({**arguments, "ProcessingJobName": job_name}, indent=2, default=str))
    (config / "resourceconfig.json").write_text(json.dumps(RESOURCE_CONFIG))


def peak_memory(results: dict[str, ProcessResult]) -> dict[str, Any]:
    """The `peak_memory_mb` fact: each host's peak resident memory, where it was measured."""
    peaks = {host: round(result.peak_memory_mb, 1) for host, result in results.items()
             if result.peak_memory_mb is not None}
    return {"peak_memory_mb": peaks} if peaks else {}


def job_times(started: datetime) -> dict[str, str]:
    return {"ProcessingStartTime": started.isoformat(), "ProcessingEndTime": datetime.now(UTC).isoformat()}


def run_processing(job: StepJob) -> StepResult:
    arguments = job.arguments
    sandbox = job.sandbox()
    started = datetime.now(UTC)
    job_name = job.execution.job_name(job.name)
    app = arguments.get("AppSpecification") or {}
    entrypoint = list(app.get("ContainerEntrypoint") or [])
    if not entrypoint:
        raise StepFailed(f"the processing job has no ContainerEntrypoint (it relies on the image "
                         f"{app.get('ImageUri', '?')}'s own entrypoint); the local engine runs script steps only")
    place_inputs(job, sandbox, arguments.get("ProcessingInputs") or [])
    for _, _, local in output_specs(arguments):
        sandbox.local(local).mkdir(parents=True, exist_ok=True)
    write_job_config(sandbox, arguments, job_name)

    argv = sandbox.command(entrypoint + [str(a) for a in app.get("ContainerArguments") or []])
    limit = (arguments.get("StoppingCondition") or {}).get("MaxRuntimeInSeconds")
    process = JobProcess(argv, sandbox.environment(arguments.get("Environment")), cwd=sandbox.root,
                         log_dir=sandbox.logs, label="processing")
    result = process.run(timeout=float(limit) if limit else None, grace_seconds=job.settings.spot_grace_seconds)
    properties = {
        **arguments,
        "ProcessingJobName": job_name,
        "ProcessingJobArn": job.execution.job_arn("processing-job", job_name),
        **job_times(started),
    }
    facts = {"job_name": job_name, "logs": str(sandbox.logs), **peak_memory({"algo-1": result})}
    if result.returncode != 0:
        reason = failure_reason(result, sandbox.local(FAILURE_FILE), limit)
        properties.update(ProcessingJobStatus="Failed", FailureReason=reason, ExitCode=result.returncode)
        raise StepFailed(reason, facts, properties)
    written = upload_outputs(job, sandbox, arguments)
    properties["ProcessingJobStatus"] = "Completed"
    return StepResult(properties, facts, written)
