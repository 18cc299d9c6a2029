"""`python -m pipelines.registry` against moto: list, approve and reject with a recorded reason, and a
status history (who, when, why) kept in the package's metadata within the API's limits."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import boto3
import botocore.session
import pytest
import regex
from moto import mock_aws

from pipelines.errors import run_cli
from pipelines.registry import main
from pipelines.wiring import WIRING_KEYS, parameter_name


@pytest.fixture
def group(fake_aws, repo_root, repo_config):
    with mock_aws():
        config = repo_config
        name = f"{config.project}-dev-models"
        ssm = boto3.client("ssm", region_name=fake_aws)
        for spec in WIRING_KEYS:
            value = name if spec.key == "model-package-group" else "x"
            ssm.put_parameter(Name=parameter_name(config.project, "dev", spec.key), Value=value, Type="String")
        sm = boto3.client("sagemaker", region_name=fake_aws)
        sm.create_model_package_group(ModelPackageGroupName=name)
        for _ in range(2):
            sm.create_model_package(
                ModelPackageGroupName=name, ModelApprovalStatus="PendingManualApproval",
                CustomerMetadataProperties={"primary_metric": f"{config.metric.name}=0.87"},
                InferenceSpecification={"Containers": [{"Image": "img", "ModelDataUrl": "s3://b/m.tar.gz"}],
                                        "SupportedContentTypes": ["text/csv"],
                                        "SupportedResponseMIMETypes": ["text/csv"]})
        yield {"name": name, "sm": sm, "argv": ["--config", str(repo_root / "pyproject.toml")], "region": fake_aws,
               "metric": f"{config.metric.name}=0.87"}


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
    assert "PendingManualApproval" in lines[1] and group["metric"] in lines[1]


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


def history_of(group, version: int) -> list[dict]:
    from pipelines.errors import run_cli as run

    assert run(main, [*group["argv"], "history", str(version), "--json"]) == 0
    return json.loads(group["capsys"].readouterr().out)["history"]


def test_history_keeps_approve_twice_and_reject(group, capsys):
    group["capsys"] = capsys
    for command, reason in (("approve", "AUC 0.87 beats prod 0.84"), ("approve", "re-checked, still fine!"),
                            ("reject", "leaks the label (churn_date)")):
        assert run_cli(main, [*group["argv"], command, "2", "--reason", reason]) == 0
    capsys.readouterr()
    history = history_of(group, 2)
    caller = boto3.client("sts", region_name=group["region"]).get_caller_identity()["Arn"]
    assert [(h["status"], h["who"], h["reason"]) for h in history] == [
        ("Registered", "-", "registered"),
        ("Approved", caller, "AUC 0.87 beats prod 0.84"),
        ("Approved", caller, "re-checked, still fine!"),
        ("Rejected", caller, "leaks the label (churn_date)")]
    moments = [datetime.fromisoformat(h["when"]) for h in history[1:]]
    assert moments == sorted(moments) and all(m.utcoffset() == timedelta(0) for m in moments)
    assert status_of(group, 2) == ("Rejected", "leaks the label (churn_date)")
    # the package keeps its other metadata, and `list` shows it without the history entries
    assert run_cli(main, [*group["argv"], "list", "--json"]) == 0
    (listed,) = [v for v in json.loads(capsys.readouterr().out) if v["version"] == 2]
    assert listed["metadata"] == {"primary_metric": group["metric"]}
    assert [h["status"] for h in history_of(group, 1)] == ["Registered"]


def _pattern(shape: str) -> tuple[regex.Pattern, int]:
    model = botocore.session.get_session().get_service_model("sagemaker").shape_for(shape).metadata
    return regex.compile(model["pattern"]), model["max"]


def test_history_entries_are_what_the_api_accepts(group, capsys):
    group["capsys"] = capsys
    reasons = ["naïve: 100% sure; see #42 ~ ok?", "x" * 300 + " tail", "plus+sign and, comma"]
    for reason in reasons:
        assert run_cli(main, [*group["argv"], "approve", "1", "--reason", reason]) == 0
    arn = next(p["ModelPackageArn"] for p in group["sm"].list_model_packages(
        ModelPackageGroupName=group["name"])["ModelPackageSummaryList"] if p["ModelPackageVersion"] == 1)
    metadata = group["sm"].describe_model_package(ModelPackageName=arn)["CustomerMetadataProperties"]
    (key_pattern, key_max), (value_pattern, value_max) = _pattern("CustomerMetadataKey"), \
        _pattern("CustomerMetadataValue")
    for key, value in metadata.items():
        assert key_pattern.fullmatch(key) and len(key) <= key_max, key
        assert value_pattern.fullmatch(value) and len(value) <= value_max, value
    capsys.readouterr()
    kept = [h["reason"] for h in history_of(group, 1)[1:]]
    assert kept[0] == reasons[0] and kept[2] == reasons[2]
    assert kept[1].startswith("x" * 100) and kept[1].endswith("...") and len(kept[1]) < len(reasons[1])
    assert status_of(group, 1) == ("Approved", reasons[2])


def test_history_stays_within_the_metadata_limit(group, capsys):
    group["capsys"] = capsys
    arn = group["sm"].create_model_package(
        ModelPackageGroupName=group["name"], ModelApprovalStatus="PendingManualApproval",
        CustomerMetadataProperties={f"k{i}": "v" for i in range(44)},
        InferenceSpecification={"Containers": [{"Image": "img"}], "SupportedContentTypes": ["text/csv"],
                                "SupportedResponseMIMETypes": ["text/csv"]})["ModelPackageArn"]
    for n in range(7):
        assert run_cli(main, [*group["argv"], "approve", "3", "--reason", f"check {n}"]) == 0
    metadata = group["sm"].describe_model_package(ModelPackageName=arn)["CustomerMetadataProperties"]
    assert len(metadata) <= 50 and all(metadata[f"k{i}"] == "v" for i in range(44))
    capsys.readouterr()
    history = history_of(group, 3)
    assert len(metadata) == 50  # 44 others, 5 history entries and the count of the dropped ones
    assert "2 earlier change(s) not kept here" in history[1]["reason"]
    assert [h["reason"] for h in history[2:]] == [f"check {n}" for n in range(2, 7)]


def test_options_after_the_command(group, capsys):
    assert run_cli(main, ["list", *group["argv"], "--stage", "dev"]) == 0
    assert [line.split()[0] for line in capsys.readouterr().out.splitlines()[1:]] == ["2", "1"]
