"""seedcode/labels.py: which label becomes class 1, the multiclass mapping, and one-line refusals."""

from __future__ import annotations

import json
from pathlib import Path

import labels
import numpy as np
import pandas as pd
import preprocess
import pytest
from seedcode_harness import write_input
from step_report import DataError


def _column(values: list, name: str = "y") -> pd.Series:
    return pd.Series(values, name=name)


@pytest.mark.parametrize(("values", "positive"), [
    ([0, 1, 1, 0], "1"),
    ([1.0, 0.0, 1.0], "1"),
    (["1", "0", "0"], "1"),
    ([True, False, False], "True"),
    (["No", "Yes", "No"], "Yes"),
    (["true", "false"], "true"),
    (["n", "y", "y"], "y"),
])
def test_boolean_like_pairs_default_to_the_obvious_positive_class(values: list, positive: str) -> None:
    target = labels.binary_target(_column(values))

    assert target.positive_class == positive and target.mapping[positive] == 1
    assert target.values.tolist() == [int(labels.display(v) == positive) for v in values]


def test_named_positive_class_becomes_one_whatever_the_alphabet_says() -> None:
    target = labels.binary_target(_column(["legit", "fraud", "legit", "legit"]), positive_class="fraud")

    assert target.mapping == {"legit": 0, "fraud": 1} and target.positive_class == "fraud"
    assert target.values.tolist() == [0, 1, 0, 0]


def test_positive_class_overrides_the_default_and_matches_case_insensitively() -> None:
    zero = labels.binary_target(_column([0, 1, 1]), positive_class="0")
    assert zero.mapping == {"1": 0, "0": 1} and zero.values.tolist() == [1, 0, 0]
    assert labels.binary_target(_column(["Fraud", "Legit"]), positive_class="fraud").positive_class == "Fraud"


def test_two_text_labels_without_positive_class_name_both_and_the_setting() -> None:
    with pytest.raises(DataError) as error:
        labels.binary_target(_column(["legit", "fraud", "legit"], name="is_fraud"))

    message = str(error.value)
    assert "'fraud' and 'legit'" in message and "'is_fraud'" in message
    assert 'positive_class = "fraud" or "legit"' in message


def test_a_positive_class_that_is_not_a_label_lists_the_labels() -> None:
    with pytest.raises(DataError, match="positive_class 'fruad' is not a label of target column 'y', whose labels "
                                        "are 'fraud' and 'legit'"):
        labels.binary_target(_column(["legit", "fraud"]), positive_class="fruad")


def test_multiclass_mapping_is_sorted_and_does_not_depend_on_row_order() -> None:
    rows = ["grignolino", "barolo", "barbera", "barolo"]
    forward = labels.multiclass_target(_column(rows))
    backward = labels.multiclass_target(_column(rows[::-1]))

    assert forward.mapping == backward.mapping == {"barbera": 0, "barolo": 1, "grignolino": 2}
    assert forward.values.tolist() == [2, 1, 0, 1]
    assert labels.multiclass_target(_column([10, 2, 1])).mapping == {"1": 0, "2": 1, "10": 2}  # numerically
    assert labels.class_names({"label_mapping": forward.mapping}) == ["barbera", "barolo", "grignolino"]


@pytest.mark.parametrize(("values", "problem_type", "expected"), [
    (["a", "b", "a"], "multiclass_classification",
     "needs at least 3 distinct values in target column 'y', found 2 (a, b); use problem_type = "
     "\"binary_classification\""),
    ([f"id-{i}" for i in range(101)], "multiclass_classification", "101 distinct values (id-0, id-1, id-10, id-100, "
                                                                    "id-11, ...), more than the 100 classes"),
    (["a", "b", "c"], "binary_classification", "found 3 (a, b, c); use problem_type = \"multiclass_classification\""),
    (["a", "a"], "binary_classification", "found 1 (a); a classifier needs rows of both classes"),
    ([1, "1"], "multiclass_classification", "values that read the same (1) but differ in type"),
])
def test_unusable_targets_are_refused_with_the_fix(values: list, problem_type: str, expected: str) -> None:
    with pytest.raises(DataError) as error:
        labels.encode_target(_column(values), problem_type)
    assert expected in str(error.value)


def test_positive_class_is_refused_outside_binary_classification() -> None:
    with pytest.raises(DataError, match="positive_class applies to binary_classification only"):
        labels.encode_target(_column(["a", "b", "c"]), "multiclass_classification", "a")


def test_every_class_must_reach_the_training_split() -> None:
    target = labels.multiclass_target(_column(["a", "b", "c", "a", "b"]))
    labels.check_training_split(target, np.array([0, 1, 2]), "y")
    with pytest.raises(DataError, match="no rows of class\\(es\\) c of 'y'"):
        labels.check_training_split(target, np.array([0, 1, 3]), "y")


def test_preprocess_writes_the_mapping_and_positive_class_to_features_json(sm_root: Path) -> None:
    rng = np.random.default_rng(0)
    is_fraud = np.where(rng.random(300) < 0.2, "fraud", "legit")
    frame = pd.DataFrame({"amount": rng.normal(size=300), "is_fraud": is_fraud})
    write_input(sm_root, frame)

    code = preprocess.main(["--target-column", "is_fraud", "--problem-type", "binary_classification",
                            "--positive-class", "fraud"])

    assert code == 0
    output = sm_root / "processing" / "output"
    schema = json.loads((output / "train" / "features.json").read_text())
    assert schema["label_mapping"] == {"legit": 0, "fraud": 1} and schema["positive_class"] == "fraud"
    train = pd.read_parquet(output / "train" / "train.parquet")
    assert train["is_fraud"].dtype == np.int64 and 0.1 < train["is_fraud"].mean() < 0.3  # fraud is the rare 1


def test_preprocess_without_positive_class_fails_with_one_line(sm_root: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    frame = pd.DataFrame({"amount": np.arange(100.0), "is_fraud": ["fraud", "legit"] * 50})
    write_input(sm_root, frame)

    code = preprocess.main(["--target-column", "is_fraud", "--problem-type", "binary_classification"])

    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "'fraud' and 'legit'" in err and "Traceback" not in err
    assert not (sm_root / "processing" / "output" / "train").exists()  # nothing half-written
