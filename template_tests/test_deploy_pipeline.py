"""The deploy pipeline (infra/modules/deploy-pipeline): which approvals start it, what it passes on,
and what its deploy buildspec does with the package ARN.

The EventBridge rule's pattern and input transformer are read from the module's template files,
exactly what Terraform's templatefile() renders, and evaluated by moto's EventBridge (event_rules.py):
a delivered message is an event that would start a deployment, with the input the pipeline would receive.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

import event_rules  # noqa: E402

from infra.tools.terraform_config import config_blocks, fields  # noqa: E402

MODULE = REPO_ROOT / "infra" / "modules" / "deploy-pipeline"
REGION = "eu-west-1"
ACCOUNT = "111111111111"
GROUP = "churn-model-dev"
DETAIL_TYPE = "SageMaker Model Package State Change"


def package_arn(group: str, version: int) -> str:
    return f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:model-package/{group}/{version}"


def state_change(group: str, status: str, version: int = 7) -> dict[str, Any]:
    """A "SageMaker Model Package State Change" event's detail, in the documented shape."""
    return {
        "ModelPackageGroupName": group,
        "ModelPackageVersion": version,
        "ModelPackageArn": package_arn(group, version),
        "ModelPackageName": f"{group}/{version}",
        "CreationTime": 1735689600000,
        "ModelPackageStatus": "Completed",
        "ModelApprovalStatus": status,
        "InferenceSpecification": {"SupportedContentTypes": ["text/csv"], "SupportedResponseMIMETypes": ["text/csv"]},
    }


def resource(kind: str, name: str) -> dict[str, Any]:
    return next(b.body for b in config_blocks(MODULE) if b.kind == "resource" and b.labels == (kind, name))


def module_locals(directory: Path = MODULE) -> dict[str, Any]:
    return {k: v for b in config_blocks(directory) if b.kind == "locals" for k, v in fields(b.body).items()}


def rendered(template: str, **values: str) -> str:
    return event_rules.rendered(MODULE / "event-patterns" / template, **values)


def delivered(pattern: str, input_template: str | None, events: list[tuple[str, dict[str, Any]]]) -> list[Any]:
    """Put `events` (source, detail) on moto's default bus under one rule; the inputs its target receives."""
    transformer = None if input_template is None else {
        "InputPathsMap": {"model_package_arn": "$.detail.ModelPackageArn"}, "InputTemplate": input_template}
    entries = [event_rules.entry(source, DETAIL_TYPE, detail, [detail["ModelPackageArn"]]) for source, detail in events]
    return event_rules.delivered(pattern, entries, transformer)


SAMPLES = {
    "approved here": ("aws.sagemaker", state_change(GROUP, "Approved")),
    "rejected here": ("aws.sagemaker", state_change(GROUP, "Rejected")),
    "pending here": ("aws.sagemaker", state_change(GROUP, "PendingManualApproval")),
    "approved in another group": ("aws.sagemaker", state_change("fraud-model-dev", "Approved")),
    "approved in a group whose name starts like ours": ("aws.sagemaker", state_change(f"{GROUP}-shadow", "Approved")),
    "approved, from a custom source": ("acme.sagemaker", state_change(GROUP, "Approved")),
}


def test_the_rule_renders_the_pattern_template_for_this_group() -> None:
    rule = resource("aws_cloudwatch_event_rule", "approved")
    assert "approved-model-package.json.tftpl" in rule["event_pattern"]
    assert "model_package_group_name = var.model_package_group_name" in rule["event_pattern"]


@pytest.mark.parametrize("name", SAMPLES)
def test_only_an_approved_package_of_this_group_starts_a_deployment(name: str) -> None:
    pattern = rendered("approved-model-package.json.tftpl", model_package_group_name=GROUP)
    inputs = delivered(pattern, None, [SAMPLES[name]])
    assert len(inputs) == (1 if name == "approved here" else 0), inputs


def test_the_anything_but_pattern_of_the_aws_samples_would_deploy_a_rejected_model() -> None:
    """The control: the pattern issue 11 rules out does fire on Rejected, so the matcher can tell them apart."""
    sample_pattern = json.dumps({"source": ["aws.sagemaker"], "detail-type": [DETAIL_TYPE], "detail": {
        "ModelPackageGroupName": [GROUP], "ModelApprovalStatus": [{"anything-but": "PendingManualApproval"}]}})
    assert len(delivered(sample_pattern, None, [SAMPLES["rejected here"]])) == 1


def test_the_pipeline_receives_the_approved_package_arn_as_its_variable() -> None:
    variable = module_locals()["package_variable"]
    pattern = rendered("approved-model-package.json.tftpl", model_package_group_name=GROUP)
    template = rendered("start-pipeline-input.json.tftpl", variable_name=variable)
    inputs = delivered(pattern, template, list(SAMPLES.values()))
    assert inputs == [{"variables": [{"name": variable, "value": package_arn(GROUP, 7)}]}]


def test_staging_exports_the_arn_that_prod_deploys() -> None:
    """The event's variable, the pipeline variable, the buildspec export and the prod action agree."""
    local_values = module_locals()
    variable = local_values["package_variable"]
    pipeline = resource("aws_codepipeline", "this")
    assert pipeline["pipeline_type"] == "V2"
    assert [v["name"] for v in pipeline["variable"]] == ["${local.package_variable}"]
    stages = [stage["name"] for stage in pipeline["stage"]]
    assert stages == ["Source", "DeployStaging", "TestStaging", "ApproveProd", "DeployProd"]
    staging, prod = pipeline["stage"][1]["action"][0], pipeline["stage"][4]["action"][0]
    assert staging["namespace"] == "DeployStaging"
    assert "#{variables.${local.package_variable}}" in local_values["staging_environment"]
    assert "#{DeployStaging.${local.package_variable}}" in local_values["prod_environment"]
    assert staging["configuration"]["EnvironmentVariables"] == "${local.staging_environment}"
    assert prod["configuration"]["EnvironmentVariables"] == "${local.prod_environment}"
    spec = yaml.safe_load((MODULE / "buildspecs" / "deploy.yml").read_text())
    assert spec["env"]["exported-variables"] == [variable]
    approval = pipeline["stage"][3]["action"][0]
    assert approval["provider"] == "Manual" and approval["configuration"]["NotificationArn"].startswith(
        "${aws_sns_topic.approval.arn")


def test_the_buildspecs_run_the_deploy_cli_contract() -> None:
    deploy = yaml.safe_load((MODULE / "buildspecs" / "deploy.yml").read_text())["phases"]["build"]["commands"]
    smoke = yaml.safe_load((MODULE / "buildspecs" / "smoke-test.yml").read_text())["phases"]["build"]["commands"]
    assert deploy[-1] == '.venv/bin/python -m pipelines.deploy --stage "$DEPLOY_STAGE" --model-package-arn ' \
                         '"$MODEL_PACKAGE_ARN"'
    assert smoke == ['.venv/bin/python -m pipelines.deploy --stage "$DEPLOY_STAGE" --smoke-test']


def run_package_choice(tmp_path: Path, stage: str, arn: str, listed: str) -> subprocess.CompletedProcess[str]:
    """Run deploy.yml's package-choice command under bash, with a fake `aws` answering `listed`."""
    commands = yaml.safe_load((MODULE / "buildspecs" / "deploy.yml").read_text())["phases"]["build"]["commands"]
    fake_aws = tmp_path / "aws"
    fake_aws.write_text(f"#!/bin/sh\necho \"$@\" > {tmp_path / 'aws-args'}\necho '{listed}'\n")
    fake_aws.chmod(0o755)
    env = {"PATH": f"{tmp_path}:{os.environ['PATH']}", "DEPLOY_STAGE": stage, "MODEL_PACKAGE_ARN": arn,
           "MODEL_PACKAGE_GROUP": GROUP}
    script = commands[0] + '\necho "chosen=$MODEL_PACKAGE_ARN"\n'
    return subprocess.run([shutil.which("bash") or "/bin/bash", "-ec", script], env=env, capture_output=True,
                          text=True, timeout=30)


def test_staging_deploys_the_event_arn_as_given(tmp_path: Path) -> None:
    done = run_package_choice(tmp_path, "staging", package_arn(GROUP, 7), listed="unused")
    assert done.returncode == 0 and done.stdout.strip() == f"chosen={package_arn(GROUP, 7)}"
    assert not (tmp_path / "aws-args").exists()


def test_a_run_by_hand_deploys_the_newest_approved_package_to_staging(tmp_path: Path) -> None:
    done = run_package_choice(tmp_path, "staging", "latest-approved", listed=package_arn(GROUP, 9))
    assert done.returncode == 0 and done.stdout.strip() == f"chosen={package_arn(GROUP, 9)}"
    args = (tmp_path / "aws-args").read_text()
    assert f"--model-package-group-name {GROUP} --model-approval-status Approved" in args


def test_no_approved_package_stops_staging_with_the_fix(tmp_path: Path) -> None:
    done = run_package_choice(tmp_path, "staging", "latest-approved", listed="None")
    assert done.returncode == 2 and "chosen=" not in done.stdout
    fix = "approve one with python -m pipelines.registry approve"
    assert done.stderr.strip() == f"no Approved package in {GROUP}: {fix}"


def test_prod_refuses_anything_but_the_arn_staging_tested(tmp_path: Path) -> None:
    done = run_package_choice(tmp_path, "prod", "latest-approved", listed=package_arn(GROUP, 9))
    assert done.returncode == 2 and "chosen=" not in done.stdout
    assert "prod deploys only the package staging tested" in done.stderr
    assert not (tmp_path / "aws-args").exists()


def test_the_root_module_names_the_roles_the_modules_create() -> None:
    """Cross-account trust is by name: the root's ARNs must be the names the modules give their roles."""
    root = {b.labels[0]: b.body for b in config_blocks(REPO_ROOT / "infra") if b.kind == "module"}
    root_locals, target = module_locals(REPO_ROOT / "infra"), module_locals(MODULE.parent / "deploy-target")
    codebuild_role = module_locals()["roles"]["deploy_codebuild"]["name"]
    assert codebuild_role == "${local.name}-deploy-codebuild"  # local.name is <project>-<stage>
    assert root["deploy_target"]["deploy_codebuild_role_arn"].endswith(":role/${local.registry_name}-deploy-codebuild")
    assert root_locals["registry_name"] == "${var.project}-${var.registry_stage}"
    assert target["deployer_role_name"] == "${local.name}-deployer"
    assert ":role/${var.project}-${stage}-deployer" in root_locals["deployer_role_arns"]
