"""DataQualityCheck (QualityCheck): the baseline of the training features, and the drift check
against the latest approved model's baseline.

On `[tool.ml-factory.processing] instance_count` instances: Model Monitor's analyzer is a Spark job
that spreads its input over them itself (Preprocess writes the baseline as one CSV part each); the
local engine runs seedcode/data_quality.py per instance and merges over XGBoost's collective."""

from __future__ import annotations

from typing import Any

from sagemaker.core.model_monitor.dataset_format import DatasetFormat
from sagemaker.core.network import NetworkConfig
from sagemaker.mlops.workflow import ProcessingStep, QualityCheckStep
from sagemaker.mlops.workflow.check_job_config import CheckJobConfig
from sagemaker.mlops.workflow.quality_check_step import DataQualityCheckConfig

from pipelines.definition import STEP_DATA_QUALITY
from pipelines.steps.context import StepContext


def _request_network_config() -> type:
    """A NetworkConfig that serializes as its request form.

    sagemaker-mlops 1.27's QualityCheckStep embeds the NetworkConfig object itself in the
    job request, which the definition's JSON encoder rejects; a dict of the request form
    that is also a NetworkConfig satisfies both.
    """

    class RequestNetworkConfig(NetworkConfig, dict):  # type: ignore[misc]
        def __init__(self, **kwargs: Any):
            NetworkConfig.__init__(self, **kwargs)
            dict.__init__(self, self._to_request_dict())

    return RequestNetworkConfig


def build_data_quality(ctx: StepContext, preprocess: ProcessingStep) -> QualityCheckStep:
    split = preprocess.properties.ProcessingOutputConfig.Outputs
    processing = ctx.config.processing
    return QualityCheckStep(
        STEP_DATA_QUALITY,
        quality_check_config=DataQualityCheckConfig(
            baseline_dataset=split["baseline"].S3Output.S3Uri,
            dataset_format=DatasetFormat.csv(header=True),
            output_s3_uri=ctx.run_uri(STEP_DATA_QUALITY),
        ),
        check_job_config=CheckJobConfig(
            role=ctx.wiring.role_arn, instance_count=processing.instance_count, instance_type=processing.instance_type,
            volume_size_in_gb=processing.volume_size_gb, volume_kms_key=ctx.kms, output_kms_key=ctx.kms,
            base_job_name=ctx.job_name_base("data-quality"), sagemaker_session=ctx.session, tags=ctx.tags,
            network_config=ctx.network(isolated=False, network_class=_request_network_config()),
        ),
        skip_check=ctx.parameters.skip_check,
        register_new_baseline=ctx.parameters.register_baseline,
        model_package_group_name=ctx.wiring.model_package_group,
        cache_config=ctx.cache(),
    )
