"""`python -m pipelines.registry list | approve | reject`: the human approval gate.

Approving sets ModelApprovalStatus=Approved with the reason in ApprovalDescription; the
promotion stage reacts to Approved only. `--local` works on the local engine's registry.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from pipelines.aws import aws_session, client_error_message
from pipelines.config import load_config
from pipelines.definition import METADATA_METRIC
from pipelines.errors import run_cli
from pipelines.registry_model import APPROVED, REJECTED, PackageVersion, Registry, RegistryError, change_status
from pipelines.wiring import offline_wiring, read_wiring


class CloudRegistry:
    """The SageMaker Model Registry through boto3."""

    def __init__(self, sagemaker_client: Any):
        self.client = sagemaker_client
        self.where = f"SageMaker Model Registry ({sagemaker_client.meta.region_name})"

    def _call(self, operation: str, **kwargs: Any) -> Any:
        from botocore.exceptions import ClientError

        try:
            return getattr(self.client, operation)(**kwargs)
        except ClientError as exc:
            raise RegistryError(f"{operation} failed: {client_error_message(exc)}") from None

    def _describe(self, arn: str) -> PackageVersion:
        d = self._call("describe_model_package", ModelPackageName=arn)
        containers = d.get("InferenceSpecification", {}).get("Containers", [{}])
        return PackageVersion(
            group=d["ModelPackageGroupName"], version=d["ModelPackageVersion"], arn=d["ModelPackageArn"],
            status=d["ModelApprovalStatus"], created=str(d.get("CreationTime", "")),
            approval_description=d.get("ApprovalDescription", ""),
            model_data_url=containers[0].get("ModelDataUrl", "") if containers else "",
            model_metrics=d.get("ModelMetrics", {}), drift_check_baselines=d.get("DriftCheckBaselines", {}),
            metadata=d.get("CustomerMetadataProperties", {}),
        )

    def list_versions(self, group: str) -> list[PackageVersion]:
        summaries: list[dict[str, Any]] = []
        token: str | None = None
        while True:
            kwargs: dict[str, Any] = {"ModelPackageGroupName": group, "SortBy": "CreationTime",
                                      "SortOrder": "Descending", "MaxResults": 100}
            if token:
                kwargs["NextToken"] = token
            page = self._call("list_model_packages", **kwargs)
            summaries += page.get("ModelPackageSummaryList", [])
            token = page.get("NextToken")
            if not token:
                break
        versions = [self._describe(s["ModelPackageArn"]) for s in summaries]
        return sorted(versions, key=lambda v: v.version, reverse=True)

    def set_status(self, package: PackageVersion, status: str, reason: str) -> PackageVersion:
        self._call("update_model_package", ModelPackageArn=package.arn, ModelApprovalStatus=status,
                   ApprovalDescription=reason)
        return self._describe(package.arn)


def open_registry(stage: str, pyproject: Path, local: bool, state_dir: Path | None = None) -> tuple[Registry, str]:
    """The registry backend and the model package group for a project stage."""
    config = load_config(stage, pyproject)
    if local:
        from pipelines.engine.registry import LocalRegistry
        from pipelines.engine.state import DEFAULT_STATE_DIR, REGISTRY_FILE

        state = state_dir or pyproject.resolve().parent / DEFAULT_STATE_DIR
        group = offline_wiring(config.project, stage, config.account_id, config.aws_region, "local").model_package_group
        return LocalRegistry(state / REGISTRY_FILE, region=config.aws_region, account_id=config.account_id), group
    session = aws_session(config.aws_region)
    wiring = read_wiring(session.client("ssm"), config.project, stage)
    return CloudRegistry(session.client("sagemaker")), wiring.model_package_group


def _format_table(versions: list[PackageVersion]) -> str:
    lines = [f"{'VERSION':>7}  {'STATUS':<22} {'CREATED':<25} {'METRIC':<16} REASON"]
    for v in versions:
        metric = v.metadata.get(METADATA_METRIC, "")
        lines.append(f"{v.version:>7}  {v.status:<22} {v.created[:25]:<25} {metric[:16]:<16} "
                     f"{v.approval_description}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pipelines.registry", description=__doc__.splitlines()[0])
    parser.add_argument("--stage", default="dev", choices=("dev", "staging", "prod"), help="project stage")
    parser.add_argument("--config", type=Path, default=Path("pyproject.toml"), help="team pyproject.toml")
    parser.add_argument("--local", action="store_true", help="use the local engine's registry (.ml-factory/)")
    parser.add_argument("--state-dir", type=Path, help="local engine state folder, as given to "
                        "`pipelines.run --local --state-dir` (default: .ml-factory beside --config)")
    commands = parser.add_subparsers(dest="command", required=True)
    listing = commands.add_parser("list", help="list model versions, newest first")
    listing.add_argument("--json", action="store_true", help="print JSON instead of a table")
    for name, help_text in (("approve", "approve a version"), ("reject", "reject a version")):
        sub = commands.add_parser(name, help=help_text)
        sub.add_argument("version", help="a version number, or 'latest'")
        sub.add_argument("--reason", required=True, help="why; recorded as the package's ApprovalDescription")
    args = parser.parse_args(argv)

    registry, group = open_registry(args.stage, args.config, args.local, args.state_dir)
    if args.command == "list":
        versions = registry.list_versions(group)
        if args.json:
            print(json.dumps([v.to_dict() for v in versions], indent=2, default=str))
        elif not versions:
            print(f"no model versions in {group!r} ({registry.where})", file=sys.stderr)
        else:
            print(_format_table(versions))
        return 0
    status = APPROVED if args.command == "approve" else REJECTED
    changed = change_status(registry, group, args.version, status, args.reason)
    print(f"{group} version {changed.version}: {changed.status} ({changed.approval_description})")
    return 0


if __name__ == "__main__":
    sys.exit(run_cli(main))
