"""The serving naming convention, in one place; Terraform (deploy-pipeline, inference-api) mirrors it.

  endpoint                 <project>-<stage>
  model, endpoint config   <project>-<stage>-v<version>-<digest of the request, 8 hex>   (<= 63 chars)
  production variant       AllTraffic
  deployer role            arn:<partition>:iam::<stage account>:role/<project>-<stage>-deployer
  rollback alarms          <project>-<stage>-5xx-errors, <project>-<stage>-model-latency
  scaling policy           <project>-<stage>-invocations
  data capture             s3://<stage artifact bucket>/<project>/data-capture/  (then SageMaker's
                           <endpoint>/<variant>/yyyy/mm/dd/hh/ layout)
  ground truth             s3://<stage artifact bucket>/<project>/ground-truth/<endpoint>/  (then
                           yyyy/mm/dd/hh/*.jsonl: labels keyed by the capture's inferenceId or eventId)
  async output             s3://<stage artifact bucket>/<project>/async-output/<stage>/
  tags                     the cost tags + ModelPackageArn, ModelPackageVersion; the staging endpoint
                           also carries SmokeTestedPackageArn once `--smoke-test` passed on it

The registry lives in the stage that runs the pipeline (REGISTRY_STAGE); every stage serves from it.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

REGISTRY_STAGE = "dev"  # the pipeline runs and registers here; staging and prod deploy from its group
CLOUD_STAGES = ("staging", "prod")
VARIANT = "AllTraffic"
MAX_NAME = 63  # Model, EndpointConfig and Endpoint names
TAG_PACKAGE_ARN = "ModelPackageArn"
TAG_PACKAGE_VERSION = "ModelPackageVersion"
TAG_SMOKE_TESTED = "SmokeTestedPackageArn"
ALARM_SUFFIXES = ("5xx-errors", "model-latency")
SCALABLE_DIMENSION = "sagemaker:variant:DesiredInstanceCount"


def endpoint_name(project: str, stage: str) -> str:
    return f"{project}-{stage}"


def versioned_name(project: str, stage: str, version: int, request: dict[str, Any]) -> str:
    """A Model or EndpointConfig name: the package version, and a digest of what the request asks for, so
    the same package with the same settings gets the same name (a re-deploy creates nothing) and changed
    settings get a new one (a new config and a blue/green update)."""
    digest = hashlib.sha256(json.dumps(request, sort_keys=True, default=str).encode()).hexdigest()[:8]
    name = f"{endpoint_name(project, stage)}-v{version}-{digest}"
    if len(name) > MAX_NAME:
        raise ValueError(f"{name!r} is longer than {MAX_NAME} characters")
    return name


def version_prefix(project: str, stage: str) -> str:
    """What every Model and EndpointConfig name of the endpoint starts with."""
    return f"{endpoint_name(project, stage)}-v"


def sagemaker_arn(region: str, account_id: str, kind: str, name: str) -> str:
    """e.g. kind "endpoint": SageMaker spells resource names in ARNs in lower case."""
    return f"arn:aws:sagemaker:{region}:{account_id}:{kind}/{name.lower()}"


def deployer_role_arn(project: str, stage: str, account_id: str, partition: str = "aws") -> str:
    return f"arn:{partition}:iam::{account_id}:role/{project}-{stage}-deployer"


def alarm_names(project: str, stage: str) -> list[str]:
    return [f"{endpoint_name(project, stage)}-{suffix}" for suffix in ALARM_SUFFIXES]


def scaling_policy_name(project: str, stage: str) -> str:
    return f"{endpoint_name(project, stage)}-invocations"


def scalable_resource_id(project: str, stage: str) -> str:
    return f"endpoint/{endpoint_name(project, stage)}/variant/{VARIANT}"


def capture_uri(artifact_bucket: str, project: str) -> str:
    return f"s3://{artifact_bucket}/{project}/data-capture"


def ground_truth_uri(artifact_bucket: str, project: str, stage: str) -> str:
    """Where a team puts the ground-truth labels of an endpoint's captured requests (model quality)."""
    return f"s3://{artifact_bucket}/{project}/ground-truth/{endpoint_name(project, stage)}"


def async_output_uri(artifact_bucket: str, project: str, stage: str) -> str:
    return f"s3://{artifact_bucket}/{project}/async-output/{stage}"
