"""seedcode/inference.py: raw features at the endpoint are encoded exactly as in training."""

from __future__ import annotations

import json
from pathlib import Path

import feature_schema
import inference
import numpy as np
import pandas as pd
import pytest
import train
from seedcode_harness import TEST_PARAMS


def test_raw_csv_and_json_requests_match_training_encoding(prepared: dict[str, Path], tmp_path: Path) -> None:
    output = prepared["binary_classification"]
    schema = feature_schema.load_schema(output / "train")
    train_df = pd.read_parquet(output / "train" / "train.parquet")
    valid_df = pd.read_parquet(output / "validation" / "validation.parquet")
    params = train.training_params(dict(TEST_PARAMS), schema["problem_type"])
    booster = train.train(train_df, valid_df, params, 20, tmp_path / "checkpoints", 10, schema=schema)
    train.save_model(booster, tmp_path / "model", output / "train")
    model = inference.model_fn(str(tmp_path / "model"))

    raw = pd.read_csv(output / "baseline" / "baseline.csv").iloc[:40]  # raw training rows
    expected = booster.predict(train.split_xy(train_df.iloc[:40], schema, None))

    body = raw.to_csv(header=False, index=False)
    from_csv = inference.predict_fn(inference.input_fn(body.encode(), "text/csv"), model)
    np.testing.assert_array_equal(from_csv, expected)

    records = json.loads(raw.to_json(orient="records"))
    from_json = inference.predict_fn(inference.input_fn(json.dumps({"instances": records}), "application/json"), model)
    np.testing.assert_allclose(from_json, expected, rtol=1e-6)

    unseen = raw.iloc[:1].assign(platform="smart-fridge", country=None)
    assert 0.0 < float(inference.predict_fn(unseen, model)[0]) < 1.0

    lines = inference.output_fn(from_csv[:3], "text/csv").splitlines()
    assert [float(v) for v in lines] == [float(v) for v in from_csv[:3]]
    assert json.loads(inference.output_fn(from_csv[:2], "application/json"))["predictions"] == [
        float(v) for v in from_csv[:2]]


def test_csv_header_row_is_skipped_quoted_or_not(prepared: dict[str, Path], tmp_path: Path) -> None:
    """A client that sends the header (as pandas or pyarrow write it) gets one prediction per data row."""
    output = prepared["binary_classification"]
    schema = feature_schema.load_schema(output / "train")
    train_df = pd.read_parquet(output / "train" / "train.parquet")
    params = train.training_params(dict(TEST_PARAMS), schema["problem_type"])
    booster = train.train(train_df, train_df, params, 5, tmp_path / "checkpoints", 5, schema=schema)
    train.save_model(booster, tmp_path / "model", output / "train")
    model = inference.model_fn(str(tmp_path / "model"))
    raw = pd.read_csv(output / "baseline" / "baseline.csv").iloc[:5]
    plain = raw.to_csv(index=False)
    quoted = ",".join(f'"{name}"' for name in raw.columns) + "\n" + raw.to_csv(index=False, header=False)
    for body in (plain, quoted):
        assert len(inference.predict_fn(inference.input_fn(body.encode(), "text/csv"), model)) == 5


def test_text_where_a_number_is_expected_is_refused_missing_values_are_not(prepared: dict[str, Path],
                                                                           tmp_path: Path) -> None:
    """The endpoint answers 400 with this message instead of predicting from a silently missing value."""
    output = prepared["binary_classification"]
    schema = feature_schema.load_schema(output / "train")
    train_df = pd.read_parquet(output / "train" / "train.parquet")
    params = train.training_params(dict(TEST_PARAMS), schema["problem_type"])
    booster = train.train(train_df, train_df, params, 5, tmp_path / "checkpoints", 5, schema=schema)
    train.save_model(booster, tmp_path / "model", output / "train")
    model = inference.model_fn(str(tmp_path / "model"))
    raw = pd.read_csv(output / "baseline" / "baseline.csv").iloc[:3]
    numeric = next(name for name, kind in schema["feature_kinds"].items() if kind == "numeric")
    position = schema["feature_names"].index(numeric)
    rows = raw.to_csv(header=False, index=False).splitlines()
    cells = rows[1].split(",")
    for value, fine in (("abc", False), ("", True), ("1e3", True)):
        body = "\n".join([rows[0], ",".join([*cells[:position], value, *cells[position + 1:]])])
        if fine:
            assert len(inference.predict_fn(inference.input_fn(body, "text/csv"), model)) == 2
        else:
            with pytest.raises(ValueError, match=f"feature '{numeric}' expects a number, got 'abc' \\(row 2\\)"):
                inference.predict_fn(inference.input_fn(body, "text/csv"), model)
