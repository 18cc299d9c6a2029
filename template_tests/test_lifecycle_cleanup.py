"""The lifecycle module's cleanup Lambda (infra/modules/lifecycle/lambda) against moto: resources of
each kind, idle and busy, tagged and untagged, exempt, and in another stage. moto 5.2.5 has no Studio
apps (ListApps, DescribeApp, DeleteApp): botocore's Stubber answers those.

Template-only: generated repositories receive the module as a pinned git source, not its tests."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

LAMBDA_DIR = Path(__file__).resolve().parents[1] / "infra" / "modules" / "lifecycle" / "lambda"
if str(LAMBDA_DIR) not in sys.path:
    sys.path.insert(0, str(LAMBDA_DIR))

import lifecycle_cleanup as cleanup  # noqa: E402

REGION = "eu-west-1"
PROJECT = "churn-reference"
BUCKET = f"{PROJECT}-dev-artifacts-111111111111"
PREFIX = f"{PROJECT}/pipelines/{PROJECT}-dev/checkpoints/"
ROLE = "arn:aws:iam::111111111111:role/churn-reference-dev-sagemaker-execution"
OURS = {"Project": PROJECT, "Environment": "dev"}
LATER = datetime.now(UTC) + timedelta(hours=48)  # the cleanup's clock: everything made now is two days old


def tag_list(tags: dict[str, str]) -> list[dict[str, str]]:
    return [{"Key": k, "Value": v} for k, v in tags.items()]


# name -> tags; "busy" endpoints get invocations
ENDPOINTS = {
    "idle-ours": OURS,
    "busy-ours": OURS,
    "idle-untagged": {},
    "idle-exempt": {**OURS, "ml-factory:keep": "true"},
    "idle-staging": {"Project": PROJECT, "Environment": "staging"},
    "idle-other-project": {"Project": "fraud", "Environment": "dev"},
}
CONFIGS = {"stale-ours": OURS, "stale-untagged": {}, "stale-exempt": {**OURS, "ml-factory:keep": "true"}}
VOLUMES = {"vol-ours": OURS, "vol-untagged": {}, "vol-exempt": {**OURS, "ml-factory:keep": "true"},
           "vol-staging": {"Project": PROJECT, "Environment": "staging"}}


@pytest.fixture
def aws(monkeypatch):
    for key in ("AWS_PROFILE", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    with mock_aws():
        yield


def make_endpoints(sm, cloudwatch) -> None:
    sm.create_model(ModelName="m", ExecutionRoleArn=ROLE, PrimaryContainer={"Image": "img"})
    for name, tags in ENDPOINTS.items():
        variants = [{"VariantName": "AllTraffic", "ModelName": "m", "InitialInstanceCount": 1,
                     "InstanceType": "ml.m5.large"}]
        sm.create_endpoint_config(EndpointConfigName=f"{name}-config", ProductionVariants=variants,
                                  Tags=tag_list(tags))
        sm.create_endpoint(EndpointName=name, EndpointConfigName=f"{name}-config", **({"Tags": tag_list(tags)}
                                                                                       if tags else {}))
    for name, tags in CONFIGS.items():
        sm.create_endpoint_config(EndpointConfigName=name, ProductionVariants=[{
            "VariantName": "AllTraffic", "ModelName": "m", "InitialInstanceCount": 1, "InstanceType": "ml.m5.large"}],
            **({"Tags": tag_list(tags)} if tags else {}))
    cloudwatch.put_metric_data(Namespace="AWS/SageMaker", MetricData=[{
        "MetricName": "Invocations", "Value": 3, "Unit": "None", "Timestamp": LATER - timedelta(hours=2),
        "Dimensions": [{"Name": "EndpointName", "Value": "busy-ours"},
                       {"Name": "VariantName", "Value": "AllTraffic"}]}])


def make_volumes(ec2) -> dict[str, str]:
    ids = {}
    for name, tags in VOLUMES.items():
        spec = [{"ResourceType": "volume", "Tags": tag_list({**tags, "Name": name})}]
        ids[name] = ec2.create_volume(AvailabilityZone=f"{REGION}a", Size=10, TagSpecifications=spec)["VolumeId"]
    instance = ec2.run_instances(ImageId="ami-12c6146b", MinCount=1, MaxCount=1,
                                 Placement={"AvailabilityZone": f"{REGION}a"})["Instances"][0]["InstanceId"]
    attached = ec2.create_volume(AvailabilityZone=f"{REGION}a", Size=10, TagSpecifications=[
        {"ResourceType": "volume", "Tags": tag_list({**OURS, "Name": "vol-attached"})}])["VolumeId"]
    ec2.attach_volume(VolumeId=attached, InstanceId=instance, Device="/dev/sdf")
    ids["vol-attached"] = attached
    return ids


def make_checkpoints(s3) -> None:
    s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
    for key in ("exec1/xgboost-checkpoint.10", "exec1/xgboost-checkpoint.20", "exec2/keep.30"):
        s3.put_object(Bucket=BUCKET, Key=PREFIX + key, Body=b"x")
    s3.put_object_tagging(Bucket=BUCKET, Key=PREFIX + "exec2/keep.30",
                          Tagging={"TagSet": [{"Key": "ml-factory:keep", "Value": "true"}]})
    s3.put_object(Bucket=BUCKET, Key=f"{PROJECT}/pipelines/{PROJECT}-dev/runs/exec1/model.tar.gz", Body=b"m")


@pytest.fixture
def account(aws):
    """Resources of each kind in the dev account, made now; Studio apps answered empty."""
    clients = cleanup.Clients(*(boto3.client(n, region_name=REGION) for n in ("sagemaker", "cloudwatch", "ec2", "s3")))
    make_endpoints(clients.sagemaker, clients.cloudwatch)
    volumes = make_volumes(clients.ec2)
    make_checkpoints(clients.s3)
    clients.sagemaker.meta.events.register("before-call.sagemaker.ListApps", lambda **_: (_ok(), {"Apps": []}))
    return clients, volumes


def _ok():
    from botocore.awsrequest import AWSResponse

    return AWSResponse("https://api.sagemaker.invalid", 200, {}, None)


def rules(stage: str = "dev", dry_run: bool = False, checkpoint_days: float = 1) -> cleanup.Rules:
    env = {"PROJECT": PROJECT, "STAGE": stage, "DRY_RUN": str(dry_run).lower(), "IDLE_HOURS": "24",
           "CHECKPOINT_DAYS": str(checkpoint_days), "CHECKPOINT_BUCKET": BUCKET, "CHECKPOINT_PREFIX": PREFIX}
    return cleanup.Rules.from_environment(env, {}, now=LATER)


def log_lines(capsys) -> list[dict]:
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


def remaining(clients) -> tuple[set[str], set[str], set[str], set[str]]:
    sm, ec2, s3 = clients.sagemaker, clients.ec2, clients.s3
    endpoints = {e["EndpointName"] for e in sm.list_endpoints()["Endpoints"]}
    configs = {c["EndpointConfigName"] for c in sm.list_endpoint_configs()["EndpointConfigs"]}
    volumes = {v["VolumeId"] for v in ec2.describe_volumes()["Volumes"]}
    keys = {o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])}
    return endpoints, configs, volumes, keys


def test_dev_cleanup_deletes_only_the_projects_idle_unexempt_resources(account, capsys):
    clients, volumes = account
    result = cleanup.run_cleanup(rules(), clients)
    endpoints, configs, left_volumes, keys = remaining(clients)
    assert endpoints == set(ENDPOINTS) - {"idle-ours"}
    assert configs == {f"{n}-config" for n in ENDPOINTS} - {"idle-ours-config"} | {"stale-untagged", "stale-exempt"}
    assert {n for n, v in volumes.items() if v not in left_volumes} == {"vol-ours"}
    assert keys == {PREFIX + "exec2/keep.30", f"{PROJECT}/pipelines/{PROJECT}-dev/runs/exec1/model.tar.gz"}
    assert result["by_kind"] == {"endpoint": 1, "endpoint-config": 2, "ebs-volume": 1, "checkpoint": 2}

    lines = log_lines(capsys)
    deleted = {(line["kind"], line["resource"]) for line in lines if line["action"] == "delete"}
    assert ("endpoint", "idle-ours") in deleted and ("ebs-volume", volumes["vol-ours"]) in deleted
    assert ("endpoint-config", "idle-ours-config") in deleted  # its endpoint was deleted in this run
    reasons = {line["resource"]: line["reason"] for line in lines}
    assert reasons["idle-ours"] == "no invocations in the last 24 hours"
    assert reasons["idle-exempt"] == "exempt: ml-factory:keep=true"
    assert reasons["idle-staging"] == "tagged for stage staging, not dev"
    assert "idle-untagged" not in reasons and "idle-other-project" not in reasons  # not ours: not even named
    assert all(set(line) == {"action", "kind", "resource", "reason", "dry_run"} for line in lines)


def test_dry_run_lists_the_same_actions_and_changes_nothing(account, capsys):
    clients, _ = account
    before = remaining(clients)
    result = cleanup.run_cleanup(rules(dry_run=True), clients)
    assert remaining(clients) == before
    lines = [line for line in log_lines(capsys) if line["action"] == "delete"]
    assert len(lines) == result["actions"] == 6 and all(line["dry_run"] for line in lines)


@pytest.mark.parametrize("stage", ["staging", "prod"])
def test_any_stage_but_dev_refuses_to_act(account, capsys, stage):
    clients, _ = account
    before = remaining(clients)
    result = cleanup.run_cleanup(rules(stage=stage), clients)
    assert result["refused"] and result["actions"] == 0 and remaining(clients) == before
    assert log_lines(capsys) == [{"action": "refuse", "kind": "stage", "resource": stage,
                                  "reason": "cleanup acts only in the dev stage", "dry_run": False}]


def test_recent_checkpoints_are_kept(account, capsys):
    clients, _ = account
    cleanup.run_cleanup(rules(checkpoint_days=30), clients)
    assert {PREFIX + "exec1/xgboost-checkpoint.10"} <= remaining(clients)[3]


def test_the_handler_reads_its_rules_from_the_environment_and_the_event(account, monkeypatch, capsys):
    for key, value in {"PROJECT": PROJECT, "STAGE": "dev", "DRY_RUN": "false", "CHECKPOINT_BUCKET": BUCKET,
                       "CHECKPOINT_PREFIX": PREFIX}.items():
        monkeypatch.setenv(key, value)
    clients, _ = account
    monkeypatch.setattr(cleanup.Clients, "default", classmethod(lambda cls: clients))
    before = remaining(clients)
    result = cleanup.handler({"dry_run": True}, None)  # a manual dry run: the event wins over DRY_RUN
    assert result["dry_run"] is True and remaining(clients) == before


APP = {"DomainId": "d-abc", "UserProfileName": "jane", "AppType": "JupyterLab", "AppName": "default"}


def app_arn(name: str) -> str:
    return f"arn:aws:sagemaker:{REGION}:111111111111:app/d-abc/jane/jupyterlab/{name}"


@pytest.mark.parametrize("tags, last_used_hours_ago, deleted", [
    (OURS, 30, True),  # idle for longer than 24 hours
    (OURS, 2, False),  # in use
    ({"Project": "fraud", "Environment": "dev"}, 30, False),  # another project's
    ({**OURS, "ml-factory:keep": "true"}, 30, False),  # exempt
    ({"Project": PROJECT, "Environment": "prod"}, 30, False),  # another stage
])
def test_idle_studio_apps_are_stopped(tags, last_used_hours_ago, deleted, capsys):
    sm = boto3.client("sagemaker", region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x")
    now = datetime(2026, 11, 20, 12, tzinfo=UTC)
    env = {"PROJECT": PROJECT, "STAGE": "dev", "IDLE_HOURS": "24"}
    with Stubber(sm) as stubber:
        stubber.add_response("list_apps", {"Apps": [{**APP, "Status": "InService"},
                                                     {**APP, "AppName": "old", "Status": "Deleted"}]}, {})
        stubber.add_response("describe_app", {**APP, "AppArn": app_arn("default"), "Status": "InService",
                                              "LastUserActivityTimestamp": now - timedelta(hours=last_used_hours_ago),
                                              "CreationTime": now - timedelta(days=5)}, APP)
        if last_used_hours_ago > 24:  # tags are read only for an idle app
            stubber.add_response("list_tags", {"Tags": tag_list(tags)}, {"ResourceArn": app_arn("default")})
        if deleted:
            stubber.add_response("delete_app", {}, APP)
        cleanup.stop_idle_apps(cleanup.Clients(sm, None, None, None),
                               cleanup.Rules.from_environment(env, {}, now=now), cleanup.ActionLog(False))
        stubber.assert_no_pending_responses()
    actions = [line["action"] for line in log_lines(capsys)]
    assert ("delete" in actions) == deleted
