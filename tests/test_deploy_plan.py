"""Deploy plans and settings, offline: what a deploy would ask of AWS, checked against botocore's service
model at the longest names, and the per-stage settings validated like every other setting."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from pipelines.config import ConfigError, parse_config
from pipelines.registry_model import PackageVersion
from pipelines.serving.plan import DeployTarget, EndpointState, build_plan, config_name, model_name, previous_config
from pipelines.wiring import Wiring

sys.path.insert(0, str(Path(__file__).resolve().parent / "contracts"))
import contract_longest  # noqa: E402
from contract_shapes import request_problems  # noqa: E402


def _target(config, version: int = 1) -> DeployTarget:
    package = PackageVersion(group=f"{config.project}-dev", version=version, status="Approved", created="",
                             arn=f"arn:aws:sagemaker:{config.aws_region}:111111111111:model-package/"
                                 f"{config.project}-dev/{version}")
    return DeployTarget(config, contract_longest.longest_wiring(), package)


def _longest(**deploy) -> DeployTarget:
    config = contract_longest.longest_config()
    if deploy:
        import dataclasses

        from pipelines.config import SettingsTable
        from pipelines.serving.settings import deploy_table_settings

        where = SettingsTable("pyproject.toml", ("deploy",))
        config = dataclasses.replace(config, deploy=deploy_table_settings(deploy, where, config.stage))
    return _target(config, version=123456)


@pytest.mark.parametrize("deploy", [{}, {"mode": "serverless", "serverless": {"memory_mb": 3072}},
                                    {"mode": "async", "async": {"sns_topic_arn": "arn:aws:sns:eu-west-1:"
                                                                                 "222222222222:done"}},
                                    {"traffic_shifting": "linear"}])
def test_every_planned_request_is_valid_at_the_longest_names(deploy):
    target = _longest(**deploy)
    created = build_plan(target, EndpointState())
    updated = build_plan(target, EndpointState(current_config="x-v1-00000000", configs=("x-v1-00000000",)))
    problems = [p for call in created + updated for p in request_problems(call.service, call.operation, call.params)]
    assert not problems, "\n".join(problems)
    assert len(model_name(target)) <= 63 and len(config_name(target)) <= 63


def test_serverless_has_no_instances_no_autoscaling_and_no_traffic_shifting():
    target = _longest(mode="serverless")
    create = build_plan(target, EndpointState())
    assert [c.operation for c in create] == ["CreateModel", "CreateEndpointConfig", "CreateEndpoint"]
    [variant] = create[1].params["ProductionVariants"]
    assert variant["ServerlessConfig"] == {"MemorySizeInMB": 2048, "MaxConcurrency": 5}
    update = build_plan(target, EndpointState(current_config="old", configs=("old",)))
    assert "DeploymentConfig" not in next(c for c in update if c.operation == "UpdateEndpoint").params


def test_the_same_package_and_settings_plan_nothing_and_a_setting_change_plans_a_new_config():
    target = _longest()
    live = EndpointState(current_config=config_name(target), model_exists=True, config_exists=True)
    assert build_plan(target, live) == []
    bigger = _longest(instance_type="ml.c5.xlarge")
    assert config_name(bigger) != config_name(target) and model_name(bigger) == model_name(target)
    plan = build_plan(bigger, EndpointState(current_config=config_name(target), model_exists=True))
    assert [c.operation for c in plan][:2] == ["CreateEndpointConfig", "UpdateEndpoint"]


def test_rollback_goes_to_the_config_made_before_the_current_one():
    assert previous_config(EndpointState(current_config="c3", configs=("c1", "c2", "c3"))) == "c2"
    assert previous_config(EndpointState(current_config="c2", configs=("c1", "c2", "c3"))) == "c1"
    assert previous_config(EndpointState(current_config="c1", configs=("c1", "c2"))) is None


def test_prod_defaults_follow_the_platform_standard(team_table):
    prod = parse_config(team_table, "prod").deploy
    assert (prod.autoscaling.min_instances, prod.autoscaling.max_instances, prod.autoscaling.target_invocations) == (
        2, 10, 200)
    assert prod.instance_count == 2 and prod.capture_percentage == 20
    team_table.setdefault("deploy", {})["capture_percentage"] = 50
    team_table["stages"]["prod"]["deploy"] = {"autoscaling": {"max": 4}}
    assert parse_config(team_table, "staging").deploy.capture_percentage == 50
    assert parse_config(team_table, "prod").deploy.autoscaling.max_instances == 4


@pytest.mark.parametrize(("deploy", "message"), [
    ({"mode": "batch"}, "[tool.ml-factory.deploy] mode: 'batch' is not one of realtime, serverless, async"),
    ({"capture_percentage": 101}, "capture_percentage: must be between 0 and 100, got 101"),
    ({"autoscaling": {"min": 3, "max": 2}},
     "[tool.ml-factory.deploy.autoscaling] max: must be at least min (3), got 2"),
    ({"instance_count": 5}, "instance_count: must lie within autoscaling min..max (1..2), got 5"),
    ({"serverless": {"memory_mb": 2048}}, 'serverless: applies to mode = "serverless" only'),
    ({"mode": "serverless", "serverless": {"memory_mb": 1500}}, "memory_mb: must be one of 1024, 2048"),
    ({"mode": "async", "async": {"output_prefix": "bucket/x"}}, "output_prefix: 'bucket/x' must be an s3:// URI"),
    ({"mode": "async", "async": {"sns_topic_arn": "topic"}}, "sns_topic_arn: 'topic' is not an SNS topic ARN"),
    ({"smoke_test_p95_ms": 0}, "smoke_test_p95_ms: must be a positive number"),
    ({"instance_type": "m5.large"}, "instance_type: 'm5.large' is not a SageMaker instance type"),
    ({"capture": 5},
     "[tool.ml-factory.deploy] capture: unknown setting; `python -m pipelines.config` lists every setting"),
])
def test_bad_deploy_settings_name_the_key_and_the_fix(team_table, deploy, message):
    team_table["deploy"] = deploy
    with pytest.raises(ConfigError) as error:
        parse_config(team_table, "staging")
    assert message in str(error.value)


def test_wiring_fields_reach_the_model_and_config():
    target = _longest()
    wiring: Wiring = target.wiring
    create = {c.operation: c.params for c in build_plan(target, EndpointState())}
    assert create["CreateModel"]["VpcConfig"] == {"Subnets": list(wiring.subnet_ids),
                                                  "SecurityGroupIds": list(wiring.security_group_ids)}
    assert create["CreateEndpointConfig"]["KmsKeyId"] == wiring.kms_key_arn
    tags = {t["Key"] for t in create["CreateEndpoint"]["Tags"]}
    assert {"Project", "Team", "CostCenter", "ModelPackageArn", "ModelPackageVersion"} <= tags
