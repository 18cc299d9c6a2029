"""The drift-check baselines of the package a stage serves: what every monitoring mode checks against.

A package registered by the training pipeline carries DriftCheckBaselines.ModelDataQuality (the statistics
and constraints of its QualityCheck step). The portable drift job, the local run and a native Model Monitor
schedule all take these two URIs; a package without them is refused with its name.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pipelines.errors import UserError
from pipelines.registry_model import PackageVersion


@dataclass(frozen=True)
class ServedBaselines:
    package_arn: str
    label: str  # "<group> version <n>", for messages
    statistics_uri: str
    constraints_uri: str
    quality: dict[str, str] = field(default_factory=dict)  # ModelQuality's ModelDataUri and QualityGate defaults


def served_baselines(package: PackageVersion) -> ServedBaselines:
    """The package's ModelDataQuality drift-check baselines; a UserError naming the package without them."""
    quality = package.drift_check_baselines.get("ModelDataQuality") or {}
    uris = [(quality.get(kind) or {}).get("S3Uri") or "" for kind in ("Statistics", "Constraints")]
    label = f"{package.group} version {package.version}"
    if not all(uri.startswith("s3://") for uri in uris):
        raise UserError(f"package {label} ({package.arn}) has no drift-check baselines (ModelDataQuality statistics "
                        "and constraints); deploy a package registered by a run with a QualityCheck step")
    return ServedBaselines(package.arn, label, uris[0], uris[1])
