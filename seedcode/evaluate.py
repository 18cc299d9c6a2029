"""Evaluation step: score the trained model on the test split, in the Model Registry format.

Inputs: ``<root>/processing/model/model.tar.gz`` (xgboost-model + features.json from training)
and ``<root>/processing/test/test.parquet``. Output: ``<root>/processing/evaluation/evaluation.json``:
  {"binary_classification_metrics": {"auc": {"value": .., "standard_deviation": "NaN"}, "accuracy",
   "f1", "precision", "recall"}}   (labels at probability >= --threshold, default 0.5)
  {"multiclass_classification_metrics": {"accuracy", "macro_f1", "log_loss"}}   (label = most probable class)
  {"regression_metrics": {"rmse": {...}, "mae": {...}, "r2": {...}}}
A pipeline ConditionStep reads e.g. ``binary_classification_metrics.auc.value`` with JsonGet.
Classification sections also hold the Model Registry's chart data (Studio draws it): ``confusion_matrix``
({actual: {predicted: count}}, class indices as in features.json's label_mapping) and, for binary,
``receiver_operating_characteristic_curve`` and ``precision_recall_curve`` (at most MAX_CURVE_POINTS
points each). A ``labels`` section names the classes: ``mapping`` ({label: index}), ``positive_class``
and ``decision_threshold`` (binary).

Chart data without a registry name goes to ``evaluation_details.json`` beside it: feature
importance (gain), the training history copied from the model archive, and for regression a
bounded sample of (actual, predicted) pairs for the residual plot.

The test split (and the champion's raw rows) are read and scored CHUNK_ROWS rows at a time; what stays
per row is the label and one score, 16 bytes (``Scored``): exact AUC and curves need every (score,
label) pair, and a multiclass model keeps its most probable class while its log-loss is summed per chunk.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import tarfile
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import xgboost as xgb
from sklearn import metrics

import feature_schema
import labels
import sm_paths
from step_report import DataError, log, run_step

MODEL_FILE = "xgboost-model"
HISTORY_FILE = "training_history.json"
DETAILS_FILE = "evaluation_details.json"
MAX_CURVE_POINTS = 200
MAX_RESIDUAL_POINTS = 500
MAX_IMPORTANCE_FEATURES = 100
CHUNK_ROWS = 1 << 18  # test rows read and scored at a time
RAW_TEST_FILE = "raw/test_raw.csv"  # written by preprocess.py next to test.parquet
# seedcode/metrics.json is the one catalog of metrics (pipelines/rules.py reads it too)
METRIC_CATALOG = json.loads((Path(__file__).resolve().parent / "metrics.json").read_text())
PROBLEM_TYPES = tuple(name for name in METRIC_CATALOG if not name.startswith("_"))
METRIC_SECTIONS = {name: METRIC_CATALOG[name]["section"] for name in PROBLEM_TYPES}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Score the model in <root>/processing/model/model.tar.gz on <root>/processing/test and write "
        "<root>/processing/evaluation/evaluation.json (SageMaker Model Registry model-quality format).",
    )
    parser.add_argument("--problem-type", choices=PROBLEM_TYPES, help="default: from the model's features.json")
    parser.add_argument("--target-column", help="default: from the model's features.json")
    parser.add_argument("--threshold", type=float, default=0.5,
                        help="binary: a row is the positive class at probability >= this (default 0.5)")
    parser.add_argument("--primary-metric", help="the gate metric; with it, the champion comparison is written")
    parser.add_argument("--champion-margin", type=float, default=0.0,
                        help="how much the new model must beat the champion by, in metric units (default 0)")
    return parser.parse_args(argv)


def load_model_archive(archive: Path) -> tuple[xgb.Booster, dict[str, Any]]:
    """The booster and features.json from a SageMaker model.tar.gz (members read, never extracted)."""
    if not archive.is_file():
        raise DataError(f"model archive {archive} not found; the step's model input must be the training job's model")
    try:
        with tarfile.open(archive, "r:*") as tar:
            members = {Path(m.name).name: m for m in tar.getmembers() if m.isfile()}
            for needed in (MODEL_FILE, feature_schema.FEATURES_FILE):
                if needed not in members:
                    raise DataError(f"{archive} has no {needed}; it must be the model.tar.gz of the training step")
            model_bytes = tar.extractfile(members[MODEL_FILE]).read()
            schema_bytes = tar.extractfile(members[feature_schema.FEATURES_FILE]).read()
    except (tarfile.TarError, OSError) as err:
        raise DataError(f"cannot read model archive {archive}: {err}") from err
    schema = feature_schema.parse_schema(schema_bytes, f"{feature_schema.FEATURES_FILE} in {archive}")
    return load_booster(model_bytes), schema


def load_booster(model_bytes: bytes) -> xgb.Booster:
    booster = xgb.Booster()
    booster.load_model(bytearray(model_bytes))
    return booster


def predict(booster: xgb.Booster, encoded: pd.DataFrame, schema: dict[str, Any], source: str) -> np.ndarray:
    """Model output for encoded features: probabilities for binary models, one row of class probabilities
    per row for multiclass models, values for regression."""
    matrix = feature_schema.feature_matrix(encoded, schema, source)
    dmatrix = xgb.DMatrix(matrix, feature_names=feature_schema.xgboost_feature_names(schema))
    prediction = booster.predict(dmatrix)
    objective = json.loads(booster.save_config())["learner"]["objective"]["name"]
    if objective == "binary:logitraw":
        prediction = 1.0 / (1.0 + np.exp(-prediction))
    return prediction.astype("float64")


def entry(value: float) -> dict[str, Any]:
    return {"value": float(value), "standard_deviation": "NaN"}


def binary_metrics(y_true: np.ndarray, probability: np.ndarray, threshold: float) -> dict[str, Any]:
    """Metrics of the positive class (label 1); a row is predicted positive at probability >= threshold."""
    if len(np.unique(y_true)) < 2:
        raise DataError("the test split holds only one class, so AUC is undefined; provide more labelled data")
    predicted = (probability >= threshold).astype("int64")
    return {
        "auc": entry(metrics.roc_auc_score(y_true, probability)),
        "accuracy": entry(metrics.accuracy_score(y_true, predicted)),
        "f1": entry(metrics.f1_score(y_true, predicted, zero_division=0)),
        "precision": entry(metrics.precision_score(y_true, predicted, zero_division=0)),
        "recall": entry(metrics.recall_score(y_true, predicted, zero_division=0)),
        **binary_charts(y_true, probability, predicted),
    }


@dataclass(frozen=True)
class Scored:
    """What evaluation keeps per test row: the label and one score (binary: the positive class's
    probability; regression: the value; multiclass: the most probable class), float64 each; for
    multiclass also the class count and the log-loss summed over the rows."""

    y_true: np.ndarray
    prediction: np.ndarray
    classes: int = 0
    log_loss_sum: float = 0.0


def score(parts: Iterable[tuple[np.ndarray, np.ndarray]], problem_type: str) -> Scored:
    """Scored from (labels, model output) a chunk at a time; multiclass output (one probability per class)
    becomes its most probable class and its log-loss (rows renormalized: float32 sums drift from 1)."""
    labels_seen, scores, classes, loss = [], [], 0, 0.0
    for y_true, prediction in parts:
        if problem_type == "multiclass_classification":
            if prediction.ndim != 2:
                raise DataError("the model gives one value per row, not one probability per class; train it with "
                                "the objective multi:softprob")
            classes = prediction.shape[1]
            normalized = prediction / prediction.sum(axis=1, keepdims=True)
            loss += metrics.log_loss(y_true.astype("int64"), normalized, labels=list(range(classes)), normalize=False)
            prediction = prediction.argmax(axis=1).astype("float64")
        labels_seen.append(y_true)
        scores.append(prediction)
    return Scored(np.concatenate(labels_seen), np.concatenate(scores), classes, loss)


def multiclass_metrics(scored: Scored) -> dict[str, Any]:
    """Accuracy, macro-F1 (the unweighted mean over the classes present) and log-loss of the class
    probabilities, plus the confusion matrix."""
    actual, predicted = scored.y_true.astype("int64"), scored.prediction.astype("int64")
    return {
        "accuracy": entry(metrics.accuracy_score(actual, predicted)),
        "macro_f1": entry(metrics.f1_score(actual, predicted, average="macro", zero_division=0)),
        "log_loss": entry(scored.log_loss_sum / len(actual)),
        "confusion_matrix": confusion_matrix(actual, predicted, scored.classes),
    }


# ---------------------------------------------------------------------------- chart data


def spread_indices(count: int, limit: int) -> np.ndarray:
    """At most ``limit`` indices spread evenly over ``range(count)``, first and last included."""
    return np.unique(np.round(np.linspace(0, count - 1, min(count, limit))).astype("int64"))


def curve(x: np.ndarray, y: np.ndarray) -> tuple[list[float], list[float]]:
    keep = spread_indices(len(x), MAX_CURVE_POINTS)
    return [round(float(v), 6) for v in x[keep]], [round(float(v), 6) for v in y[keep]]


def confusion_matrix(actual: np.ndarray, predicted: np.ndarray, classes: int) -> dict[str, dict[str, int]]:
    """{actual class index: {predicted class index: count}} over every class, as the Model Registry keeps it."""
    matrix = metrics.confusion_matrix(actual, predicted, labels=list(range(classes)))
    return {str(a): {str(p): int(matrix[a, p]) for p in range(classes)} for a in range(classes)}


def binary_charts(y_true: np.ndarray, probability: np.ndarray, predicted: np.ndarray) -> dict[str, Any]:
    """Confusion matrix ({actual: {predicted: count}}) and the ROC and precision-recall curves,
    under the Model Registry's model-quality names."""
    fpr, tpr, _ = metrics.roc_curve(y_true, probability)
    precision, recall, _ = metrics.precision_recall_curve(y_true, probability)
    recalls, precisions = curve(recall[::-1], precision[::-1])  # recall rising from 0 to 1
    false_positive_rates, true_positive_rates = curve(fpr, tpr)
    return {
        "confusion_matrix": confusion_matrix(y_true.astype("int64"), predicted, 2),
        "receiver_operating_characteristic_curve": {
            "false_positive_rates": false_positive_rates,
            "true_positive_rates": true_positive_rates,
        },
        "precision_recall_curve": {"precisions": precisions, "recalls": recalls},
    }


def residual_sample(y_true: np.ndarray, prediction: np.ndarray) -> dict[str, Any]:
    """A fixed random sample of at most MAX_RESIDUAL_POINTS (actual, predicted) pairs, in row order."""
    rows = len(y_true)
    keep = np.arange(rows)
    if rows > MAX_RESIDUAL_POINTS:
        keep = np.sort(np.random.default_rng(0).choice(rows, MAX_RESIDUAL_POINTS, replace=False))
    return {
        "rows": int(rows),
        "actual": [round(float(v), 6) for v in y_true[keep]],
        "predicted": [round(float(v), 6) for v in prediction[keep]],
    }


def feature_importance(booster: xgb.Booster, schema: dict[str, Any]) -> dict[str, Any]:
    """Average gain per split of each feature (features never split on are left out), largest first,
    under the features.json names."""
    shown = [str(name) for name in schema["feature_names"]]
    used = feature_schema.xgboost_feature_names(schema) or [f"f{index}" for index in range(len(shown))]
    display = dict(zip(used, shown, strict=True))
    gains = booster.get_score(importance_type="gain")
    ranked = sorted(((display.get(key, key), float(gain)) for key, gain in gains.items()), key=lambda item: -item[1])
    return {
        "importance_type": "gain",
        "features_used": len(ranked),
        "features": [{"name": name, "gain": round(gain, 6)} for name, gain in ranked[:MAX_IMPORTANCE_FEATURES]],
    }


def archive_member(archive: Path, name: str) -> bytes | None:
    """One file of the model archive by base name, or None when the archive has none (older models)."""
    with tarfile.open(archive, "r:*") as tar:
        member = next((m for m in tar.getmembers() if m.isfile() and Path(m.name).name == name), None)
        return tar.extractfile(member).read() if member is not None else None


def training_history(archive: Path) -> dict[str, Any] | None:
    """training_history.json from the model archive; None when absent or unreadable (the report says so)."""
    raw = archive_member(archive, HISTORY_FILE)
    try:
        history = json.loads(raw) if raw else None
    except ValueError:
        return None
    return history if isinstance(history, dict) and isinstance(history.get("metrics"), dict) else None


def evaluation_details(
    booster: xgb.Booster, schema: dict[str, Any], y_true: np.ndarray, prediction: np.ndarray, archive: Path
) -> dict[str, Any]:
    """evaluation_details.json: the report's chart data that has no Model Registry name."""
    details = {
        "schema_version": 1,
        "problem_type": schema["problem_type"],
        "test_rows": int(len(y_true)),
        "feature_importance": feature_importance(booster, schema),
        "training_history": training_history(archive),
    }
    if schema["problem_type"] == "regression":
        details["residuals"] = residual_sample(y_true, prediction)
    return details


def regression_metrics(y_true: np.ndarray, prediction: np.ndarray) -> dict[str, Any]:
    return {
        "rmse": entry(math.sqrt(metrics.mean_squared_error(y_true, prediction))),
        "mae": entry(metrics.mean_absolute_error(y_true, prediction)),
        "r2": entry(metrics.r2_score(y_true, prediction)),
    }


def evaluation_report(
    y_true: np.ndarray, prediction: np.ndarray, problem_type: str, threshold: float = 0.5
) -> dict[str, Any]:
    """The evaluation.json content for one problem type, from the model output of every row."""
    return scored_report(score([(y_true, prediction)], problem_type), problem_type, threshold)


def scored_report(scored: Scored, problem_type: str, threshold: float = 0.5) -> dict[str, Any]:
    """The evaluation.json content for one problem type."""
    if problem_type == "binary_classification":
        return {METRIC_SECTIONS[problem_type]: binary_metrics(scored.y_true, scored.prediction, threshold)}
    if problem_type == "multiclass_classification":
        return {METRIC_SECTIONS[problem_type]: multiclass_metrics(scored)}
    return {METRIC_SECTIONS[problem_type]: regression_metrics(scored.y_true, scored.prediction)}


def label_section(schema: dict[str, Any], threshold: float) -> dict[str, Any] | None:
    """evaluation.json's ``labels``: which label each class index stands for (None for regression)."""
    mapping = schema.get("label_mapping")
    if schema["problem_type"] == "regression" or not mapping:
        return None
    binary = schema["problem_type"] == "binary_classification"
    return {"mapping": mapping, "classes": labels.class_names(schema),
            "positive_class": schema.get("positive_class", labels.class_names(schema)[-1]) if binary else None,
            "decision_threshold": threshold if binary else None}


def higher_is_better(problem_type: str, metric: str) -> bool:
    spec = METRIC_CATALOG[problem_type]["metrics"].get(metric)
    if spec is None:
        raise DataError(f"--primary-metric {metric} is not a {problem_type} metric; use one of "
                        + ", ".join(METRIC_CATALOG[problem_type]["metrics"]))
    return spec["better"] == "higher"


def find_champion(directory: Path) -> Path | None:
    """The champion's model.tar.gz, when the champion input holds one (no champion: it holds none)."""
    found = sorted(directory.rglob("model.tar.gz")) if directory.is_dir() else []
    return found[0] if found else None


def _mapping_text(schema: dict[str, Any]) -> str:
    return ", ".join(f"{label}={index}" for label, index in (schema.get("label_mapping") or {}).items())


def champion_value(archive: Path, y_true: np.ndarray, new_schema: dict[str, Any], metric: str,
                   threshold: float) -> tuple[float | None, str]:
    """The champion's metric on the same test rows, scored from their raw values through the
    champion's own features.json (as its endpoint would), or None and why it cannot be compared.
    A classifier is compared only when its labels mean the same classes as the new model's."""
    booster, schema = load_model_archive(archive)
    problem_type = new_schema["problem_type"]
    if schema["problem_type"] != problem_type:
        return None, f"the champion is a {schema['problem_type']} model"
    if schema.get("label_mapping") != new_schema.get("label_mapping"):
        return None, (f"its labels ({_mapping_text(schema)}) differ from the new model's "
                      f"({_mapping_text(new_schema)})")
    raw_file = sm_paths.processing("test", RAW_TEST_FILE)
    if not raw_file.is_file():
        return None, f"the test split has no raw rows ({RAW_TEST_FILE})"
    def parts() -> Iterator[tuple[np.ndarray, np.ndarray]]:
        done = 0
        with pd.read_csv(raw_file, dtype=object, chunksize=CHUNK_ROWS) as reader:
            for raw in reader:
                prediction = predict(booster, feature_schema.encode_features(raw, schema), schema, "the raw test rows")
                yield y_true[done:done + len(raw)], prediction
                done += len(raw)

    try:
        scored = score(parts(), problem_type)
    except DataError as err:
        return None, f"it cannot score the new data ({err})"
    if len(scored.y_true) != len(y_true):
        return None, f"the test split's raw rows ({RAW_TEST_FILE}) are not its rows"
    section = scored_report(scored, problem_type, threshold)[METRIC_SECTIONS[problem_type]]
    return section[metric]["value"], ""


def champion_comparison(args: argparse.Namespace, report: dict[str, Any], schema: dict[str, Any],
                        y_true: np.ndarray) -> dict[str, Any]:
    """The `champion` section: the new model must beat the champion by the margin on the same split."""
    metric, margin, problem_type = args.primary_metric, args.champion_margin, schema["problem_type"]
    new_value = report[METRIC_SECTIONS[problem_type]][metric]["value"]
    result: dict[str, Any] = {"metric": metric, "challenger_value": new_value, "champion_value": None,
                              "required_improvement": margin, "improvement": None, "beats_champion": 1}
    archive = find_champion(sm_paths.processing("champion"))
    if archive is None:
        return {**result, "present": False, "verdict": "There is no approved champion to beat."}
    value, why_not = champion_value(archive, y_true, schema, metric, args.threshold)
    if value is None:
        log(f"warning: the champion is not compared: {why_not}")
        return {**result, "present": True, "verdict": f"The champion was not compared: {why_not}."}
    improvement = new_value - value if higher_is_better(problem_type, metric) else value - new_value
    beats = improvement >= margin
    verdict = (f"Against the champion ({metric} = {value:.6g}) the new model improves by {improvement:.6g}, "
               f"{'meeting' if beats else 'short of'} the required {margin:g}.")
    return {**result, "present": True, "champion_value": value, "improvement": improvement,
            "beats_champion": int(beats), "verdict": verdict}


def test_files(directory: Path) -> list[Path]:
    preferred = directory / "test.parquet"
    files = [preferred] if preferred.is_file() else sorted(directory.glob("*.parquet")) if directory.is_dir() else []
    if not files:
        raise DataError(f"no test.parquet in {directory}; the step's test input must be the preprocess test output")
    return files


def score_test(booster: xgb.Booster, schema: dict[str, Any], target: str, problem_type: str) -> Scored:
    """The model's scores on the test split, read CHUNK_ROWS rows at a time."""
    files = test_files(sm_paths.processing("test"))
    columns = pq.ParquetFile(files[0]).schema_arrow.names
    if target not in columns:
        raise DataError(f"target column '{target}' not found in the test data; columns are: {', '.join(columns)}")

    def parts() -> Iterator[tuple[np.ndarray, np.ndarray]]:
        for path in files:
            for batch in pq.ParquetFile(path).iter_batches(batch_size=CHUNK_ROWS):
                test = batch.to_pandas()
                y_true = test[target].to_numpy(dtype="float64")
                if np.isnan(y_true).any():
                    raise DataError(f"target column '{target}' has missing values in the test data; rerun the "
                                    "preprocess step")
                yield y_true, predict(booster, test, schema, "the test data")

    return score(parts(), problem_type)


def evaluate(args: argparse.Namespace) -> dict[str, Any]:
    started = time.perf_counter()
    if not 0 < args.threshold < 1:
        raise DataError(f"--threshold {args.threshold} must lie strictly between 0 and 1 (decision_threshold)")
    booster, schema = load_model_archive(sm_paths.processing("model", "model.tar.gz"))
    problem_type = args.problem_type or schema["problem_type"]
    target = args.target_column or schema["target_column"]
    if problem_type != schema["problem_type"]:
        raise DataError(
            f"--problem-type {problem_type} differs from the model's {schema['problem_type']}; "
            "use the model's problem type"
        )
    scored = score_test(booster, schema, target, problem_type)
    y_true, prediction = scored.y_true, scored.prediction
    report = scored_report(scored, problem_type, args.threshold)
    if label_section(schema, args.threshold):
        report["labels"] = label_section(schema, args.threshold)
    if args.primary_metric:
        higher_is_better(problem_type, args.primary_metric)  # a wrong metric fails before any output
        report["champion"] = champion_comparison(args, report, schema, y_true)
        log(report["champion"]["verdict"])
    details = evaluation_details(booster, schema, y_true, prediction, sm_paths.processing("model", "model.tar.gz"))
    output = sm_paths.processing("evaluation", "evaluation.json")
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(report, indent=2) + "\n")
    output.with_name(DETAILS_FILE).write_text(json.dumps(details) + "\n")
    section = report[METRIC_SECTIONS[problem_type]]
    values = " ".join(f"{name}={m['value']:.6f}" for name, m in section.items() if "value" in m)
    log(f"evaluated {len(y_true)} test rows: {values}")
    log(f"wrote {output} in {time.perf_counter() - started:.2f} s")
    return report


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    return run_step(lambda: evaluate(args), "processing")


if __name__ == "__main__":
    sys.exit(main())
