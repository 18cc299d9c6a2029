"""seedcode/model_quality.py: served predictions read back for every problem type, labels read as the model's
classes, and the gate's direction (a lower-is-better metric is violated from above)."""

from __future__ import annotations

import io
import json
import tarfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import drift_report
import evaluate
import model_quality as mq
import numpy as np
import pytest

BINARY = {"problem_type": "binary_classification", "label_mapping": {"0": 0, "1": 1}}
MULTICLASS = {"problem_type": "multiclass_classification",
              "label_mapping": {"barbera": 0, "barolo": 1, "grignolino": 2}}
REGRESSION = {"problem_type": "regression", "label_mapping": None}


def output(data: str, kind: str = "text/csv") -> dict[str, str]:
    return {"observedContentType": kind, "data": data, "encoding": "JSON" if "json" in kind else "CSV"}


def test_predictions_are_read_back_from_every_response_shape_inference_writes() -> None:
    assert mq.predictions_of(output("0.25\n0.75"), BINARY) == [0.25, 0.75]
    assert mq.predictions_of(output('{"predictions": [0.25, 0.75]}', "application/json"), BINARY) == [0.25, 0.75]
    assert mq.predictions_of(output("barolo,0.1,0.8,0.1\ngrignolino,0.2,0.1,0.7"), MULTICLASS) == [
        [0.1, 0.8, 0.1], [0.2, 0.1, 0.7]]
    body = {"predictions": [{"label": "barolo", "probabilities": {"grignolino": 0.1, "barolo": 0.8, "barbera": 0.1}}]}
    assert mq.predictions_of(output(json.dumps(body), "application/json"), MULTICLASS) == [[0.1, 0.8, 0.1]]
    assert mq.predictions_of(output("12.5"), REGRESSION) == [12.5]


def test_labels_are_read_as_the_models_classes() -> None:
    assert [mq.label_value(text, BINARY) for text in ("1", "1.0", "0", "yes")] == [1.0, 1.0, 0.0, None]
    assert [mq.label_value(text, MULTICLASS) for text in ("barolo", "Grignolino", "nebbiolo")] == [1.0, 2.0, None]
    assert [mq.label_value(text, REGRESSION) for text in ("3.5", "inf", "n/a")] == [3.5, None, None]
    assert mq.labels_of({"data": "1\n0\n", "encoding": "CSV"}) == ["1", "0"]
    assert mq.labels_of({"data": "[1, 0.0]", "encoding": "JSON"}) == ["1", "0"]


def _merged(schema: dict, pairs: list[tuple[str, str]]) -> mq.Merged:
    merged = mq.Merged()
    for index, (label, prediction) in enumerate(pairs):
        merged.add({"captureData": {"endpointOutput": output(prediction)}, "groundTruthData": {"data": label},
                    "eventMetadata": {"eventId": str(index)}}, schema)
    return merged


def test_a_lower_is_better_metric_is_violated_from_above_and_uses_evaluates_metrics() -> None:
    rng = np.random.default_rng(0)
    truth, noise = rng.normal(50, 10, 300), rng.normal(0, 4, 300)
    merged = _merged(REGRESSION, [(repr(float(t)), repr(float(t + n))) for t, n in zip(truth, noise, strict=True)])
    quality, section = mq.model_quality(merged, REGRESSION, mq.Gate("rmse", 3.0))
    expected = evaluate.evaluation_report(truth, truth + noise, "regression")["regression_metrics"]["rmse"]["value"]
    assert quality.value == pytest.approx(expected) and quality.value > 3.0 and quality.status == "violated"
    files = mq.model_monitor_files(quality, section)
    assert files["constraints.json"]["regression_constraints"]["rmse"]["comparison_operator"] == "GreaterThanThreshold"
    [violation] = files["constraint_violations.json"]["violations"]
    assert violation["metric_name"] == "rmse" and violation["constraint_check_type"] == "GreaterThanThreshold"
    assert mq.model_quality(merged, REGRESSION, mq.Gate("rmse", 10.0))[0].status == "ok"


def test_rows_that_cannot_be_labelled_are_counted_and_one_class_windows_are_undefined() -> None:
    merged = _merged(BINARY, [("1", "0.9"), ("1", "0.8"), ("maybe", "0.3"), ("1\n0", "0.4")])
    assert (len(merged.y_true), merged.skipped_rows) == (2, 3)
    assert any("label 'maybe' is not a class of the model (0, 1)" in e for e in merged.examples)
    assert any("2 label(s) for 1 prediction(s)" in e for e in merged.examples)
    quality, section = mq.model_quality(merged, BINARY, mq.Gate("auc", 0.7))
    assert (quality.status, section) == ("undefined", None) and "one class" in quality.reason


# ---------------------------------------------------------------------------- the ModelQuality step in a job

HOUR = datetime(2026, 5, 1, 12, tzinfo=UTC)
BUCKET, REGION = "art", "eu-west-1"
CAPTURE = f"s3://{BUCKET}/p/data-capture/p-staging/AllTraffic"
LABELS = f"s3://{BUCKET}/p/ground-truth/p-staging"


def _model_archive() -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        content = json.dumps({**BINARY, "feature_names": ["age"], "feature_kinds": {"age": "numeric"},
                              "target_column": "churned"}).encode()
        info = tarfile.TarInfo("features.json")
        info.size = len(content)
        tar.addfile(info, io.BytesIO(content))
    return buffer.getvalue()


@pytest.fixture
def job(monkeypatch: pytest.MonkeyPatch, sm_root: Path, tmp_path: Path):  # noqa: ANN201
    """S3 (moto) holding a window's capture of 300 one-row requests and their labels a day later; the step's
    inputs: the served model and the DriftCheck output it reads its window from."""
    import boto3
    import object_uris
    from moto import mock_aws

    from pipelines.serving.capture import Invocation, capture_record

    for key, value in (("AWS_ACCESS_KEY_ID", "testing"), ("AWS_SECRET_ACCESS_KEY", "testing"),
                       ("AWS_DEFAULT_REGION", REGION)):
        monkeypatch.setenv(key, value)
    monkeypatch.delenv(object_uris.LOCAL_STORE_ENV, raising=False)  # a job's S3, not the local engine's store
    rng = np.random.default_rng(5)
    truth = rng.random(300) < 0.4
    probability = 0.3 * truth + 0.7 * rng.random(300)  # auc about 0.85
    with mock_aws():
        s3 = boto3.client("s3", region_name=REGION)
        s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
        records = [capture_record(Invocation(HOUR.timestamp() + i, b"40\n", "text/csv", repr(float(p)).encode(),
                                             "text/csv", inference_id=f"order-{i}")) for i, p in enumerate(probability)]
        s3.put_object(Bucket=BUCKET, Key=f"p/data-capture/p-staging/AllTraffic/{HOUR:%Y/%m/%d/%H}/c.jsonl",
                      Body="\n".join(json.dumps(r) for r in records) + "\n")
        labels = [json.dumps({"groundTruthData": {"data": str(int(t)), "encoding": "CSV"},
                              "eventMetadata": {"eventId": f"order-{i}"}, "eventVersion": "0"})
                  for i, t in enumerate(truth)]
        s3.put_object(Bucket=BUCKET, Key=f"p/ground-truth/p-staging/{HOUR + timedelta(days=1):%Y/%m/%d/%H}/l.jsonl",
                      Body="\n".join(labels) + "\n")
        (tmp_path / "model").mkdir()
        (tmp_path / "model" / "model.tar.gz").write_bytes(_model_archive())
        drift = tmp_path / "drift"
        drift.mkdir()
        (drift / "drift_summary.json").write_text(json.dumps({"rows": 300, "window": {
            "since": HOUR.isoformat(), "until": (HOUR + timedelta(hours=1)).isoformat()}}))
        (drift / "report.html").write_text(f"<html><body>{drift_report.MODEL_QUALITY_MARK}</body></html>")
        yield drift, truth, probability


def test_the_step_scores_the_drift_steps_window_from_s3_and_puts_model_monitors_model_quality_metrics(
        job, tmp_path) -> None:
    import boto3
    from sklearn.metrics import roc_auc_score

    from pipelines.monitoring import names

    drift, truth, probability = job
    output = tmp_path / "output"
    gate = json.dumps({"metric": "auc", "threshold": 0.99, "decision_threshold": 0.5, "source": "registry metadata"})
    assert mq.main(["--capture", CAPTURE, "--labels", LABELS, "--drift-output", str(drift),
                    "--model", str(tmp_path / "model"), "--gate", gate, "--output", str(output / "model_quality"),
                    "--report", str(output / "report.html"),
                    "--endpoint", "p-staging", "--schedule", "p-staging-model-quality", "--publish-metrics", "true",
                    "--region", REGION]) == 0

    result = json.loads((output / "model_quality" / mq.RESULT_FILE).read_text())
    expected = roc_auc_score(truth, probability)
    assert result["status"] == "violated" and result["value"] == pytest.approx(expected)
    assert result["line"].startswith(f"model quality: violation: auc {expected:.4f} over 300 labelled row(s) breaks "
                                     "the gate auc >= 0.99 the package passed (registry metadata)")
    [violation] = json.loads((output / "model_quality" / "constraint_violations.json").read_text())["violations"]
    assert (violation["metric_name"], violation["constraint_check_type"]) == ("auc", "LessThanThreshold")
    assert 'data-status="violated"' in (output / "report.html").read_text()  # DriftCheck's report, with the verdict
    cloudwatch = boto3.client("cloudwatch", region_name=REGION)
    listed = cloudwatch.list_metrics(Namespace=names.QUALITY_METRIC_NAMESPACE)["Metrics"]
    assert {m["MetricName"] for m in listed} >= {"auc", "accuracy", "f1", "precision", "recall"}
    assert result["metrics_published"] == len(listed)
    assert all(m["Dimensions"] == [{"Name": "Endpoint", "Value": "p-staging"},
                                   {"Name": "MonitoringSchedule", "Value": "p-staging-model-quality"}] for m in listed)
    auc = cloudwatch.get_metric_statistics(
        Namespace=names.QUALITY_METRIC_NAMESPACE, MetricName="auc", Dimensions=listed[0]["Dimensions"],
        StartTime=HOUR, EndTime=HOUR + timedelta(hours=2), Period=3600, Statistics=["Maximum"])["Datapoints"]
    assert auc[0]["Maximum"] == pytest.approx(expected)


def test_an_empty_drift_window_is_said_and_scores_nothing(tmp_path) -> None:
    drift = tmp_path / "drift"
    drift.mkdir()
    (drift / "drift_summary.json").write_text(json.dumps({"rows": 0, "window": {"since": None,
                                                                               "until": HOUR.isoformat()}}))
    assert mq.main(["--capture", str(tmp_path / "none"), "--labels", str(tmp_path / "none"), "--drift-output",
                    str(drift), "--output", str(tmp_path / "out")]) == 0
    result = json.loads((tmp_path / "out" / mq.RESULT_FILE).read_text())
    assert result["line"] == f"model quality: no captured data between the beginning and {HOUR.isoformat()}"


def test_the_metric_names_the_step_puts_are_the_pipelines() -> None:
    import drift_metrics

    from pipelines.monitoring import names

    assert drift_metrics.QUALITY_NAMESPACE == names.QUALITY_METRIC_NAMESPACE
    assert mq.DRIFT_SUMMARY == "drift_summary.json" and mq.RESULT_FILE == "model_quality.json"
