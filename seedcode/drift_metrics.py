"""Per-feature CloudWatch metrics with Model Monitor's names and dimensions, so one set of alarms serves our
drift job and a native Model Monitor schedule alike (AWS docs, "CloudWatch Metrics" of Model Monitor and
"CloudWatch Metrics for Bring Your Own Containers"):

  namespace   aws/sagemaker/Endpoints/data-metrics
  dimensions  Endpoint, MonitoringSchedule
  metrics     feature_baseline_drift_<feature> (the drift distance), feature_non_null_<feature> (the share
              of present values)

and for model quality (model_quality.py; "Model quality metrics and Amazon CloudWatch monitoring"):

  namespace   aws/sagemaker/Endpoints/model-metrics
  dimensions  Endpoint, MonitoringSchedule
  metrics     the problem type's metrics by their names (auc, accuracy, f1, ..., rmse, mae, r2)

A run writes them as cloudwatch_metrics.json (PutMetricData's MetricData entries, the BYOC file layout);
in the cloud the drift step also puts them to CloudWatch (``publish``). pipelines/monitoring/names.py
holds the same names for the pipeline side and Terraform's alarms; a test holds the two together.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

NAMESPACE = "aws/sagemaker/Endpoints/data-metrics"
QUALITY_NAMESPACE = "aws/sagemaker/Endpoints/model-metrics"  # model quality: the problem type's metric names
DRIFT_METRIC, NON_NULL_METRIC = "feature_baseline_drift_{}", "feature_non_null_{}"
METRICS_FILE = "cloudwatch_metrics.json"
TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
BATCH = 1000  # PutMetricData takes at most 1000 metrics per request


def entries(values: dict[str, float], endpoint: str, schedule: str, when: datetime) -> list[dict[str, Any]]:
    """MetricData entries, one per named value, with Model Monitor's dimensions for a real-time endpoint."""
    dimensions = [{"Name": "Endpoint", "Value": endpoint}, {"Name": "MonitoringSchedule", "Value": schedule}]
    stamp = when.strftime(TIME_FORMAT)
    return [{"MetricName": name, "Timestamp": stamp, "Dimensions": dimensions, "Value": float(value)}
            for name, value in values.items()]


def metric_data(drift: dict[str, Any], statistics: dict[str, Any], endpoint: str, schedule: str,
                when: datetime) -> list[dict[str, Any]]:
    """MetricData entries for one run: drift per compared feature, completeness per current feature."""
    items = (statistics.get("dataset") or {}).get("item_count") or 0
    values = {DRIFT_METRIC.format(name): d.distance for name, d in sorted(drift.items())}
    for feature in statistics.get("features", []):
        block = feature.get("numerical_statistics") or feature.get("string_statistics") or {}
        present = (block.get("common") or {}).get("num_present", 0)
        values[NON_NULL_METRIC.format(feature["name"])] = present / items if items else 0.0
    return entries(values, endpoint, schedule, when)


def write_metrics(result: Any, endpoint: str, schedule: str, when: datetime) -> Path:
    """cloudwatch_metrics.json of a run (a drift_job.DriftResult); returns its path."""
    statistics = json.loads(result.files["statistics.json"].read_text())
    path = result.folder / METRICS_FILE
    entries = metric_data(result.drift, statistics, endpoint, schedule, when)
    path.write_text(json.dumps({"Namespace": NAMESPACE, "MetricData": entries}, indent=1) + "\n")
    return path


def publish(cloudwatch: Any, metrics: dict[str, Any]) -> int:
    """Put a cloudwatch_metrics.json's entries to CloudWatch, in requests of at most BATCH; returns the count."""
    entries = [{**entry, "Timestamp": datetime.strptime(entry["Timestamp"], TIME_FORMAT).replace(tzinfo=UTC)}
               for entry in metrics["MetricData"]]
    for start in range(0, len(entries), BATCH):
        cloudwatch.put_metric_data(Namespace=metrics["Namespace"], MetricData=entries[start:start + BATCH])
    return len(entries)
