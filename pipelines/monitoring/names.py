"""The cloud monitoring naming convention, in one place; Terraform's `monitoring` module (the EventBridge
Scheduler that starts the pipeline, the alarms on its metrics) mirrors it.

  monitoring pipeline   <project>-monitor-<stage>, one per stage with an endpoint: the DriftCheck processing
                        step and, with [tool.ml-factory.monitoring] model_quality, the ModelQuality step after
                        it; built by pipelines/monitoring/definition.py, upserted by
                        `python -m pipelines.monitor publish --stage S`
  its parameters        all have defaults (set when it is published), so a schedule may start it with none:
                          EndpointName            <project>-<stage>
                          CaptureUri              s3://<artifact bucket>/<project>/data-capture/<endpoint>/AllTraffic
                          WindowStart             ISO 8601 UTC; "" = since the last run's watermark
                          WindowEnd               ISO 8601 UTC; "" = when the step starts
                          BaselineStatisticsUri   the deployed package's DriftCheckBaselines ModelDataQuality
                          BaselineConstraintsUri    statistics and constraints
                          ModelPackageArn         the deployed package (named in the report and messages)
                          OutputUri               s3://<artifact bucket>/<project>/monitoring/<stage>/runs; each
                                                  execution writes under <OutputUri>/<execution id>/
                          PublishMetrics          "true": put the run's metrics to CloudWatch
                        and with model quality:
                          GroundTruthUri          s3://<artifact bucket>/<project>/ground-truth/<endpoint> (labels)
                          ModelDataUri            the deployed package's model.tar.gz
                          QualityGate             JSON: the gate the package passed (metric, threshold,
                                                  decision_threshold, source), or why it cannot be scored
  watermark             s3://<artifact bucket>/<project>/monitoring/<stage>/watermark.json (the end of the last
                        window that held data)
  metrics               namespace aws/sagemaker/Endpoints/data-metrics, Model Monitor's names and dimensions:
                        feature_baseline_drift_<feature>, feature_non_null_<feature>; dimensions
                        Endpoint = <project>-<stage>, MonitoringSchedule = <project>-<stage>-drift
  model-quality metrics namespace aws/sagemaker/Endpoints/model-metrics, Model Monitor's model-quality names
                        (the problem type's metrics: auc, accuracy, f1, rmse, mae, ...); dimensions
                        Endpoint = <project>-<stage>, MonitoringSchedule = <project>-<stage>-model-quality
  native schedule       <project>-<stage>-drift: a Model Monitor DataQuality schedule (native mode) has the same
                        name, so its metrics carry the same dimensions and one set of alarms serves either mode
"""

from __future__ import annotations

from pipelines.serving.names import VARIANT, capture_uri, endpoint_name

STEP_DRIFT = "DriftCheck"
DRIFT_SCRIPT = "drift_check.py"  # seedcode/: the step's entry point
STEP_MODEL_QUALITY = "ModelQuality"
QUALITY_SCRIPT = "model_quality.py"
QUALITY_FOLDER = "model_quality"  # the step's files, under the run's folder

PARAM_ENDPOINT = "EndpointName"
PARAM_CAPTURE = "CaptureUri"
PARAM_WINDOW_START = "WindowStart"
PARAM_WINDOW_END = "WindowEnd"
PARAM_BASELINE_STATISTICS = "BaselineStatisticsUri"
PARAM_BASELINE_CONSTRAINTS = "BaselineConstraintsUri"
PARAM_PACKAGE = "ModelPackageArn"
PARAM_OUTPUT = "OutputUri"
PARAM_PUBLISH_METRICS = "PublishMetrics"
PARAMETERS = (PARAM_ENDPOINT, PARAM_CAPTURE, PARAM_WINDOW_START, PARAM_WINDOW_END, PARAM_BASELINE_STATISTICS,
              PARAM_BASELINE_CONSTRAINTS, PARAM_PACKAGE, PARAM_OUTPUT, PARAM_PUBLISH_METRICS)
PARAM_GROUND_TRUTH = "GroundTruthUri"
PARAM_MODEL_DATA = "ModelDataUri"
PARAM_GATE = "QualityGate"
QUALITY_PARAMETERS = (PARAM_GROUND_TRUTH, PARAM_MODEL_DATA, PARAM_GATE)  # after PARAMETERS, with model quality

METRIC_NAMESPACE = "aws/sagemaker/Endpoints/data-metrics"
DRIFT_METRIC = "feature_baseline_drift_{}"
NON_NULL_METRIC = "feature_non_null_{}"
DIMENSIONS = ("Endpoint", "MonitoringSchedule")
QUALITY_METRIC_NAMESPACE = "aws/sagemaker/Endpoints/model-metrics"
WATERMARK_FILE = "watermark.json"


def monitor_pipeline_name(project: str, stage: str) -> str:
    return f"{project}-monitor-{stage}"


def schedule_name(project: str, stage: str) -> str:
    """The MonitoringSchedule dimension of the metrics, and the native schedule's name."""
    return f"{endpoint_name(project, stage)}-drift"


def quality_schedule_name(project: str, stage: str) -> str:
    """The MonitoringSchedule dimension of the model-quality metrics (Model Monitor's for its own job)."""
    return f"{endpoint_name(project, stage)}-model-quality"


def monitoring_uri(artifact_bucket: str, project: str, stage: str) -> str:
    """The stage's monitoring state (the watermark) and, under runs/, each run's files."""
    return f"s3://{artifact_bucket}/{project}/monitoring/{stage}"


def runs_uri(artifact_bucket: str, project: str, stage: str) -> str:
    return f"{monitoring_uri(artifact_bucket, project, stage)}/runs"


def endpoint_capture_uri(artifact_bucket: str, project: str, stage: str) -> str:
    """Where SageMaker (or the local server) captures the stage endpoint's traffic."""
    return f"{capture_uri(artifact_bucket, project)}/{endpoint_name(project, stage)}/{VARIANT}"

