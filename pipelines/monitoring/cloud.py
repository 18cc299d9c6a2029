"""Cloud monitoring of a stage's endpoint, set up through the stage's deployer role (as deploy is):

  publish_pipeline   portable mode: upload the step code and upsert `<project>-monitor-<stage>` with its
                     baseline parameters defaulting to the served package's (the monitoring module's schedule
                     starts it without parameters)
  schedule_native    native mode: the Model Monitor DataQuality schedule of pipelines/monitoring/native.py,
                     reading first what exists, so a re-run with the same package and settings changes nothing

Both find the served package as the smoke test does (the endpoint's ModelPackageArn tag, the registry's
record) and refuse a package without DriftCheckBaselines, naming it, before anything is changed.
"""

from __future__ import annotations

import dataclasses
import json
import sys
from typing import Any

from pipelines.config import Config
from pipelines.monitoring import names
from pipelines.monitoring.baselines import ServedBaselines, served_baselines
from pipelines.monitoring.ground_truth import quality_parameters
from pipelines.monitoring.native import ScheduleState, schedule_plan, wanted_job_definition
from pipelines.serving.plan import ApiCall, DeployTarget


def _progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _served(config: Config, session: Any) -> tuple[Any, DeployTarget, ServedBaselines]:
    """(stage access, the deploy target of the served package, its baselines)."""
    from pipelines.serving.cloud import served_package, stage_access
    from pipelines.wiring import read_wiring

    access = stage_access(session, config)
    package = served_package(session, config, access)
    target = DeployTarget(config, read_wiring(access.ssm, config.project, config.stage), package)
    served = served_baselines(package)
    if config.monitoring.model_quality:
        served = dataclasses.replace(served, quality=quality_parameters(package, served.label, config))
    return access, target, served


def publish_pipeline(config: Config, session: Any, dry_run: bool = False) -> str:
    """Upsert the stage's monitoring pipeline; its definition on --dry-run, else one line for stdout."""
    from pipelines import cloud
    from pipelines.code_bundle import bundle_seedcode
    from pipelines.monitoring.definition import build_monitoring_pipeline

    access, target, served = _served(config, session)
    bundle = bundle_seedcode()
    definition = build_monitoring_pipeline(config, target.wiring, bundle, served).definition
    name = names.monitor_pipeline_name(config.project, config.stage)
    if dry_run:
        _progress(f"dry run: {name} checking against {served.label}; nothing was changed")
        return definition
    wiring = target.wiring
    written = cloud.upload_code(access.s3, bundle, wiring.artifact_bucket, config.project, wiring.kms_key_arn)
    _progress(f"step code {bundle.digest}: " + (f"uploaded {written} objects" if written else "already uploaded"))
    outcome = cloud.upsert_pipeline(access.sagemaker, name, definition, wiring.role_arn, config.tags,
                                    f"{config.project_name} ({config.stage}): drift of {target.endpoint}, "
                                    "built by ML Factory")
    return f"{name}: {outcome} (baselines of {served.label})"


def analyzer_image(region: str) -> str:
    """Model Monitor's analyzer image in the region (the SDK's image table)."""
    from pipelines.sdk import load_sdk

    load_sdk(region)
    from sagemaker.core import image_uris

    return str(image_uris.retrieve("model-monitor", region))


def read_schedule_state(sagemaker: Any, schedule: str, wanted: str) -> ScheduleState:
    """The schedule's job definition and expression, and whether `wanted` exists (Describe* first: re-runs
    change nothing)."""
    from botocore.exceptions import ClientError

    from pipelines.aws import client_error_message
    from pipelines.serving.cloud import DeployFailed

    def describe(operation: Any, **params: Any) -> dict[str, Any] | None:
        try:
            return operation(**params)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("ResourceNotFound", "ValidationException"):
                return None
            raise DeployFailed(f"{operation.__name__} failed: {client_error_message(exc)}") from None

    current = describe(sagemaker.describe_monitoring_schedule, MonitoringScheduleName=schedule)
    exists = describe(sagemaker.describe_data_quality_job_definition, JobDefinitionName=wanted) is not None
    if current is None:
        return ScheduleState(wanted_exists=exists)
    config = current["MonitoringScheduleConfig"]
    return ScheduleState(config.get("MonitoringJobDefinitionName"),
                         (config.get("ScheduleConfig") or {}).get("ScheduleExpression"), exists)


def schedule_native(config: Config, session: Any, dry_run: bool = False) -> str:
    """Create or update the stage's DataQuality schedule; the plan's calls on --dry-run, else one line."""
    access, target, served = _served(config, session)
    return apply_schedule(access.sagemaker, target, served, analyzer_image(config.aws_region), dry_run)


def apply_schedule(sagemaker: Any, target: DeployTarget, served: ServedBaselines, image: str,
                   dry_run: bool = False) -> str:
    """Read what exists, then make the schedule check `served`: the calls as JSON lines on dry_run."""
    from botocore import xform_name

    from pipelines.serving.cloud import _call

    config = target.config
    schedule = names.schedule_name(config.project, config.stage)
    state = read_schedule_state(sagemaker, schedule, wanted_job_definition(target, served, image))
    plan = schedule_plan(target, served, image, state)
    if dry_run:
        _progress(f"dry run: {len(plan)} call(s) for {schedule} on {target.endpoint}; nothing was changed")
        return "\n".join(json.dumps(call.to_dict(), sort_keys=True) for call in plan)
    for call in plan:
        _progress(f"{call.service}.{call.operation} {_named(call)}")
        _call(getattr(sagemaker, xform_name(call.operation)), **call.params)
    verdict = "already checks" if not plan else "created, checking" if state.job_definition is None else \
        "updated, checking"
    return f"{schedule}: {verdict} {target.endpoint} against {served.label} ({config.monitoring.schedule_expression})"


def setup_monitoring(config: Config, session: Any, dry_run: bool = False) -> str:
    """The stage's monitoring in its configured mode (what a deploy does with monitoring.on_deploy)."""
    setup = schedule_native if config.monitoring.mode == "native" else publish_pipeline
    return setup(config, session, dry_run)


def _named(call: ApiCall) -> str:
    return str(call.params.get("MonitoringScheduleName") or call.params.get("JobDefinitionName", ""))
