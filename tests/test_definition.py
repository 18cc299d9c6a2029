"""The pipeline definition: six stages, wired right, Spot with checkpoints, deterministic, offline."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from pipelines.code_bundle import SEEDCODE_DIR, bundle_seedcode
from pipelines.config import load_config
from pipelines.definition import build_pipeline, metric_json_path
from pipelines.wiring import Wiring

WIRING = Wiring(
    role_arn="arn:aws:iam::123456789012:role/team-sagemaker",
    artifact_bucket="team-artifacts",
    data_bucket="team-data",
    kms_key_arn="arn:aws:kms:eu-west-1:123456789012:key/abcd",
    subnet_ids=("subnet-1", "subnet-2"),
    security_group_ids=("sg-1",),
    model_package_group="team-models",
)


def steps_by_name(definition: dict) -> dict[str, dict]:
    found: dict[str, dict] = {}

    def visit(steps: list[dict]) -> None:
        for step in steps:
            found[step["Name"]] = step
            visit(step.get("Arguments", {}).get("IfSteps", []) + step.get("Arguments", {}).get("ElseSteps", []))

    visit(definition["Steps"])
    return found


@pytest.fixture(scope="module")
def config(request):
    root = Path(request.config.rootpath)
    return load_config("dev", root / "pyproject.toml")


@pytest.fixture(scope="module")
def built(config):
    return build_pipeline(config, WIRING, bundle_seedcode())


@pytest.fixture(scope="module")
def steps(built):
    return steps_by_name(built.definition_dict)


def test_all_six_stages_with_their_types(steps):
    types = {name: step["Type"] for name, step in steps.items()}
    assert types == {
        "Preprocess": "Processing",
        "DataQualityCheck": "QualityCheck",
        "Train": "Training",
        "Evaluate": "Processing",
        "CheckMetric": "Condition",
        "RegisterModel": "RegisterModel",
        "MetricBelowThreshold": "Fail",
    }


def test_steps_are_wired_through_properties(steps):
    train_channels = {c["ChannelName"]: c["DataSource"]["S3DataSource"]["S3Uri"]
                      for c in steps["Train"]["Arguments"]["InputDataConfig"]}
    assert train_channels["train"] == {"Get": "Steps.Preprocess.ProcessingOutputConfig.Outputs['train'].S3Output.S3Uri"}
    assert train_channels["validation"]["Get"].endswith("Outputs['validation'].S3Output.S3Uri")
    evaluate_inputs = {i["InputName"]: i["S3Input"]["S3Uri"]
                       for i in steps["Evaluate"]["Arguments"]["ProcessingInputs"]}
    assert evaluate_inputs["model"] == {"Get": "Steps.Train.ModelArtifacts.S3ModelArtifacts"}
    quality_input = steps["DataQualityCheck"]["Arguments"]["ProcessingInputs"][0]["S3Input"]["S3Uri"]
    assert quality_input == {"Get": "Steps.Preprocess.ProcessingOutputConfig.Outputs['baseline'].S3Output.S3Uri"}
    preprocess_data = steps["Preprocess"]["Arguments"]["ProcessingInputs"][0]["S3Input"]["S3Uri"]
    assert preprocess_data == {"Get": "Parameters.InputDataUri"}


def test_spot_training_with_per_execution_checkpoints(config):
    spot = dataclasses.replace(config, training=dataclasses.replace(config.training, use_spot=True))
    train = steps_by_name(build_pipeline(spot, WIRING, bundle_seedcode()).definition_dict)["Train"]["Arguments"]
    assert train["EnableManagedSpotTraining"] is True
    stopping = train["StoppingCondition"]
    assert stopping["MaxWaitTimeInSeconds"] > stopping["MaxRuntimeInSeconds"] == config.training.max_runtime_seconds
    checkpoint = train["CheckpointConfig"]
    assert checkpoint["LocalPath"] == "/opt/ml/checkpoints"
    join = checkpoint["S3Uri"]["Std:Join"]
    assert {"Get": "Execution.PipelineExecutionId"} in join["Values"], "checkpoint URI must be unique per execution"
    assert train["HyperParameters"]["checkpoint_every"] == str(config.training.checkpoint_every_rounds)
    assert train["HyperParameters"]["num_round"] == str(config.training.num_round)


def test_spot_off_means_on_demand_without_max_wait(config):
    on_demand = dataclasses.replace(config, training=dataclasses.replace(config.training, use_spot=False))
    train = steps_by_name(build_pipeline(on_demand, WIRING, bundle_seedcode()).definition_dict)["Train"]["Arguments"]
    assert not train.get("EnableManagedSpotTraining")
    assert "MaxWaitTimeInSeconds" not in train["StoppingCondition"]


def test_retry_policy_covers_spot_capacity(steps):
    policies = steps["Train"]["RetryPolicies"]
    job_policy = next(p for p in policies if "FailureReasonTypes" in p or any(
        e.startswith("SageMaker.") for e in p.get("ExceptionType", [])))
    assert "SageMaker.CAPACITY_ERROR" in job_policy["ExceptionType"]
    assert job_policy["MaxAttempts"] >= 3


def test_jobs_use_kms_private_subnets_and_isolation(steps):
    train = steps["Train"]["Arguments"]
    assert train["VpcConfig"] == {"SecurityGroupIds": ["sg-1"], "Subnets": ["subnet-1", "subnet-2"]}
    assert train["EnableNetworkIsolation"] is True
    assert train["EnableInterContainerTrafficEncryption"] is True
    assert train["OutputDataConfig"]["KmsKeyId"] == WIRING.kms_key_arn
    for name in ("Preprocess", "Evaluate", "DataQualityCheck"):
        arguments = steps[name]["Arguments"]
        assert arguments["ProcessingOutputConfig"]["KmsKeyId"] == WIRING.kms_key_arn, name
        assert arguments["NetworkConfig"]["VpcConfig"]["Subnets"] == ["subnet-1", "subnet-2"], name


def test_gate_compares_primary_metric_with_threshold_parameter(steps, config):
    floor, champion = steps["CheckMetric"]["Arguments"]["Conditions"]
    assert floor["Type"] == ("GreaterThanOrEqualTo" if config.metric.higher_is_better else "LessThanOrEqualTo")
    assert floor["LeftValue"]["Std:JsonGet"]["Path"] == metric_json_path(config)
    assert floor["RightValue"] == {"Get": "Parameters.MetricThreshold"}
    assert champion["Type"] == "Equals" and champion["RightValue"] == 1
    assert champion["LeftValue"]["Std:JsonGet"]["Path"] == "champion.beats_champion"
    message = json.dumps(steps["MetricBelowThreshold"]["Arguments"]["ErrorMessage"])
    assert f"Primary metric {config.metric.name}" in message and "Parameters.MetricThreshold" in message
    assert "champion.verdict" in message


def test_evaluate_scores_the_champion_given_by_parameter(steps, config):
    evaluate = steps["Evaluate"]["Arguments"]
    inputs = {i["InputName"]: i["S3Input"] for i in evaluate["ProcessingInputs"]}
    assert inputs["champion"]["S3Uri"] == {"Get": "Parameters.ChampionModelDataUri"}
    arguments = evaluate["AppSpecification"]["ContainerArguments"]
    assert arguments[arguments.index("--primary-metric") + 1] == config.metric.name
    parameters = {p["Name"]: p for p in json.loads(build_pipeline(config, WIRING, bundle_seedcode()).definition)[
        "Parameters"]}
    # no champion: the default is the step-code folder, which exists and holds no model.tar.gz
    assert parameters["ChampionModelDataUri"]["DefaultValue"] == bundle_seedcode().for_step("evaluate.py").files_uri(
        WIRING.artifact_bucket, config.project)
    assert parameters["ChampionMargin"]["DefaultValue"] == config.metric.champion_margin


def test_registered_package_serves_in_script_mode(steps, config):
    spec = steps["RegisterModel"]["Arguments"]["InferenceSpecification"]
    environment = spec["Containers"][0]["Environment"]
    assert environment["SAGEMAKER_PROGRAM"] == "inference.py"
    assert environment["SAGEMAKER_SUBMIT_DIRECTORY"] == bundle_seedcode().for_step("inference.py").tarball_uri(
        WIRING.artifact_bucket, config.project)
    assert environment["SAGEMAKER_REGION"] == config.aws_region
    assert spec["SupportedContentTypes"] == spec["SupportedResponseMIMETypes"] == ["text/csv", "application/json"]


def test_lower_is_better_metric_flips_the_gate(config):
    regression = dataclasses.replace(config, problem_type="regression",
                                     metric=dataclasses.replace(config.metric, name="rmse", threshold=10.0))
    # whatever the team's own metric, rmse's gate is "at most"
    steps = steps_by_name(build_pipeline(regression, WIRING, bundle_seedcode()).definition_dict)
    condition = steps["CheckMetric"]["Arguments"]["Conditions"][0]
    assert condition["Type"] == "LessThanOrEqualTo"
    assert condition["LeftValue"]["Std:JsonGet"]["Path"] == "regression_metrics.rmse.value"


def test_registers_pending_manual_approval_with_baselines_and_tags(built, steps, config):
    parameters = {p["Name"]: p for p in built.definition_dict["Parameters"]}
    assert parameters["ModelApprovalStatus"]["DefaultValue"] == "PendingManualApproval"
    register = steps["RegisterModel"]["Arguments"]
    assert register["ModelApprovalStatus"] == {"Get": "Parameters.ModelApprovalStatus"}
    assert register["ModelPackageGroupName"] == WIRING.model_package_group
    drift = register["DriftCheckBaselines"]["ModelDataQuality"]
    assert drift["Statistics"]["S3Uri"] == {"Get": "Steps.DataQualityCheck.BaselineUsedForDriftCheckStatistics"}
    assert drift["Constraints"]["S3Uri"] == {"Get": "Steps.DataQualityCheck.BaselineUsedForDriftCheckConstraints"}
    quality = register["ModelMetrics"]["ModelDataQuality"]
    assert quality["Statistics"]["S3Uri"] == {"Get": "Steps.DataQualityCheck.CalculatedBaselineStatistics"}
    assert "evaluation.json" in json.dumps(register["ModelMetrics"]["ModelQuality"])
    assert {t["Key"]: t["Value"] for t in register["Tags"]} == config.tags


def test_quality_check_is_driven_by_bootstrap_parameters(steps):
    check = steps["DataQualityCheck"]
    assert check["SkipCheck"] == {"Get": "Parameters.SkipDataQualityCheck"}
    assert check["RegisterNewBaseline"] == {"Get": "Parameters.RegisterNewDataQualityBaseline"}
    assert check["ModelPackageGroupName"] == WIRING.model_package_group


def test_expensive_steps_are_cached(steps):
    for name in ("Preprocess", "DataQualityCheck", "Train", "Evaluate"):
        assert steps[name]["CacheConfig"]["Enabled"] is True, name


def test_every_job_carries_the_cost_tags(steps, config):
    for name in ("Preprocess", "Evaluate", "DataQualityCheck"):
        assert {t["Key"]: t["Value"] for t in steps[name]["Arguments"]["Tags"]} == config.tags, name


def test_rebuild_is_byte_identical(built, config):
    again = build_pipeline(config, WIRING, bundle_seedcode())
    assert again.definition == built.definition


def test_editing_train_py_changes_only_the_steps_that_run_it(built, steps, config, tmp_path):
    """Per-step code digests: SageMaker keys its step cache on the arguments, so Preprocess (and the cloud's
    DataQualityCheck, run by the Model Monitor image) keep theirs and hit the cache; Train gets new code."""
    changed = tmp_path / "seedcode"
    shutil.copytree(SEEDCODE_DIR, changed, ignore=shutil.ignore_patterns("__pycache__"))
    (changed / "train.py").write_text((changed / "train.py").read_text() + "\n# changed\n")
    bundle = bundle_seedcode(changed)
    other = steps_by_name(build_pipeline(config, WIRING, bundle).definition_dict)
    for name in ("Preprocess", "DataQualityCheck", "Evaluate"):  # Evaluate reruns on Train's new output
        assert other[name] == steps[name], name
    assert other["Train"] != steps["Train"]
    assert bundle.for_step("train.py").digest in json.dumps(other["Train"])
    assert bundle.digest in json.dumps(other["RegisterModel"])  # the lineage names the whole code


def test_dry_run_needs_no_aws_at_all(tmp_path, request):
    """No credentials, no region, no config files: the dry run still prints the definition."""
    root = Path(request.config.rootpath)
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(HOME=str(tmp_path), AWS_CONFIG_FILE=str(tmp_path / "none"),
               AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "none"), AWS_EC2_METADATA_DISABLED="true")
    result = subprocess.run([sys.executable, "-m", "pipelines.run", "--dry-run"], cwd=root, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    definition = json.loads(result.stdout)  # stdout holds the definition and nothing else
    assert len(steps_by_name(definition)) == 7
    assert "PLACEHOLDER" in result.stderr
    assert "Traceback" not in result.stderr


def test_dry_run_with_wiring_file(tmp_path, request, capsys):
    from pipelines.run import main

    wiring = {"execution-role-arn": WIRING.role_arn, "artifact-bucket": "from-file", "data-bucket": "d",
              "kms-key-arn": WIRING.kms_key_arn, "subnet-ids": ["subnet-9"], "security-group-ids": ["sg-9"],
              "model-package-group": "g", "mlflow-tracking-server-arn": "none"}
    path = tmp_path / "wiring.json"
    path.write_text(json.dumps(wiring))
    root = Path(request.config.rootpath)
    assert main(["--dry-run", "--wiring", str(path), "--config", str(root / "pyproject.toml")]) == 0
    out, err = capsys.readouterr()
    assert "s3://from-file/" in out
    assert f"wiring: from {path}" in err
