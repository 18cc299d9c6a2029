"""`build_pipeline(config, wiring, code)`: the SageMaker Pipeline, from the team config alone.

Six stages: Preprocess -> DataQualityCheck (baseline + drift check) -> Train (Spot, checkpoint
resume) -> Evaluate -> CheckMetric (gate, else MetricBelowThreshold fails the run) ->
RegisterModel (PendingManualApproval, with metrics and drift baselines).

Everything the definition names is explicit (S3 URIs, image URIs, code location), so building
it needs no network and rebuilding it from the same inputs gives byte-identical JSON.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

from pipelines.code_bundle import CodeBundle
from pipelines.config import Config
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

PROCESSING_ROOT = "/opt/ml/processing"
CODE_DIR = f"{PROCESSING_ROOT}/input/code"
TRAINING_CODE_TARBALL = "/opt/ml/input/data/code/sourcedir.tar.gz"
METRIC_SECTIONS = {"binary_classification": "binary_classification_metrics", "regression": "regression_metrics"}
CACHE_EXPIRY = "P30D"
METADATA_METRIC = "primary_metric"  # CustomerMetadataProperties key holding e.g. "auc=0.87"


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
    return f"{METRIC_SECTIONS[config.problem_type]}.{config.metric.name}.value"


def default_input_uri(config: Config, wiring: Wiring) -> str:
    return config.input_data_uri or f"s3://{wiring.data_bucket}/{config.project}/input/"


def _request_network_config(network_config_class: type) -> type:
    """A NetworkConfig that serializes as its request form.

    sagemaker-mlops 1.27's QualityCheckStep embeds the NetworkConfig object itself in the
    job request, which the definition's JSON encoder rejects; a dict of the request form
    that is also a NetworkConfig satisfies both.
    """

    class RequestNetworkConfig(network_config_class, dict):  # type: ignore[misc, valid-type]
        def __init__(self, **kwargs: Any):
            network_config_class.__init__(self, **kwargs)
            dict.__init__(self, self._to_request_dict())

    return RequestNetworkConfig


def build_pipeline(config: Config, wiring: Wiring, code: CodeBundle) -> BuiltPipeline:
    """Build the pipeline for one stage; pure: no network, no clock, no randomness."""
    load_sdk(config.aws_region)
    import boto3
    from sagemaker.core import image_uris
    from sagemaker.core.drift_check_baselines import DriftCheckBaselines
    from sagemaker.core.model_metrics import MetricsSource, ModelMetrics
    from sagemaker.core.model_monitor.dataset_format import DatasetFormat
    from sagemaker.core.network import NetworkConfig
    from sagemaker.core.processing import Processor
    from sagemaker.core.shapes import ProcessingInput, ProcessingOutput, ProcessingS3Input, ProcessingS3Output, Tag
    from sagemaker.core.workflow.conditions import ConditionGreaterThanOrEqualTo, ConditionLessThanOrEqualTo
    from sagemaker.core.workflow.execution_variables import ExecutionVariables
    from sagemaker.core.workflow.functions import Join, JsonGet
    from sagemaker.core.workflow.parameters import ParameterBoolean, ParameterFloat, ParameterString
    from sagemaker.core.workflow.pipeline_context import PipelineSession
    from sagemaker.core.workflow.properties import PropertyFile
    from sagemaker.mlops.workflow import (
        CacheConfig,
        ConditionStep,
        FailStep,
        ModelStep,
        Pipeline,
        ProcessingStep,
        QualityCheckStep,
        TrainingStep,
    )
    from sagemaker.mlops.workflow.check_job_config import CheckJobConfig
    from sagemaker.mlops.workflow.quality_check_step import DataQualityCheckConfig
    from sagemaker.mlops.workflow.retry import (
        SageMakerJobExceptionTypeEnum,
        SageMakerJobStepRetryPolicy,
        StepExceptionTypeEnum,
        StepRetryPolicy,
    )
    from sagemaker.serve.model_builder import ModelBuilder
    from sagemaker.train.configs import (
        CheckpointConfig,
        Compute,
        InputData,
        Networking,
        OutputDataConfig,
        StoppingCondition,
    )
    from sagemaker.train.model_trainer import ModelTrainer

    quiet_sdk_logging()  # the imports above registered more chatty loggers
    session = PipelineSession(
        boto_session=boto3.Session(region_name=config.aws_region),
        default_bucket=wiring.artifact_bucket,
        default_bucket_prefix=config.project,
    )
    tags = [{"Key": k, "Value": v} for k, v in config.tags.items()]
    image = image_uris.retrieve("xgboost", config.aws_region, version=config.training.framework_version)
    bucket, kms = wiring.artifact_bucket, wiring.kms_key_arn
    base = f"s3://{bucket}/{config.project}/pipelines/{config.pipeline_name}"
    execution_id = ExecutionVariables.PIPELINE_EXECUTION_ID

    def run_uri(*parts: str) -> Any:
        """A per-execution S3 location, so runs never overwrite each other."""
        return Join(on="/", values=[f"{base}/runs", execution_id, *parts])

    input_uri = ParameterString(PARAM_INPUT, default_value=default_input_uri(config, wiring))
    threshold = ParameterFloat(PARAM_THRESHOLD, default_value=config.metric.threshold)
    approval = ParameterString(PARAM_APPROVAL, default_value="PendingManualApproval",
                               enum_values=["PendingManualApproval", "Approved"])
    skip_check = ParameterBoolean(PARAM_SKIP_CHECK, default_value=False)
    register_baseline = ParameterBoolean(PARAM_REGISTER_BASELINE, default_value=False)

    cache = CacheConfig(enable_caching=True, expire_after=CACHE_EXPIRY)
    job_network = NetworkConfig(
        subnets=list(wiring.subnet_ids),
        security_group_ids=list(wiring.security_group_ids),
        enable_network_isolation=True,
        encrypt_inter_container_traffic=True,
    )
    code_input = ProcessingInput(
        input_name="code",
        s3_input=ProcessingS3Input(s3_uri=code.files_uri(bucket, config.project), local_path=CODE_DIR,
                                   s3_data_type="S3Prefix", s3_input_mode="File"),
    )

    def s3_in(name: str, uri: Any, local: str) -> Any:
        return ProcessingInput(input_name=name, s3_input=ProcessingS3Input(
            s3_uri=uri, local_path=local, s3_data_type="S3Prefix", s3_input_mode="File"))

    def s3_out(step: str, name: str, local: str) -> Any:
        return ProcessingOutput(output_name=name, s3_output=ProcessingS3Output(
            s3_uri=run_uri(step, name), local_path=local, s3_upload_mode="EndOfJob"))

    def processor(script: str) -> Any:
        return Processor(
            role=wiring.role_arn, image_uri=image, instance_count=config.processing.instance_count,
            instance_type=config.processing.instance_type, volume_size_in_gb=config.processing.volume_size_gb,
            entrypoint=["python3", f"{CODE_DIR}/{script}"], volume_kms_key=kms, output_kms_key=kms,
            base_job_name=f"{config.project}-{script.removesuffix('.py')}", sagemaker_session=session,
            tags=tags, network_config=job_network,
        )

    # 1. Preprocess: validate, encode, split deterministically (Parquet between steps).
    preprocess = ProcessingStep(
        STEP_PREPROCESS,
        step_args=processor("preprocess.py").run(
            inputs=[s3_in("data", input_uri, f"{PROCESSING_ROOT}/input/data"), code_input],
            outputs=[s3_out(STEP_PREPROCESS, name, f"{PROCESSING_ROOT}/output/{name}")
                     for name in ("train", "validation", "test", "baseline")],
            arguments=["--target-column", config.target_column, "--problem-type", config.problem_type,
                       "--seed", str(config.seed)],
        ),
        cache_config=cache,
    )
    split = preprocess.properties.ProcessingOutputConfig.Outputs

    # 2. Data-quality baseline on the training features, and drift check against the last approved one.
    data_quality = QualityCheckStep(
        STEP_DATA_QUALITY,
        quality_check_config=DataQualityCheckConfig(
            baseline_dataset=split["baseline"].S3Output.S3Uri,
            dataset_format=DatasetFormat.csv(header=True),
            output_s3_uri=run_uri(STEP_DATA_QUALITY),
        ),
        check_job_config=CheckJobConfig(
            role=wiring.role_arn, instance_count=1, instance_type=config.processing.instance_type,
            volume_size_in_gb=config.processing.volume_size_gb, volume_kms_key=kms, output_kms_key=kms,
            base_job_name=f"{config.project}-data-quality", sagemaker_session=session, tags=tags,
            network_config=_request_network_config(NetworkConfig)(
                subnets=list(wiring.subnet_ids), security_group_ids=list(wiring.security_group_ids),
                encrypt_inter_container_traffic=True),
        ),
        skip_check=skip_check,
        register_new_baseline=register_baseline,
        model_package_group_name=wiring.model_package_group,
        cache_config=cache,
    )

    # 3. Train: script mode from the content-addressed code tarball, Spot with per-execution checkpoints.
    training = config.training
    hyperparameters: dict[str, Any] = {
        **training.hyperparameters,
        "num_round": training.num_round,
        "checkpoint_every": training.checkpoint_every_rounds,
        "seed": config.seed,
        "sagemaker_program": "train.py",
        "sagemaker_submit_directory": TRAINING_CODE_TARBALL,
    }
    trainer = ModelTrainer(
        training_image=image, role=wiring.role_arn, sagemaker_session=session,
        base_job_name=f"{config.project}-train",
        compute=Compute(instance_type=training.instance_type, instance_count=training.instance_count,
                        enable_managed_spot_training=training.use_spot, volume_kms_key_id=kms),
        stopping_condition=StoppingCondition(
            max_runtime_in_seconds=training.max_runtime_seconds,
            max_wait_time_in_seconds=training.max_wait_seconds if training.use_spot else None,
        ),
        checkpoint_config=CheckpointConfig(s3_uri=Join(on="/", values=[f"{base}/checkpoints", execution_id]),
                                           local_path="/opt/ml/checkpoints"),
        output_data_config=OutputDataConfig(s3_output_path=run_uri(STEP_TRAIN), kms_key_id=kms),
        networking=Networking(subnets=list(wiring.subnet_ids), security_group_ids=list(wiring.security_group_ids),
                              enable_network_isolation=True, enable_inter_container_traffic_encryption=True),
        hyperparameters=dict(sorted(hyperparameters.items())),
        tags=[Tag(key=t["Key"], value=t["Value"]) for t in tags],
    )
    train = TrainingStep(
        STEP_TRAIN,
        step_args=trainer.train(input_data_config=[
            InputData(channel_name="train", data_source=split["train"].S3Output.S3Uri),
            InputData(channel_name="validation", data_source=split["validation"].S3Output.S3Uri),
            InputData(channel_name="code", data_source=code.tarball_uri(bucket, config.project)),
        ]),
        cache_config=cache,
        retry_policies=[
            StepRetryPolicy(exception_types=[StepExceptionTypeEnum.SERVICE_FAULT, StepExceptionTypeEnum.THROTTLING],
                            interval_seconds=30, backoff_rate=2.0, max_attempts=3),
            SageMakerJobStepRetryPolicy(
                exception_types=[SageMakerJobExceptionTypeEnum.CAPACITY_ERROR,
                                 SageMakerJobExceptionTypeEnum.INTERNAL_ERROR,
                                 SageMakerJobExceptionTypeEnum.RESOURCE_LIMIT],
                interval_seconds=60, backoff_rate=2.0, max_attempts=5),
        ],
    )
    model_data = train.properties.ModelArtifacts.S3ModelArtifacts

    # 4. Evaluate on the held-out test split.
    evaluation_report = PropertyFile(name="EvaluationReport", output_name="evaluation", path="evaluation.json")
    evaluate = ProcessingStep(
        STEP_EVALUATE,
        step_args=processor("evaluate.py").run(
            inputs=[s3_in("model", model_data, f"{PROCESSING_ROOT}/model"),
                    s3_in("test", split["test"].S3Output.S3Uri, f"{PROCESSING_ROOT}/test"), code_input],
            outputs=[s3_out(STEP_EVALUATE, "evaluation", f"{PROCESSING_ROOT}/evaluation")],
            arguments=["--target-column", config.target_column, "--problem-type", config.problem_type],
        ),
        property_files=[evaluation_report],
        cache_config=cache,
    )
    metric_value = JsonGet(step_name=evaluate.name, property_file=evaluation_report,
                           json_path=metric_json_path(config))
    evaluation_uri = Join(on="/", values=[
        evaluate.properties.ProcessingOutputConfig.Outputs["evaluation"].S3Output.S3Uri, "evaluation.json"])

    # 6. Register: PendingManualApproval, with model metrics and the drift-check baselines.
    # dependencies=None: the default asks ModelBuilder to package inference code, which needs S3.
    builder = ModelBuilder(image_uri=image, s3_model_data_url=model_data, role_arn=wiring.role_arn,
                           sagemaker_session=session, dependencies=None, log_level=logging.ERROR)
    register = ModelStep(
        STEP_REGISTER,
        step_args=builder.register(
            model_package_group_name=wiring.model_package_group,
            content_types=["text/csv", "application/x-parquet"],
            response_types=["text/csv"],
            inference_instances=["ml.m5.large", "ml.m5.xlarge"],
            transform_instances=["ml.m5.xlarge"],
            approval_status=approval,
            description=f"{config.project_name}: XGBoost {config.problem_type}, gated on {config.metric.name}",
            model_metrics=ModelMetrics(
                model_statistics=MetricsSource(content_type="application/json", s3_uri=evaluation_uri),
                model_data_statistics=MetricsSource(
                    content_type="application/json", s3_uri=data_quality.properties.CalculatedBaselineStatistics),
                model_data_constraints=MetricsSource(
                    content_type="application/json", s3_uri=data_quality.properties.CalculatedBaselineConstraints),
            ),
            drift_check_baselines=DriftCheckBaselines(
                model_data_statistics=MetricsSource(
                    content_type="application/json",
                    s3_uri=data_quality.properties.BaselineUsedForDriftCheckStatistics),
                model_data_constraints=MetricsSource(
                    content_type="application/json",
                    s3_uri=data_quality.properties.BaselineUsedForDriftCheckConstraints),
            ),
            customer_metadata_properties={
                "project": config.project, "stage": config.stage, "code_digest": code.digest,
                METADATA_METRIC: Join(on="", values=[f"{config.metric.name}=", metric_value]),
            },
        ),
    )

    # 5. Gate: register only when the primary metric clears the threshold.
    compare = ConditionGreaterThanOrEqualTo if config.metric.higher_is_better else ConditionLessThanOrEqualTo
    relation = "below" if config.metric.higher_is_better else "above"
    fail = FailStep(
        STEP_FAIL,
        error_message=Join(on="", values=[
            f"Primary metric {config.metric.name} = ", metric_value,
            f" is {relation} the approval threshold {PARAM_THRESHOLD} = ", threshold,
            "; the model was not registered.",
        ]),
    )
    gate = ConditionStep(
        STEP_GATE,
        conditions=[compare(left=metric_value, right=threshold)],
        if_steps=[register],
        else_steps=[fail],
        depends_on=[data_quality],
    )

    pipeline = Pipeline(
        name=config.pipeline_name,
        parameters=[input_uri, threshold, approval, skip_check, register_baseline],
        steps=[preprocess, data_quality, train, evaluate, gate],
        sagemaker_session=session,
    )
    return BuiltPipeline(pipeline=pipeline, definition=_with_package_tags(pipeline.definition(), tags))


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
