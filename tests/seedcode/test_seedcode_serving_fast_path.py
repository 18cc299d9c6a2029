"""seedcode/inference.py's fast path (row_encoding.RowEncoder) answers exactly as its pandas path: the same
response bytes for real rows of every problem type, and the same error for bad input."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import feature_schema
import inference
import numpy as np
import pandas as pd
import pytest
import train
from seedcode_harness import TEST_PARAMS, preprocess_in_process

from pipelines.sample_data import make_churn_dataset

ROWS = 1200
ROUNDS = 8


def _with_boolean_and_datetime(frame: pd.DataFrame, seed: int) -> pd.DataFrame:
    """Every feature kind: a true/false and a timestamp column (missing values included) besides numbers and text."""
    rng = np.random.default_rng(seed)
    vip = pd.Series(rng.random(len(frame)) < 0.3, dtype="boolean")
    vip[rng.random(len(frame)) < 0.05] = pd.NA
    signup = pd.Series(pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 400 * 86400, len(frame)), "s"))
    signup[rng.random(len(frame)) < 0.05] = pd.NaT
    return frame.assign(is_vip=vip, signup=signup)


def _serving(root: Path, problem_type: str, seed: int) -> dict[str, Any]:
    frame = make_churn_dataset(ROWS, seed=seed, problem_type=problem_type)
    if problem_type == "multiclass_classification":
        frame = _with_boolean_and_datetime(frame, seed)
    output = preprocess_in_process(root, frame, problem_type)
    schema = feature_schema.load_schema(output / "train")
    frames = [pd.read_parquet(output / name / f"{name}.parquet") for name in ("train", "validation")]
    classes = len(schema["label_mapping"]) if problem_type == "multiclass_classification" else None
    params = train.training_params(dict(TEST_PARAMS), problem_type, classes)
    booster = train.train(*frames, params, ROUNDS, root / "checkpoints", ROUNDS, schema=schema)
    train.save_model(booster, root / "model", output / "train")
    model = inference.model_fn(str(root / "model"))
    model["booster"].set_param({"nthread": 1})  # as the local server runs it (OMP_NUM_THREADS=1): no thread spin-up
    raw = (output / "baseline" / "baseline.csv").read_text().splitlines()  # raw training rows, with the header
    return {"fast": model, "pandas": {**model, "encoder": None}, "header": raw[0], "rows": raw[1:101],
            "schema": schema}


PROBLEM_TYPES = ("binary_classification", "multiclass_classification", "regression")


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    """A small model of each problem type; the multiclass one has a feature of every kind."""
    return {problem_type: _serving(tmp_path_factory.mktemp(problem_type), problem_type, seed)
            for seed, problem_type in enumerate(PROBLEM_TYPES, start=21)}


@pytest.fixture(params=PROBLEM_TYPES)
def served(request: pytest.FixtureRequest, models: dict[str, dict[str, Any]]) -> dict[str, Any]:
    return models[request.param]


def answer(model: dict[str, Any], body: str, content_type: str, accept: str) -> str | tuple[str, str]:
    """The response body, or the error the server turns into a 4xx (its type and message)."""
    try:
        return inference.output_fn(inference.predict_fn(inference.input_fn(body.encode(), content_type), model),
                                   accept)
    except Exception as exc:  # noqa: BLE001 - the error itself is what is compared
        return type(exc).__name__, str(exc)


def same_answer(served: dict[str, Any], body: str, content_type: str = "text/csv",
                accepts: tuple[str, ...] = ("text/csv", "application/json")) -> str | tuple[str, str]:
    for accept in accepts:
        fast = answer(served["fast"], body, content_type, accept)
        assert fast == answer(served["pandas"], body, content_type, accept), body
    return fast


def test_real_rows_get_the_pandas_paths_answer_byte_for_byte(served):
    rows, header = served["rows"], served["header"]
    bodies = [*rows[:10], "\n".join(rows), "\n".join([header, *rows[:10]])]
    records = json.loads(pd.read_csv(pd.io.common.StringIO("\n".join([header, *rows])), dtype=object)
                         .to_json(orient="records"))
    for body in bodies:
        assert inference.fast_matrix(inference.input_fn(body, "text/csv"), served["fast"]) is not None
        assert not isinstance(same_answer(served, body), tuple)
    for payload in (records[0], records[:1], {"instances": records}):
        body = json.dumps(payload)
        assert inference.fast_matrix(inference.input_fn(body, "application/json"), served["fast"]) is not None
        assert not isinstance(same_answer(served, body, "application/json"), tuple)


def test_bad_input_gets_the_same_error(served):
    header, row = served["header"], served["rows"][0]
    cells = row.split(",")
    numeric = next(i for i, name in enumerate(served["schema"]["feature_names"])
                   if served["schema"]["feature_kinds"][name] == "numeric")
    record = json.loads(pd.read_csv(pd.io.common.StringIO(f"{header}\n{row}"), dtype=object).to_json(orient="records"))
    name = served["schema"]["feature_names"][numeric]
    csv_bodies = ["1,2", f"{row},1", ",".join([*cells[:numeric], "abc", *cells[numeric + 1:]]), header,
                  f'{row}\n"unclosed,{row}']
    json_bodies = ["[]", "5", '"text"', json.dumps([{**record[0], name: "abc"}]), json.dumps([{"a": 1}]),
                   json.dumps([{**record[0], name: [1]}]), "{not json"]
    for body in csv_bodies:
        assert isinstance(same_answer(served, body), tuple), body
    for body in json_bodies:
        assert isinstance(same_answer(served, body, "application/json"), tuple), body
    for body in (f"{row}\n1,2", f"{row}\n{row}\x00"):  # pandas pads a short row, ends a value at a NUL
        assert not isinstance(same_answer(served, body), tuple), body


ODD_CELLS = ["", " ", "?", "NA", "n/a", "null", "None", "-", "1e3", "-2.5E-3", "0.10000000149011612",
             "123456789012345678", "+7", ".5", "5.", "inf", "1_000", "true", "FALSE", "yes", "0.0", '"x"', '"a,b"',
             '""', '"NA"', " y", "y ", "2024-02-29 13:00:00", "2024-02-29T13:00:00Z", "02/29/2024", "é"]
ODD_VALUES = [None, 1, 2.5, 0, -0.0, True, False, 2**60, "1.5", "x", "NA", "?", "", "2024-02-29", [1], {"a": 1}]


def test_odd_values_get_the_same_answer_or_the_same_error(models):
    """Seeded random requests mixing real values with edge cases: placeholders, exponents, long numbers, quoting,
    booleans and dates in other spellings, unseen categories, wrong JSON types (on the model with every feature
    kind: the encoding does not depend on the problem type)."""
    served = models["multiclass_classification"]
    assert set(served["schema"]["feature_kinds"].values()) == set(feature_schema.KINDS)
    rng = random.Random(7)
    names = served["schema"]["feature_names"]
    real = [row.split(",") for row in served["rows"]]
    for _ in range(30):
        lines = [",".join(rng.choice(ODD_CELLS) if rng.random() < 0.2 else cell for cell in rng.choice(real))
                 for _ in range(rng.randint(1, 3))]
        same_answer(served, "\n".join(lines), accepts=("text/csv",))
        records = [{name: rng.choice(ODD_VALUES) if rng.random() < 0.2 else _value(cell)
                    for name, cell in zip(names, rng.choice(real), strict=True)} for _ in range(rng.randint(1, 3))]
        same_answer(served, json.dumps(records), "application/json", accepts=("application/json",))


def _value(cell: str) -> Any:
    """A CSV cell as a client would send it in JSON: numbers as numbers, quoted text as text, empty as null."""
    if cell == "":
        return None
    try:
        return json.loads(cell)
    except ValueError:
        return cell
