"""Multiclass through the step code on sklearn's wine data (3 cultivars): softprob training, the
metrics and confusion matrix, the champion check, and serving's label + probabilities; plus the
binary decision threshold."""

from __future__ import annotations

import json
import shutil
import tarfile
from pathlib import Path

import evaluate
import feature_schema
import inference
import numpy as np
import pandas as pd
import preprocess
import pytest
import train
from seedcode_harness import SM_ENV, TEST_PARAMS, write_input
from sklearn import metrics
from sklearn.datasets import load_wine
from step_report import DataError

CULTIVARS = np.array(["barolo", "grignolino", "barbera"], dtype=object)  # load_wine's classes 0, 1, 2
ROUNDS = 15


def wine_frame() -> pd.DataFrame:
    frame = load_wine(as_frame=True).frame
    return frame.assign(target=CULTIVARS[frame["target"].to_numpy()]).rename(columns={"target": "cultivar"})


def _in_root(root: Path, function, *args):
    with pytest.MonkeyPatch.context() as patch:
        for name in SM_ENV:
            patch.delenv(name, raising=False)
        patch.setenv("SM_OPT_ML_ROOT", str(root))
        return function(*args)


@pytest.fixture(scope="module")
def wine(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Preprocess + train on wine; the evaluate step's inputs laid out under its own root."""
    root = tmp_path_factory.mktemp("wine") / "opt_ml"
    write_input(root, wine_frame())
    arguments = ["--target-column", "cultivar", "--problem-type", "multiclass_classification"]
    assert _in_root(root, preprocess.main, arguments) == 0
    output = root / "processing" / "output"
    schema = feature_schema.load_schema(output / "train")
    frames = [pd.read_parquet(output / name / f"{name}.parquet") for name in ("train", "validation")]
    params = train.training_params(dict(TEST_PARAMS), schema["problem_type"], len(schema["label_mapping"]))
    booster = train.train(*frames, params, ROUNDS, root / "checkpoints", 5, schema=schema)
    model_dir = root / "model"
    train.save_model(booster, model_dir, output / "train")
    archive = root / "processing" / "model" / "model.tar.gz"
    archive.parent.mkdir(parents=True)
    with tarfile.open(archive, "w:gz") as tar:
        for name in ("xgboost-model", "features.json", "training_history.json"):
            tar.add(model_dir / name, arcname=name)
    shutil.copytree(output / "test", root / "processing" / "test")
    return {"root": root, "output": output, "model_dir": model_dir, "archive": archive}


def _evaluation(root: Path) -> dict:
    return json.loads((root / "processing" / "evaluation" / "evaluation.json").read_text())


def test_training_uses_softprob_over_the_classes_and_logs_mlogloss(wine: dict[str, Path]) -> None:
    schema = feature_schema.load_schema(wine["model_dir"])
    assert schema["label_mapping"] == {"barbera": 0, "barolo": 1, "grignolino": 2}
    booster = evaluate.load_booster((wine["model_dir"] / "xgboost-model").read_bytes())
    learner = json.loads(booster.save_config())["learner"]
    assert learner["objective"]["name"] == "multi:softprob"
    assert learner["learner_model_param"]["num_class"] == "3"
    history = json.loads((wine["model_dir"] / "training_history.json").read_text())
    assert len(history["metrics"]["validation"]["mlogloss"]) == ROUNDS


def test_softmax_objective_or_a_wrong_num_class_is_refused() -> None:
    with pytest.raises(DataError, match="objective=multi:softmax does not fit multiclass_classification"):
        train.training_params({"objective": "multi:softmax"}, "multiclass_classification", 3)
    with pytest.raises(DataError, match="num_class=4 differs from the 3 classes"):
        train.training_params({"num_class": 4}, "multiclass_classification", 3)


def test_multiclass_metrics_match_sklearn_and_name_the_classes(wine: dict[str, Path]) -> None:
    assert _in_root(wine["root"], evaluate.main, []) == 0

    report = _evaluation(wine["root"])
    section = report["multiclass_classification_metrics"]
    test = pd.read_parquet(wine["root"] / "processing" / "test" / "test.parquet")
    booster, schema = evaluate.load_model_archive(wine["archive"])
    probability = evaluate.predict(booster, test, schema, "test")
    actual, predicted = test["cultivar"].to_numpy(), probability.argmax(axis=1)
    assert probability.shape == (len(test), 3)
    assert section["accuracy"]["value"] == pytest.approx(metrics.accuracy_score(actual, predicted))
    assert section["macro_f1"]["value"] == pytest.approx(metrics.f1_score(actual, predicted, average="macro"))
    normalized = probability / probability.sum(axis=1, keepdims=True)
    assert section["log_loss"]["value"] == pytest.approx(metrics.log_loss(actual, normalized))
    assert section["macro_f1"]["value"] > 0.8  # wine is easy: a real model clears the default gate
    matrix = section["confusion_matrix"]
    assert list(matrix) == ["0", "1", "2"] and all(list(row) == ["0", "1", "2"] for row in matrix.values())
    assert sum(sum(row.values()) for row in matrix.values()) == len(test)
    assert matrix["1"]["1"] == int(((actual == 1) & (predicted == 1)).sum())
    assert report["labels"] == {"mapping": {"barbera": 0, "barolo": 1, "grignolino": 2},
                                "classes": ["barbera", "barolo", "grignolino"], "positive_class": None,
                                "decision_threshold": None}


def test_champion_is_compared_only_when_its_labels_mean_the_same(wine: dict[str, Path]) -> None:
    root = wine["root"]
    champion = root / "processing" / "champion"
    champion.mkdir(exist_ok=True)
    shutil.copy(wine["archive"], champion / "model.tar.gz")
    try:
        assert _in_root(root, evaluate.main, ["--primary-metric", "macro_f1"]) == 0
        same = _evaluation(root)["champion"]
        assert same["champion_value"] == pytest.approx(same["challenger_value"]) and same["beats_champion"] == 1

        relabelled = root / "relabelled"
        with tarfile.open(wine["archive"]) as tar:
            tar.extractall(relabelled, filter="data")
        schema = json.loads((relabelled / "features.json").read_text())
        schema["label_mapping"] = {"barbera": 0, "barolo": 1, "nebbiolo": 2}
        (relabelled / "features.json").write_text(json.dumps(schema))
        with tarfile.open(champion / "model.tar.gz", "w:gz") as tar:
            for path in relabelled.iterdir():
                tar.add(path, arcname=path.name)
        assert _in_root(root, evaluate.main, ["--primary-metric", "macro_f1"]) == 0
        other = _evaluation(root)["champion"]
        assert other["champion_value"] is None and other["beats_champion"] == 1
        assert "its labels (barbera=0, barolo=1, nebbiolo=2) differ from the new model's" in other["verdict"]
    finally:
        shutil.rmtree(champion)


@pytest.mark.parametrize("content_type", ["text/csv", "application/json"])
def test_serving_returns_the_label_and_the_class_probabilities(wine: dict[str, Path], content_type: str) -> None:
    model = inference.model_fn(str(wine["model_dir"]))
    raw = pd.read_csv(wine["output"] / "test" / "raw" / "test_raw.csv")
    booster, schema = evaluate.load_model_archive(wine["archive"])
    expected = evaluate.predict(booster, pd.read_parquet(wine["output"] / "test" / "test.parquet"), schema, "test")
    classes = ["barbera", "barolo", "grignolino"]
    body = (raw.to_csv(header=False, index=False) if content_type == "text/csv"
            else json.dumps({"instances": json.loads(raw.to_json(orient="records"))}))

    response = inference.output_fn(inference.predict_fn(inference.input_fn(body, content_type), model), content_type)

    if content_type == "text/csv":
        rows = [line.split(",") for line in response.splitlines()]
        served_labels = [row[0] for row in rows]
        served = np.array([[float(v) for v in row[1:]] for row in rows])
    else:
        predictions = json.loads(response)["predictions"]
        served_labels = [p["label"] for p in predictions]
        assert all(list(p["probabilities"]) == classes for p in predictions)
        served = np.array([list(p["probabilities"].values()) for p in predictions])
    np.testing.assert_allclose(served, expected, rtol=1e-6, atol=1e-7)
    assert served_labels == [classes[i] for i in expected.argmax(axis=1)]


def test_binary_decision_threshold_moves_precision_recall_and_f1(prepared: dict[str, Path], tmp_path: Path) -> None:
    output = prepared["binary_classification"]
    schema = feature_schema.load_schema(output / "train")
    frames = [pd.read_parquet(output / name / f"{name}.parquet") for name in ("train", "validation", "test")]
    params = train.training_params(dict(TEST_PARAMS), schema["problem_type"])
    booster = train.train(frames[0], frames[1], params, 20, tmp_path / "checkpoints", 10, schema=schema)
    probability = evaluate.predict(booster, frames[2], schema, "test")
    actual = frames[2]["churned"].to_numpy(dtype="float64")

    sections = {t: evaluate.evaluation_report(actual, probability, "binary_classification", t)[
        "binary_classification_metrics"] for t in (0.3, 0.5, 0.7)}

    for threshold, section in sections.items():
        predicted = (probability >= threshold).astype(int)
        assert section["f1"]["value"] == pytest.approx(metrics.f1_score(actual, predicted))
        assert sum(section["confusion_matrix"]["1"].values()) == int(actual.sum())
        assert section["confusion_matrix"]["0"]["1"] == int(((actual == 0) & (predicted == 1)).sum())
    precision = [sections[t]["precision"]["value"] for t in (0.3, 0.5, 0.7)]
    recall = [sections[t]["recall"]["value"] for t in (0.3, 0.5, 0.7)]
    assert precision == sorted(precision) and precision[0] < precision[-1]
    assert recall == sorted(recall, reverse=True) and recall[0] > recall[-1]
    assert len({round(sections[t]["f1"]["value"], 6) for t in sections}) == 3
    assert sections[0.3]["auc"] == sections[0.7]["auc"]  # the ranking metric does not move
