"""Train (Training): XGBoost script mode from the content-addressed code tarball, managed Spot
with per-execution checkpoints, and retries on capacity errors."""

from __future__ import annotations

from typing import Any

from sagemaker.core.shapes import Tag
from sagemaker.core.workflow.execution_variables import ExecutionVariables
from sagemaker.core.workflow.functions import Join
from sagemaker.mlops.workflow import ProcessingStep, TrainingStep
from sagemaker.mlops.workflow.retry import (
    SageMakerJobExceptionTypeEnum,
    SageMakerJobStepRetryPolicy,
    StepExceptionTypeEnum,
    StepRetryPolicy,
)
from sagemaker.train.configs import (
    CheckpointConfig,
    Compute,
    InputData,
    Networking,
    OutputDataConfig,
    StoppingCondition,
)
from sagemaker.train.model_trainer import ModelTrainer

from pipelines.definition import STEP_TRAIN, TRAINING_CODE_TARBALL
from pipelines.steps.context import StepContext


def _hyperparameters(ctx: StepContext) -> dict[str, Any]:
    training = ctx.config.training
    values: dict[str, Any] = {
        **training.hyperparameters,
        "num_round": training.num_round,
        "checkpoint_every": training.checkpoint_every_rounds,
        "seed": ctx.config.seed,
        "sagemaker_program": "train.py",
        "sagemaker_submit_directory": TRAINING_CODE_TARBALL,
    }
    return dict(sorted(values.items()))


def _trainer(ctx: StepContext) -> ModelTrainer:
    training, wiring = ctx.config.training, ctx.wiring
    return ModelTrainer(
        training_image=ctx.image, role=wiring.role_arn, sagemaker_session=ctx.session,
        base_job_name=ctx.job_name_base("train"),
        compute=Compute(instance_type=training.instance_type, instance_count=training.instance_count,
                        enable_managed_spot_training=training.use_spot, volume_kms_key_id=ctx.kms),
        stopping_condition=StoppingCondition(
            max_runtime_in_seconds=training.max_runtime_seconds,
            max_wait_time_in_seconds=training.max_wait_seconds if training.use_spot else None,
        ),
        checkpoint_config=CheckpointConfig(
            s3_uri=Join(on="/", values=[f"{ctx.base_uri}/checkpoints", ExecutionVariables.PIPELINE_EXECUTION_ID]),
            local_path="/opt/ml/checkpoints"),
        output_data_config=OutputDataConfig(s3_output_path=ctx.run_uri(STEP_TRAIN), kms_key_id=ctx.kms),
        networking=Networking(subnets=list(wiring.subnet_ids), security_group_ids=list(wiring.security_group_ids),
                              enable_network_isolation=True, enable_inter_container_traffic_encryption=True),
        hyperparameters=_hyperparameters(ctx),
        tags=[Tag(key=t["Key"], value=t["Value"]) for t in ctx.tags],
    )


RETRY_POLICIES = (
    (StepRetryPolicy, [StepExceptionTypeEnum.SERVICE_FAULT, StepExceptionTypeEnum.THROTTLING], 30, 3),
    (SageMakerJobStepRetryPolicy, [SageMakerJobExceptionTypeEnum.CAPACITY_ERROR,
                                   SageMakerJobExceptionTypeEnum.INTERNAL_ERROR,
                                   SageMakerJobExceptionTypeEnum.RESOURCE_LIMIT], 60, 5),
)


def build_train(ctx: StepContext, preprocess: ProcessingStep) -> TrainingStep:
    split = preprocess.properties.ProcessingOutputConfig.Outputs
    code = ctx.code_tarball("train.py")
    return TrainingStep(
        STEP_TRAIN,
        step_args=_trainer(ctx).train(input_data_config=[
            InputData(channel_name="train", data_source=split["train"].S3Output.S3Uri),
            InputData(channel_name="validation", data_source=split["validation"].S3Output.S3Uri),
            InputData(channel_name="code", data_source=code),
        ]),
        cache_config=ctx.cache(),
        retry_policies=[policy(exception_types=types, interval_seconds=interval, backoff_rate=2.0,
                               max_attempts=attempts)
                        for policy, types, interval, attempts in RETRY_POLICIES],
    )
