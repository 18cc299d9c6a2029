"""The IAM coverage contract: every role is granted what our code makes it do, scoped as AWS allows,
and nothing else (template_tests/iam_contract.py derives the needs; see its docstring).

Template-only, like the wiring contract: generated repositories do not receive infra/modules/.
"""

from __future__ import annotations

import dataclasses
import sys
from collections import defaultdict
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
for path in (REPO_ROOT, REPO_ROOT / "tests" / "contracts", Path(__file__).resolve().parent):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

import iam_contract as iam  # noqa: E402
from contract_longest import (  # noqa: E402
    ACCOUNT_ID,
    REGION,
    longest_cli_calls,
    longest_config,
    longest_monitoring_requests,
    longest_pipeline,
    longest_served_baselines,
    longest_step_requests,
    longest_wiring,
    root_module_names,
)
from contract_recorder import recorded_cli_calls  # noqa: E402

IAM_MODULE = REPO_ROOT / "infra" / "modules" / "iam"
MODULES = REPO_ROOT / "infra" / "modules"
LIFECYCLE_MODULE = REPO_ROOT / "infra" / "modules" / "lifecycle"
MONITORING_MODULE = REPO_ROOT / "infra" / "modules" / "monitoring"
# The Lambdas' requests, against moto and the Stubber: the cleanup and continuous training.
LAMBDA_TESTS = ("template_tests/test_lifecycle_cleanup.py", "template_tests/test_continuous_training.py")
DATA_LOCALS = {"account_id": ACCOUNT_ID, "partition": "aws", "region": REGION}
REGISTRY_ACCOUNT_ID = "111111111111"
KMS_KEY_ARN = f"arn:aws:kms:{REGION}:{ACCOUNT_ID}:key/1234abcd-12ab-34cd-56ef-1234567890ab"  # module.kms.key_arn


def module_variables(provider: str) -> dict[str, object]:
    """infra/main.tf's arguments to the iam module, at the longest names."""
    names = root_module_names()
    return {
        "project": longest_config().project, "stage": longest_config().stage,
        "artifact_bucket_name": names["artifact_bucket_name"], "data_bucket_name": names["data_bucket_name"],
        "kms_key_alias": names["kms_alias_name"], "model_package_group_name": names["model_package_group_name"],
        "sagemaker_pipeline_name": names["sagemaker_pipeline_name"],
        "codebuild_project_name": names["codebuild_project_name"],
        "codebuild_log_group_name": names["codebuild_log_group_name"],
        "codepipeline_name": names["codepipeline_name"], "source_provider": provider,
        "repository": "acme/churn-model" if provider == "github" else "churn-model",
        "vpc_id": "vpc-0123456789abcdef0", "permissions_boundary_arn": None,
    }


def promotion_module_variables(provider: str) -> dict[Path, dict[str, object]]:
    """infra/main.tf's arguments to the deploy-pipeline, deploy-target and inference-api modules."""
    names, config = root_module_names(), longest_config()
    registry = f"{config.project}-dev"
    common = {"project": config.project, "stage": config.stage, "kms_key_alias": names["kms_alias_name"],
              "kms_key_arn": KMS_KEY_ARN}
    return {
        MODULES / "deploy-pipeline": {
            **common, "model_package_group_name": names["model_package_group_name"],
            "artifact_bucket_name": names["artifact_bucket_name"], "source_provider": provider,
            "repository": "acme/churn-model" if provider == "github" else "churn-model",
            "deployer_role_arns": [f"arn:aws:iam::{ACCOUNT_ID}:role/{config.project}-{stage}-deployer"
                                   for stage in ("staging", "prod")],
        },
        MODULES / "deploy-target": {
            **common, "registry_account_id": REGISTRY_ACCOUNT_ID, "registry_model_package_group_name": registry,
            "registry_artifact_bucket_name": f"{registry}-artifacts-{REGISTRY_ACCOUNT_ID}",
            "artifact_bucket_name": names["artifact_bucket_name"],
            "model_execution_role_name": f"{names['name']}-sagemaker-execution",
        },
        MODULES / "inference-api": common,
    }


def lifecycle_variables() -> dict[str, object]:
    """infra/main.tf's arguments to the lifecycle module, at the longest names."""
    names = root_module_names()
    return {"project": longest_config().project, "stage": longest_config().stage,
            "sagemaker_pipeline_name": names["sagemaker_pipeline_name"],
            "artifact_bucket_name": names["artifact_bucket_name"], "kms_key_arn": KMS_KEY_ARN}


def monitoring_variables() -> dict[str, object]:
    """infra/main.tf's arguments to the monitoring module, at the longest names (a monitored registry stage)."""
    names, config = root_module_names(), longest_config()
    return {"project": config.project, "stage": config.stage, "kms_key_alias": names["kms_alias_name"],
            "kms_key_arn": KMS_KEY_ARN, "training_pipeline_name": names["sagemaker_pipeline_name"],
            "model_package_group_name": names["model_package_group_name"],
            "retrain_event_bus_arn": f"arn:aws:events:{REGION}:{REGISTRY_ACCOUNT_ID}:event-bus/{names['name']}-retrain"}


@pytest.fixture(scope="module")
def needs() -> list[iam.Need]:
    _, _, built = longest_pipeline()
    monitoring = list(longest_monitoring_requests())  # the monitoring pipeline runs with the same role
    requests = list(longest_step_requests()) + monitoring
    calls = list(recorded_cli_calls()) + list(longest_cli_calls()) + list(recorded_cli_calls(tests=LAMBDA_TESTS))
    return (iam.step_needs(requests, ACCOUNT_ID) + iam.step_code_needs(monitoring)
            + iam.quality_check_needs(built.definition_dict)
            + iam.call_needs(calls) + iam.service_needs() + iam.pending_cli_needs() + iam.inference_api_needs(REGION))


@pytest.fixture(scope="module")
def statements() -> list[iam.Statement]:
    # both source providers: the CodePipeline and EventBridge grants differ between them
    found = {s for provider in ("github", "codecommit")
             for s in iam.role_statements(IAM_MODULE, module_variables(provider), DATA_LOCALS)}
    found |= {s for provider in ("github", "codecommit")
              for module_dir, variables in promotion_module_variables(provider).items()
              for s in iam.role_statements(module_dir, variables, DATA_LOCALS)}
    found |= set(iam.role_statements(LIFECYCLE_MODULE, lifecycle_variables(), DATA_LOCALS))
    found |= set(iam.role_statements(MONITORING_MODULE, monitoring_variables(), DATA_LOCALS))
    return sorted(found, key=lambda s: (s.role, s.sid))


def test_every_needed_action_is_granted_to_the_role_that_makes_the_call(needs, statements):
    granted = iam.grants_by_role(statements)
    missing = sorted({f"{n.role}: {n.action} ({n.why})" for n in needs
                      if n.role in granted and n.action.lower() not in granted[n.role]})
    assert not missing, "needed but not granted:\n" + "\n".join(missing)


def test_every_role_that_runs_code_has_a_policy(needs, statements):
    roles = {s.role for s in statements}
    assert {n.role for n in needs} - roles == set(iam.PEOPLE)


def test_every_needed_action_exists_in_aws_iam_data(needs):
    unknown = sorted({n.action for n in needs if not iam.expand(n.action)})
    assert not unknown, f"not IAM actions (fix the operation -> action mapping): {unknown}"


def test_every_grant_is_scoped_as_aws_allows(statements):
    problems = [p for s in statements for p in iam.scoping_problems(s)]
    assert not problems, "\n".join(problems)


def test_every_grant_is_used_by_some_code_path(needs, statements):
    used: dict[str, set[str]] = defaultdict(set)
    for need in needs:
        used[need.role].add(need.action.lower())
    unused = sorted({f"{s.role}/{s.sid}: {pattern}" for s in statements for pattern in s.actions
                     if not any(a.lower() in used[s.role] for a in iam.expand(pattern))})
    assert not unused, "granted but used by no code path or service (remove, or list in SERVICE_USE):\n" + \
        "\n".join(unused)


def test_the_boundary_lets_every_need_through(needs):
    boundary = iam.boundary_statements(IAM_MODULE, module_variables("github"), DATA_LOCALS)
    allowed = {a.lower() for s in boundary for pattern in s.actions for a in iam.expand(pattern)}
    blocked = sorted({f"{n.role}: {n.action}" for n in needs if n.role not in iam.PEOPLE
                      and n.action.lower() not in allowed})
    assert not blocked, "granted by the role policy but outside the permissions boundary:\n" + "\n".join(blocked)


def test_the_scoping_check_catches_a_wrong_resource_and_a_needless_star():
    bad = iam.Statement("codebuild", "Bad", ("sagemaker:DescribeTrainingJob", "ecr:GetAuthorizationToken"),
                        (f"arn:aws:sagemaker:{REGION}:{ACCOUNT_ID}:pipeline/p",))
    problems = iam.scoping_problems(bad)
    assert any("DescribeTrainingJob cannot be scoped to" in p for p in problems)
    assert any("GetAuthorizationToken has no resource types" in p for p in problems)
    star = iam.Statement("codebuild", "Star", ("sagemaker:DescribeTrainingJob",), ("*",))
    assert iam.scoping_problems(star) and "can be scoped" in iam.scoping_problems(star)[0]
    good = iam.Statement("codebuild", "Good", ("logs:PutLogEvents",),
                         (f"arn:aws:logs:{REGION}:{ACCOUNT_ID}:log-group:/aws/codebuild/x:*",))
    assert not iam.scoping_problems(good)


def test_the_inference_api_needs_are_what_its_handler_calls(needs):
    recorded = {n.action for n in needs if n.role == "inference_api" and "handler.py calls" in n.why}
    assert recorded == {"sagemaker:InvokeEndpoint", "sagemaker:DescribeEndpoint"}


def test_the_deployer_is_granted_nothing_beyond_its_listed_needs(statements):
    granted = iam.grants_by_role([s for s in statements if s.role == iam.DEPLOYER])[iam.DEPLOYER]
    listed = {action.lower() for action, _ in iam.PENDING_CLI_USE[iam.DEPLOYER]}
    assert granted == listed


def test_approver_needs_are_the_registry_calls(needs):
    approver = {n.action for n in needs if n.role == iam.APPROVER}
    # sts:GetCallerIdentity: every status change records who made it (the registry's status history)
    assert approver == {"ssm:GetParameters", "sts:GetCallerIdentity", "sagemaker:ListModelPackages",
                        "sagemaker:DescribeModelPackage",
                        "sagemaker:UpdateModelPackage"}


def test_cost_analyst_needs_are_the_cost_report_and_price_calls(needs):
    analyst = {n.action for n in needs if n.role == iam.ANALYST}
    assert analyst == {"ce:GetCostAndUsage", "pricing:GetProducts", "sagemaker:ListPipelineExecutions",
                       "sagemaker:ListPipelineExecutionSteps", "sagemaker:DescribeTrainingJob"}


def test_the_cleanup_lambda_may_delete_only_what_its_code_deletes(needs, statements):
    lifecycle = {n.action for n in needs if n.role == "lifecycle" and ":Delete" in n.action}
    assert lifecycle == {"sagemaker:DeleteEndpoint", "sagemaker:DeleteEndpointConfig", "sagemaker:DeleteApp",
                         "ec2:DeleteVolume", "s3:DeleteObject"}


def test_the_monitoring_role_reads_the_ground_truth_prefix_and_the_served_model(statements):
    """ModelQuality runs as the stage's pipeline role: it lists and reads the labels under the stage's ground-truth
    prefix (names.PARAM_GROUND_TRUTH's default) and reads the served package's model archive (its model input) in the
    registry account's artifact bucket (granted by deploy-target, as the endpoint serves it)."""
    from pipelines.monitoring import names
    from pipelines.monitoring.definition import parameter_defaults

    config = longest_config()
    config = dataclasses.replace(config, monitoring=dataclasses.replace(config.monitoring, model_quality=True))
    wiring = longest_wiring()
    bucket, prefix = parameter_defaults(config, wiring, None)[names.PARAM_GROUND_TRUTH][5:].split("/", 1)
    label = f"arn:aws:s3:::{bucket}/{prefix}/2026/05/02/09/labels.jsonl"
    assert iam.grants_on(statements, iam.PIPELINE_ROLE, "s3:GetObject", label), label
    assert iam.grants_on(statements, iam.PIPELINE_ROLE, "s3:ListBucket", f"arn:aws:s3:::{bucket}")
    served = longest_served_baselines().quality[names.PARAM_MODEL_DATA]
    assert iam.grants_on(statements, iam.PIPELINE_ROLE, "s3:GetObject", f"arn:aws:s3:::{served[5:]}"), served
    registry_bucket = served[5:].split("/", 1)[0]  # a processing input is an S3 prefix: SageMaker lists it
    assert iam.grants_on(statements, iam.PIPELINE_ROLE, "s3:ListBucket", f"arn:aws:s3:::{registry_bucket}")
