"""`python -m pipelines.deploy --stage staging|prod` against moto (CreateModel, CreateEndpointConfig,
CreateEndpoint, DescribeEndpoint, ListTags, application-autoscaling, STS AssumeRole, SSM), and botocore's
Stubber for UpdateEndpoint with a DeploymentConfig, which moto 5.2.5 lacks."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from pipelines.config import load_config
from pipelines.deploy import main
from pipelines.errors import run_cli
from pipelines.registry_model import PackageVersion
from pipelines.serving import names
from pipelines.serving.cloud import StageAccess, execute
from pipelines.serving.plan import DeployTarget, EndpointState, build_plan, config_name
from pipelines.wiring import WIRING_KEYS, Wiring, parameter_name

REPO_ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = REPO_ROOT / "pyproject.toml"
# the repo's own project, region and accounts: a team repo rendered with other inputs runs these tests with them
CONFIGS = {stage: load_config(stage, PYPROJECT) for stage in ("dev", "staging", "prod")}
REGION = CONFIGS["dev"].aws_region
PROJECT = CONFIGS["dev"].project
ACCOUNTS = {stage: CONFIGS[stage].account_id for stage in ("staging", "prod")}
DEV_ACCOUNT = CONFIGS["dev"].account_id


def wiring_for(stage: str, account: str) -> Wiring:
    return Wiring(role_arn=f"arn:aws:iam::{account}:role/{PROJECT}-{stage}-sagemaker-execution",
                  artifact_bucket=f"{PROJECT}-{stage}-artifacts-{account}", data_bucket=f"{PROJECT}-{stage}-data",
                  kms_key_arn=f"arn:aws:kms:{REGION}:{account}:key/0123abcd-4567-89ef-0123-456789abcdef",
                  subnet_ids=("subnet-0123456789abcdef0", "subnet-0123456789abcdef1"),
                  security_group_ids=("sg-0123456789abcdef0",), model_package_group=f"{PROJECT}-{stage}")


def put_wiring(ssm: Any, stage: str, wiring: Wiring) -> None:
    values = wiring.to_dict()
    for spec in WIRING_KEYS:
        value = values[spec.attribute]
        ssm.put_parameter(Name=parameter_name(PROJECT, stage, spec.key), Type="StringList" if spec.is_list else
                          "String", Value=",".join(value) if spec.is_list else value)


def assumed(stage: str) -> boto3.Session:
    """What the deployer role sees: moto keeps each account's resources apart."""
    role = names.deployer_role_arn(PROJECT, stage, ACCOUNTS[stage])
    sts = boto3.client("sts", region_name=REGION)
    credentials = sts.assume_role(RoleArn=role, RoleSessionName="test")["Credentials"]
    return boto3.Session(aws_access_key_id=credentials["AccessKeyId"], aws_secret_access_key=credentials[
        "SecretAccessKey"], aws_session_token=credentials["SessionToken"], region_name=REGION)


@pytest.fixture
def aws(monkeypatch):
    for key, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                       "AWS_DEFAULT_REGION": REGION}.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    with mock_aws():
        registry_wiring = wiring_for("dev", DEV_ACCOUNT)
        put_wiring(boto3.client("ssm", region_name=REGION), "dev", registry_wiring)
        for stage, account in ACCOUNTS.items():
            put_wiring(assumed(stage).client("ssm"), stage, wiring_for(stage, account))
        sagemaker = boto3.client("sagemaker", region_name=REGION)
        sagemaker.create_model_package_group(ModelPackageGroupName=registry_wiring.model_package_group)
        yield {"sm": sagemaker, "group": registry_wiring.model_package_group}


def register(aws: dict[str, Any], status: str) -> str:
    return aws["sm"].create_model_package(
        ModelPackageGroupName=aws["group"], ModelApprovalStatus=status,
        InferenceSpecification={"Containers": [{
            "Image": "141502667606.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-xgboost:3.2-0",
            "ModelDataUrl": "s3://churn-reference-dev-artifacts/model.tar.gz",
            "Environment": {"SAGEMAKER_PROGRAM": "inference.py",
                            "SAGEMAKER_SUBMIT_DIRECTORY": "s3://churn-reference-dev-artifacts/code/sourcedir.tar.gz"}}],
            "SupportedContentTypes": ["text/csv", "application/json"],
            "SupportedResponseMIMETypes": ["text/csv", "application/json"]},
        CustomerMetadataProperties={"test_rows_uri": "s3://churn-reference-dev-artifacts/test_raw.csv"},
    )["ModelPackageArn"]


def deploy(*args: str) -> int:
    return run_cli(main, ["--config", str(PYPROJECT), *args])


def test_deploy_creates_model_config_with_capture_and_kms_endpoint_and_autoscaling(aws, capsys):
    arn = register(aws, "Approved")
    assert deploy("--stage", "staging") == 0
    out = capsys.readouterr()
    endpoint = f"{PROJECT}-staging"
    assert out.out.strip() == f"https://runtime.sagemaker.{REGION}.amazonaws.com/endpoints/{endpoint}/invocations"

    staging = assumed("staging")
    sm = staging.client("sagemaker")
    described = sm.describe_endpoint(EndpointName=endpoint)
    config = sm.describe_endpoint_config(EndpointConfigName=described["EndpointConfigName"])
    wiring = wiring_for("staging", ACCOUNTS["staging"])
    assert config["KmsKeyId"] == wiring.kms_key_arn
    capture = config["DataCaptureConfig"]
    assert capture["EnableCapture"] and capture["KmsKeyId"] == wiring.kms_key_arn
    assert capture["DestinationS3Uri"] == f"s3://{wiring.artifact_bucket}/{PROJECT}/data-capture"
    assert capture["InitialSamplingPercentage"] == 100
    [variant] = config["ProductionVariants"]
    assert variant["InstanceType"] == "ml.m5.large" and variant["InitialInstanceCount"] == 1
    model = sm.describe_model(ModelName=variant["ModelName"])
    assert model["PrimaryContainer"]["ModelPackageName"] == arn and model["ExecutionRoleArn"] == wiring.role_arn
    assert model["VpcConfig"]["Subnets"] == list(wiring.subnet_ids)
    tags = {t["Key"]: t["Value"] for t in sm.list_tags(ResourceArn=described["EndpointArn"])["Tags"]}
    assert tags["ModelPackageArn"] == arn and tags["ModelPackageVersion"] == "1"
    assert tags["CostCenter"] == CONFIGS["dev"].cost_center

    scaling = staging.client("application-autoscaling")
    [target] = scaling.describe_scalable_targets(ServiceNamespace="sagemaker")["ScalableTargets"]
    assert (target["ResourceId"], target["MinCapacity"], target["MaxCapacity"]) == (
        f"endpoint/{endpoint}/variant/AllTraffic", 1, 2)
    [policy] = scaling.describe_scaling_policies(ServiceNamespace="sagemaker")["ScalingPolicies"]
    tracking = policy["TargetTrackingScalingPolicyConfiguration"]
    assert tracking["TargetValue"] == 200.0
    assert tracking["PredefinedMetricSpecification"]["PredefinedMetricType"] == "SageMakerVariantInvocationsPerInstance"


def test_a_redeploy_of_the_same_package_creates_nothing(aws, capsys):
    register(aws, "Approved")
    assert deploy("--stage", "staging") == 0
    sm = assumed("staging").client("sagemaker")
    before = sm.list_endpoint_configs()["EndpointConfigs"]
    capsys.readouterr()
    assert deploy("--stage", "staging") == 0
    assert "nothing to do" in capsys.readouterr().err
    assert sm.list_endpoint_configs()["EndpointConfigs"] == before


def test_an_unapproved_package_is_refused_and_nothing_is_created(aws, capsys):
    register(aws, "Approved")
    pending = register(aws, "PendingManualApproval")
    assert deploy("--stage", "staging", "--model-package-arn", pending) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "PendingManualApproval, not Approved" in err and err.count("\n") == 1
    sm = assumed("staging").client("sagemaker")
    assert sm.list_endpoint_configs()["EndpointConfigs"] == [] and sm.list_endpoints()["Endpoints"] == []


def test_dry_run_prints_every_call_and_changes_nothing(aws, capsys):
    register(aws, "Approved")
    assert deploy("--stage", "staging", "--dry-run") == 0
    lines = capsys.readouterr().out.splitlines()
    calls = [json.loads(line) for line in lines[:-1]]
    assert [c["operation"] for c in calls] == ["CreateModel", "CreateEndpointConfig", "CreateEndpoint",
                                               "RegisterScalableTarget", "PutScalingPolicy"]
    assert assumed("staging").client("sagemaker").list_endpoints()["Endpoints"] == []


def test_prod_takes_only_what_passed_staging_and_deploys_with_the_prod_role(aws, capsys):
    arn = register(aws, "Approved")
    assert deploy("--stage", "staging") == 0
    assert deploy("--stage", "prod") == 2
    assert "has not passed the smoke test on staging" in capsys.readouterr().err
    staging_sm = assumed("staging").client("sagemaker")
    staging_arn = staging_sm.describe_endpoint(EndpointName=f"{PROJECT}-staging")["EndpointArn"]
    staging_sm.add_tags(ResourceArn=staging_arn, Tags=[{"Key": names.TAG_SMOKE_TESTED, "Value": arn}])

    assert deploy("--stage", "prod") == 0
    prod = assumed("prod")
    described = prod.client("sagemaker").describe_endpoint(EndpointName=f"{PROJECT}-prod")
    assert described["EndpointArn"].split(":")[4] == ACCOUNTS["prod"]  # made in prod's account, by its role
    [target] = prod.client("application-autoscaling").describe_scalable_targets(
        ServiceNamespace="sagemaker")["ScalableTargets"]
    assert (target["MinCapacity"], target["MaxCapacity"]) == (2, 10)


def _target(version: int) -> DeployTarget:
    config = load_config("staging", PYPROJECT)
    package = PackageVersion(group=f"{PROJECT}-dev", version=version, status="Approved", created="",
                             arn=f"arn:aws:sagemaker:{REGION}:{DEV_ACCOUNT}:model-package/{PROJECT}-dev/{version}")
    return DeployTarget(config, wiring_for("staging", ACCOUNTS["staging"]), package)


def test_a_newer_version_is_a_blue_green_update_with_alarm_rollback():
    """UpdateEndpoint through the Stubber, which validates each request against the service model."""
    old, new = _target(1), _target(2)
    plan = build_plan(new, EndpointState(current_config=config_name(old), configs=(config_name(old),)))
    assert [c.operation for c in plan] == ["CreateModel", "CreateEndpointConfig", "UpdateEndpoint", "AddTags",
                                           "RegisterScalableTarget", "PutScalingPolicy"]
    sagemaker = boto3.client("sagemaker", region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x")
    scaling = boto3.client("application-autoscaling", region_name=REGION, aws_access_key_id="x",
                           aws_secret_access_key="x")
    endpoint = f"{PROJECT}-staging"
    in_service = {"EndpointName": endpoint, "EndpointArn": f"arn:aws:sagemaker:{REGION}:222222222222:endpoint/x",
                  "EndpointConfigName": config_name(new), "EndpointStatus": "InService",
                  "CreationTime": "2024-01-01T00:00:00Z", "LastModifiedTime": "2024-01-01T00:00:00Z"}
    with Stubber(sagemaker) as sm_stub, Stubber(scaling) as scaling_stub:
        sm_stub.add_response("create_model", {"ModelArn": "arn:aws:sagemaker:eu-west-1:222222222222:model/m"},
                             plan[0].params)
        sm_stub.add_response("create_endpoint_config", {"EndpointConfigArn": "arn:aws:sagemaker:eu-west-1:"
                                                        "222222222222:endpoint-config/c"}, plan[1].params)
        sm_stub.add_response("update_endpoint", {"EndpointArn": in_service["EndpointArn"]}, plan[2].params)
        sm_stub.add_response("describe_endpoint", in_service, {"EndpointName": endpoint})  # the waiter
        sm_stub.add_response("describe_endpoint", in_service, {"EndpointName": endpoint})  # config held
        sm_stub.add_response("add_tags", {"Tags": []}, plan[3].params)
        scaling_stub.add_response("register_scalable_target", {}, plan[4].params)
        scaling_stub.add_response("put_scaling_policy", {"PolicyARN": "arn:aws:autoscaling:x"}, plan[5].params)
        execute(StageAccess(sagemaker, scaling, None, None), new, plan)
        sm_stub.assert_no_pending_responses()
        scaling_stub.assert_no_pending_responses()
    deployment = plan[2].params["DeploymentConfig"]
    routing = deployment["BlueGreenUpdatePolicy"]["TrafficRoutingConfiguration"]
    assert routing["Type"] == "CANARY" and routing["CanarySize"] == {"Type": "CAPACITY_PERCENT", "Value": 10}
    assert [a["AlarmName"] for a in deployment["AutoRollbackConfiguration"]["Alarms"]] == [
        f"{endpoint}-5xx-errors", f"{endpoint}-model-latency"]
    assert plan[3].params["Tags"] == [{"Key": "ModelPackageArn", "Value": new.package.arn},
                                      {"Key": "ModelPackageVersion", "Value": "2"}]
