"""seedcode/preprocess.py reads its input a chunk at a time: small chunks give the same step output as one.

Real data (scikit-learn's breast cancer table, 569 rows) as a team exports it: three files (CSV, gzipped
CSV, Parquet) in partition folders, a numeric column written as text with placeholders, a text column
whose first rows are numbers, a few rows without a label. With 37-row chunks, a CSV block of that text
column holds numbers only, so the chunks disagree on its type, as they do at scale.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from seedcode_harness import input_dir, run_preprocess
from test_seedcode_preprocess_data import ARGS, cancer, with_placeholders

SPLITS = ("train", "validation", "test")


def team_export(root: Path) -> None:
    frame = with_placeholders(cancer(), "mean radius")
    frame["ward"] = np.where(np.arange(len(frame)) < 100, "12", np.where(np.arange(len(frame)) % 3, "east", "west"))
    frame.loc[[5, 300, 450], "diagnosis"] = None
    folder = input_dir(root)
    for part in ("year=2023", "year=2024"):
        (folder / part).mkdir(parents=True)
    frame.iloc[:200].to_csv(folder / "year=2023" / "a.csv", index=False)
    frame.iloc[200:400].to_csv(folder / "year=2023" / "b.csv.gz", index=False)
    frame.iloc[400:].to_parquet(folder / "year=2024" / "c.parquet", index=False)


@pytest.fixture(scope="module")
def outputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    runs = {}
    for name, chunk_rows in (("whole", "100000"), ("chunked", "37")):
        root = tmp_path_factory.mktemp(name) / "opt_ml"
        team_export(root)
        runs[name] = run_preprocess(root, [*ARGS, "--chunk-rows", chunk_rows])
    return runs


def test_small_chunks_give_the_same_schema_as_one_chunk(outputs: dict[str, Path]) -> None:
    whole, chunked = (json.loads((outputs[n] / "train" / "features.json").read_text()) for n in ("whole", "chunked"))

    assert chunked == whole  # kinds, vocabularies, label mapping, row counts, placeholders
    assert whole["feature_kinds"]["mean radius"] == "numeric" and whole["feature_kinds"]["ward"] == "categorical"
    assert whole["categorical_vocabularies"]["ward"] == ["12", "east", "west"]
    assert whole["label_mapping"] == {"benign": 0, "malignant": 1}
    assert whole["missing_placeholders"] == {"mean radius": 59}  # 60 written, one in an unlabelled row


def test_small_chunks_write_the_same_rows_to_each_split(outputs: dict[str, Path]) -> None:
    for name in SPLITS:
        pd.testing.assert_frame_equal(*(pd.read_parquet(outputs[n] / name / f"{name}.parquet")
                                        for n in ("whole", "chunked")))
    for path in ("baseline/baseline.csv", "test/raw/test_raw.csv"):
        pd.testing.assert_frame_equal(*(pd.read_csv(outputs[n] / path) for n in ("whole", "chunked")))


def test_split_sizes_follow_the_fractions_exactly(outputs: dict[str, Path]) -> None:
    counts = json.loads((outputs["chunked"] / "train" / "features.json").read_text())["row_counts"]
    labelled = 569 - 3
    assert counts == {"input": 569, "dropped_missing_target": 3, "train": labelled - 2 * round(labelled * 0.15),
                      "validation": round(labelled * 0.15), "test": round(labelled * 0.15)}
    for name in SPLITS:
        assert len(pd.read_parquet(outputs["chunked"] / name / f"{name}.parquet")) == counts[name]
    raw_test = pd.read_csv(outputs["chunked"] / "test" / "raw" / "test_raw.csv")
    assert len(raw_test) == counts["test"] and "diagnosis" not in raw_test.columns
