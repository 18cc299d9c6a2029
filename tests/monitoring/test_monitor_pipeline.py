"""The monitoring pipeline is one definition for both backends: built by the training pipeline's step context
(same image, role, KMS, VPC, tags), and run as is by the local engine, whose DriftCheck step writes Model
Monitor's files. The step runs on the SageMaker image's Python and library versions here (.venv-container)."""

from __future__ import annotations

import dataclasses
import json
from datetime import timedelta

from test_monitor_local import HOUR, capture, definitions, features, shifted, stage  # noqa: F401

from pipelines.code_bundle import bundle_seedcode
from pipelines.definition import build_pipeline
from pipelines.engine.build import local_wiring
from pipelines.monitoring import names
from pipelines.monitoring.baselines import ServedBaselines
from pipelines.monitoring.definition import build_monitoring_pipeline
from pipelines.monitoring.ground_truth import quality_parameters
from pipelines.monitoring.local import LocalStage
from pipelines.monitoring.local_run import LocalWindow, run_drift_check
from pipelines.registry_model import PackageVersion


def test_the_monitoring_pipeline_runs_our_drift_step_in_the_training_steps_container(repo_config) -> None:
    wiring, bundle = local_wiring(repo_config), bundle_seedcode()
    monitoring = build_monitoring_pipeline(repo_config, wiring, bundle).definition_dict
    training = build_pipeline(repo_config, wiring, bundle).definition_dict
    assert [p["Name"] for p in monitoring["Parameters"]] == list(names.PARAMETERS)
    [step] = monitoring["Steps"]
    preprocess = training["Steps"][0]["Arguments"]
    arguments = step["Arguments"]
    assert step["Name"] == names.STEP_DRIFT and step["Type"] == "Processing" and "CacheConfig" not in step
    for same in ("ProcessingResources", "RoleArn", "Tags"):
        assert arguments[same] == preprocess[same]
    assert arguments["AppSpecification"]["ImageUri"] == preprocess["AppSpecification"]["ImageUri"]
    assert arguments["AppSpecification"]["ContainerEntrypoint"] == [
        "python3", f"/opt/ml/processing/input/code/{names.DRIFT_SCRIPT}"]
    assert arguments["ProcessingOutputConfig"]["KmsKeyId"] == wiring.kms_key_arn
    network = arguments["NetworkConfig"]
    assert network["EnableNetworkIsolation"] is False  # it reads S3 and puts CloudWatch metrics itself
    assert network["VpcConfig"] == preprocess["NetworkConfig"]["VpcConfig"]
    code = arguments["ProcessingInputs"][0]["S3Input"]["S3Uri"]
    assert code == bundle.for_step(names.DRIFT_SCRIPT).files_uri(wiring.artifact_bucket, repo_config.project)


def test_the_local_engine_runs_the_definition_into_model_monitors_files(stage: LocalStage, container_python) -> None:  # noqa: F811
    capture(stage, shifted(features(800, 11)))
    run = run_drift_check(stage, LocalWindow(None, HOUR + timedelta(hours=1), container_python), HOUR)
    assert run.rows == 800 and run.folder is not None
    statistics = json.loads(run.files["statistics.json"].read_text())
    assert statistics["version"] == 0.0 and statistics["dataset"]["item_count"] == 800
    assert {f["name"]: f["inferred_type"] for f in statistics["features"]} == {
        "age": "Fractional", "balance": "Fractional", "plan": "String"}
    assert {"mean", "std_dev", "distribution"} <= set(statistics["features"][0]["numerical_statistics"])
    violations = json.loads(run.files["constraint_violations.json"].read_text())["violations"]
    assert violations == [{"feature_name": "age", "constraint_check_type": "baseline_drift_check",
                           "description": violations[0]["description"]}]
    assert violations[0]["description"].startswith("Baseline drift distance ")
    log = next(stage.folder.glob(f"executions/*/{names.STEP_DRIFT}/logs/*"))
    assert "numpy 2.1.0, pandas 2.2.3" in log.read_text()  # the image's versions ran it
    assert stage.watermark() == HOUR + timedelta(hours=1)


def test_with_model_quality_a_second_step_scores_the_drift_steps_window_against_the_served_gate(repo_config) -> None:
    config = dataclasses.replace(repo_config, monitoring=dataclasses.replace(repo_config.monitoring,
                                                                             model_quality=True))
    wiring, bundle = local_wiring(config), bundle_seedcode()
    package = PackageVersion("g", 3, "arn:aws:sagemaker:eu-west-1:111111111111:model-package/g/3", "Approved", "",
                             model_data_url="s3://registry/g/3/model.tar.gz",
                             metadata={"primary_metric": f"{config.metric.name}=0.9", "metric_threshold": "0.7"})
    served = ServedBaselines(package.arn, "g version 3", "s3://b/statistics.json", "s3://b/constraints.json",
                             quality_parameters(package, "g version 3", config))
    definition = build_monitoring_pipeline(config, wiring, bundle, served).definition_dict
    defaults = {p["Name"]: p["DefaultValue"] for p in definition["Parameters"]}
    assert list(defaults) == [*names.PARAMETERS, *names.QUALITY_PARAMETERS]
    assert defaults[names.PARAM_GROUND_TRUTH] == f"s3://{wiring.artifact_bucket}/{config.project}/ground-truth/" \
                                                f"{config.project}-{config.stage}"
    assert defaults[names.PARAM_MODEL_DATA] == package.model_data_url
    assert json.loads(defaults[names.PARAM_GATE]) == {"metric": config.metric.name, "threshold": 0.7, "source":
                                                      "registry metadata metric_threshold",
                                                      "decision_threshold": config.decision_threshold}
    drift, quality = definition["Steps"]
    assert quality["Name"] == names.STEP_MODEL_QUALITY and "CacheConfig" not in quality
    arguments = quality["Arguments"]
    for same in ("ProcessingResources", "RoleArn", "Tags", "NetworkConfig", "ProcessingOutputConfig"):
        assert arguments[same] == drift["Arguments"][same], same  # its files land in the same run folder
    assert arguments["AppSpecification"]["ContainerEntrypoint"] == [
        "python3", f"/opt/ml/processing/input/code/{names.QUALITY_SCRIPT}"]
    window = next(i for i in arguments["ProcessingInputs"] if i["InputName"] == "drift")["S3Input"]["S3Uri"]
    assert window == {"Get": f"Steps.{names.STEP_DRIFT}.ProcessingOutputConfig.Outputs['monitoring'].S3Output.S3Uri"}
    given = arguments["AppSpecification"]["ContainerArguments"]
    assert given[given.index("--labels") + 1] == {"Get": f"Parameters.{names.PARAM_GROUND_TRUTH}"}
    assert given[given.index("--schedule") + 1] == names.quality_schedule_name(config.project, config.stage)
