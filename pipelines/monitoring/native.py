"""Native mode: a Model Monitor DataQuality schedule on the stage's endpoint, as exact API calls (pure, like the
deploy plan: `--dry-run` prints it, pipelines/monitoring/cloud.py executes it, tests inspect it).

For accounts that still have Model Monitor (closed to new customers). The job definition holds the served
package's DriftCheckBaselines and the stage's KMS key, VPC and role; it is immutable, so it is named by the
package version and a digest of its request: the same package and settings reuse it, anything else makes a
new one and points the schedule at it. The schedule is named `<project>-<stage>-drift` (names.schedule_name),
so Model Monitor's metrics carry the dimensions the portable job's do and one set of alarms serves both.
The team's drift thresholds do not apply here: Model Monitor reads the package's constraints as registered.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from pipelines.monitoring import names
from pipelines.monitoring.baselines import ServedBaselines
from pipelines.serving.names import MAX_NAME
from pipelines.serving.plan import ApiCall, DeployTarget

MONITORING_TYPE = "DataQuality"
ENDPOINT_INPUT_PATH = "/opt/ml/processing/input/endpoint"
OUTPUT_PATH = "/opt/ml/processing/output"
MAX_RUNTIME_SECONDS = 3600  # Model Monitor's limit for hourly schedules


@dataclass(frozen=True)
class ScheduleState:
    """What the stage has: the schedule's job definition and expression (None: no schedule), and whether the
    wanted job definition exists already."""

    job_definition: str | None = None
    expression: str | None = None
    wanted_exists: bool = False


def job_definition_request(target: DeployTarget, served: ServedBaselines, analyzer_image: str) -> dict[str, Any]:
    """CreateDataQualityJobDefinition's parameters, without the name and tags."""
    config, wiring = target.config, target.wiring
    kms = wiring.kms_key_arn
    return {
        "DataQualityBaselineConfig": {"ConstraintsResource": {"S3Uri": served.constraints_uri},
                                      "StatisticsResource": {"S3Uri": served.statistics_uri}},
        "DataQualityAppSpecification": {"ImageUri": analyzer_image,
                                        "Environment": {"publish_cloudwatch_metrics": "Enabled"}},
        "DataQualityJobInput": {"EndpointInput": {"EndpointName": target.endpoint, "LocalPath": ENDPOINT_INPUT_PATH,
                                                  "S3InputMode": "File", "S3DataDistributionType": "FullyReplicated"}},
        "DataQualityJobOutputConfig": {
            "MonitoringOutputs": [{"S3Output": {
                "S3Uri": f"{names.monitoring_uri(wiring.artifact_bucket, config.project, config.stage)}/native",
                "LocalPath": OUTPUT_PATH, "S3UploadMode": "EndOfJob"}}],
            "KmsKeyId": kms},
        "JobResources": {"ClusterConfig": {"InstanceCount": config.monitoring.instance_count,
                                           "InstanceType": config.processing.instance_type,
                                           "VolumeSizeInGB": config.processing.volume_size_gb,
                                           "VolumeKmsKeyId": kms}},
        "NetworkConfig": {"EnableInterContainerTrafficEncryption": True, "EnableNetworkIsolation": False,
                          "VpcConfig": {"SecurityGroupIds": list(wiring.security_group_ids),
                                        "Subnets": list(wiring.subnet_ids)}},
        "RoleArn": wiring.role_arn,
        "StoppingCondition": {"MaxRuntimeInSeconds": MAX_RUNTIME_SECONDS},
    }


def job_definition_name(target: DeployTarget, request: dict[str, Any]) -> str:
    """`<project>-<stage>-drift-v<version>-<digest of the request, 8 hex>`."""
    digest = hashlib.sha256(json.dumps(request, sort_keys=True).encode()).hexdigest()[:8]
    name = f"{names.schedule_name(target.config.project, target.config.stage)}-v{target.package.version}-{digest}"
    if len(name) > MAX_NAME:
        raise ValueError(f"{name!r} is longer than {MAX_NAME} characters")
    return name


def schedule_plan(target: DeployTarget, served: ServedBaselines, analyzer_image: str,
                  state: ScheduleState) -> list[ApiCall]:
    """The calls that make the stage's schedule check the served package's baselines on the configured schedule;
    none when it does already."""
    request = job_definition_request(target, served, analyzer_image)
    definition = job_definition_name(target, request)
    expression = target.config.monitoring.schedule_expression
    calls = [] if state.wanted_exists else [ApiCall("sagemaker", "CreateDataQualityJobDefinition", {
        "JobDefinitionName": definition, **request, "Tags": target.tags()})]
    schedule_config = {"ScheduleConfig": {"ScheduleExpression": expression}, "MonitoringJobDefinitionName": definition,
                       "MonitoringType": MONITORING_TYPE}
    name = names.schedule_name(target.config.project, target.config.stage)
    if state.job_definition is None:
        calls.append(ApiCall("sagemaker", "CreateMonitoringSchedule", {
            "MonitoringScheduleName": name, "MonitoringScheduleConfig": schedule_config, "Tags": target.tags()}))
    elif (state.job_definition, state.expression) != (definition, expression):
        calls.append(ApiCall("sagemaker", "UpdateMonitoringSchedule", {
            "MonitoringScheduleName": name, "MonitoringScheduleConfig": schedule_config}))
    return calls


def wanted_job_definition(target: DeployTarget, served: ServedBaselines, analyzer_image: str) -> str:
    return job_definition_name(target, job_definition_request(target, served, analyzer_image))
