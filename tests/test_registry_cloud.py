"""`python -m pipelines.registry` against moto: list, approve and reject with a recorded reason."""

from __future__ import annotations

import json

import boto3
import pytest
from moto import mock_aws

from pipelines.config import load_config
from pipelines.errors import run_cli
from pipelines.registry import main
from pipelines.wiring import WIRING_KEYS, parameter_name

REGION = "eu-west-1"


@pytest.fixture
def group(monkeypatch, repo_root):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    with mock_aws():
        config = load_config("dev", repo_root / "pyproject.toml")
        name = f"{config.project}-dev-models"
        ssm = boto3.client("ssm", region_name=REGION)
        for spec in WIRING_KEYS:
            value = name if spec.key == "model-package-group" else "x"
            ssm.put_parameter(Name=parameter_name(config.project, "dev", spec.key), Value=value, Type="String")
        sm = boto3.client("sagemaker", region_name=REGION)
        sm.create_model_package_group(ModelPackageGroupName=name)
        for _ in range(2):
            sm.create_model_package(
                ModelPackageGroupName=name, ModelApprovalStatus="PendingManualApproval",
                CustomerMetadataProperties={"primary_metric": "auc=0.87"},
                InferenceSpecification={"Containers": [{"Image": "img", "ModelDataUrl": "s3://b/m.tar.gz"}],
                                        "SupportedContentTypes": ["text/csv"],
                                        "SupportedResponseMIMETypes": ["text/csv"]})
        yield {"name": name, "sm": sm, "argv": ["--config", str(repo_root / "pyproject.toml")]}


def status_of(group, version: int) -> tuple[str, str]:
    arn = next(p["ModelPackageArn"] for p in group["sm"].list_model_packages(
        ModelPackageGroupName=group["name"])["ModelPackageSummaryList"] if p["ModelPackageVersion"] == version)
    described = group["sm"].describe_model_package(ModelPackageName=arn)
    return described["ModelApprovalStatus"], described.get("ApprovalDescription", "")


def test_list_shows_versions_newest_first(group, capsys):
    assert run_cli(main, [*group["argv"], "list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[0] == "VERSION"
    assert [line.split()[0] for line in lines[1:]] == ["2", "1"]
    assert "PendingManualApproval" in lines[1] and "auc=0.87" in lines[1]


def test_list_json(group, capsys):
    assert run_cli(main, [*group["argv"], "list", "--json"]) == 0
    versions = json.loads(capsys.readouterr().out)
    assert [v["version"] for v in versions] == [2, 1]
    assert versions[0]["group"] == group["name"]


def test_approve_latest_records_reason(group, capsys):
    assert run_cli(main, [*group["argv"], "approve", "latest", "--reason", "AUC 0.87 beats prod 0.84"]) == 0
    assert status_of(group, 2) == ("Approved", "AUC 0.87 beats prod 0.84")
    assert status_of(group, 1)[0] == "PendingManualApproval"
    assert "version 2: Approved" in capsys.readouterr().out


def test_reject_by_number(group):
    assert run_cli(main, [*group["argv"], "reject", "1", "--reason", "trained on stale data"]) == 0
    assert status_of(group, 1) == ("Rejected", "trained on stale data")


@pytest.mark.parametrize("argv, message", [
    (["approve", "7", "--reason", "x"], "has no version 7; known versions: 2, 1"),
    (["approve", "two", "--reason", "x"], "version 'two' is not a number or 'latest'"),
    (["approve", "latest", "--reason", "  "], "a reason is required"),
])
def test_bad_requests_change_nothing(group, capsys, argv, message):
    assert run_cli(main, [*group["argv"], *argv]) == 2
    assert message in capsys.readouterr().err
    assert status_of(group, 1)[0] == status_of(group, 2)[0] == "PendingManualApproval"
