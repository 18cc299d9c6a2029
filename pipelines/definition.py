"""`build_pipeline(config, wiring, code)`: the SageMaker Pipeline, from the team config alone.

Six stages, one builder each in `pipelines/steps/`: Preprocess -> DataQualityCheck (baseline +
drift check) -> Train (Spot, checkpoint resume) -> Evaluate (new model and champion on the same
test split) -> CheckMetric (floor and champion gate, else MetricBelowThreshold fails the run) ->
RegisterModel (PendingManualApproval, script-mode serving, metrics and drift baselines).

Everything the definition names is explicit (S3 URIs, image URIs, code location), so building
it needs no network and rebuilding it from the same inputs gives byte-identical JSON. This module
imports nothing of the SDK at load time: names and small helpers here are used by the run CLIs.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from pipelines.code_bundle import CodeBundle
from pipelines.config import Config
from pipelines.lineage import UNKNOWN
from pipelines.rules import metric_spec
from pipelines.sdk import load_sdk, quiet_sdk_logging
from pipelines.wiring import Wiring

XGBOOST_FRAMEWORK_VERSION = "3.2-0"
STEP_PREPROCESS = "Preprocess"
STEP_DATA_QUALITY = "DataQualityCheck"
STEP_TRAIN = "Train"
STEP_EVALUATE = "Evaluate"
STEP_GATE = "CheckMetric"
STEP_FAIL = "MetricBelowThreshold"
STEP_REGISTER = "RegisterModel"

# Pipeline parameter names: `python -m pipelines.run --param Name=Value` sets them.
PARAM_INPUT = "InputDataUri"
PARAM_THRESHOLD = "MetricThreshold"
PARAM_APPROVAL = "ModelApprovalStatus"
PARAM_SKIP_CHECK = "SkipDataQualityCheck"
PARAM_REGISTER_BASELINE = "RegisterNewDataQualityBaseline"
PARAM_CHAMPION_MODEL = "ChampionModelDataUri"
PARAM_CHAMPION_MARGIN = "ChampionMargin"
PARAM_DATA_HASH = "InputDataHash"  # lineage: a content hash of InputDataUri, set by pipelines.run
PARAM_GIT_COMMIT = "GitCommit"  # lineage: the team repo's commit, set by pipelines.run

TRAINING_CODE_TARBALL = "/opt/ml/input/data/code/sourcedir.tar.gz"
METADATA_METRIC = "primary_metric"  # CustomerMetadataProperties key holding e.g. "auc=0.87"
# CustomerMetadataProperties key: the held-out test rows (raw features, header row) of the version's
# run, which `python -m pipelines.deploy --smoke-test` sends to the endpoint; seedcode/preprocess.py
# writes them at RAW_TEST_ROWS_FILE inside its "test" output
METADATA_TEST_ROWS = "test_rows_uri"
RAW_TEST_ROWS_FILE = "raw/test_raw.csv"
CHAMPION_JSON_PATH = "champion"  # evaluation.json section comparing the new model with the champion
SERVING_PROGRAM = "inference.py"
# What seedcode/inference.py really serves, as request and response types.
SERVED_CONTENT_TYPES = ("text/csv", "application/json")


@dataclass(frozen=True)
class BuiltPipeline:
    """The SDK Pipeline object and its definition JSON (what the service stores)."""

    pipeline: Any
    definition: str

    @property
    def definition_dict(self) -> dict[str, Any]:
        return json.loads(self.definition)


def metric_json_path(config: Config) -> str:
    """Where evaluation.json keeps the primary metric (the gate's JsonGet path)."""
    return f"{metric_spec(config.problem_type, config.metric.name).section}.{config.metric.name}.value"


def default_input_uri(config: Config, wiring: Wiring) -> str:
    return config.input_data_uri or f"s3://{wiring.data_bucket}/{config.project}/input/"


def no_champion_uri(code: CodeBundle, wiring: Wiring, project: str) -> str:
    """The ChampionModelDataUri default: Evaluate's own code folder, which exists and holds no
    model.tar.gz, so the Evaluate step finds no champion (a processing input must exist)."""
    return code.for_step("evaluate.py").files_uri(wiring.artifact_bucket, project)


def serving_environment(code_uri: str, region: str) -> dict[str, str]:
    """The container environment that makes the XGBoost image serve in script mode."""
    return {
        "SAGEMAKER_PROGRAM": SERVING_PROGRAM,
        "SAGEMAKER_SUBMIT_DIRECTORY": code_uri,
        "SAGEMAKER_CONTAINER_LOG_LEVEL": "20",
        "SAGEMAKER_REGION": region,
    }


def _parameters(config: Config, wiring: Wiring, code: CodeBundle) -> Any:
    from sagemaker.core.workflow.parameters import ParameterBoolean, ParameterFloat, ParameterString

    from pipelines.steps.context import Parameters

    return Parameters(
        input_uri=ParameterString(PARAM_INPUT, default_value=default_input_uri(config, wiring)),
        threshold=ParameterFloat(PARAM_THRESHOLD, default_value=config.metric.threshold),
        approval=ParameterString(PARAM_APPROVAL, default_value="PendingManualApproval",
                                 enum_values=["PendingManualApproval", "Approved"]),
        skip_check=ParameterBoolean(PARAM_SKIP_CHECK, default_value=False),
        register_baseline=ParameterBoolean(PARAM_REGISTER_BASELINE, default_value=False),
        champion_model=ParameterString(PARAM_CHAMPION_MODEL,
                                       default_value=no_champion_uri(code, wiring, config.project)),
        champion_margin=ParameterFloat(PARAM_CHAMPION_MARGIN, default_value=config.metric.champion_margin),
        data_hash=ParameterString(PARAM_DATA_HASH, default_value=UNKNOWN),
        git_commit=ParameterString(PARAM_GIT_COMMIT, default_value=UNKNOWN),
    )


def step_context(config: Config, wiring: Wiring, code: CodeBundle, parameters: Any = None) -> Any:
    """What the step builders share (pipelines/steps/context.py); the monitoring pipeline has its own parameters."""
    import boto3
    from sagemaker.core import image_uris
    from sagemaker.core.workflow.pipeline_context import PipelineSession

    from pipelines.steps.context import StepContext

    session = PipelineSession(boto_session=boto3.Session(region_name=config.aws_region),
                              default_bucket=wiring.artifact_bucket, default_bucket_prefix=config.project)
    image = image_uris.retrieve("xgboost", config.aws_region, version=config.training.framework_version)
    return StepContext(config=config, wiring=wiring, code=code, session=session, image=image,
                       parameters=parameters if parameters is not None else _parameters(config, wiring, code))


def build_pipeline(config: Config, wiring: Wiring, code: CodeBundle) -> BuiltPipeline:
    """Build the pipeline for one stage; pure: no network, no clock, no randomness."""
    load_sdk(config.aws_region)
    from sagemaker.mlops.workflow import Pipeline

    from pipelines.steps.data_quality import build_data_quality
    from pipelines.steps.evaluate import build_evaluate
    from pipelines.steps.gate import build_gate
    from pipelines.steps.preprocess import build_preprocess
    from pipelines.steps.register import build_register
    from pipelines.steps.train import build_train

    quiet_sdk_logging()  # the imports above registered more chatty loggers
    ctx = step_context(config, wiring, code)
    preprocess = build_preprocess(ctx)
    data_quality = build_data_quality(ctx, preprocess)
    train = build_train(ctx, preprocess)
    evaluation = build_evaluate(ctx, preprocess, train)
    register = build_register(ctx, train, evaluation, data_quality, preprocess)
    gate = build_gate(ctx, evaluation, register, data_quality)
    pipeline = Pipeline(name=config.pipeline_name, parameters=ctx.parameters.all(),
                        steps=[preprocess, data_quality, train, evaluation.step, gate],
                        sagemaker_session=ctx.session)
    return BuiltPipeline(pipeline=pipeline, definition=_with_package_tags(pipeline.definition(), ctx.tags))


def _with_package_tags(definition: str, tags: list[dict[str, str]]) -> str:
    """Tag the registered model package: ModelBuilder.register() has no tags argument."""
    data = json.loads(definition)

    def visit(steps: list[dict[str, Any]]) -> None:
        for step in steps:
            if step["Type"] == "RegisterModel":
                step["Arguments"]["Tags"] = tags
            visit(step.get("Arguments", {}).get("IfSteps", []) + step.get("Arguments", {}).get("ElseSteps", []))

    visit(data["Steps"])
    return json.dumps(data, indent=2)
