"""seedcode/model_quality.py: served predictions read back for every problem type, labels read as the model's
classes, and the gate's direction (a lower-is-better metric is violated from above)."""

from __future__ import annotations

import json

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
