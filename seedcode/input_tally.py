"""Preprocess's first pass: what needs every row, gathered a chunk at a time in state bounded by the
columns' cardinality, not the row count.

Per feature: how its chunks read (feature_schema.column_kind, merged: a CSV column may be numbers in one
block and text with placeholders in the next), its missing values and, for text, each distinct value
with the largest split hash of its rows (row_split): once the split's thresholds are known, a value
belongs to the training vocabulary when that hash falls in the training range, with no row kept. Per
target: the missing values, and each distinct label with its row count and largest split hash (or the
mean and spread of a regression target). Errors found in a chunk wait until the pass ends, so the step
reports them in the order a whole-table read would.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

import feature_schema
import labels
import row_split
from step_report import DataError

_GATHERED = ("text", "categorical", "boolean")


def _max_hash_by_value(values: pd.Series, hashes: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Distinct non-missing values, their row counts and the largest hash of their rows."""
    codes, uniques = pd.factorize(values)
    present = codes >= 0
    largest = np.zeros(len(uniques), dtype=np.uint64)
    np.maximum.at(largest, codes[present], hashes[present])
    return np.asarray(uniques, dtype=object), np.bincount(codes[present], minlength=len(uniques)), largest


@dataclass
class ColumnTally:
    """One feature over the chunks seen so far."""

    name: str
    declared: bool = False
    kinds: set[str] = field(default_factory=set)
    reading: feature_schema.NumericText | None = None
    numbers: int = 0  # values of chunks with a numeric type
    nulls: int = 0
    error: DataError | None = None
    values: dict[str, int] | None = field(default_factory=dict)  # text -> largest split hash; None: not gathered

    def add(self, series: pd.Series, hashes: np.ndarray) -> None:
        nulls = int(series.isna().sum())
        self.nulls += nulls
        try:
            kind = "categorical" if self.declared else feature_schema.column_kind(series)
        except DataError as err:
            self.error = self.error or err
            return
        self.kinds.add(kind)
        if kind == "numeric":
            self.numbers += len(series) - nulls
        elif kind == "text":
            reading = feature_schema.NumericText.of(series)
            self.reading = reading if self.reading is None else self.reading.merged(reading)
        if kind in _GATHERED and self.values is not None and not self._numbers_so_far():
            self._gather(series, hashes)
        elif kind != "empty":
            self.values = None  # a numeric column's values are as many as its rows: gathered again if needed

    def _numbers_so_far(self) -> bool:
        return not self.declared and self.reading is not None and self.reading.mostly_numeric

    def _gather(self, series: pd.Series, hashes: np.ndarray) -> None:
        assert self.values is not None
        uniques, _, largest = _max_hash_by_value(feature_schema.as_text(series), hashes)
        for value, top in zip(uniques.tolist(), largest.tolist(), strict=True):
            key = str(value)
            if top > self.values.get(key, -1):
                self.values[key] = top

    def kind(self) -> str:
        """The column's kind over every chunk; a DataError for one the model cannot use."""
        if self.declared:
            return "categorical"
        if self.error is not None:
            raise self.error
        kinds = self.kinds - {"empty"}
        if not kinds:
            return "numeric"
        if len(kinds) == 1 and "text" not in kinds:
            return next(iter(kinds))
        if kinds <= {"text", "numeric"}:
            assert self.reading is not None
            reading = self.reading.merged(feature_schema.NumericText(self.numbers, {}, 0, ()))
            return feature_schema.text_kind(self.name, reading)
        return "categorical"  # chunks of different types: read as text, as one table would be

    def vocabulary(self, plan: row_split.SplitPlan) -> list[str] | None:
        """The sorted values of training rows, or None when they were not gathered."""
        if self.values is None:
            return None
        return sorted(value for value, top in self.values.items() if plan.is_training(np.uint64(top)))


@dataclass
class TargetTally:
    """The target column over the chunks seen so far."""

    name: str
    problem_type: str
    missing: int = 0
    labels: dict[Any, list[int]] = field(default_factory=dict)  # label -> [rows, largest split hash]
    moments: list[float] = field(default_factory=lambda: [0, 0.0, 0.0])  # regression: rows, mean, M2
    error: DataError | None = None

    def add(self, target: pd.Series, hashes: np.ndarray) -> None:
        if self.problem_type == "regression":
            try:
                self._add_numbers(labels.regression_target(target).values)
            except DataError as err:
                self.error = self.error or err
            return
        uniques, counts, largest = _max_hash_by_value(target, hashes)
        for value, count, top in zip(uniques.tolist(), counts.tolist(), largest.tolist(), strict=True):
            entry = self.labels.setdefault(value, [0, 0])
            entry[0] += count
            entry[1] = max(entry[1], top)

    def _add_numbers(self, values: np.ndarray) -> None:
        """Chan et al.'s merge of (rows, mean, sum of squared deviations)."""
        if not len(values):
            return
        rows, mean, m2 = self.moments
        count, chunk_mean = len(values), float(values.mean())
        delta = chunk_mean - mean
        total = rows + count
        self.moments = [total, mean + delta * count / total,
                        m2 + float(((values - chunk_mean) ** 2).sum()) + delta**2 * rows * count / total]

    def target(self, positive_class: str | None) -> labels.Target:
        """The label mapping, found by labels.encode_target over the distinct labels (its checks and errors)."""
        if self.error is not None:
            raise self.error
        if self.problem_type == "regression":
            return labels.encode_target(pd.Series([], dtype="float64", name=self.name), self.problem_type,
                                        positive_class)
        distinct = pd.Series(list(self.labels), name=self.name)
        return labels.encode_target(distinct, self.problem_type, positive_class)

    def describe(self, target: labels.Target) -> str:
        if target.mapping is None:
            rows, mean, m2 = self.moments
            return labels.describe_numbers(self.name, mean, (m2 / rows) ** 0.5 if rows else 0.0)
        counts = np.zeros(len(target.mapping), dtype=np.int64)
        for value, (rows, _) in self.labels.items():
            counts[target.mapping[labels.display(value)]] += rows
        return labels.describe_labels(self.name, target, counts)

    def training_classes(self, target: labels.Target, plan: row_split.SplitPlan) -> set[int]:
        assert target.mapping is not None
        return {target.mapping[labels.display(value)] for value, (_, top) in self.labels.items()
                if plan.is_training(np.uint64(top))}


@dataclass
class InputTally:
    """Pass 1 over the whole input: row counts, the target and every feature."""

    target: TargetTally
    features: dict[str, ColumnTally]
    seed: int
    count_target: bool = True  # False: a later pass over some features only
    rows: int = 0
    labelled: int = 0

    def add(self, chunk: pd.DataFrame) -> None:
        self.rows += len(chunk)
        missing = chunk[self.target.name].isna().to_numpy()
        labelled = chunk.loc[~missing] if missing.any() else chunk
        hashes = row_split.row_hashes(self.labelled, self.labelled + len(labelled), self.seed, row_split.SPLIT_STREAM)
        self.labelled += len(labelled)
        if self.count_target:
            self.target.missing += int(missing.sum())
            self.target.add(labelled[self.target.name], hashes)
        for name, tally in self.features.items():
            tally.add(labelled[name], hashes)
