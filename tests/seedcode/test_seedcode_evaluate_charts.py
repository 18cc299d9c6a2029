"""seedcode/evaluate.py chart data: the registry's curves and confusion matrix, evaluation_details.json."""

from __future__ import annotations

import json
import tarfile
from pathlib import Path

import evaluate
import numpy as np
import pandas as pd
import pytest
from test_seedcode_evaluate import _stage_model


def _outputs(root: Path) -> tuple[dict, dict]:
    folder = root / "processing" / "evaluation"
    return tuple(json.loads((folder / name).read_text()) for name in ("evaluation.json", evaluate.DETAILS_FILE))


def test_binary_chart_data_in_registry_format(prepared: dict[str, Path], sm_root: Path, tmp_path: Path) -> None:
    _stage_model(prepared["binary_classification"], sm_root, tmp_path)

    assert evaluate.main([]) == 0

    report, details = _outputs(sm_root)
    section = report["binary_classification_metrics"]
    test_rows = len(pd.read_parquet(sm_root / "processing" / "test" / "test.parquet"))
    matrix = section["confusion_matrix"]
    assert sorted(matrix) == ["0", "1"] and all(sorted(row) == ["0", "1"] for row in matrix.values())
    assert sum(count for row in matrix.values() for count in row.values()) == test_rows
    assert (matrix["0"]["0"] + matrix["1"]["1"]) / test_rows == pytest.approx(section["accuracy"]["value"])
    roc = section["receiver_operating_characteristic_curve"]
    assert (roc["false_positive_rates"][0], roc["true_positive_rates"][0]) == (0.0, 0.0)
    assert (roc["false_positive_rates"][-1], roc["true_positive_rates"][-1]) == (1.0, 1.0)
    assert np.trapezoid(roc["true_positive_rates"], roc["false_positive_rates"]) == pytest.approx(
        section["auc"]["value"], abs=0.01)
    pr = section["precision_recall_curve"]
    assert len(pr["precisions"]) == len(pr["recalls"]) and pr["recalls"][0] == 0.0 and pr["recalls"][-1] == 1.0
    assert details["problem_type"] == "binary_classification" and details["test_rows"] == test_rows
    assert "residuals" not in details
    history = details["training_history"]
    assert (history["first_round"], history["rounds"]) == (1, 30)
    assert len(history["metrics"]["validation"]["auc"]) == 30
    importance = details["feature_importance"]
    schema = json.loads((sm_root / "processing" / "test" / "features.json").read_text())
    names = [feature["name"] for feature in importance["features"]]
    assert names and set(names) <= set(schema["feature_names"])
    gains = [feature["gain"] for feature in importance["features"]]
    assert gains == sorted(gains, reverse=True) and gains[-1] > 0


def test_regression_residual_sample_pairs_actual_and_predicted(
    prepared: dict[str, Path], sm_root: Path, tmp_path: Path
) -> None:
    _stage_model(prepared["regression"], sm_root, tmp_path)

    assert evaluate.main([]) == 0

    report, details = _outputs(sm_root)
    test = pd.read_parquet(sm_root / "processing" / "test" / "test.parquet")
    residuals = details["residuals"]
    assert residuals["rows"] == len(test) == len(residuals["actual"]) == len(residuals["predicted"])
    assert residuals["actual"] == pytest.approx(test["churned"].tolist(), abs=1e-5)
    actual, predicted = np.array(residuals["actual"]), np.array(residuals["predicted"])
    assert np.sqrt(np.mean((actual - predicted) ** 2)) == pytest.approx(report["regression_metrics"]["rmse"]["value"],
                                                                        rel=1e-4)
    assert details["training_history"]["metrics"]["validation"]["rmse"]


def test_curves_and_residual_sample_stay_bounded_on_large_test_sets() -> None:
    rng = np.random.default_rng(3)
    y = rng.integers(0, 2, 50_000)
    probability = np.clip(y * 0.3 + rng.random(50_000) * 0.7, 0, 1)

    charts = evaluate.binary_charts(y, probability, (probability >= 0.5).astype("int64"))

    roc = charts["receiver_operating_characteristic_curve"]
    assert 100 < len(roc["false_positive_rates"]) <= evaluate.MAX_CURVE_POINTS
    assert roc["false_positive_rates"] == sorted(roc["false_positive_rates"])
    assert (roc["false_positive_rates"][-1], roc["true_positive_rates"][-1]) == (1.0, 1.0)
    assert 100 < len(charts["precision_recall_curve"]["recalls"]) <= evaluate.MAX_CURVE_POINTS
    actual = rng.normal(size=50_000)
    sample = evaluate.residual_sample(actual, actual * 2)
    assert sample["rows"] == 50_000 and len(sample["actual"]) == evaluate.MAX_RESIDUAL_POINTS
    assert sample["predicted"] == pytest.approx([2 * value for value in sample["actual"]], abs=1e-5)
    assert sample == evaluate.residual_sample(actual, actual * 2)  # the same sample every run


def test_known_confusion_matrix() -> None:
    y = np.array([0, 0, 1, 1, 1])
    probability = np.array([0.1, 0.6, 0.4, 0.8, 0.9])

    section = evaluate.evaluation_report(y, probability, "binary_classification")["binary_classification_metrics"]

    # labels at 0.5: [0, 1, 0, 1, 1]: actual 0 -> one 0, one 1; actual 1 -> one 0, two 1
    assert section["confusion_matrix"] == {"0": {"0": 1, "1": 1}, "1": {"0": 1, "1": 2}}


def test_model_archive_without_history_still_evaluates(prepared: dict[str, Path], sm_root: Path,
                                                       tmp_path: Path) -> None:
    _stage_model(prepared["binary_classification"], sm_root, tmp_path)
    archive = sm_root / "processing" / "model" / "model.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:  # a model trained before training_history.json existed
        for name in ("xgboost-model", "features.json"):
            tar.add(tmp_path / "model" / name, arcname=name)

    assert evaluate.main([]) == 0

    _, details = _outputs(sm_root)
    assert details["training_history"] is None and details["feature_importance"]["features"]
