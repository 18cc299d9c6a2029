"""What a model registry is to us, whichever backend keeps it (SageMaker or the local engine).

Also the baseline bootstrap rule: a model package group with no approved model has no
drift baseline to check against, so the first run must skip the check and register a new
baseline. `pipelines.run` applies it before every run, so nobody edits code for run one. The same
approved model is the champion a new model must beat (`approved_model_parameters`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from pipelines.definition import PARAM_CHAMPION_MODEL, PARAM_REGISTER_BASELINE, PARAM_SKIP_CHECK
from pipelines.errors import UserError

APPROVED = "Approved"
REJECTED = "Rejected"
PENDING = "PendingManualApproval"
STATUSES = (PENDING, APPROVED, REJECTED)
REGISTERED = "Registered"  # history entry of a cloud version's creation (not a ModelApprovalStatus)


@dataclass(frozen=True)
class PackageVersion:
    """One registered model version."""

    group: str
    version: int
    arn: str
    status: str
    created: str
    approval_description: str = ""
    model_data_url: str = ""
    model_metrics: dict[str, Any] = field(default_factory=dict)
    drift_check_baselines: dict[str, Any] = field(default_factory=dict)
    metadata: dict[str, str] = field(default_factory=dict)
    inference_specification: dict[str, Any] = field(default_factory=dict)  # image, ModelDataUrl, Environment

    def to_dict(self) -> dict[str, Any]:
        return {
            "group": self.group, "version": self.version, "arn": self.arn, "status": self.status,
            "created": self.created, "approval_description": self.approval_description,
            "model_data_url": self.model_data_url, "model_metrics": self.model_metrics,
            "drift_check_baselines": self.drift_check_baselines, "metadata": self.metadata,
            "inference_specification": self.inference_specification,
        }


@dataclass(frozen=True)
class StatusChange:
    """One entry of a version's status history: when (UTC, ISO 8601), the status, who set it and why."""

    when: str
    status: str
    who: str
    reason: str

    def to_dict(self) -> dict[str, str]:
        return {"when": self.when, "status": self.status, "who": self.who, "reason": self.reason}


class Registry(Protocol):
    """The operations the CLIs and the baseline bootstrap need from a registry backend."""

    where: str  # shown to the user, e.g. "SageMaker Model Registry (eu-west-1)"

    def list_versions(self, group: str) -> list[PackageVersion]:
        """Every version in the group, newest first (empty when the group has none)."""
        ...

    def set_status(self, package: PackageVersion, status: str, reason: str) -> PackageVersion:
        """Approve or reject one version (as listed by this registry), recording the reason and, in the
        version's history, who changed it and when; earlier history entries are kept."""
        ...

    def history(self, package: PackageVersion) -> list[StatusChange]:
        """The version's status history, oldest first."""
        ...


class RegistryError(UserError):
    """A registry request that cannot be served; the message names the fix."""


def latest_approved(registry: Registry, group: str) -> PackageVersion | None:
    return next((v for v in registry.list_versions(group) if v.status == APPROVED), None)


def resolve_version(registry: Registry, group: str, selector: str) -> PackageVersion:
    """`latest` or a version number, as the user typed it."""
    versions = registry.list_versions(group)
    if not versions:
        raise RegistryError(f"model package group {group!r} has no versions in {registry.where}; "
                            "run the pipeline first (python -m pipelines.run)")
    if selector == "latest":
        return versions[0]
    try:
        wanted = int(selector)
    except ValueError:
        raise RegistryError(f"version {selector!r} is not a number or 'latest'") from None
    for version in versions:
        if version.version == wanted:
            return version
    known = ", ".join(str(v.version) for v in versions[:10])
    raise RegistryError(f"model package group {group!r} has no version {wanted}; known versions: {known}")


def change_status(registry: Registry, group: str, selector: str, status: str, reason: str) -> PackageVersion:
    if status not in (APPROVED, REJECTED):
        raise RegistryError(f"status must be {APPROVED} or {REJECTED}, got {status!r}")
    if not reason.strip():
        raise RegistryError("a reason is required: pass --reason \"why\" (it is recorded as ApprovalDescription)")
    version = resolve_version(registry, group, selector)
    return registry.set_status(version, status, reason.strip())


def approved_model_parameters(registry: Registry, group: str) -> tuple[dict[str, bool | str], str]:
    """Pipeline parameters that follow from the latest approved model, and a sentence saying why:
    the data-quality step's baseline, and the champion the new model must beat."""
    approved = latest_approved(registry, group)
    if approved is None:
        return ({PARAM_SKIP_CHECK: True, PARAM_REGISTER_BASELINE: True},
                f"no approved model in {group!r} yet: skipping the drift check, registering a new baseline, "
                "no champion to beat")
    parameters: dict[str, bool | str] = {PARAM_SKIP_CHECK: False, PARAM_REGISTER_BASELINE: False}
    if approved.model_data_url:
        parameters[PARAM_CHAMPION_MODEL] = approved.model_data_url
    return (parameters, f"checking drift against the baseline of approved version {approved.version} of {group!r}; "
                        f"it is the champion to beat")
