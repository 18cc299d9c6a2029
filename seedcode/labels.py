"""The target column as model labels: one rule, written by preprocess into features.json and read
back by evaluation and serving.

binary_classification: exactly two values; the positive class becomes label 1. It is the
  ``--positive-class`` value (``positive_class`` in ``[tool.ml-factory]``) when given, else the
  obvious one of 0/1, false/true, no/yes, n/y, f/t (compared case-insensitively). Any other pair,
  such as fraud/legit, must be named: alphabetical order would silently pick legit.
multiclass_classification: 3 to MAX_CLASSES values, mapped in sorted order (numbers numerically,
  text case-insensitively) to 0..K-1, so the same data always gives the same mapping.
regression: the target as float64.

features.json keeps ``label_mapping`` ({label: index}, null for regression) and ``positive_class``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from step_report import DataError

MAX_CLASSES = 100  # xgboost grows one tree per class and round: more classes is usually an id column
BOOLEAN_PAIRS = (("0", "1"), ("false", "true"), ("no", "yes"), ("n", "y"), ("f", "t"))  # (negative, positive)
SHOWN = 5


@dataclass(frozen=True)
class Target:
    """The encoded target: one label per row, and for classification the label -> index mapping."""

    values: np.ndarray  # int64 class indices, or float64 for regression
    mapping: dict[str, int] | None = None
    positive_class: str | None = None  # binary only: the label mapped to 1

    def describe(self, name: str) -> str:
        """One log line on the target."""
        if self.mapping is None:
            return describe_numbers(name, float(self.values.mean()), float(self.values.std()))
        return describe_labels(name, self, np.bincount(self.values, minlength=len(self.mapping)))


def describe_numbers(name: str, mean: float, std: float) -> str:
    """One log line on a regression target."""
    return f"target '{name}': mean {mean:.4f}, std {std:.4f}"


def describe_labels(name: str, target: Target, counts: np.ndarray) -> str:
    """One log line on a classification target, with ``counts`` rows per class index."""
    assert target.mapping is not None
    shown = ", ".join(f"{label}={index} ({counts[index]} rows)" for label, index in target.mapping.items())
    positive = f"; positive class {target.positive_class}" if target.positive_class is not None else ""
    return f"target '{name}': labels {shown}{positive}"


def display(value: Any) -> str:
    """A target value as text: 1.0 -> '1', True -> 'True', 'yes' -> 'yes'."""
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    return str(value)


def label_order(value: Any) -> tuple[int, float, str, str]:
    """Sort key: numbers (and booleans) numerically, then text case-insensitively."""
    if isinstance(value, (bool, np.bool_, int, float, np.integer, np.floating)):
        return (0, float(value), "", "")
    text = str(value)
    return (1, 0.0, text.strip().lower(), text)


def _shown(values: list[Any]) -> str:
    more = ", ..." if len(values) > SHOWN else ""
    return ", ".join(display(v) for v in values[:SHOWN]) + more


def distinct_labels(target: pd.Series) -> list[Any]:
    """The distinct target values in label order; two values that read the same ('1' and 1.0) are refused."""
    values = sorted(pd.unique(target), key=label_order)
    texts = [display(v) for v in values]
    if len(set(texts)) != len(texts):
        twice = sorted({t for t in texts if texts.count(t) > 1})
        raise DataError(f"target column '{target.name}' holds values that read the same ({', '.join(twice)}) but "
                        "differ in type; make the column one type (all numbers or all text)")
    return values


def _chosen_positive(values: list[Any], positive_class: str, name: str) -> Any:
    """The value the user named: an exact match, else the one case-insensitive match."""
    exact = [v for v in values if display(v) == positive_class]
    loose = [v for v in values if display(v).strip().lower() == positive_class.strip().lower()]
    if exact or len(loose) == 1:
        return (exact or loose)[0]
    first, second = (display(v) for v in values)
    raise DataError(f"positive_class '{positive_class}' is not a label of target column '{name}', whose labels are "
                    f"'{first}' and '{second}'; set positive_class to one of them")


def _default_positive(values: list[Any], name: str) -> Any:
    """The positive class of a boolean-like pair (1 of 0/1, yes of no/yes, ...); else the user must say."""
    words = {display(v).strip().lower(): v for v in values}
    for negative, positive in BOOLEAN_PAIRS:
        if set(words) == {negative, positive}:
            return words[positive]
    first, second = (display(v) for v in values)
    raise DataError(
        f"target column '{name}' has two labels, '{first}' and '{second}', and neither reads as the positive one "
        f"(like 1 of 0/1 or yes of no/yes); set positive_class = \"{first}\" or \"{second}\" under [tool.ml-factory] "
        "in pyproject.toml (step argument --positive-class) to name the class the model should detect"
    )


def binary_target(target: pd.Series, positive_class: str | None = None) -> Target:
    """0/1 labels from a two-valued column; the positive class becomes 1."""
    name = str(target.name)
    values = distinct_labels(target)
    if len(values) != 2:
        hint = ('use problem_type = "multiclass_classification" for more than two classes, or "regression" for '
                "a number" if len(values) > 2 else "a classifier needs rows of both classes")
        raise DataError(f"binary_classification needs exactly 2 distinct values in target column '{name}', "
                        f"found {len(values)} ({_shown(values)}); {hint}")
    positive = (_chosen_positive(values, positive_class, name) if positive_class is not None
                else _default_positive(values, name))
    negative = next(value for value in values if display(value) != display(positive))
    return Target((target == positive).to_numpy(dtype="int64"), {display(negative): 0, display(positive): 1},
                  display(positive))


def multiclass_target(target: pd.Series) -> Target:
    """Class indices 0..K-1 in label order, for 3 <= K <= MAX_CLASSES."""
    name = str(target.name)
    values = distinct_labels(target)
    if len(values) < 3:
        raise DataError(f"multiclass_classification needs at least 3 distinct values in target column '{name}', "
                        f"found {len(values)} ({_shown(values)}); use problem_type = \"binary_classification\" "
                        "for two classes")
    if len(values) > MAX_CLASSES:
        raise DataError(f"target column '{name}' has {len(values)} distinct values ({_shown(values)}), more than the "
                        f"{MAX_CLASSES} classes multiclass_classification supports; a column with that many values is "
                        "usually an id or a number: group the classes or use problem_type = \"regression\"")
    mapping = {display(value): index for index, value in enumerate(values)}
    codes = target.map(lambda value: mapping[display(value)]).to_numpy(dtype="int64")
    return Target(codes, mapping)


def regression_target(target: pd.Series) -> Target:
    """The target as float64; non-numeric or infinite values are a DataError."""
    name = str(target.name)
    if pd.api.types.is_bool_dtype(target.dtype):
        raise DataError(f"regression target column '{name}' is true/false; use problem_type = "
                        "\"binary_classification\"")
    if pd.api.types.is_numeric_dtype(target.dtype):
        values = target.to_numpy(dtype="float64", na_value=np.nan)
    else:
        values = pd.to_numeric(target, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
        bad = target[np.isnan(values)]
        if len(bad):
            examples = ", ".join(repr(str(v)) for v in pd.unique(bad)[:3])
            raise DataError(f"regression target column '{name}' is not numeric (values such as {examples}); "
                            "clean the column or use a classification problem_type")
    if not np.isfinite(values).all():
        raise DataError(f"regression target column '{name}' contains infinite values; replace or drop those rows")
    return Target(values)


def encode_target(target: pd.Series, problem_type: str, positive_class: str | None = None) -> Target:
    """The target column (no missing values) as the labels the model trains on."""
    if positive_class is not None and problem_type != "binary_classification":
        raise DataError(f"positive_class applies to binary_classification only, not {problem_type}; remove it")
    if problem_type == "binary_classification":
        return binary_target(target, positive_class)
    if problem_type == "multiclass_classification":
        return multiclass_target(target)
    return regression_target(target)


def check_training_split(target: Target, train_rows: np.ndarray, name: str) -> None:
    """Every class must appear in the training split, or the model can never predict it."""
    if target.mapping is not None:
        check_classes_present(target, set(np.unique(target.values[train_rows]).tolist()), name)


def check_classes_present(target: Target, present: set[int], name: str) -> None:
    """``present``: the class indices the training split holds; a class it lacks is a DataError."""
    assert target.mapping is not None
    absent = [label for label, index in target.mapping.items() if index not in present]
    if absent:
        raise DataError(f"the training split holds no rows of class(es) {', '.join(absent)} of '{name}'; provide "
                        "more rows of the rarer classes")


def label_codes(target: pd.Series, mapping: dict[str, int] | None) -> np.ndarray:
    """A part of the target column (no missing values) as labels, by the mapping found over the whole
    column (``encode_target`` on its distinct values); regression: its float64 values."""
    if mapping is None:
        return regression_target(target).values
    codes, uniques = pd.factorize(target)
    return np.array([mapping[display(value)] for value in uniques], dtype=np.int64)[codes]


def class_names(schema: dict[str, Any]) -> list[str]:
    """The labels of a classifier's features.json in index order (index i -> class_names[i])."""
    mapping = schema.get("label_mapping") or {}
    return [label for label, _ in sorted(mapping.items(), key=lambda item: item[1])]
