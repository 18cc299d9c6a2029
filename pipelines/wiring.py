"""The one contract between the Terraform modules and the Python side.

Terraform's `sagemaker-project` module writes one SSM parameter per key below, named
`/ml-factory/<project>/<stage>/<key>`; the pipeline reads exactly those. The Terraform side
mirrors `WIRING_KEYS` in `infra/modules/sagemaker-project/main.tf` (`local.wiring`), and
`template_tests/test_wiring_contract.py` holds both sides together.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from pipelines.errors import UserError

SSM_ROOT = "ml-factory"
STAGES = ("dev", "staging", "prod")
WRITER_MODULE = "infra/modules/sagemaker-project"


class WiringError(UserError):
    """The infrastructure wiring is missing or malformed; the message names the fix."""


@dataclass(frozen=True)
class WiringKey:
    key: str  # the last path segment of the SSM parameter
    attribute: str  # the Wiring attribute it fills
    is_list: bool  # StringList (comma-separated) rather than String
    description: str


WIRING_KEYS: tuple[WiringKey, ...] = (
    WiringKey("execution-role-arn", "role_arn", False, "SageMaker execution role ARN"),
    WiringKey("artifact-bucket", "artifact_bucket", False, "bucket for step code, models, reports"),
    WiringKey("data-bucket", "data_bucket", False, "bucket holding the team's input data"),
    WiringKey("kms-key-arn", "kms_key_arn", False, "customer-managed KMS key for all artifacts"),
    WiringKey("subnet-ids", "subnet_ids", True, "private subnets for training and processing"),
    WiringKey("security-group-ids", "security_group_ids", True, "security groups for jobs"),
    WiringKey("model-package-group", "model_package_group", False, "Model Registry group name"),
    WiringKey("mlflow-tracking-server-arn", "tracking_server_arn", False,
              "MLflow tracking server (infra/modules/tracking) cloud runs log to; none: a stage without one"),
)
NO_TRACKING_SERVER = "none"  # written by Terraform when the stage has no tracking server (enable_tracking = false)


def ssm_prefix(project: str, stage: str) -> str:
    """`/ml-factory/<project>/<stage>`: the folder holding one stage's wiring."""
    return f"/{SSM_ROOT}/{project}/{stage}"


def parameter_name(project: str, stage: str, key: str) -> str:
    return f"{ssm_prefix(project, stage)}/{key}"


@dataclass(frozen=True)
class Wiring:
    """Infrastructure identifiers for one project stage, as Terraform vended them."""

    role_arn: str
    artifact_bucket: str
    data_bucket: str
    kms_key_arn: str
    subnet_ids: tuple[str, ...]
    security_group_ids: tuple[str, ...]
    model_package_group: str
    tracking_server_arn: str = NO_TRACKING_SERVER
    source: str = "ssm"  # where the values came from: ssm, a file path, or placeholder

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("source")
        data["subnet_ids"] = list(self.subnet_ids)
        data["security_group_ids"] = list(self.security_group_ids)
        return data


def _from_values(values: dict[str, Any], source: str) -> Wiring:
    kwargs: dict[str, Any] = {}
    for spec in WIRING_KEYS:
        value = values[spec.attribute]
        if spec.is_list:
            if isinstance(value, str):
                value = [part.strip() for part in value.split(",") if part.strip()]
            kwargs[spec.attribute] = tuple(str(v) for v in value)
        else:
            kwargs[spec.attribute] = str(value)
    return Wiring(source=source, **kwargs)


def read_wiring(ssm_client: Any, project: str, stage: str) -> Wiring:
    """Read every wiring parameter from SSM; name each missing one and its writer."""
    names = {spec.key: parameter_name(project, stage, spec.key) for spec in WIRING_KEYS}
    found: dict[str, str] = {}
    for chunk_start in range(0, len(names), 10):  # GetParameters takes at most 10 names
        chunk = list(names.values())[chunk_start : chunk_start + 10]
        response = ssm_client.get_parameters(Names=chunk, WithDecryption=True)
        for parameter in response.get("Parameters", []):
            found[parameter["Name"]] = parameter["Value"]
    missing = [name for name in names.values() if name not in found]
    if missing:
        raise WiringError(
            "missing SSM wiring parameter(s): "
            + ", ".join(missing)
            + f". They are written by the Terraform module {WRITER_MODULE} "
            f"(stage '{stage}'): apply infra/ with infra/envs/{stage}.tfvars, "
            "or pass --wiring FILE for an offline run."
        )
    values = {spec.attribute: found[names[spec.key]] for spec in WIRING_KEYS}
    return _from_values(values, source="ssm")


def load_wiring_file(path: Path) -> Wiring:
    """Read wiring from a JSON file whose keys are the SSM keys (e.g. `execution-role-arn`)."""
    try:
        raw = json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise WiringError(f"wiring file {path} does not exist") from None
    except json.JSONDecodeError as exc:
        raise WiringError(f"wiring file {path} is not valid JSON: {exc}") from None
    if not isinstance(raw, dict):
        raise WiringError(f"wiring file {path} must hold a JSON object of SSM keys to values")
    expected = {spec.key for spec in WIRING_KEYS}
    missing = sorted(expected - raw.keys())
    unknown = sorted(raw.keys() - expected)
    if missing or unknown:
        parts = []
        if missing:
            parts.append("missing keys " + ", ".join(missing))
        if unknown:
            parts.append("unknown keys " + ", ".join(unknown))
        raise WiringError(
            f"wiring file {path}: {'; '.join(parts)}. Expected exactly: {', '.join(sorted(expected))}"
        )
    values = {spec.attribute: raw[spec.key] for spec in WIRING_KEYS}
    return _from_values(values, source=str(path))


def offline_wiring(project: str, stage: str, account_id: str, region: str, label: str = "PLACEHOLDER") -> Wiring:
    """Wiring for runs without Terraform, every value marked with `label`.

    The dry run uses the clearly fake PLACEHOLDER values; the local engine uses label `local`
    (buckets in its object store, a role nobody assumes).
    """
    lower = label.lower()
    return Wiring(
        role_arn=f"arn:aws:iam::{account_id}:role/{label}-{project}-{stage}-sagemaker",
        artifact_bucket=f"{lower}-{project}-{stage}-artifacts",
        data_bucket=f"{lower}-{project}-{stage}-data",
        kms_key_arn=f"arn:aws:kms:{region}:{account_id}:key/{label}",
        subnet_ids=(f"subnet-{label}",),
        security_group_ids=(f"sg-{label}",),
        model_package_group=f"{project}-{stage}",
        tracking_server_arn=NO_TRACKING_SERVER,
        source=lower,
    )

