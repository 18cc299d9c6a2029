"""Publish a template release for Studio: `python -m hooks.publish_studio_template {s3,service-catalog} ...`.

Uploads what `python -m hooks.bundle OUT_DIR` wrote to the studio-launch module's bucket under
`releases/<version>/`, then, per route:
- `s3`: the template object carries `sagemaker:studio-visibility=true`, so Studio lists it. With
  `--create-project NAME` it also launches a project the way Studio does: CreateProject with
  TemplateProviders (the template URL, the launch role, the stack parameters from `--param input=value`).
  Terraform provider 6.25's aws_sagemaker_project knows only Service Catalog, hence this command.
- `service-catalog`: checks the product the module made (in the portfolio, tagged for Studio, shared with
  at least one principal) and adds this release as a new product version (provisioning artifact).
User errors are one `error:` line and exit 2.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hooks.bundle import LAUNCH_TEMPLATE, SOURCE_BUNDLE
from hooks.studio_template import launch_template, parameter_accepts, stack_parameter_names

VISIBILITY_TAG = ("sagemaker:studio-visibility", "true")
TEMPLATE_NAME = "ml-factory"


class PublishError(Exception):
    """A problem the user fixes; the message says what and how."""


@dataclass(frozen=True)
class PublishRequest:
    route: str  # "s3" or "service-catalog"
    bucket: str
    bundle_dir: Path
    version: str
    region: str
    launch_role_arn: str = ""
    project_name: str = ""  # s3 route: also create this project
    parameters: dict[str, str] = field(default_factory=dict)  # template input -> value
    product_id: str = ""
    portfolio_id: str = ""


@dataclass(frozen=True)
class Clients:
    s3: Any
    sagemaker: Any = None
    servicecatalog: Any = None


def template_url(request: PublishRequest) -> str:
    return f"https://{request.bucket}.s3.{request.region}.amazonaws.com/releases/{request.version}/{LAUNCH_TEMPLATE}"


def upload(request: PublishRequest, s3: Any) -> str:
    """Put the release's template and source bundle; the template URL."""
    for name in (LAUNCH_TEMPLATE, SOURCE_BUNDLE):
        if not (request.bundle_dir / name).is_file():
            raise PublishError(f"{request.bundle_dir / name} is missing; run `python -m hooks.bundle "
                               f"{request.bundle_dir}` first")
    for name in (LAUNCH_TEMPLATE, SOURCE_BUNDLE):
        extra = {"Tagging": "=".join(VISIBILITY_TAG)} if name == LAUNCH_TEMPLATE and request.route == "s3" else {}
        s3.put_object(Bucket=request.bucket, Key=f"releases/{request.version}/{name}",
                      Body=(request.bundle_dir / name).read_bytes(), **extra)
    return template_url(request)


def stack_parameters(inputs: dict[str, str]) -> list[dict[str, str]]:
    """CreateProject's Parameters for template inputs, each checked against its stack parameter first."""
    names = stack_parameter_names()
    specs = launch_template(Path(__file__).resolve().parent.parent)["Parameters"]
    parameters = []
    for field_name, value in sorted(inputs.items()):
        if field_name == "project" or field_name not in names:
            raise PublishError(f"--param {field_name}: not a template input; use one of "
                               f"{', '.join(n for n in names if n != 'project')} (the project is --create-project)")
        spec = specs[names[field_name]]
        if not parameter_accepts(spec, value):
            allowed = spec.get("ConstraintDescription") or f"must be one of {', '.join(spec['AllowedValues'])}"
            raise PublishError(f"--param {field_name}={value!r}: {allowed}")
        parameters.append({"Key": names[field_name], "Value": value})
    return parameters


def create_project(request: PublishRequest, sagemaker: Any, url: str) -> str:
    if not request.launch_role_arn:
        raise PublishError("--create-project needs --launch-role-arn (studio-launch output launch_role_arn)")
    provider = {"TemplateName": TEMPLATE_NAME, "TemplateURL": url, "RoleARN": request.launch_role_arn,
                "Parameters": stack_parameters(request.parameters)}
    created = sagemaker.create_project(ProjectName=request.project_name, TemplateProviders=[
        {"CfnTemplateProvider": provider}], ProjectDescription=f"ML Factory project (template {request.version})")
    return created["ProjectArn"]


def check_product(request: PublishRequest, catalog: Any) -> None:
    """The product the module made is in the portfolio, visible in Studio and shared with someone."""
    portfolios = catalog.list_portfolios_for_product(ProductId=request.product_id)["PortfolioDetails"]
    if request.portfolio_id not in [p["Id"] for p in portfolios]:
        raise PublishError(f"product {request.product_id} is not in portfolio {request.portfolio_id}; "
                           "apply infra/modules/studio-launch with launch_route = \"service-catalog\"")
    tags = catalog.describe_product_as_admin(Id=request.product_id).get("Tags", [])
    if {"Key": VISIBILITY_TAG[0], "Value": VISIBILITY_TAG[1]} not in tags:
        raise PublishError(f"product {request.product_id} lacks the tag {'='.join(VISIBILITY_TAG)}, so Studio "
                           "does not list it; apply infra/modules/studio-launch")
    if not catalog.list_principals_for_portfolio(PortfolioId=request.portfolio_id)["Principals"]:
        raise PublishError(f"portfolio {request.portfolio_id} is shared with no principal; set "
                           "studio_principal_arns (the Studio users' roles) in infra/modules/studio-launch")


def add_product_version(request: PublishRequest, catalog: Any, url: str) -> str:
    """A provisioning artifact named after the release (an existing one is kept: publishing is idempotent)."""
    existing = catalog.list_provisioning_artifacts(ProductId=request.product_id)["ProvisioningArtifactDetails"]
    for artifact in existing:
        if artifact["Name"] == request.version:
            return artifact["Id"]
    created = catalog.create_provisioning_artifact(
        ProductId=request.product_id, IdempotencyToken=request.version[:128],
        Parameters={"Name": request.version, "Description": f"ML Factory template {request.version}",
                    "Info": {"LoadTemplateFromURL": url}, "Type": "CLOUD_FORMATION_TEMPLATE"})
    return created["ProvisioningArtifactDetail"]["Id"]


def publish(request: PublishRequest, clients: Clients) -> list[str]:
    """Every step of a publication; the lines to print."""
    if request.route == "service-catalog" and not (request.product_id and request.portfolio_id):
        raise PublishError("the service-catalog route needs --product-id and --portfolio-id (studio-launch outputs)")
    if request.route == "s3" and request.project_name:
        stack_parameters(request.parameters)  # a bad --param stops the command before anything is uploaded
    url = upload(request, clients.s3)
    lines = [f"published {url}"]
    if request.route == "s3" and request.project_name:
        lines.append(f"created project {create_project(request, clients.sagemaker, url)}")
    elif request.route == "service-catalog":
        check_product(request, clients.servicecatalog)
        version = add_product_version(request, clients.servicecatalog, url)
        lines.append(f"product {request.product_id} version {version}")
    return lines


def _parse(argv: list[str] | None) -> PublishRequest:
    parser = argparse.ArgumentParser(prog="python -m hooks.publish_studio_template",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("route", choices=("s3", "service-catalog"))
    parser.add_argument("--bucket", required=True, help="studio-launch output template_bucket_name")
    parser.add_argument("--bundle-dir", type=Path, required=True, help="what `python -m hooks.bundle` wrote")
    parser.add_argument("--version", required=True, help="the release, as studio-launch's template_version")
    parser.add_argument("--region", required=True)
    parser.add_argument("--launch-role-arn", default="")
    parser.add_argument("--create-project", default="", metavar="NAME", help="s3 route: also launch a project")
    parser.add_argument("--param", action="append", default=[], metavar="INPUT=VALUE", help="a template input")
    parser.add_argument("--product-id", default="")
    parser.add_argument("--portfolio-id", default="")
    args = parser.parse_args(argv)
    bad = [p for p in args.param if "=" not in p]
    if bad:
        parser.error(f"--param {bad[0]!r}: write INPUT=VALUE, e.g. --param team=fraud")
    return PublishRequest(args.route, args.bucket, args.bundle_dir, args.version, args.region, args.launch_role_arn,
                          args.create_project, dict(p.split("=", 1) for p in args.param), args.product_id,
                          args.portfolio_id)


def main(argv: list[str] | None = None) -> int:
    request = _parse(argv)
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    session = boto3.session.Session(region_name=request.region)
    clients = Clients(session.client("s3"), session.client("sagemaker"), session.client("servicecatalog"))
    try:
        for line in publish(request, clients):
            print(line)
    except PublishError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except (BotoCoreError, ClientError) as exc:
        print(f"error: {exc}; check your AWS credentials and the studio-launch outputs", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
