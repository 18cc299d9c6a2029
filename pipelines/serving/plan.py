"""Deploy plans: from the stage's config, its wiring and an Approved package to the exact API calls.

Pure functions: `--dry-run` prints the plan, the cloud backend (pipelines/serving/cloud.py)
executes it, and tests inspect it without AWS. What exists already (`EndpointState`) decides
between create, blue/green update and nothing:

  no endpoint                  CreateModel, CreateEndpointConfig, CreateEndpoint, autoscaling
  endpoint on another config   (CreateModel, CreateEndpointConfig when missing), UpdateEndpoint with
                               a blue/green DeploymentConfig and alarm rollback, AddTags, autoscaling
  endpoint on this config      nothing: the same package with the same settings is already live

Serverless variants have no instances: no autoscaling, no blue/green traffic shifting, no volume key.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pipelines.config import Config
from pipelines.registry_model import PackageVersion
from pipelines.serving import names
from pipelines.serving.capture import CSV_TYPES, JSON_TYPES
from pipelines.serving.settings import DeploySettings
from pipelines.wiring import Wiring

INVOCATIONS_METRIC = "SageMakerVariantInvocationsPerInstance"
SCALE_IN_COOLDOWN = 300
SCALE_OUT_COOLDOWN = 60
CANARY_PERCENT = 10
LINEAR_STEP_PERCENT = 20
TERMINATION_WAIT_SECONDS = 300  # the old fleet stays up this long after the shift, for a quick rollback


@dataclass(frozen=True)
class ApiCall:
    """One request: botocore service name, API operation name, parameters."""

    service: str
    operation: str
    params: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {"service": self.service, "operation": self.operation, "params": self.params}


@dataclass(frozen=True)
class DeployTarget:
    """What is deployed where: the stage's config and wiring, and the package."""

    config: Config
    wiring: Wiring
    package: PackageVersion

    @property
    def settings(self) -> DeploySettings:
        return self.config.deploy

    @property
    def endpoint(self) -> str:
        return names.endpoint_name(self.config.project, self.config.stage)

    def arn(self, kind: str, name: str) -> str:
        return names.sagemaker_arn(self.config.aws_region, self.config.account_id, kind, name)

    def package_tags(self) -> list[dict[str, str]]:
        return [{"Key": names.TAG_PACKAGE_ARN, "Value": self.package.arn},
                {"Key": names.TAG_PACKAGE_VERSION, "Value": str(self.package.version)}]

    def tags(self) -> list[dict[str, str]]:
        """The cost tags and the package's ARN and version."""
        return [{"Key": k, "Value": v} for k, v in self.config.tags.items()] + self.package_tags()


@dataclass(frozen=True)
class EndpointState:
    """What the stage has now: the endpoint's current config (None: no endpoint) and which of the
    target's resources exist."""

    current_config: str | None = None
    model_exists: bool = False
    config_exists: bool = False
    configs: tuple[str, ...] = field(default_factory=tuple)  # this endpoint's configs, oldest first


def _model_body(target: DeployTarget) -> dict[str, Any]:
    wiring = target.wiring
    return {"ExecutionRoleArn": wiring.role_arn, "PrimaryContainer": {"ModelPackageName": target.package.arn},
            "VpcConfig": {"Subnets": list(wiring.subnet_ids), "SecurityGroupIds": list(wiring.security_group_ids)}}


def model_name(target: DeployTarget) -> str:
    config = target.config
    return names.versioned_name(config.project, config.stage, target.package.version, _model_body(target))


def _variant(settings: DeploySettings, model: str) -> dict[str, Any]:
    variant: dict[str, Any] = {"VariantName": names.VARIANT, "ModelName": model}
    if settings.mode == "serverless":
        variant["ServerlessConfig"] = {"MemorySizeInMB": settings.serverless.memory_mb,
                                       "MaxConcurrency": settings.serverless.max_concurrency}
    else:
        variant.update(InstanceType=settings.instance_type, InitialInstanceCount=settings.instance_count,
                       InitialVariantWeight=1.0)
    return variant


def _data_capture(target: DeployTarget) -> dict[str, Any]:
    return {"EnableCapture": True, "InitialSamplingPercentage": target.settings.capture_percentage,
            "DestinationS3Uri": names.capture_uri(target.wiring.artifact_bucket, target.config.project),
            "KmsKeyId": target.wiring.kms_key_arn,
            "CaptureOptions": [{"CaptureMode": "Input"}, {"CaptureMode": "Output"}],
            "CaptureContentTypeHeader": {"CsvContentTypes": list(CSV_TYPES), "JsonContentTypes": list(JSON_TYPES)}}


def _async_config(target: DeployTarget) -> dict[str, Any]:
    settings, config = target.settings.async_inference, target.config
    output: dict[str, Any] = {"S3OutputPath": settings.output_prefix or names.async_output_uri(
        target.wiring.artifact_bucket, config.project, config.stage), "KmsKeyId": target.wiring.kms_key_arn}
    if settings.sns_topic_arn:
        output["NotificationConfig"] = {"SuccessTopic": settings.sns_topic_arn, "ErrorTopic": settings.sns_topic_arn}
    return {"OutputConfig": output}


def _config_body(target: DeployTarget, model: str) -> dict[str, Any]:
    settings = target.settings
    body: dict[str, Any] = {"ProductionVariants": [_variant(settings, model)]}
    if settings.mode != "serverless":
        body["KmsKeyId"] = target.wiring.kms_key_arn
    if settings.capture_percentage > 0:
        body["DataCaptureConfig"] = _data_capture(target)
    if settings.mode == "async":
        body["AsyncInferenceConfig"] = _async_config(target)
    return body


def config_name(target: DeployTarget) -> str:
    config = target.config
    return names.versioned_name(config.project, config.stage, target.package.version,
                                _config_body(target, model_name(target)))


def deployment_config(target: DeployTarget) -> dict[str, Any]:
    """Blue/green traffic shifting, rolled back automatically when a rollback alarm fires."""
    settings = target.settings
    routing: dict[str, Any] = {"Type": settings.traffic_shifting.upper(),
                               "WaitIntervalInSeconds": settings.wait_seconds}
    if settings.traffic_shifting == "canary":
        routing["CanarySize"] = {"Type": "CAPACITY_PERCENT", "Value": CANARY_PERCENT}
    elif settings.traffic_shifting == "linear":
        routing["LinearStepSize"] = {"Type": "CAPACITY_PERCENT", "Value": LINEAR_STEP_PERCENT}
    return {"BlueGreenUpdatePolicy": {"TrafficRoutingConfiguration": routing,
                                      "TerminationWaitInSeconds": TERMINATION_WAIT_SECONDS},
            "AutoRollbackConfiguration": {"Alarms": [{"AlarmName": name} for name in
                                                     names.alarm_names(target.config.project, target.config.stage)]}}


def autoscaling_calls(target: DeployTarget) -> list[ApiCall]:
    """Target tracking on invocations per instance (none for serverless variants)."""
    if target.settings.mode == "serverless":
        return []
    config, scaling = target.config, target.settings.autoscaling
    resource = {"ServiceNamespace": "sagemaker", "ResourceId": names.scalable_resource_id(config.project, config.stage),
                "ScalableDimension": names.SCALABLE_DIMENSION}
    return [
        ApiCall("application-autoscaling", "RegisterScalableTarget",
                {**resource, "MinCapacity": scaling.min_instances, "MaxCapacity": scaling.max_instances,
                 "Tags": {tag["Key"]: tag["Value"] for tag in target.tags()}}),
        ApiCall("application-autoscaling", "PutScalingPolicy",
                {**resource, "PolicyName": names.scaling_policy_name(config.project, config.stage),
                 "PolicyType": "TargetTrackingScaling",
                 "TargetTrackingScalingPolicyConfiguration": {
                     "TargetValue": float(scaling.target_invocations),
                     "PredefinedMetricSpecification": {"PredefinedMetricType": INVOCATIONS_METRIC},
                     "ScaleInCooldown": SCALE_IN_COOLDOWN, "ScaleOutCooldown": SCALE_OUT_COOLDOWN}}),
    ]


def update_endpoint(target: DeployTarget, endpoint_config: str) -> ApiCall:
    params: dict[str, Any] = {"EndpointName": target.endpoint, "EndpointConfigName": endpoint_config}
    if target.settings.mode != "serverless":
        params["DeploymentConfig"] = deployment_config(target)
    return ApiCall("sagemaker", "UpdateEndpoint", params)


def build_plan(target: DeployTarget, state: EndpointState) -> list[ApiCall]:
    """The calls that make the stage serve `target.package` with the stage's settings (empty: it already does)."""
    model, endpoint_config = model_name(target), config_name(target)
    if state.current_config == endpoint_config:
        return []
    calls = []
    if not state.model_exists:
        calls.append(ApiCall("sagemaker", "CreateModel", {"ModelName": model, **_model_body(target),
                                                           "Tags": target.tags()}))
    if not state.config_exists:
        calls.append(ApiCall("sagemaker", "CreateEndpointConfig", {"EndpointConfigName": endpoint_config,
                                                                    **_config_body(target, model),
                                                                    "Tags": target.tags()}))
    if state.current_config is None:
        calls.append(ApiCall("sagemaker", "CreateEndpoint", {"EndpointName": target.endpoint,
                                                              "EndpointConfigName": endpoint_config,
                                                              "Tags": target.tags()}))
    else:
        calls += [update_endpoint(target, endpoint_config),
                  ApiCall("sagemaker", "AddTags", {"ResourceArn": target.arn("endpoint", target.endpoint),
                                                   "Tags": target.package_tags()})]
    return calls + autoscaling_calls(target)


def previous_config(state: EndpointState) -> str | None:
    """The config created just before the endpoint's current one (what --rollback returns to)."""
    if state.current_config not in state.configs:
        return None
    index = state.configs.index(state.current_config)
    return state.configs[index - 1] if index > 0 else None


def rollback_plan(target: DeployTarget, previous: str) -> list[ApiCall]:
    """Back to `previous` (target.package is the package that config serves), blue/green as any update."""
    return [update_endpoint(target, previous),
            ApiCall("sagemaker", "AddTags", {"ResourceArn": target.arn("endpoint", target.endpoint),
                                             "Tags": target.package_tags()})]
