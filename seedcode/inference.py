"""Serving entry point for the SageMaker XGBoost framework container (script mode).

Endpoints receive RAW features, as in the baseline: this module applies the same encoding as
training (features.json: categorical vocabularies, booleans, datetimes) before predicting. CSV and
JSON requests are read through lookup tables (row_encoding.py: microseconds for a row); what those
cannot read exactly as pandas would goes through pandas and feature_schema, the reference, which
also words the error for bad input.

Requests: ``text/csv`` -- one row per line, feature columns in features.json order, no header (a
header row equal to the feature names is skipped); ``application/json`` -- ``{"instances": [{name:
value, ...}, ...]}``, a list of such objects, or one object. Responses: one prediction per row.

- Binary: the probability of the positive class (label 1 in features.json's ``label_mapping``),
  as CSV lines or ``{"predictions": [0.91, ...]}``. No label: the cut-off is the caller's decision;
  the pipeline's metrics use ``decision_threshold`` from ``[tool.ml-factory]`` (default 0.5).
- Multiclass: the most probable label and every class's probability. CSV: one line per row,
  ``label,p_0,p_1,...`` with the probabilities in class-index order (``label_mapping``, i.e. the
  labels sorted), e.g. ``barolo,0.02,0.95,0.03``. JSON: ``{"predictions": [{"label": "barolo",
  "probabilities": {"barbera": 0.02, "barolo": 0.95, "grignolino": 0.03}}, ...]}``.
- Regression: the predicted value, as for binary.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xgboost as xgb

import feature_schema
import labels
from row_encoding import NotPlain, RowEncoder

MODEL_FILE = "xgboost-model"


def model_fn(model_dir: str) -> dict[str, Any]:
    """Load the booster and its features.json from the model directory; build the fast path's lookup tables."""
    booster = xgb.Booster()
    booster.load_model(bytearray((Path(model_dir) / MODEL_FILE).read_bytes()))
    objective = json.loads(booster.save_config())["learner"]["objective"]["name"]
    schema = feature_schema.load_schema(Path(model_dir))
    return {"booster": booster, "schema": schema, "objective": objective, "encoder": RowEncoder(schema)}


@dataclass(frozen=True)
class ClassProbabilities:
    """A multiclass prediction: per row, one probability per class (columns in class-index order)."""

    classes: list[str]
    probabilities: np.ndarray

    def predicted_labels(self) -> list[str]:
        """The most probable class of each row."""
        return [self.classes[index] for index in self.probabilities.argmax(axis=1)]


class CsvRows:
    """CSV request text, parsed once predict_fn knows the feature names."""

    def __init__(self, text: str) -> None:
        self.text = text


class JsonRows:
    """A JSON request's instances, as parsed (a list of {name: value} objects, normally)."""

    def __init__(self, payload: Any) -> None:
        self.payload = payload


def _csv_lines(text: str, names: list[str]) -> list[str]:
    """The data lines of a CSV request: blank lines dropped, and a header row equal to the feature names."""
    lines = [line for line in text.splitlines() if line.strip()]
    if lines and [cell.strip() for cell in next(csv.reader([lines[0]]))] == names:
        lines = lines[1:]  # a header row, quoted or not
    return lines


def _csv_frame(lines: list[str], names: list[str]) -> pd.DataFrame:
    """CSV rows (no header, features in schema order) as raw text values; empty fields are missing."""
    frame = pd.read_csv(io.StringIO("\n".join(lines)), header=None, dtype=object, skipinitialspace=True)
    if frame.shape[1] != len(names):
        raise ValueError(f"each CSV row needs {len(names)} values ({', '.join(names)}), got {frame.shape[1]}")
    frame.columns = names
    return frame


def input_fn(request_body: bytes | str, content_type: str) -> CsvRows | JsonRows:
    """Raw request -> raw feature values (encoding happens in predict_fn)."""
    text = request_body.decode("utf-8") if isinstance(request_body, (bytes, bytearray)) else request_body
    kind = (content_type or "").split(";")[0].strip().lower()
    if kind == "text/csv":
        return CsvRows(text)
    if kind == "application/json":
        payload = json.loads(text)
        if isinstance(payload, dict) and "instances" in payload:
            payload = payload["instances"]
        if isinstance(payload, dict):
            payload = [payload]
        return JsonRows(payload)
    raise ValueError(f"unsupported content type {content_type!r}; use text/csv or application/json")


def fast_matrix(data: pd.DataFrame | CsvRows | JsonRows, model: dict[str, Any]) -> np.ndarray | None:
    """The model's matrix through the lookup tables, or None when the request needs the pandas path."""
    encoder = model.get("encoder")
    try:
        if encoder is not None and isinstance(data, CsvRows):
            return encoder.csv_matrix(_csv_lines(data.text, encoder.names))
        if encoder is not None and isinstance(data, JsonRows):
            return encoder.json_matrix(data.payload)
    except NotPlain:
        pass
    return None


def frame_matrix(data: pd.DataFrame | CsvRows | JsonRows, schema: dict[str, Any]) -> np.ndarray:
    """The reference: the request as a pandas frame, checked and encoded by feature_schema."""
    names = list(schema["feature_names"])
    if isinstance(data, CsvRows):
        data = _csv_frame(_csv_lines(data.text, names), names)
    elif isinstance(data, JsonRows):
        data = pd.DataFrame(data.payload)
    for name, kind in schema["feature_kinds"].items():
        if kind == "numeric" and name in data.columns:
            feature_schema.check_numbers(data[name])
    encoded = feature_schema.encode_features(data, schema)
    return np.ascontiguousarray(encoded.to_numpy(dtype=np.float32))


def predict_fn(data: pd.DataFrame | CsvRows | JsonRows, model: dict[str, Any]) -> np.ndarray | ClassProbabilities:
    """Encode raw features with features.json and predict (class probabilities for multiclass models).

    CSV and JSON requests take the fast path (row_encoding.RowEncoder); what it cannot read exactly as
    pandas does, and a DataFrame, take the pandas path. `model["encoder"] = None` sends every request
    through pandas: the reference the fast path is tested against.
    """
    schema = model["schema"]
    matrix = fast_matrix(data, model)
    if matrix is None:
        matrix = frame_matrix(data, schema)
    prediction = model["booster"].inplace_predict(matrix)
    if model.get("objective") == "binary:logitraw":
        prediction = 1.0 / (1.0 + np.exp(-prediction))
    if schema["problem_type"] == "multiclass_classification":
        return ClassProbabilities(labels.class_names(schema), np.asarray(prediction).reshape(len(matrix), -1))
    return prediction


def _class_output(prediction: ClassProbabilities, kind: str) -> str:
    rows = [[float(p) for p in row] for row in prediction.probabilities]
    if kind == "application/json":
        return json.dumps({"predictions": [
            {"label": label, "probabilities": dict(zip(prediction.classes, row, strict=True))}
            for label, row in zip(prediction.predicted_labels(), rows, strict=True)]})
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    for label, row in zip(prediction.predicted_labels(), rows, strict=True):
        writer.writerow([label, *(repr(p) for p in row)])
    return buffer.getvalue().rstrip("\n")


def output_fn(prediction: np.ndarray | ClassProbabilities, accept: str) -> str:
    """Predictions as CSV lines (default) or JSON; for multiclass models the label and the class probabilities."""
    kind = (accept or "text/csv").split(";")[0].strip().lower()
    if isinstance(prediction, ClassProbabilities):
        return _class_output(prediction, kind)
    values = [float(v) for v in np.asarray(prediction).ravel()]
    if kind == "application/json":
        return json.dumps({"predictions": values})
    return "\n".join(repr(v) for v in values)
