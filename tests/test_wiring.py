"""Reading the Terraform-vended wiring from SSM (moto) and from a file."""

from __future__ import annotations

import json

import boto3
import pytest
from moto import mock_aws

from pipelines.wiring import WIRING_KEYS, WiringError, load_wiring_file, parameter_name, read_wiring


def put_all(ssm, project: str, stage: str, skip: str | None = None) -> None:
    for spec in WIRING_KEYS:
        if spec.key == skip:
            continue
        value = "subnet-a,subnet-b" if spec.key == "subnet-ids" else "sg-1" if spec.is_list else f"v-{spec.key}"
        ssm.put_parameter(Name=parameter_name(project, stage, spec.key), Value=value,
                          Type="StringList" if spec.is_list else "String")


@mock_aws
def test_read_wiring_from_ssm():
    ssm = boto3.client("ssm", region_name="eu-west-1")
    put_all(ssm, "churn", "dev")
    put_all(ssm, "churn", "prod")
    wiring = read_wiring(ssm, "churn", "dev")
    assert wiring.subnet_ids == ("subnet-a", "subnet-b")
    assert wiring.security_group_ids == ("sg-1",)
    assert wiring.role_arn == "v-execution-role-arn"
    assert wiring.model_package_group == "v-model-package-group"
    assert wiring.source == "ssm"


@mock_aws
def test_missing_parameter_names_it_and_its_terraform_module():
    ssm = boto3.client("ssm", region_name="eu-west-1")
    put_all(ssm, "churn", "dev", skip="kms-key-arn")
    with pytest.raises(WiringError) as excinfo:
        read_wiring(ssm, "churn", "dev")
    message = str(excinfo.value)
    assert "/ml-factory/churn/dev/kms-key-arn" in message
    assert "infra/modules/sagemaker-project" in message
    assert "execution-role-arn" not in message  # only the missing one is named


def test_wiring_file_round_trip(tmp_path):
    values = {spec.key: (["a", "b"] if spec.is_list else f"x-{spec.key}") for spec in WIRING_KEYS}
    path = tmp_path / "wiring.json"
    path.write_text(json.dumps(values))
    wiring = load_wiring_file(path)
    assert wiring.subnet_ids == ("a", "b")
    assert wiring.source == str(path)


def test_wiring_file_with_wrong_keys_is_rejected(tmp_path):
    path = tmp_path / "wiring.json"
    path.write_text(json.dumps({"role": "x"}))
    with pytest.raises(WiringError, match="missing keys .*execution-role-arn.*unknown keys role"):
        load_wiring_file(path)


def test_offline_wiring_marks_every_value_with_its_label():
    from pipelines.wiring import offline_wiring

    for label in ("PLACEHOLDER", "local"):
        wiring = offline_wiring("churn", "dev", "123456789012", "eu-west-1", label=label)
        values = wiring.to_dict()
        for name, value in values.items():
            if name == "model_package_group":
                assert value == "churn-dev"  # the same group the registry CLI's --local path opens
                continue
            if name == "tracking_server_arn":
                assert value == "none"  # no tracking server: local runs log to the state folder's store
                continue
            text = ",".join(value) if isinstance(value, list) else value
            assert label.lower() in text.lower(), f"{name}={text} does not say {label}"
        assert wiring.source == label.lower()
