"""seedcode/drift_check.py, the monitoring pipeline's step, as it runs in a SageMaker job: the capture window
read from S3, the watermark kept in S3, the metrics put to CloudWatch with Model Monitor's names (moto)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import boto3
import data_quality as dq
import drift_check
import numpy as np
import object_uris
import pandas as pd
import pytest
from moto import mock_aws

from pipelines.monitoring import names
from pipelines.serving.capture import Invocation, capture_record

HOUR = datetime(2026, 5, 1, 12, tzinfo=UTC)
BUCKET, REGION = "art", "eu-west-1"
CAPTURE = f"s3://{BUCKET}/p/data-capture/p-staging/AllTraffic"
STATE = f"s3://{BUCKET}/p/monitoring/staging"


def features(rows: int, seed: int, shift: float = 0.0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"age": (rng.normal(40, 10, rows) + shift).round(1),
                         "plan": rng.choice(["basic", "plus", "pro"], rows, p=[0.5, 0.3, 0.2])})


@pytest.fixture(scope="module")
def baseline(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("baseline")
    statistics = dq.compute_statistics(features(3000, 1))
    (folder / "statistics.json").write_text(json.dumps(statistics))
    (folder / "constraints.json").write_text(json.dumps(dq.suggest_constraints(statistics)))
    return folder / "statistics.json", folder / "constraints.json"


def capture_lines(frame: pd.DataFrame, when: datetime) -> str:
    lines = []
    for start in range(0, len(frame), 50):
        body = frame.iloc[start:start + 50].to_csv(header=False, index=False).encode()
        lines.append(json.dumps(capture_record(Invocation(when.timestamp() + start, body, "text/csv", b"0.5\n",
                                                          "text/csv"))))
    return "\n".join(lines) + "\n"


def arguments(baseline: tuple[Path, Path], output: Path, *extra: str) -> list[str]:
    return ["--capture-uri", CAPTURE, "--state-uri", STATE, "--baseline-statistics", str(baseline[0]),
            "--baseline-constraints", str(baseline[1]), "--endpoint", "p-staging", "--schedule",
            "p-staging-drift", "--output", str(output), "--region", REGION,
            "--model-package-arn", f"arn:aws:sagemaker:{REGION}:111111111111:model-package/p-dev/4", *extra]


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch, sm_root: Path):  # noqa: ANN201
    for key, value in (("AWS_ACCESS_KEY_ID", "testing"), ("AWS_SECRET_ACCESS_KEY", "testing"),
                       ("AWS_DEFAULT_REGION", REGION)):
        monkeypatch.setenv(key, value)
    monkeypatch.delenv(object_uris.LOCAL_STORE_ENV, raising=False)  # a job's S3, not the local engine's store
    with mock_aws():
        s3 = boto3.client("s3", region_name=REGION)
        s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
        yield s3


def test_the_step_reads_its_window_from_s3_publishes_model_monitor_metrics_and_keeps_a_watermark(
        aws, baseline, tmp_path) -> None:
    earlier, shifted = HOUR - timedelta(hours=3), features(600, 2, shift=15)
    aws.put_object(Bucket=BUCKET, Key=f"{CAPTURE.split(BUCKET + '/')[1]}/{earlier:%Y/%m/%d/%H}/a.jsonl",
                   Body=capture_lines(features(600, 3), earlier))
    aws.put_object(Bucket=BUCKET, Key=f"{CAPTURE.split(BUCKET + '/')[1]}/{HOUR:%Y/%m/%d/%H}/b.jsonl",
                   Body=capture_lines(shifted, HOUR))
    aws.put_object(Bucket=BUCKET, Key="p/monitoring/staging/watermark.json",
                   Body=json.dumps({"until": (HOUR - timedelta(hours=1)).isoformat()}))
    until = HOUR + timedelta(hours=1)
    assert drift_check.main(arguments(baseline, tmp_path / "out", "--publish-metrics", "true"), now=until) == 0

    summary = json.loads((tmp_path / "out" / drift_check.SUMMARY_FILE).read_text())
    assert summary["rows"] == 600  # the hour before the watermark is not read
    assert summary["package"] == "p-dev version 4"
    assert {(v["feature_name"], v["constraint_check_type"]) for v in summary["violations"]} == {
        ("age", "baseline_drift_check")}
    assert summary["metrics_published"] == 4
    cloudwatch = boto3.client("cloudwatch", region_name=REGION)
    listed = cloudwatch.list_metrics(Namespace=names.METRIC_NAMESPACE)["Metrics"]
    assert sorted(m["MetricName"] for m in listed) == [
        "feature_baseline_drift_age", "feature_baseline_drift_plan", "feature_non_null_age", "feature_non_null_plan"]
    assert all(m["Dimensions"] == [{"Name": "Endpoint", "Value": "p-staging"},
                                   {"Name": "MonitoringSchedule", "Value": "p-staging-drift"}] for m in listed)
    drift = cloudwatch.get_metric_statistics(
        Namespace=names.METRIC_NAMESPACE, MetricName="feature_baseline_drift_age", Dimensions=listed[0]["Dimensions"],
        StartTime=HOUR, EndTime=until + timedelta(minutes=1), Period=3600, Statistics=["Maximum"])["Datapoints"]
    assert drift and drift[0]["Maximum"] == pytest.approx(summary["drift"]["age"]["distance"]) and drift[0][
        "Maximum"] > 0.3
    mark = json.loads(aws.get_object(Bucket=BUCKET, Key="p/monitoring/staging/watermark.json")["Body"].read())
    assert mark == {"until": until.isoformat()}

    assert drift_check.main(arguments(baseline, tmp_path / "again"), now=until + timedelta(minutes=5)) == 0
    assert json.loads((tmp_path / "again" / drift_check.SUMMARY_FILE).read_text())["rows"] == 0  # nothing new


def test_the_teams_thresholds_apply_per_feature_over_the_baselines(aws, baseline, tmp_path) -> None:
    aws.put_object(Bucket=BUCKET, Key=f"{CAPTURE.split(BUCKET + '/')[1]}/{HOUR:%Y/%m/%d/%H}/b.jsonl",
                   Body=capture_lines(features(2000, 4, shift=6), HOUR))  # age moves about 0.24 in CDF distance
    window = ["--window-start", HOUR.isoformat(), "--window-end", (HOUR + timedelta(hours=1)).isoformat()]
    assert drift_check.main(arguments(baseline, tmp_path / "default", *window)) == 0
    lenient = json.dumps({"default": None, "features": {"age": 0.5}})
    assert drift_check.main(arguments(baseline, tmp_path / "lenient", *window, "--drift-thresholds", lenient)) == 0
    default, relaxed = (json.loads((tmp_path / name / drift_check.SUMMARY_FILE).read_text())
                        for name in ("default", "lenient"))
    assert [v["feature_name"] for v in default["violations"]] == ["age"]
    assert default["drift"]["age"]["threshold"] == 0.1 and relaxed["drift"]["age"]["threshold"] == 0.5
    assert relaxed["violations"] == [] and relaxed["drift"]["plan"]["threshold"] == 0.1


def test_names_the_pipeline_side_publishes_are_the_ones_the_step_puts() -> None:
    import drift_metrics

    from pipelines.engine.processing import LOCAL_STORE_ENV

    assert (drift_metrics.NAMESPACE, drift_metrics.DRIFT_METRIC, drift_metrics.NON_NULL_METRIC) == (
        names.METRIC_NAMESPACE, names.DRIFT_METRIC, names.NON_NULL_METRIC)
    assert object_uris.LOCAL_STORE_ENV == LOCAL_STORE_ENV
    assert drift_check.WATERMARK_FILE == names.WATERMARK_FILE
