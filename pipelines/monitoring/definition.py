"""`build_monitoring_pipeline(config, wiring, code, served)`: the portable drift job as a SageMaker Pipeline.

The DriftCheck processing step runs seedcode/drift_check.py in the same framework image as the training
pipeline's steps, built by the same step context (KMS, VPC, tags, content-addressed code), on
`[tool.ml-factory.monitoring] instance_count` instances. It is not network-isolated: it reads the capture window
from S3 itself (a processing input would download every hour the endpoint ever captured) and puts the metrics
to CloudWatch. Its caching is off: the same parameters ("since the watermark, until now") mean a different
window on every run.

With `[tool.ml-factory.monitoring] model_quality` (always for `monitor run --local`), a ModelQuality step follows:
seedcode/model_quality.py in the same image, over DriftCheck's window (its output is the step's input), merges the
labels under GroundTruthUri with the window's captured predictions, scores them against the gate the package
passed (QualityGate) and writes Model Monitor's model-quality files beside DriftCheck's, with the verdict added to
its report.html, and puts the model-quality metrics to CloudWatch.

Every parameter has a default, so a schedule can start it without any (pipelines/monitoring/names.py lists
them); the baselines, model and package default to what `served` names, the package deployed when the pipeline
was published. Pure: no network, no clock, the same inputs give the same JSON.
"""

from __future__ import annotations

import json
from typing import Any

from pipelines.code_bundle import CodeBundle
from pipelines.config import Config
from pipelines.definition import BuiltPipeline
from pipelines.monitoring import names
from pipelines.monitoring.baselines import ServedBaselines
from pipelines.sdk import load_sdk, quiet_sdk_logging
from pipelines.serving.names import ground_truth_uri
from pipelines.wiring import Wiring

OUTPUT_NAME = "monitoring"


def parameter_defaults(config: Config, wiring: Wiring, served: ServedBaselines | None) -> dict[str, str]:
    project, stage, bucket = config.project, config.stage, wiring.artifact_bucket
    quality = {names.PARAM_GROUND_TRUTH: ground_truth_uri(bucket, project, stage), names.PARAM_MODEL_DATA: "",
               names.PARAM_GATE: "", **(served.quality if served else {})}
    return {
        names.PARAM_ENDPOINT: names.endpoint_name(project, stage),
        names.PARAM_CAPTURE: names.endpoint_capture_uri(bucket, project, stage),
        names.PARAM_WINDOW_START: "",
        names.PARAM_WINDOW_END: "",
        names.PARAM_BASELINE_STATISTICS: served.statistics_uri if served else "",
        names.PARAM_BASELINE_CONSTRAINTS: served.constraints_uri if served else "",
        names.PARAM_PACKAGE: served.package_arn if served else "",
        names.PARAM_OUTPUT: names.runs_uri(bucket, project, stage),
        names.PARAM_PUBLISH_METRICS: "true",
        **(quality if config.monitoring.model_quality else {}),
    }


def _output(parameters: dict[str, Any], local_path: str) -> Any:
    """The run's folder, <OutputUri>/<execution id>/: both steps write there."""
    from sagemaker.core.shapes import ProcessingOutput, ProcessingS3Output
    from sagemaker.core.workflow.execution_variables import ExecutionVariables
    from sagemaker.core.workflow.functions import Join

    return ProcessingOutput(output_name=OUTPUT_NAME, s3_output=ProcessingS3Output(
        s3_uri=Join(on="/", values=[parameters[names.PARAM_OUTPUT], ExecutionVariables.PIPELINE_EXECUTION_ID]),
        local_path=local_path, s3_upload_mode="EndOfJob"))


def _step(ctx: Any, parameters: dict[str, Any]) -> Any:
    from sagemaker.mlops.workflow import ProcessingStep

    from pipelines.steps.context import PROCESSING_ROOT

    config, wiring = ctx.config, ctx.wiring
    output_dir, baseline_dir = f"{PROCESSING_ROOT}/output/{OUTPUT_NAME}", f"{PROCESSING_ROOT}/input/baseline"
    arguments = [
        "--capture-uri", parameters[names.PARAM_CAPTURE],
        "--window-start", parameters[names.PARAM_WINDOW_START],
        "--window-end", parameters[names.PARAM_WINDOW_END],
        "--state-uri", names.monitoring_uri(wiring.artifact_bucket, config.project, config.stage),
        "--baseline-statistics", f"{baseline_dir}/statistics",
        "--baseline-constraints", f"{baseline_dir}/constraints",
        "--model-package-arn", parameters[names.PARAM_PACKAGE],
        "--drift-thresholds", json.dumps(config.monitoring.thresholds(), sort_keys=True),
        "--endpoint", parameters[names.PARAM_ENDPOINT],
        "--schedule", names.schedule_name(config.project, config.stage),
        "--output", output_dir,
        "--publish-metrics", parameters[names.PARAM_PUBLISH_METRICS],
        "--region", config.aws_region,
        "--kms-key", wiring.kms_key_arn,
    ]
    return ProcessingStep(names.STEP_DRIFT, step_args=ctx.processor(
        names.DRIFT_SCRIPT, isolated=False, instance_count=config.monitoring.instance_count).run(
        inputs=[ctx.code_input(names.DRIFT_SCRIPT),
                ctx.s3_input("baseline-statistics", parameters[names.PARAM_BASELINE_STATISTICS],
                             f"{baseline_dir}/statistics"),
                ctx.s3_input("baseline-constraints", parameters[names.PARAM_BASELINE_CONSTRAINTS],
                             f"{baseline_dir}/constraints")],
        outputs=[_output(parameters, output_dir)], arguments=arguments))


def _quality_step(ctx: Any, parameters: dict[str, Any], drift: Any) -> Any:
    """ModelQuality: the labels of DriftCheck's window scored against the served package's gate."""
    from sagemaker.mlops.workflow import ProcessingStep

    from pipelines.steps.context import PROCESSING_ROOT

    config, wiring = ctx.config, ctx.wiring
    output_dir, drift_dir = f"{PROCESSING_ROOT}/output/{OUTPUT_NAME}", f"{PROCESSING_ROOT}/input/drift"
    model_dir = f"{PROCESSING_ROOT}/input/model"  # an input, not an argument: model URIs outgrow 256 characters
    arguments = [
        "--capture", parameters[names.PARAM_CAPTURE],
        "--labels", parameters[names.PARAM_GROUND_TRUTH],
        "--drift-output", drift_dir,
        "--model", model_dir,
        "--gate", parameters[names.PARAM_GATE],
        "--output", f"{output_dir}/{names.QUALITY_FOLDER}",
        "--report", f"{output_dir}/report.html",
        "--endpoint", parameters[names.PARAM_ENDPOINT],
        "--schedule", names.quality_schedule_name(config.project, config.stage),
        "--publish-metrics", parameters[names.PARAM_PUBLISH_METRICS],
        "--region", config.aws_region,
        "--kms-key", wiring.kms_key_arn,
    ]
    window = drift.properties.ProcessingOutputConfig.Outputs[OUTPUT_NAME].S3Output.S3Uri
    return ProcessingStep(names.STEP_MODEL_QUALITY, step_args=ctx.processor(names.QUALITY_SCRIPT, isolated=False).run(
        inputs=[ctx.code_input(names.QUALITY_SCRIPT), ctx.s3_input("drift", window, drift_dir),
                ctx.s3_input("model", parameters[names.PARAM_MODEL_DATA], model_dir)],
        outputs=[_output(parameters, output_dir)], arguments=arguments))


def build_monitoring_pipeline(config: Config, wiring: Wiring, code: CodeBundle,
                              served: ServedBaselines | None = None) -> BuiltPipeline:
    """The stage's monitoring pipeline; without `served` the baseline parameters have no default (a local run
    passes them)."""
    load_sdk(config.aws_region)
    from sagemaker.core.workflow.parameters import ParameterString
    from sagemaker.mlops.workflow import Pipeline

    from pipelines.definition import step_context

    quiet_sdk_logging()
    parameters = {name: ParameterString(name, default_value=value, **(
        {"enum_values": ["true", "false"]} if name == names.PARAM_PUBLISH_METRICS else {}))
        for name, value in parameter_defaults(config, wiring, served).items()}
    ctx = step_context(config, wiring, code, parameters=list(parameters.values()))
    steps = [_step(ctx, parameters)]
    if config.monitoring.model_quality:
        steps.append(_quality_step(ctx, parameters, steps[0]))
    pipeline = Pipeline(name=names.monitor_pipeline_name(config.project, config.stage),
                        parameters=list(parameters.values()), steps=steps, sagemaker_session=ctx.session)
    return BuiltPipeline(pipeline=pipeline, definition=pipeline.definition())
