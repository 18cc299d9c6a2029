"""RegisterModel (ModelStep via ModelBuilder.register): PendingManualApproval, with the model
metrics, the drift-check baselines, and a serving container the endpoint can really start.

Serving is script mode: the XGBoost container imports seedcode/inference.py from the step-code
tarball (SAGEMAKER_PROGRAM / SAGEMAKER_SUBMIT_DIRECTORY), whose model_fn loads only
xgboost-model and whose input_fn/predict_fn apply the training encoding (features.json) to raw
features. Algorithm mode would try to load every file in the model folder as a model and
fail on features.json.
"""

from __future__ import annotations

import logging
from typing import Any

from sagemaker.core.drift_check_baselines import DriftCheckBaselines
from sagemaker.core.model_metrics import MetricsSource, ModelMetrics
from sagemaker.core.workflow.execution_variables import ExecutionVariables
from sagemaker.core.workflow.functions import Join
from sagemaker.mlops.workflow import ModelStep, ProcessingStep, QualityCheckStep, TrainingStep
from sagemaker.serve.model_builder import ModelBuilder

from pipelines import lineage
from pipelines.definition import (
    METADATA_METRIC,
    METADATA_TEST_ROWS,
    METADATA_THRESHOLD,
    RAW_TEST_ROWS_FILE,
    SERVED_CONTENT_TYPES,
    SERVING_PROGRAM,
    STEP_REGISTER,
    serving_environment,
)
from pipelines.steps.context import StepContext
from pipelines.steps.evaluate import Evaluation

INFERENCE_INSTANCES = ["ml.m5.large", "ml.m5.xlarge"]
TRANSFORM_INSTANCES = ["ml.m5.xlarge"]


def _json_source(uri: Any) -> MetricsSource:
    return MetricsSource(content_type="application/json", s3_uri=uri)


def _model_metrics(evaluation: Evaluation, data_quality: QualityCheckStep) -> ModelMetrics:
    properties = data_quality.properties
    return ModelMetrics(
        model_statistics=_json_source(evaluation.uri),
        model_data_statistics=_json_source(properties.CalculatedBaselineStatistics),
        model_data_constraints=_json_source(properties.CalculatedBaselineConstraints),
    )


def _drift_check_baselines(data_quality: QualityCheckStep) -> DriftCheckBaselines:
    properties = data_quality.properties
    return DriftCheckBaselines(
        model_data_statistics=_json_source(properties.BaselineUsedForDriftCheckStatistics),
        model_data_constraints=_json_source(properties.BaselineUsedForDriftCheckConstraints),
    )


def _lineage(ctx: StepContext) -> dict[str, Any]:
    """What the version was made from (pipelines/lineage.py names the keys, for both registries)."""
    parameters = ctx.parameters
    return {
        lineage.KEY_EXECUTION_ID: ExecutionVariables.PIPELINE_EXECUTION_ID,
        lineage.KEY_DATA_URI: parameters.input_uri,
        lineage.KEY_DATA_HASH: parameters.data_hash,
        lineage.KEY_TARGET: ctx.config.target_column,
        lineage.KEY_CONFIG_HASH: lineage.config_hash(ctx.config),
        lineage.KEY_CODE_DIGEST: ctx.code.digest,
        lineage.KEY_GIT_COMMIT: parameters.git_commit,
    }


def _test_rows_uri(preprocess: ProcessingStep) -> Join:
    """The run's raw held-out rows (the smoke test's requests)."""
    test_split = preprocess.properties.ProcessingOutputConfig.Outputs["test"].S3Output.S3Uri
    return Join(on="/", values=[test_split, RAW_TEST_ROWS_FILE])


def build_register(ctx: StepContext, train: TrainingStep, evaluation: Evaluation,
                   data_quality: QualityCheckStep, preprocess: ProcessingStep) -> ModelStep:
    config = ctx.config
    code_uri = ctx.code_tarball(SERVING_PROGRAM)
    # dependencies=None: the default asks ModelBuilder to package inference code, which needs S3.
    builder = ModelBuilder(image_uri=ctx.image, s3_model_data_url=train.properties.ModelArtifacts.S3ModelArtifacts,
                           role_arn=ctx.wiring.role_arn, sagemaker_session=ctx.session, dependencies=None,
                           env_vars=serving_environment(code_uri, config.aws_region), log_level=logging.ERROR)
    return ModelStep(
        STEP_REGISTER,
        step_args=builder.register(
            model_package_group_name=ctx.wiring.model_package_group,
            content_types=list(SERVED_CONTENT_TYPES),
            response_types=list(SERVED_CONTENT_TYPES),
            inference_instances=INFERENCE_INSTANCES,
            transform_instances=TRANSFORM_INSTANCES,
            approval_status=ctx.parameters.approval,
            description=f"{config.project_name}: XGBoost {config.problem_type}, gated on {config.metric.name}",
            model_metrics=_model_metrics(evaluation, data_quality),
            drift_check_baselines=_drift_check_baselines(data_quality),
            customer_metadata_properties={
                "project": config.project, "stage": config.stage,
                METADATA_METRIC: Join(on="", values=[f"{config.metric.name}=", evaluation.metric_value]),
                METADATA_THRESHOLD: Join(on="", values=[ctx.parameters.threshold]),
                METADATA_TEST_ROWS: _test_rows_uri(preprocess),
                **_lineage(ctx),
            },
        ),
    )
