"""RegisterModel steps: a new version in the local model registry (LocalRegistry, SQLite).

The version's metadata is the step's CustomerMetadataProperties completed with the run's lineage
(pipelines.lineage) where the definition leaves a key out. A model whose data, code and config
hashes equal an existing version's is not registered again: the step succeeds, points at that
version and says so.
"""

from __future__ import annotations

from typing import Any

from pipelines.engine.expressions import to_text
from pipelines.engine.registry import NewVersion
from pipelines.engine.step_job import StepFailed, StepJob, StepResult
from pipelines.lineage import UNKNOWN
from pipelines.registry_model import PENDING, PackageVersion, RegistryError


def _drop_empty(value: Any) -> Any:
    """ModelMetrics as the service stores it: empty sections (Bias: {}) left out."""
    if isinstance(value, dict):
        cleaned = {k: _drop_empty(v) for k, v in value.items()}
        return {k: v for k, v in cleaned.items() if v not in ({}, None, [])}
    return value


def version_metadata(job: StepJob) -> dict[str, str]:
    """CustomerMetadataProperties as resolved, with the run's lineage where the definition sets none."""
    metadata = {str(k): to_text(v) for k, v in (job.arguments.get("CustomerMetadataProperties") or {}).items()}
    lineage = job.settings.lineage.metadata() if job.settings.lineage else {}
    missing = {k: v for k, v in lineage.items() if metadata.get(k, UNKNOWN) in ("", UNKNOWN)}
    return {**metadata, **missing}


def unchanged_message(version: PackageVersion) -> str:
    return (f"model unchanged: same data, code and config as version {version.version} (status {version.status}); "
            "not registered again")


def run_register(job: StepJob) -> StepResult:
    arguments = job.arguments
    group = arguments.get("ModelPackageGroupName")
    if not group:
        raise StepFailed("ModelPackageGroupName is missing")
    containers = (arguments.get("InferenceSpecification") or {}).get("Containers") or []
    model_data = str(containers[0].get("ModelDataUrl") or "") if containers else ""
    if model_data and model_data.startswith("s3://") and not job.store.exists(model_data):
        raise StepFailed(f"the model data {model_data} is not in the local object store")
    new = NewVersion(
        status=str(arguments.get("ModelApprovalStatus") or PENDING),
        model_data_url=model_data,
        model_metrics=_drop_empty(arguments.get("ModelMetrics") or {}),
        drift_check_baselines=_drop_empty(arguments.get("DriftCheckBaselines") or {}),
        metadata=version_metadata(job),
        description=str(arguments.get("ModelPackageDescription") or ""),
        inference_specification=arguments.get("InferenceSpecification") or {},
        reason=f"registered by pipeline execution {job.execution.execution_id}",
    )
    try:
        registration = job.registry.add_version(group, new, unless_same_model=True)
    except RegistryError as exc:
        raise StepFailed(str(exc)) from None
    version = registration.version
    properties = {**arguments, "ModelPackageArn": version.arn, "ModelPackageGroupName": group,
                  "ModelPackageVersion": version.version, "ModelApprovalStatus": version.status}
    facts = {"group": group, "version": version.version, "status": version.status, "arn": version.arn,
             "model_data_url": version.model_data_url, "metadata": version.metadata}
    if registration.created:
        return StepResult(properties, {"registered": facts})
    message = unchanged_message(version)
    job.notify(message, important=True)
    return StepResult(properties, {"unchanged": {**facts, "message": message}})
