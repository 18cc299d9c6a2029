"""Per-feature CloudWatch metrics with Model Monitor's names and dimensions, so one set of alarms serves our
drift job and a native Model Monitor schedule alike (AWS docs, "CloudWatch Metrics" of Model Monitor and
"CloudWatch Metrics for Bring Your Own Containers"):

  namespace   aws/sagemaker/Endpoints/data-metrics
  dimensions  Endpoint, MonitoringSchedule
  metrics     feature_baseline_drift_<feature> (the drift distance), feature_non_null_<feature> (the share
              of present values)

A run writes them as cloudwatch_metrics.json (PutMetricData's MetricData entries, the BYOC file layout);
publishing them from the cloud job is not built yet.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

NAMESPACE = "aws/sagemaker/Endpoints/data-metrics"
DRIFT_METRIC, NON_NULL_METRIC = "feature_baseline_drift_{}", "feature_non_null_{}"


def metric_data(drift: dict[str, Any], statistics: dict[str, Any], endpoint: str, schedule: str,
                when: datetime) -> list[dict[str, Any]]:
    """MetricData entries for one run: drift per compared feature, completeness per current feature."""
    dimensions = [{"Name": "Endpoint", "Value": endpoint}, {"Name": "MonitoringSchedule", "Value": schedule}]
    stamp = when.strftime("%Y-%m-%dT%H:%M:%SZ")

    def entry(name: str, value: float) -> dict[str, Any]:
        return {"MetricName": name, "Timestamp": stamp, "Dimensions": dimensions, "Value": float(value)}

    items = (statistics.get("dataset") or {}).get("item_count") or 0
    entries = [entry(DRIFT_METRIC.format(name), d.distance) for name, d in sorted(drift.items())]
    for feature in statistics.get("features", []):
        block = feature.get("numerical_statistics") or feature.get("string_statistics") or {}
        present = (block.get("common") or {}).get("num_present", 0)
        entries.append(entry(NON_NULL_METRIC.format(feature["name"]), present / items if items else 0.0))
    return entries


def write_metrics(result: Any, endpoint: str, when: datetime) -> Any:
    """cloudwatch_metrics.json of a run (a DriftResult), schedule named `<endpoint>-drift`; returns its path."""
    import json

    statistics = json.loads(result.files["statistics.json"].read_text())
    path = result.folder / "cloudwatch_metrics.json"
    entries = metric_data(result.drift, statistics, endpoint, f"{endpoint}-drift", when)
    path.write_text(json.dumps({"Namespace": NAMESPACE, "MetricData": entries}, indent=1) + "\n")
    return path
