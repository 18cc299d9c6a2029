"""The longest valid project, at its longest stage, named as Terraform names it.

Request limits bite at the longest names: a 32-character slug (pipelines/rules.py RULES["project"])
at stage "staging", with the infrastructure names that infra/main.tf derives from them.
"""

from __future__ import annotations

import copy
import json
import os
import re
import tempfile
import tomllib
from functools import cache
from pathlib import Path
from typing import Any

from terraform_values import render

from pipelines.config import Config, parse_config
from pipelines.rules import METRIC_NAMES, RULES
from pipelines.wiring import Wiring

REPO_ROOT = Path(__file__).resolve().parents[2]
PROJECT = "abcdefghij-klmnopqrst-uvwxyz-012"  # 32 characters: the longest slug the rules accept
STAGE = "staging"  # the longest stage
ACCOUNT_ID = "222222222222"
REGION = "eu-west-1"
TEAM = "T" + "e" * 63  # 64: the longest team the rules accept (a tag value)


@cache
def root_module_names() -> dict[str, str]:
    """infra/main.tf's shared names (`locals`) for the longest project and stage."""
    from infra.tools.terraform_config import config_blocks, fields

    local_values = {k: v for b in config_blocks(REPO_ROOT / "infra") if b.kind == "locals"
                    for k, v in fields(b.body).items()}
    variables = {"project": PROJECT, "stage": STAGE, "account_id": ACCOUNT_ID, "team": TEAM}
    names = {}
    for key, value in local_values.items():
        try:
            names[key] = render(value, variables, local_values)
        except KeyError:
            continue  # a value built from modules or functions: not a name we need
    return names


def longest_config() -> Config:
    assert RULES["project"].pattern.match(PROJECT) and len(PROJECT) == 32
    table = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["tool"]["ml-factory"]
    table = copy.deepcopy(table)
    table.update(project=PROJECT, project_name="P" + "n" * 63, team=TEAM, cost_center="C" + "c" * 63,
                 owner_email=("o" * 50) + "@example-long-domain.com", aws_region=REGION,
                 target_column="Target " + "c" * 121)  # 128, with a space: one ContainerArguments item
    table.setdefault("stages", {}).setdefault(STAGE, {})["account_id"] = ACCOUNT_ID
    return parse_config(table, STAGE)


def longest_wiring() -> Wiring:
    names = root_module_names()
    suffix = f"{REGION}:{ACCOUNT_ID}"
    return Wiring(
        role_arn=f"arn:aws:iam::{ACCOUNT_ID}:role/{names['name']}-sagemaker-execution",  # infra/modules/iam
        artifact_bucket=names["artifact_bucket_name"],
        data_bucket=names["data_bucket_name"],
        kms_key_arn=f"arn:aws:kms:{suffix}:key/0123abcd-4567-89ef-0123-456789abcdef",
        subnet_ids=("subnet-0123456789abcdef0", "subnet-0123456789abcdef1"),
        security_group_ids=("sg-0123456789abcdef0",),
        model_package_group=names["model_package_group_name"],
        source="longest",
    )


def _write_pyproject(path: Path, num_round: int) -> Path:
    """This repo's pyproject.toml with the longest identity values, the contract's region and `num_round` set."""
    config = longest_config()
    text = (REPO_ROOT / "pyproject.toml").read_text()
    for key, value in (("project", config.project), ("project_name", config.project_name), ("team", config.team),
                       ("owner_email", config.owner_email), ("cost_center", config.cost_center),
                       ("aws_region", config.aws_region)):
        text, count = re.subn(rf'(?m)^{key} = ".*"$', f"{key} = {json.dumps(value)}", text, count=1)
        assert count == 1, f"pyproject.toml has no top-level {key} line"
    text, count = re.subn(r"(?m)^num_round = \d+$", f"num_round = {num_round}", text, count=1)
    assert count == 1, "pyproject.toml has no num_round line"
    text, count = re.subn(rf'(?m)^(\[tool\.ml-factory\.stages\.{STAGE}\]\naccount_id = )".*"$',
                          rf'\g<1>"{config.account_id}"', text, count=1)
    assert count == 1, f"pyproject.toml has no [tool.ml-factory.stages.{STAGE}] account_id line"
    path.write_text(text)
    return path


@cache
def longest_pipeline() -> tuple[Config, Wiring, Any]:
    """(config, wiring, BuiltPipeline) at the longest names; built once per test session."""
    from pipelines.code_bundle import bundle_seedcode
    from pipelines.definition import build_pipeline

    config, wiring = longest_config(), longest_wiring()
    return config, wiring, build_pipeline(config, wiring, bundle_seedcode())


@cache
def longest_step_requests() -> tuple[Any, ...]:
    from contract_definition import StandIns, step_requests

    config, wiring, built = longest_pipeline()
    prefix = f"s3://{wiring.artifact_bucket}/{config.project}/pipelines/{config.pipeline_name}"
    definition = built.definition_dict
    return tuple(step_requests(definition, StandIns(definition, config.pipeline_name, prefix)))


MONITORED_VERSION = 99999  # a package version far beyond any team's: the monitoring names must still fit


def longest_served_baselines() -> Any:
    """The DriftCheckBaselines of a package served at the longest names (pipelines/monitoring/baselines.py), with
    the longest model-quality parameters a served package gives (pipelines/monitoring/ground_truth.py)."""
    import dataclasses

    from pipelines.monitoring import names
    from pipelines.monitoring.baselines import ServedBaselines
    from pipelines.monitoring.ground_truth import quality_parameters
    from pipelines.registry_model import PackageVersion

    config, wiring = longest_config(), longest_wiring()
    run = f"s3://{wiring.artifact_bucket}/{config.project}/pipelines/{config.pipeline_name}/runs/a1b2c3d4e5f6"
    group = wiring.model_package_group
    arn = f"arn:aws:sagemaker:{config.aws_region}:111111111111:model-package/{group}/{MONITORED_VERSION}"
    label = f"{group} version {MONITORED_VERSION}"
    registry_run = run.replace(wiring.artifact_bucket, f"{config.project}-dev-artifacts-111111111111", 1)
    package = PackageVersion(group, MONITORED_VERSION, arn, "Approved", "", model_data_url=f"{registry_run}/Train/"
                             f"{config.project}-train-2026-12-02-16-05-47-123/output/model.tar.gz")
    longest_metric = max(METRIC_NAMES, key=len)
    gates = [quality_parameters(dataclasses.replace(package, metadata=metadata), label, config) for metadata in (
        {}, {"primary_metric": f"{longest_metric}=0.5"},
        {"primary_metric": f"{config.metric.name}=0.5", "metric_threshold": "0.123456789012345"})]
    longest = max(gates, key=lambda g: len(g[names.PARAM_GATE]))
    return ServedBaselines(arn, label, f"{run}/DataQualityCheck/statistics.json",
                           f"{run}/DataQualityCheck/constraints.json", longest)


@cache
def longest_monitoring_pipeline() -> Any:
    """The monitoring pipeline (BuiltPipeline) at the longest names, published for a served package, with its
    ModelQuality step."""
    import dataclasses

    from pipelines.code_bundle import bundle_seedcode
    from pipelines.monitoring.definition import build_monitoring_pipeline

    config = longest_config()
    config = dataclasses.replace(config, monitoring=dataclasses.replace(config.monitoring, model_quality=True))
    return build_monitoring_pipeline(config, longest_wiring(), bundle_seedcode(), longest_served_baselines())


@cache
def longest_monitoring_requests() -> tuple[Any, ...]:
    from contract_definition import StandIns, step_requests

    from pipelines.monitoring import names

    config, wiring = longest_config(), longest_wiring()
    definition = longest_monitoring_pipeline().definition_dict
    prefix = names.runs_uri(wiring.artifact_bucket, config.project, config.stage)
    return tuple(step_requests(definition, StandIns(definition, names.monitor_pipeline_name(config.project,
                                                                                          config.stage), prefix)))


@cache
def longest_cli_calls() -> tuple[Any, ...]:
    """Run `pipelines.run` (create, then update) and `pipelines.registry list` at the longest names
    against moto, recording their requests; once per test session."""
    with tempfile.TemporaryDirectory() as workdir:
        return tuple(_run_clis(Path(workdir)))


def _run_clis(workdir: Path) -> list[Any]:
    import boto3
    from contract_recorder import recording
    from moto import mock_aws

    from pipelines import registry, run
    from pipelines.errors import run_cli
    from pipelines.wiring import WIRING_KEYS, parameter_name

    wiring = longest_wiring().to_dict()
    env = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": REGION}
    saved = {k: os.environ.get(k) for k in (*env, "AWS_PROFILE", "AWS_SESSION_TOKEN")}
    os.environ.update(env)
    for key in ("AWS_PROFILE", "AWS_SESSION_TOKEN"):
        os.environ.pop(key, None)
    try:
        with mock_aws(), recording() as calls:
            ssm = boto3.client("ssm", region_name=REGION)
            for spec in WIRING_KEYS:
                value = wiring[spec.attribute]
                ssm.put_parameter(Name=parameter_name(PROJECT, STAGE, spec.key), Type="StringList" if spec.is_list
                                  else "String", Value=",".join(value) if spec.is_list else value)
            boto3.client("s3", region_name=REGION).create_bucket(
                Bucket=wiring["artifact_bucket"], CreateBucketConfiguration={"LocationConstraint": REGION})
            boto3.client("sagemaker", region_name=REGION).create_model_package_group(
                ModelPackageGroupName=wiring["model_package_group"])
            for num_round in (100, 120):  # the second run changes the definition: an update
                pyproject = _write_pyproject(workdir / f"pyproject-{num_round}.toml", num_round)
                status = run_cli(run.main, ["--config", str(pyproject), "--stage", STAGE])
                assert status == 0, f"pipelines.run at the longest names exited {status}"
            assert run_cli(registry.main, ["--config", str(pyproject), "--stage", STAGE, "list"]) == 0
            return list(calls)
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
