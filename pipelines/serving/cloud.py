"""The cloud backend of `python -m pipelines.deploy`: read the registry and the stage, execute the plan.

The caller's credentials (CodeBuild's role, or a person's) read the registry of the stage that
runs the pipeline (names.REGISTRY_STAGE). Everything in the target stage goes through that stage's
deployer role (names.deployer_role_arn), assumed with STS. Prod only takes the package that passed
`--smoke-test` on staging: the smoke test tags the staging endpoint with it (SmokeTestedPackageArn).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pipelines.aws import client_error_message
from pipelines.config import Config
from pipelines.errors import UserError
from pipelines.registry_cloud import CloudRegistry
from pipelines.registry_model import APPROVED, PackageVersion
from pipelines.serving import names
from pipelines.serving.packages import DeployRefused, select_package
from pipelines.serving.plan import (
    ApiCall,
    DeployTarget,
    EndpointState,
    build_plan,
    config_name,
    model_name,
    previous_config,
    rollback_plan,
)
from pipelines.wiring import read_wiring

BUSY_STATUSES = ("Creating", "Updating", "SystemUpdating", "RollingBack", "Deleting")
WAIT_DELAY_SECONDS = 30
WAIT_MAX_ATTEMPTS = 120  # an hour: a blue/green update bakes each traffic step


class DeployFailed(Exception):
    """The deploy was made but did not end where it should (rolled back, failed); exit code 1."""


@dataclass(frozen=True)
class StageAccess:
    """Clients in one stage's account, through its deployer role."""

    sagemaker: Any
    autoscaling: Any
    ssm: Any
    runtime: Any
    s3: Any = None  # the stage's artifact bucket (the monitoring pipeline's step code)

    def client(self, service: str) -> Any:
        return {"sagemaker": self.sagemaker, "application-autoscaling": self.autoscaling}[service]


def _progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _call(operation: Callable[..., Any], **params: Any) -> Any:
    from botocore.exceptions import ClientError

    try:
        return operation(**params)
    except ClientError as exc:
        raise DeployFailed(f"{operation.__name__} failed: {client_error_message(exc)}") from None


def stage_access(session: Any, config: Config) -> StageAccess:
    """Assume the stage's deployer role; clients with its credentials."""
    import boto3
    from botocore.exceptions import ClientError

    role = names.deployer_role_arn(config.project, config.stage, config.account_id)
    try:
        credentials = session.client("sts").assume_role(
            RoleArn=role, RoleSessionName=f"ml-factory-deploy-{config.stage}")["Credentials"]
    except ClientError as exc:
        raise UserError(f"cannot assume the {config.stage} deployer role {role}: {client_error_message(exc)}; "
                        "it is created by the deploy-pipeline Terraform module of that stage") from None
    assumed = boto3.Session(aws_access_key_id=credentials["AccessKeyId"],
                            aws_secret_access_key=credentials["SecretAccessKey"],
                            aws_session_token=credentials["SessionToken"], region_name=config.aws_region)
    return StageAccess(assumed.client("sagemaker"), assumed.client("application-autoscaling"), assumed.client("ssm"),
                       assumed.client("sagemaker-runtime"), assumed.client("s3"))


def registry_versions(session: Any, config: Config) -> tuple[list[PackageVersion], str, str]:
    """(versions newest first, group, where) of the registry stage's model package group."""
    wiring = read_wiring(session.client("ssm"), config.project, names.REGISTRY_STAGE)
    registry = CloudRegistry(session.client("sagemaker"))
    return registry.list_versions(wiring.model_package_group), wiring.model_package_group, registry.where


def _exists(describe: Callable[..., Any], **params: Any) -> bool:
    from botocore.exceptions import ClientError

    try:
        describe(**params)
    except ClientError:
        return False
    return True


def endpoint_description(sagemaker: Any, endpoint: str) -> dict[str, Any] | None:
    from botocore.exceptions import ClientError

    try:
        return sagemaker.describe_endpoint(EndpointName=endpoint)
    except ClientError as exc:
        if "Could not find" in client_error_message(exc) or "not found" in client_error_message(exc).lower():
            return None
        raise DeployFailed(f"DescribeEndpoint failed: {client_error_message(exc)}") from None


def endpoint_configs(sagemaker: Any, config: Config) -> tuple[str, ...]:
    """The endpoint's configs (named by convention), oldest first."""
    prefix = names.version_prefix(config.project, config.stage)
    found: list[str] = []
    kwargs: dict[str, Any] = {"NameContains": prefix, "SortBy": "CreationTime", "SortOrder": "Ascending",
                              "MaxResults": 100}
    while True:
        page = _call(sagemaker.list_endpoint_configs, **kwargs)
        found += [c["EndpointConfigName"] for c in page.get("EndpointConfigs", [])
                  if c["EndpointConfigName"].startswith(prefix)]
        if not page.get("NextToken"):
            return tuple(found)
        kwargs["NextToken"] = page["NextToken"]


def read_state(access: StageAccess, target: DeployTarget) -> EndpointState:
    sagemaker = access.sagemaker
    described = endpoint_description(sagemaker, target.endpoint)
    if described and described["EndpointStatus"] in BUSY_STATUSES:
        raise DeployRefused(f"endpoint {target.endpoint} is {described['EndpointStatus']}; deploy again once it is "
                            "InService")
    return EndpointState(
        current_config=described["EndpointConfigName"] if described else None,
        model_exists=_exists(sagemaker.describe_model, ModelName=model_name(target)),
        config_exists=_exists(sagemaker.describe_endpoint_config, EndpointConfigName=config_name(target)),
        configs=endpoint_configs(sagemaker, target.config))


def print_plan(plan: list[ApiCall]) -> None:
    for call in plan:
        print(json.dumps(call.to_dict(), sort_keys=True))


def execute(access: StageAccess, target: DeployTarget, plan: list[ApiCall]) -> None:
    """Make the calls in order; after the endpoint call, wait for InService and check the config held."""
    from botocore import xform_name

    for call in plan:
        named = next((call.params[k] for k in ("ModelName", "EndpointConfigName", "PolicyName")
                      if k in call.params), "")
        _progress(f"{call.service}.{call.operation} {named}".rstrip())
        _call(getattr(access.client(call.service), xform_name(call.operation)), **call.params)
        if call.operation in ("CreateEndpoint", "UpdateEndpoint"):
            wait_in_service(access.sagemaker, target.endpoint, call.params["EndpointConfigName"])


def wait_in_service(sagemaker: Any, endpoint: str, expected_config: str) -> None:
    from botocore.exceptions import WaiterError

    _progress(f"waiting for {endpoint} to be InService (blue/green traffic shifting bakes each step)")
    try:
        sagemaker.get_waiter("endpoint_in_service").wait(
            EndpointName=endpoint, WaiterConfig={"Delay": WAIT_DELAY_SECONDS, "MaxAttempts": WAIT_MAX_ATTEMPTS})
    except WaiterError as exc:
        reason = (exc.last_response or {}).get("FailureReason", str(exc))
        raise DeployFailed(f"endpoint {endpoint} did not reach InService: {reason}") from None
    current = sagemaker.describe_endpoint(EndpointName=endpoint)["EndpointConfigName"]
    if current != expected_config:
        raise DeployFailed(f"endpoint {endpoint} rolled back to {current} (a rollback alarm fired during the "
                           f"update to {expected_config})")


def endpoint_tags(sagemaker: Any, arn: str) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in _call(sagemaker.list_tags, ResourceArn=arn).get("Tags", [])}


def check_tested_in_staging(session: Any, staging: Config, package: PackageVersion) -> None:
    """Prod takes only the package that passed the smoke test on staging."""
    access = stage_access(session, staging)
    endpoint = names.endpoint_name(staging.project, staging.stage)
    arn = names.sagemaker_arn(staging.aws_region, staging.account_id, "endpoint", endpoint)
    tested = endpoint_tags(access.sagemaker, arn).get(names.TAG_SMOKE_TESTED) if endpoint_description(
        access.sagemaker, endpoint) else None
    if tested != package.arn:
        raise DeployRefused(f"{package.arn} has not passed the smoke test on staging ({endpoint} records "
                            f"{tested or 'none'}); deploy it to staging and run --smoke-test there first")


def package_from_tags(tags: dict[str, str], group: str) -> PackageVersion:
    """The package a config or endpoint serves, from the tags every deployed resource carries."""
    if names.TAG_PACKAGE_ARN not in tags:
        raise DeployRefused(f"the resource carries no {names.TAG_PACKAGE_ARN} tag (not deployed by pipelines.deploy)")
    return PackageVersion(group=group, version=int(tags.get(names.TAG_PACKAGE_VERSION, "0")),
                          arn=tags[names.TAG_PACKAGE_ARN], status=APPROVED, created="")


@dataclass(frozen=True)
class CloudDeployRequest:
    """What the user asked of a cloud deploy (everything but the team config)."""

    package_arn: str | None = None
    dry_run: bool = False
    staging: Config | None = None  # the staging config, for prod's tested-in-staging check


def runtime_url(config: Config) -> str:
    endpoint = names.endpoint_name(config.project, config.stage)
    return f"https://runtime.sagemaker.{config.aws_region}.amazonaws.com/endpoints/{endpoint}/invocations"


def deploy_cloud(config: Config, request: CloudDeployRequest, session: Any) -> str:
    """Make the stage serve the chosen Approved package; the endpoint's invocation URL."""
    versions, group, where = registry_versions(session, config)
    package = select_package(versions, group, request.package_arn, where)
    if config.stage == "prod":
        if request.staging is None:
            raise UserError("a prod deploy needs the staging config to check what staging tested")
        check_tested_in_staging(session, request.staging, package)
    access = stage_access(session, config)
    target = DeployTarget(config, read_wiring(access.ssm, config.project, config.stage), package)
    plan = build_plan(target, read_state(access, target))
    if request.dry_run:
        print_plan(plan)
        _progress(f"dry run: {len(plan)} call(s) for {group} version {package.version}; nothing was changed")
        return runtime_url(config)
    if not plan:
        _progress(f"{target.endpoint} already serves {group} version {package.version} with these settings; "
                  "nothing to do")
    execute(access, target, plan)
    _progress(f"{target.endpoint}: serving {group} version {package.version}")
    return runtime_url(config)


def rollback_cloud(config: Config, dry_run: bool, session: Any) -> str:
    """Return the endpoint to the config created before its current one (blue/green, like any update)."""
    access = stage_access(session, config)
    endpoint = names.endpoint_name(config.project, config.stage)
    described = endpoint_description(access.sagemaker, endpoint)
    if described is None:
        raise DeployRefused(f"there is no endpoint {endpoint} to roll back")
    state = EndpointState(current_config=described["EndpointConfigName"],
                          configs=endpoint_configs(access.sagemaker, config))
    previous = previous_config(state)
    if previous is None:
        raise DeployRefused(f"{endpoint} has no config older than {state.current_config} to roll back to")
    config_arn = names.sagemaker_arn(config.aws_region, config.account_id, "endpoint-config", previous)
    package = package_from_tags(endpoint_tags(access.sagemaker, config_arn), "")
    target = DeployTarget(config, read_wiring(access.ssm, config.project, config.stage), package)
    plan = rollback_plan(target, previous)
    if dry_run:
        print_plan(plan)
        return runtime_url(config)
    execute(access, target, plan)
    _progress(f"{endpoint}: rolled back to {previous} (package version {package.version})")
    return runtime_url(config)


def _s3_head_lines(s3: Any, uri: str, count: int) -> list[str]:
    """The first `count` lines of an S3 object, streamed (the test split may be large)."""
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    body = _call(s3.get_object, Bucket=bucket, Key=key)["Body"]
    lines = []
    for line in body.iter_lines():
        lines.append(line.decode("utf-8"))
        if len(lines) >= count:
            break
    body.close()
    return lines


def served_package(session: Any, config: Config, access: StageAccess) -> PackageVersion:
    """The registry's record of the package the stage's endpoint serves (its ModelPackageArn tag names it)."""
    endpoint = names.endpoint_name(config.project, config.stage)
    if endpoint_description(access.sagemaker, endpoint) is None:
        raise DeployRefused(f"there is no endpoint {endpoint}; deploy it first (python -m pipelines.deploy "
                            f"--stage {config.stage})")
    endpoint_arn = names.sagemaker_arn(config.aws_region, config.account_id, "endpoint", endpoint)
    served = package_from_tags(endpoint_tags(access.sagemaker, endpoint_arn), "")
    versions, group, where = registry_versions(session, config)
    return select_package(versions, group, served.arn, where)


def smoke_test_cloud(config: Config, session: Any) -> Any:
    """Run the smoke test against the stage's endpoint; on staging, a pass is recorded on the endpoint."""
    from pipelines.definition import METADATA_TEST_ROWS
    from pipelines.serving.smoke import run_smoke_test, smoke_case

    access = stage_access(session, config)
    package = served_package(session, config, access)
    endpoint = names.endpoint_name(config.project, config.stage)
    endpoint_arn = names.sagemaker_arn(config.aws_region, config.account_id, "endpoint", endpoint)
    group = package.group
    rows_uri = package.metadata.get(METADATA_TEST_ROWS, "")
    if not rows_uri.startswith("s3://"):
        raise DeployRefused(f"{group} version {package.version} records no held-out rows ({METADATA_TEST_ROWS}); "
                            "it was registered before packages kept them: run the pipeline again")
    lines = _s3_head_lines(session.client("s3"), rows_uri, config.deploy.smoke_test_rows + 1)
    verdict = run_smoke_test(access.runtime, smoke_case(endpoint, lines, config.problem_type,
                                                        config.deploy.smoke_test_p95_ms))
    if verdict.passed and config.stage == "staging":
        _call(access.sagemaker.add_tags, ResourceArn=endpoint_arn,
              Tags=[{"Key": names.TAG_SMOKE_TESTED, "Value": package.arn}])
    return verdict
