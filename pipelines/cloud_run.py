"""`python -m pipelines.run` in the cloud: read the wiring from SSM, upload the step code, upsert the
pipeline, start it and, with --wait, follow it and report the Spot saving.

Results go to stdout (the execution ARN), progress and warnings to stderr, the run as JSON to
`--summary FILE`. Reporting after a succeeded execution never fails the run: what could not be
read is a warning and lands in the summary's `report_warnings`.
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipelines.config import Config
from pipelines.definition import PARAM_DATA_HASH, PARAM_GIT_COMMIT, PARAM_INPUT
from pipelines.progress import Progress, format_seconds


@dataclass(frozen=True)
class CloudRunRequest:
    """What the user asked of a cloud run (everything but the team config)."""

    definitions_dir: Path  # the definition cache (see pipelines/engine/build.py)
    wiring_file: Path | None = None  # instead of reading SSM
    params: tuple[str, ...] = ()  # --param Name=Value
    wait: bool = False
    poll_seconds: float = 30.0
    summary_path: Path | None = None
    project_dir: Path = Path(".")  # the team repo (its git commit goes into the lineage)
    trigger: str = "manual"  # why the run happened (manual, merge, drift): an MLflow tag


def lineage_parameters(s3: Any, input_uri: str, project_dir: Path) -> dict[str, str]:
    """InputDataHash and GitCommit for the RegisterModel lineage; a data listing that cannot be read
    leaves the hash "unknown" with a warning, never failing the run."""
    from pipelines.lineage import UNKNOWN, git_commit, s3_listing_hash

    try:
        data_hash = s3_listing_hash(s3, input_uri)
    except Exception as exc:  # noqa: BLE001 - lineage is best effort; the run must not fail on it
        print(f"warning: could not hash the input data at {input_uri}: {exc}; lineage records it as unknown",
              file=sys.stderr)
        data_hash = UNKNOWN
    return {PARAM_DATA_HASH: data_hash, PARAM_GIT_COMMIT: git_commit(project_dir)}


def run_in_cloud(config: Config, request: CloudRunRequest) -> int:
    """Upsert and start the pipeline; with `wait`, follow it. 0 unless the execution did not succeed."""
    from pipelines import cloud
    from pipelines.aws import aws_session
    from pipelines.code_bundle import bundle_seedcode
    from pipelines.engine.build import load_definition
    from pipelines.parameters import effective_values, execution_parameters, parse_assignments, resolve_parameters
    from pipelines.registry import CloudRegistry
    from pipelines.registry_model import approved_model_parameters
    from pipelines.wiring import load_wiring_file, read_wiring

    progress = Progress()
    overrides = parse_assignments(list(request.params))
    session = aws_session(config.aws_region)
    wiring = (load_wiring_file(request.wiring_file) if request.wiring_file
              else read_wiring(session.client("ssm"), config.project, config.stage))
    progress.note(f"wiring from {wiring.source}; pipeline {config.pipeline_name} in {config.aws_region}")
    bundle = bundle_seedcode()
    definition, reused = load_definition(config, wiring, bundle, request.definitions_dir)
    parsed = json.loads(definition)
    resolve_parameters(parsed, overrides)  # fail on a bad --param before touching anything
    progress.note("definition " + ("reused (unchanged config and code)" if reused else "built"))

    sm = session.client("sagemaker")
    from_approved, why = approved_model_parameters(CloudRegistry(sm), wiring.model_package_group)
    progress.note(why)
    values = effective_values(parsed, {**from_approved, **overrides})
    values = {**values, **lineage_parameters(session.client("s3"), str(values[PARAM_INPUT]), request.project_dir)}

    written = cloud.upload_code(session.client("s3"), bundle, wiring.artifact_bucket, config.project,
                                wiring.kms_key_arn)
    progress.note(f"step code {bundle.digest}: " + (f"uploaded {written} objects" if written else "already uploaded"))
    outcome = cloud.upsert_pipeline(sm, config.pipeline_name, definition, wiring.role_arn, config.tags,
                                    f"{config.project_name} ({config.stage}), built by ML Factory")
    progress.note(f"pipeline {config.pipeline_name}: {outcome}")
    arn = cloud.start_execution(sm, config.pipeline_name, execution_parameters(values),
                                display_name=f"{config.project}-{time.strftime('%Y%m%d-%H%M%S')}")
    print(arn)
    summary: dict[str, Any] = {"pipeline": config.pipeline_name, "execution_arn": arn, "upsert": outcome,
                               "parameters": values, "code_digest": bundle.digest}
    status = follow_execution(sm, arn, request, progress, summary) if request.wait else 0
    if request.wait and status == 0:
        summary["tracking"] = track_execution(config, wiring, session, summary, request)
    if request.summary_path:
        request.summary_path.parent.mkdir(parents=True, exist_ok=True)
        request.summary_path.write_text(json.dumps(summary, indent=2, default=str) + "\n")
    return status


def track_execution(config: Config, wiring: Any, session: Any, summary: dict[str, Any],
                    request: CloudRunRequest) -> dict[str, Any]:
    """Log the succeeded execution to MLflow from here (pipelines/tracking/cloud_run.py); never fails the run."""
    from pipelines.tracking.cloud_run import CloudClients, CloudExecution, track_cloud_run

    execution = CloudExecution(summary["execution_arn"], summary["parameters"], summary["code_digest"],
                               request.trigger)
    return track_cloud_run(config, wiring, CloudClients(session.client("sagemaker"), session.client("s3")), execution)


def follow_execution(sm: Any, arn: str, request: CloudRunRequest, progress: Progress,
                     summary: dict[str, Any]) -> int:
    """Wait for the execution to end, record it in `summary`; 0 when it succeeded."""
    from pipelines import cloud

    result = cloud.wait_for_execution(sm, arn, progress, poll_seconds=request.poll_seconds)
    summary.update(status=result.status, failed_step=result.failed_step, failure_reason=result.failure_reason,
                   steps=[{"name": s["StepName"], "status": s["StepStatus"]} for s in result.steps])
    if result.status != "Succeeded":
        where = f" at step {result.failed_step}" if result.failed_step else ""
        print(f"error: pipeline execution {result.status.lower()}{where}: {result.failure_reason}", file=sys.stderr)
        return 1
    from pipelines.finops.savings import report_spot_savings

    summary.update(report_spot_savings(sm, arn, result.steps, progress))  # printed, priced, recorded on the execution
    for warning in summary["report_warnings"]:
        print(f"warning: {warning}", file=sys.stderr)
    progress.note(f"execution succeeded in {format_seconds(progress.elapsed())}")
    return 0
