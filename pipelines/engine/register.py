"""RegisterModel steps: a new version in the local model registry (LocalRegistry, SQLite)."""

from __future__ import annotations

from typing import Any

from pipelines.engine.expressions import to_text
from pipelines.engine.step_job import StepFailed, StepJob, StepResult
from pipelines.registry_model import PENDING, RegistryError


def _drop_empty(value: Any) -> Any:
    """ModelMetrics as the service stores it: empty sections (Bias: {}) left out."""
    if isinstance(value, dict):
        cleaned = {k: _drop_empty(v) for k, v in value.items()}
        return {k: v for k, v in cleaned.items() if v not in ({}, None, [])}
    return value


def run_register(job: StepJob) -> StepResult:
    arguments = job.arguments
    group = arguments.get("ModelPackageGroupName")
    if not group:
        raise StepFailed("ModelPackageGroupName is missing")
    containers = (arguments.get("InferenceSpecification") or {}).get("Containers") or []
    model_data = str(containers[0].get("ModelDataUrl") or "") if containers else ""
    if model_data and model_data.startswith("s3://") and not job.store.exists(model_data):
        raise StepFailed(f"the model data {model_data} is not in the local object store")
    try:
        version = job.registry.register(
            group,
            status=str(arguments.get("ModelApprovalStatus") or PENDING),
            model_data_url=model_data,
            model_metrics=_drop_empty(arguments.get("ModelMetrics") or {}),
            drift_check_baselines=_drop_empty(arguments.get("DriftCheckBaselines") or {}),
            metadata={str(k): to_text(v) for k, v in (arguments.get("CustomerMetadataProperties") or {}).items()},
            description=str(arguments.get("ModelPackageDescription") or ""),
        )
    except RegistryError as exc:
        raise StepFailed(str(exc)) from None
    properties = {**arguments, "ModelPackageArn": version.arn, "ModelPackageGroupName": group,
                  "ModelPackageVersion": version.version, "ModelApprovalStatus": version.status}
    facts = {"registered": {"group": group, "version": version.version, "status": version.status,
                            "arn": version.arn, "model_data_url": model_data,
                            "metadata": version.metadata}}
    return StepResult(properties, facts)
