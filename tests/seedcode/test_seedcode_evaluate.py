"""seedcode/evaluate.py: Model Registry JSON shape and metrics that match scikit-learn."""

from __future__ import annotations

import json
import shutil
import tarfile
from pathlib import Path

import evaluate
import feature_schema
import numpy as np
import pandas as pd
import pytest
import train
import xgboost as xgb
from seedcode_harness import TEST_PARAMS
from sklearn import metrics


def _stage_model(output: Path, root: Path, tmp_path: Path) -> xgb.Booster:
    """Train a small model on a preprocess output and lay out the evaluate step's inputs under root."""
    schema = feature_schema.load_schema(output / "train")
    frames = [pd.read_parquet(output / name / f"{name}.parquet") for name in ("train", "validation")]
    params = train.training_params(dict(TEST_PARAMS), schema["problem_type"])
    booster = train.train(*frames, params, 30, tmp_path / "checkpoints", 10, schema=schema)
    model_dir = tmp_path / "model"
    train.save_model(booster, model_dir, output / "train")
    archive = root / "processing" / "model" / "model.tar.gz"
    archive.parent.mkdir(parents=True)
    with tarfile.open(archive, "w:gz") as tar:
        for name in ("xgboost-model", "features.json", "training_history.json"):
            tar.add(model_dir / name, arcname=name)
    shutil.copytree(output / "test", root / "processing" / "test")
    return booster


def test_binary_metrics_match_sklearn(prepared: dict[str, Path], sm_root: Path, tmp_path: Path) -> None:
    booster = _stage_model(prepared["binary_classification"], sm_root, tmp_path)

    assert evaluate.main([]) == 0

    report = json.loads((sm_root / "processing" / "evaluation" / "evaluation.json").read_text())
    assert list(report) == ["binary_classification_metrics", "labels"]
    assert report["labels"] == {"mapping": {"0": 0, "1": 1}, "classes": ["0", "1"], "positive_class": "1",
                                "decision_threshold": 0.5}
    section = report["binary_classification_metrics"]
    assert list(section)[:5] == ["auc", "accuracy", "f1", "precision", "recall"]
    assert all(section[name]["standard_deviation"] == "NaN" for name in list(section)[:5])

    test = pd.read_parquet(sm_root / "processing" / "test" / "test.parquet")
    schema = feature_schema.load_schema(sm_root / "processing" / "test")
    probability = booster.predict(train.split_xy(test, schema, None))
    labels = (probability >= 0.5).astype(int)
    y = test["churned"].to_numpy()
    assert section["auc"]["value"] == pytest.approx(metrics.roc_auc_score(y, probability))
    assert section["accuracy"]["value"] == pytest.approx(metrics.accuracy_score(y, labels))
    assert section["f1"]["value"] == pytest.approx(metrics.f1_score(y, labels))
    assert section["precision"]["value"] == pytest.approx(metrics.precision_score(y, labels))
    assert section["recall"]["value"] == pytest.approx(metrics.recall_score(y, labels))
    assert 0.7 < section["auc"]["value"] < 0.95


def test_regression_metrics_match_sklearn(prepared: dict[str, Path], sm_root: Path, tmp_path: Path) -> None:
    booster = _stage_model(prepared["regression"], sm_root, tmp_path)

    assert evaluate.main(["--problem-type", "regression", "--target-column", "churned"]) == 0

    report = json.loads((sm_root / "processing" / "evaluation" / "evaluation.json").read_text())
    section = report["regression_metrics"]
    assert list(section) == ["rmse", "mae", "r2"]
    test = pd.read_parquet(sm_root / "processing" / "test" / "test.parquet")
    schema = feature_schema.load_schema(sm_root / "processing" / "test")
    prediction = booster.predict(train.split_xy(test, schema, None))
    y = test["churned"].to_numpy()
    assert section["rmse"]["value"] == pytest.approx(np.sqrt(metrics.mean_squared_error(y, prediction)))
    assert section["mae"]["value"] == pytest.approx(metrics.mean_absolute_error(y, prediction))
    assert section["r2"]["value"] == pytest.approx(metrics.r2_score(y, prediction))


def test_report_on_known_predictions() -> None:
    y = np.array([0, 0, 1, 1, 1])
    probability = np.array([0.1, 0.6, 0.4, 0.8, 0.9])

    section = evaluate.evaluation_report(y, probability, "binary_classification")["binary_classification_metrics"]

    # labels at 0.5: [0, 1, 0, 1, 1] -> tp 2, fp 1, fn 1, tn 1; 5 of 6 positive/negative pairs ordered right
    assert {name: round(entry["value"], 6) for name, entry in section.items() if "value" in entry} == {
        "auc": round(5 / 6, 6), "accuracy": 0.6, "f1": round(2 / 3, 6), "precision": round(2 / 3, 6),
        "recall": round(2 / 3, 6),
    }
    regression = evaluate.evaluation_report(np.array([1.0, 2.0, 3.0]), np.array([1.0, 2.0, 5.0]), "regression")
    assert regression["regression_metrics"]["rmse"]["value"] == pytest.approx(np.sqrt(4 / 3))
    assert regression["regression_metrics"]["mae"]["value"] == pytest.approx(2 / 3)
    assert regression["regression_metrics"]["r2"]["value"] == pytest.approx(1 - 4 / 2)


def test_missing_model_archive_exits_2(sm_root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert evaluate.main([]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: model archive ") and "not found" in err and err.count("\n") == 1


def test_problem_type_mismatch_exits_2(
    prepared: dict[str, Path], sm_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _stage_model(prepared["regression"], sm_root, tmp_path)
    capsys.readouterr()
    assert evaluate.main(["--problem-type", "binary_classification"]) == 2
    assert "differs from the model's regression" in capsys.readouterr().err


def test_scoring_in_small_chunks_gives_the_same_report(
    prepared: dict[str, Path], sm_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The test split and the champion's raw rows are read a chunk at a time; the metrics are exact."""
    _stage_model(prepared["binary_classification"], sm_root, tmp_path)
    champion = sm_root / "processing" / "champion" / "model.tar.gz"
    champion.parent.mkdir(parents=True)
    shutil.copy(sm_root / "processing" / "model" / "model.tar.gz", champion)  # the same model: equal metrics
    output = sm_root / "processing" / "evaluation" / "evaluation.json"

    reports = []
    for chunk_rows in (evaluate.CHUNK_ROWS, 37):
        monkeypatch.setattr(evaluate, "CHUNK_ROWS", chunk_rows)
        assert evaluate.main(["--primary-metric", "auc"]) == 0
        reports.append(json.loads(output.read_text()))

    assert reports[0] == reports[1]
    assert len(pd.read_parquet(sm_root / "processing" / "test" / "test.parquet")) > 3 * 37  # several chunks
    champion_section = reports[1]["champion"]
    assert champion_section["champion_value"] == champion_section["challenger_value"]
