"""The endpoint's fast path: raw request rows -> the float32 matrix the model sees, without pandas.

`feature_schema.encode_features` is the reference encoding (pandas, a column at a time), and the
endpoint's pandas path parses a request with `pd.read_csv` / `pd.DataFrame` before it. For a 1-row
request that costs milliseconds. `RowEncoder` gives the same matrix in microseconds: the CSV
module or the parsed JSON, then one lookup per value in tables built once per model from
features.json (column order, categorical codes, boolean words, what reads as missing).

It only serves what it reads exactly as the pandas path does, and raises `NotPlain` for anything
else (a malformed row, text in a number column, nested JSON, ...): the caller then takes the
pandas path, which serves the request or words its error, so responses never differ. Two kinds of
column go through the reference code itself, on the request's values of that column only:
datetimes (pandas infers their format from the whole column) and CSV numbers that are not plain
(exponents, more than 15 characters, placeholders such as `?`), whose double pandas may round
differently from Python's float(); plain numbers of up to 15 characters parse identically
(tests/seedcode/test_seedcode_serving_fast_path.py holds both paths together).
"""

from __future__ import annotations

import csv
import math
import re
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from pandas._libs.parsers import STR_NA_VALUES  # what pd.read_csv reads as missing by default

import feature_schema

NAN = float("nan")
CSV_MISSING = frozenset(STR_NA_VALUES)
PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)").fullmatch
PLAIN_CHARS = 15  # up to 15 digits: one correctly rounded division, in pandas' parser and in float() alike
EXACT_INT = 2**53  # JSON integers beyond this lose digits on pandas' way to float64


class NotPlain(Exception):
    """The request needs the pandas path: to read a value exactly as it does, or to word the error."""


class ThroughPandas(Exception):
    """A column whose values are valid but read only the reference's way (its format, or its rounding)."""


def _plain_numbers(cells: Sequence[str]) -> list[float] | None:
    """A column of plain numbers and empty cells only (the usual request), checked and parsed a column at a time."""
    present = [cell for cell in cells if cell] if "" in cells else cells
    if present and (max(map(len, present)) > PLAIN_CHARS or not all(map(PLAIN_NUMBER, present))):
        return None
    return list(map(float, cells)) if present is cells else [float(cell) if cell else NAN for cell in cells]


def _csv_number(cell: str) -> float:
    if len(cell) <= PLAIN_CHARS and PLAIN_NUMBER(cell):
        return float(cell)
    if cell in CSV_MISSING:
        return NAN
    raise ThroughPandas


def _json_number(value: Any) -> float:
    kind = type(value)
    if kind is float:
        return value
    if kind is int and -EXACT_INT < value < EXACT_INT:
        return float(value)
    if value is None:
        return NAN
    if kind is str and len(value) <= PLAIN_CHARS and PLAIN_NUMBER(value):
        return float(value)
    raise NotPlain


def _odd_line(line: str) -> bool:
    """Where pandas' tokenizer and the csv module part ways: an unclosed quote (pandas refuses it) or a NUL
    (pandas ends the value there). A byte-order mark, which pandas drops, is checked on the first line."""
    return line.count('"') % 2 == 1 or "\x00" in line


class ColumnRule:
    """How one feature's raw values become floats. This base reads the whole column through the reference
    (datetimes: pandas infers their format from the column); the subclasses read value by value."""

    def __init__(self, name: str, kind: str) -> None:
        self.name = name
        self.kind = kind

    def csv_column(self, cells: Sequence[str]) -> Sequence[float] | np.ndarray:
        # exactly the column pd.read_csv(dtype=object) gives the pandas path
        return self.through_pandas(pd.Series([NAN if cell in CSV_MISSING else cell for cell in cells],
                                             dtype=object, name=self.name))

    def json_column(self, values: Sequence[Any]) -> Sequence[float] | np.ndarray:
        if any(value is not None and type(value) is not str for value in values):
            raise NotPlain
        return self.through_pandas(pd.Series(values, name=self.name))

    def through_pandas(self, series: pd.Series) -> np.ndarray:
        """The reference's own check and encoding, on this column only; its errors are the pandas path's to word."""
        try:
            if self.kind == "numeric":
                feature_schema.check_numbers(series)
            return feature_schema.numeric_values(series, self.kind)
        except (ValueError, TypeError, OverflowError):
            raise NotPlain from None


class NumericRule(ColumnRule):
    def csv_column(self, cells: Sequence[str]) -> Sequence[float] | np.ndarray:
        numbers = _plain_numbers(cells)
        if numbers is not None:
            return numbers
        try:
            return [_csv_number(cell) for cell in cells]
        except ThroughPandas:
            return super().csv_column(cells)  # placeholders, exponents, long numbers, or an error to word

    def json_column(self, values: Sequence[Any]) -> Sequence[float] | np.ndarray:
        return [_json_number(value) for value in values]


class CategoricalRule(ColumnRule):
    """The index in the training vocabulary; an unseen value is UNKNOWN_CATEGORY, a missing one NaN."""

    def __init__(self, name: str, vocabulary: list[str]) -> None:
        super().__init__(name, "categorical")
        self.codes = {word: float(code) for code, word in enumerate(vocabulary)}
        self.csv_codes = self.codes | dict.fromkeys(CSV_MISSING, NAN)  # what read_csv reads as missing is
        self.unknown = float(feature_schema.UNKNOWN_CATEGORY)

    def csv_column(self, cells: Sequence[str]) -> Sequence[float] | np.ndarray:
        return [self.csv_codes.get(cell, self.unknown) for cell in cells]

    def json_column(self, values: Sequence[Any]) -> Sequence[float] | np.ndarray:
        return [self.json_value(value) for value in values]

    def json_value(self, value: Any) -> float:
        kind = type(value)
        if kind is str:
            return self.codes.get(value, self.unknown)
        if value is None or (kind is float and math.isnan(value)):
            return NAN
        if kind is float:  # a whole number reads as an integer (2134.0 -> '2134'), as in feature_schema.as_text
            return self.codes.get(str(int(value)) if value.is_integer() else str(value), self.unknown)
        if kind is bool or (kind is int and -EXACT_INT < value < EXACT_INT):
            return self.codes.get(str(value), self.unknown)
        raise NotPlain


class BooleanRule(ColumnRule):
    """1.0 / 0.0 for feature_schema's true / false words, compared stripped and in lower case; else missing."""

    def __init__(self, name: str) -> None:
        super().__init__(name, "boolean")
        self.words = dict.fromkeys(feature_schema.TRUE_WORDS, 1.0) | dict.fromkeys(feature_schema.FALSE_WORDS, 0.0)

    def csv_column(self, cells: Sequence[str]) -> Sequence[float] | np.ndarray:
        return [NAN if cell in CSV_MISSING else self.words.get(cell.strip().lower(), NAN) for cell in cells]

    def json_column(self, values: Sequence[Any]) -> Sequence[float] | np.ndarray:
        return [self.json_value(value) for value in values]

    def json_value(self, value: Any) -> float:
        kind = type(value)
        if kind is bool:
            return float(value)
        if value is None or (kind is float and math.isnan(value)):
            return NAN
        if kind in (str, int, float):
            return self.words.get(str(value).strip().lower(), NAN)
        raise NotPlain


def column_rule(name: str, kind: str, vocabulary: list[str] | None) -> ColumnRule:
    if kind == "categorical":
        return CategoricalRule(name, vocabulary or [])
    if kind == "boolean":
        return BooleanRule(name)
    if kind == "numeric":
        return NumericRule(name, kind)
    return ColumnRule(name, kind)


class RowEncoder:
    """features.json's encoding as lookup tables, built once per model (`model_fn`)."""

    def __init__(self, schema: dict[str, Any]) -> None:
        vocabularies = schema.get("categorical_vocabularies", {})
        self.names = [str(name) for name in schema["feature_names"]]
        self.rules = [column_rule(name, schema["feature_kinds"][name], vocabularies.get(name))
                      for name in schema["feature_names"]]

    def csv_matrix(self, lines: list[str]) -> np.ndarray:
        """Data lines (blank lines and a header already dropped) -> the model's matrix."""
        if not lines or lines[0].startswith("\ufeff") or any(map(_odd_line, lines)):
            raise NotPlain
        try:
            rows = list(csv.reader(lines, skipinitialspace=True))
        except csv.Error:
            raise NotPlain from None
        width = len(self.rules)
        if len(rows) != len(lines) or any(len(row) != width for row in rows):
            raise NotPlain  # a quoted line break, or rows pandas pads or refuses
        columns = zip(*rows, strict=True)
        return self._matrix([rule.csv_column(cells) for rule, cells in zip(self.rules, columns, strict=True)])

    def json_matrix(self, records: Any) -> np.ndarray:
        """JSON instances (a list of {name: value} objects) -> the model's matrix."""
        if not isinstance(records, list) or not records or any(type(record) is not dict for record in records):
            raise NotPlain
        try:
            columns = [[record[name] for record in records] for name in self.names]
        except KeyError:
            raise NotPlain from None  # pandas fills a key some rows lack, or words the missing feature
        return self._matrix([rule.json_column(values) for rule, values in zip(self.rules, columns, strict=True)])

    @staticmethod
    def _matrix(columns: list[Sequence[float] | np.ndarray]) -> np.ndarray:
        return np.ascontiguousarray(np.array(columns, dtype=np.float64).T, dtype=np.float32)
