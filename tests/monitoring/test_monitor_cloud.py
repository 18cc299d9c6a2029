"""Cloud monitoring of a stage's endpoint: `monitor publish` (portable mode) upserts the monitoring pipeline
with the served package's baselines (moto: STS, SSM, S3, SageMaker pipelines and registry), and `monitor
schedule` (native mode) sends Model Monitor's requests, exactly, once (botocore's Stubber: moto lacks
create_monitoring_schedule)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from botocore.stub import Stubber
from test_deploy_cloud import ACCOUNTS, PROJECT, PYPROJECT, REGION, assumed, aws, wiring_for  # noqa: F401

from pipelines.config import load_config
from pipelines.errors import run_cli
from pipelines.monitor import main
from pipelines.monitoring import names
from pipelines.monitoring.baselines import ServedBaselines
from pipelines.monitoring.cloud import apply_schedule
from pipelines.registry_model import PackageVersion
from pipelines.serving.plan import DeployTarget

BASELINES = {"ModelDataQuality": {
    "Statistics": {"ContentType": "application/json", "S3Uri": f"s3://{PROJECT}-dev-artifacts/run/statistics.json"},
    "Constraints": {"ContentType": "application/json", "S3Uri": f"s3://{PROJECT}-dev-artifacts/run/constraints.json"}}}
IMAGE = f"468650794304.dkr.ecr.{REGION}.amazonaws.com/sagemaker-model-monitor-analyzer"


def register(aws: dict[str, Any], baselines: bool = True) -> str:  # noqa: F811
    return aws["sm"].create_model_package(
        ModelPackageGroupName=aws["group"], ModelApprovalStatus="Approved",
        InferenceSpecification={"Containers": [{
            "Image": f"141502667606.dkr.ecr.{REGION}.amazonaws.com/sagemaker-xgboost:3.2-0",
            "ModelDataUrl": f"s3://{PROJECT}-dev-artifacts/model.tar.gz"}],
            "SupportedContentTypes": ["text/csv"], "SupportedResponseMIMETypes": ["text/csv"]},
        **({"DriftCheckBaselines": BASELINES} if baselines else {}))["ModelPackageArn"]


def cli(program: Any, *args: str) -> int:
    return run_cli(program, list(args))


def on_deploy_config(tmp_path: Path) -> Path:
    path = tmp_path / "pyproject.toml"
    path.write_text(PYPROJECT.read_text() + "\n[tool.ml-factory.stages.staging.monitoring]\non_deploy = true\n")
    return path


def test_a_deploy_publishes_the_served_baselines_a_rerun_changes_nothing_a_package_without_them_is_refused(
        aws, capsys, tmp_path) -> None:  # noqa: F811
    from pipelines.deploy import main as deploy

    staging = assumed("staging")
    wiring = wiring_for("staging", ACCOUNTS["staging"])
    staging.client("s3").create_bucket(Bucket=wiring.artifact_bucket,
                                       CreateBucketConfiguration={"LocationConstraint": REGION})
    arn = register(aws)
    config = on_deploy_config(tmp_path)
    assert cli(deploy, "--stage", "staging", "--config", str(config)) == 0
    name = names.monitor_pipeline_name(PROJECT, "staging")
    assert f"{name}: created (baselines of {aws['group']} version 1)" in capsys.readouterr().err

    sagemaker = staging.client("sagemaker")
    described = sagemaker.describe_pipeline(PipelineName=name)
    definition = json.loads(described["PipelineDefinition"])
    defaults = {p["Name"]: p.get("DefaultValue") for p in definition["Parameters"]}
    quality = BASELINES["ModelDataQuality"]
    assert defaults[names.PARAM_BASELINE_STATISTICS] == quality["Statistics"]["S3Uri"]
    assert defaults[names.PARAM_BASELINE_CONSTRAINTS] == quality["Constraints"]["S3Uri"]
    assert defaults[names.PARAM_PACKAGE] == arn and defaults[names.PARAM_WINDOW_START] == ""
    assert defaults[names.PARAM_CAPTURE] == f"s3://{wiring.artifact_bucket}/{PROJECT}/data-capture/{PROJECT}-staging/" \
                                           "AllTraffic"
    assert described["RoleArn"] == wiring.role_arn
    [step] = definition["Steps"]
    assert step["Name"] == names.STEP_DRIFT and step["Arguments"]["NetworkConfig"]["EnableNetworkIsolation"] is False
    code = step["Arguments"]["ProcessingInputs"][0]["S3Input"]["S3Uri"]
    uploaded = staging.client("s3").list_objects_v2(Bucket=wiring.artifact_bucket, Prefix=code.split("/", 3)[3])
    assert "drift_check.py" in {item["Key"].rsplit("/", 1)[1] for item in uploaded["Contents"]}
    tags = {t["Key"]: t["Value"] for t in sagemaker.list_tags(ResourceArn=described["PipelineArn"])["Tags"]}
    assert tags["Environment"] == "staging" and tags["Project"] == PROJECT

    assert cli(main, "publish", "--stage", "staging", "--config", str(config)) == 0
    assert capsys.readouterr().out.strip() == f"{name}: unchanged (baselines of {aws['group']} version 1)"

    bare = register(aws, baselines=False)  # the endpoint now serves a package without baselines
    sagemaker.add_tags(ResourceArn=described["PipelineArn"].replace(f"pipeline/{name}", f"endpoint/{PROJECT}-staging"),
                       Tags=[{"Key": "ModelPackageArn", "Value": bare}, {"Key": "ModelPackageVersion", "Value": "2"}])
    for command in ("publish", "schedule"):
        assert cli(main, command, "--stage", "staging", "--config", str(config)) == 2
        assert capsys.readouterr().err == (
            f"error: package {aws['group']} version 2 ({bare}) has no drift-check baselines (ModelDataQuality "
            "statistics and constraints); deploy a package registered by a run with a QualityCheck step\n")
    assert sagemaker.describe_pipeline(PipelineName=name)["PipelineDefinition"] == described["PipelineDefinition"]


def served(version: int) -> tuple[DeployTarget, ServedBaselines]:
    config = load_config("staging", PYPROJECT)
    arn = f"arn:aws:sagemaker:{REGION}:{load_config('dev', PYPROJECT).account_id}:model-package/{PROJECT}-dev/{version}"
    package = PackageVersion(f"{PROJECT}-dev", version, arn, "Approved", "", drift_check_baselines=BASELINES)
    quality = BASELINES["ModelDataQuality"]
    return (DeployTarget(config, wiring_for("staging", ACCOUNTS["staging"]), package),
            ServedBaselines(arn, f"{PROJECT}-dev version {version}", quality["Statistics"]["S3Uri"],
                            quality["Constraints"]["S3Uri"]))


def not_found(stub: Stubber, method: str) -> None:
    stub.add_client_error(method, "ResourceNotFound", "not found", 400)


def first_plan(target: DeployTarget, baselines: ServedBaselines) -> list[dict[str, Any]]:
    """The calls when nothing exists yet, as `--dry-run` prints them."""
    from pipelines.monitoring.native import ScheduleState, schedule_plan

    return [call.to_dict() for call in schedule_plan(target, baselines, IMAGE, ScheduleState())]


def test_the_native_schedule_is_made_once_with_the_packages_baselines_and_follows_a_new_version() -> None:
    import boto3

    target, baselines = served(3)
    sagemaker = boto3.client("sagemaker", region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x")
    schedule, wiring = names.schedule_name(PROJECT, "staging"), target.wiring
    job, create = (call["params"] for call in first_plan(target, baselines))
    assert job["DataQualityBaselineConfig"] == {"ConstraintsResource": {"S3Uri": baselines.constraints_uri},
                                                "StatisticsResource": {"S3Uri": baselines.statistics_uri}}
    assert job["DataQualityJobInput"]["EndpointInput"]["EndpointName"] == f"{PROJECT}-staging"
    assert job["DataQualityAppSpecification"] == {"ImageUri": IMAGE,
                                                  "Environment": {"publish_cloudwatch_metrics": "Enabled"}}
    assert job["RoleArn"] == wiring.role_arn
    assert job["JobResources"]["ClusterConfig"]["VolumeKmsKeyId"] == wiring.kms_key_arn
    assert job["NetworkConfig"]["VpcConfig"]["Subnets"] == list(wiring.subnet_ids)
    assert create["MonitoringScheduleName"] == schedule and create["MonitoringScheduleConfig"] == {
        "ScheduleConfig": {"ScheduleExpression": "cron(0 * ? * * *)"}, "MonitoringType": "DataQuality",
        "MonitoringJobDefinitionName": job["JobDefinitionName"]}
    assert {"Key": "ModelPackageVersion", "Value": "3"} in create["Tags"]
    with Stubber(sagemaker) as stub:  # the Stubber also checks each request against SageMaker's API model
        not_found(stub, "describe_monitoring_schedule")
        not_found(stub, "describe_data_quality_job_definition")
        stub.add_response("create_data_quality_job_definition", {"JobDefinitionArn": "arn:jd"}, job)
        stub.add_response("create_monitoring_schedule", {"MonitoringScheduleArn": "arn:schedule"}, create)
        line = apply_schedule(sagemaker, target, baselines, IMAGE)
        stub.assert_no_pending_responses()
    assert line == (f"{schedule}: created, checking {PROJECT}-staging against {PROJECT}-dev version 3 "
                    "(cron(0 * ? * * *))")

    existing = {"MonitoringScheduleConfig": {"MonitoringJobDefinitionName": job["JobDefinitionName"],
                                             "ScheduleConfig": {"ScheduleExpression": "cron(0 * ? * * *)"}}}
    with Stubber(sagemaker) as stub:  # the same package again: read, nothing sent
        stub.add_response("describe_monitoring_schedule", schedule_description(existing),
                          {"MonitoringScheduleName": schedule})
        stub.add_response("describe_data_quality_job_definition", job_description(job),
                          {"JobDefinitionName": job["JobDefinitionName"]})
        assert apply_schedule(sagemaker, target, baselines, IMAGE).startswith(f"{schedule}: already checks ")
        stub.assert_no_pending_responses()

    newer, newer_baselines = served(4)
    new_job = first_plan(newer, newer_baselines)[0]["params"]
    assert new_job["JobDefinitionName"] != job["JobDefinitionName"]
    with Stubber(sagemaker) as stub:  # a newer package: a new job definition, the schedule pointed at it
        stub.add_response("describe_monitoring_schedule", schedule_description(existing))
        not_found(stub, "describe_data_quality_job_definition")
        stub.add_response("create_data_quality_job_definition", {"JobDefinitionArn": "arn:jd2"}, new_job)
        stub.add_response("update_monitoring_schedule", {"MonitoringScheduleArn": "arn:schedule"}, {
            "MonitoringScheduleName": schedule, "MonitoringScheduleConfig": {
                **create["MonitoringScheduleConfig"], "MonitoringJobDefinitionName": new_job["JobDefinitionName"]}})
        assert "updated, checking" in apply_schedule(sagemaker, newer, newer_baselines, IMAGE)
        stub.assert_no_pending_responses()


def schedule_description(existing: dict[str, Any]) -> dict[str, Any]:
    return {"MonitoringScheduleArn": f"arn:aws:sagemaker:{REGION}:1:monitoring-schedule/s",
            "MonitoringScheduleName": "s", "MonitoringScheduleStatus": "Scheduled", "CreationTime": 0,
            "LastModifiedTime": 0, **existing}


def job_description(job: dict[str, Any]) -> dict[str, Any]:
    return {"JobDefinitionArn": "arn:jd", "CreationTime": 0, **{k: v for k, v in job.items() if k != "Tags"}}
