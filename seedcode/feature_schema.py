"""The feature contract between preprocessing, training, evaluation and serving: ``features.json``.

Preprocessing decides each feature's kind and the categorical vocabularies and writes them to
``features.json``; every later step encodes raw values the same way through this module, so a
value means the same thing at training time and at the endpoint.

Feature kinds and their encoding (all features end up as float32, NaN = missing):
  numeric      -> the number
  boolean      -> 1.0 / 0.0
  datetime     -> seconds since 1970-01-01 UTC (float32 keeps about 2 minutes of resolution)
  categorical  -> index in the sorted training vocabulary; an unseen value -> -1

A text column whose values are numbers apart from known placeholders (``?``, ``NA``, ``n/a``,
``null``, ``-``, blank, ...) is numeric, the placeholders missing. A text column of mostly (at
least 95 %) numbers with other strings in it is refused rather than read as a category of
hundreds of values: the user cleans it or declares it categorical.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from step_report import DataError

FEATURES_FILE = "features.json"
SCHEMA_VERSION = 1
KINDS = ("numeric", "boolean", "datetime", "categorical")
UNKNOWN_CATEGORY = -1

_NUMERIC_INFERRED = ("integer", "floating", "mixed-integer-float", "decimal")
_CATEGORICAL_INFERRED = ("string", "categorical", "mixed", "mixed-integer")
_DATETIME_INFERRED = ("datetime", "datetime64", "date")
# how a boolean feature's raw values read (compared stripped, lower case); any other value is missing
TRUE_WORDS = ("true", "t", "yes", "y", "1", "1.0")
FALSE_WORDS = ("false", "f", "no", "n", "0", "0.0")
# what spreadsheets and exports write for "no value" in a number column; compared stripped, lower case
PLACEHOLDERS = frozenset({"", "?", "-", "--", "na", "n/a", "nan", "null", "none", "#n/a"})
MOSTLY_NUMERIC = 0.95  # share of a text column's non-missing values that must parse for it to count as numeric
_PROBE_SIZE = 2000  # values sampled first: a clearly textual column skips parsing every value


@dataclass(frozen=True)
class NumericText:
    """How the non-missing values of a text column read as numbers."""

    numbers: int  # values that parse as numbers
    placeholders: dict[str, int]  # placeholder (as written, stripped) -> count; read as missing
    unknown: int  # values that are neither numbers nor placeholders
    examples: tuple[str, ...]  # up to 3 distinct unknown values

    @property
    def mostly_numeric(self) -> bool:
        return self.numbers > 0 and self.numbers >= MOSTLY_NUMERIC * (self.numbers + self.unknown)

    @property
    def placeholder_count(self) -> int:
        return sum(self.placeholders.values())

    def merged(self, other: NumericText) -> NumericText:
        """The reading of two parts of a column together."""
        placeholders = dict(self.placeholders)
        for value, count in other.placeholders.items():
            placeholders[value] = placeholders.get(value, 0) + count
        examples = tuple(dict.fromkeys(self.examples + other.examples))[:3]
        return NumericText(self.numbers + other.numbers, placeholders, self.unknown + other.unknown, examples)

    @classmethod
    def of(cls, series: pd.Series) -> NumericText:
        values = series.dropna()
        if len(values) > _PROBE_SIZE:  # most text columns are plainly not numbers: decide on a sample
            probe = values.sample(_PROBE_SIZE, random_state=0).astype(str).str.strip()
            if pd.to_numeric(probe, errors="coerce").notna().mean() < 0.5:
                return cls(0, {}, len(values), ())
        text = values.astype(str).str.strip()
        placeholder = text.str.lower().isin(PLACEHOLDERS).to_numpy()
        rest = text[~placeholder]
        parsed = pd.to_numeric(rest, errors="coerce").notna().to_numpy()
        unknown = rest[~parsed]
        return cls(int(parsed.sum()), _counts(text[placeholder]), int(len(unknown)),
                   tuple(str(v) for v in pd.unique(unknown)[:3]))


def placeholders(series: pd.Series) -> dict[str, int]:
    """Placeholder (as written, stripped) -> count in a text column."""
    text = series.dropna().astype(str).str.strip()
    return _counts(text[text.str.lower().isin(PLACEHOLDERS).to_numpy()])


def _counts(text: pd.Series) -> dict[str, int]:
    return {str(value): int(count) for value, count in text.value_counts().items()}


def text_kind(name: str, reading: NumericText) -> str:
    """numeric for numbers with placeholders, categorical for text; a DataError for numbers with stray text."""
    if not reading.mostly_numeric:
        return "categorical"
    if reading.unknown:
        examples = ", ".join(repr(v) for v in reading.examples)
        raise DataError(
            f"feature column '{name}' is mostly numbers but {reading.unknown} value(s) are not, "
            f"e.g. {examples}; clean them (blank, ?, NA, n/a, null and - already count as missing) or declare "
            f"the column categorical (categorical_columns = [\"{name}\"] in [tool.ml-factory.data])"
        )
    return "numeric"


def feature_kind(series: pd.Series) -> str:
    """Decide how a raw column is encoded; raise DataError for a type the model cannot use."""
    kind = column_kind(series)
    if kind == "text":
        return text_kind(str(series.name), NumericText.of(series))
    return "numeric" if kind == "empty" else kind


def column_kind(series: pd.Series) -> str:
    """One of KINDS by the column's type, or ``text`` (decided by how its values read as numbers: see
    text_kind) or ``empty`` (no value); a DataError for a type the model cannot use. Preprocessing
    merges this over the chunks of a column it streams."""
    dtype = series.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return "boolean"
    if isinstance(dtype, pd.CategoricalDtype):
        return "categorical"
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return "datetime"
    if pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_complex_dtype(dtype):
        return "numeric"
    if pd.api.types.is_string_dtype(dtype) or pd.api.types.is_object_dtype(dtype):
        inferred = pd.api.types.infer_dtype(series, skipna=True)
        if inferred == "empty":
            return "empty"
        if inferred == "boolean":
            return "boolean"
        if inferred in _NUMERIC_INFERRED:
            return "numeric"
        if inferred in _DATETIME_INFERRED:
            return "datetime"
        if inferred in _CATEGORICAL_INFERRED:
            return "text"
        raise DataError(
            f"feature column '{series.name}' holds {inferred} values, which the model cannot use; "
            "convert it to numbers, true/false, dates or text, or drop the column"
        )
    raise DataError(
        f"feature column '{series.name}' has type {dtype}, which the model cannot use; "
        "convert it to numbers, true/false, dates or text, or drop the column"
    )


def as_text(series: pd.Series) -> pd.Series:
    """A categorical column as strings with NaN for missing (mixed types become their str())."""
    if isinstance(series.dtype, pd.CategoricalDtype):
        series = series.astype(object)
    if pd.api.types.infer_dtype(series, skipna=True) in ("string", "empty"):
        return series
    missing = series.isna()
    out = series.astype(object).copy()
    out[~missing] = [_as_word(value) for value in series[~missing]]
    out[missing] = np.nan
    return out


def _as_word(value: Any) -> str:
    """A category value as text; a whole float reads as an integer (2134.0 -> '2134'), as in a CSV row."""
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    return str(value)


def numeric_values(series: pd.Series, kind: str) -> np.ndarray:
    """A numeric, boolean or datetime column as float64 (NaN = missing, unparseable -> NaN)."""
    if kind == "numeric":
        if pd.api.types.is_numeric_dtype(series.dtype) and not pd.api.types.is_bool_dtype(series.dtype):
            return series.to_numpy(dtype="float64", na_value=np.nan)
        return pd.to_numeric(series, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
    if kind == "boolean":
        if pd.api.types.is_bool_dtype(series.dtype):
            return series.to_numpy(dtype="float64", na_value=np.nan)
        words = series.astype(object).where(series.notna(), None).map(
            lambda v: None if v is None else str(v).strip().lower()
        )
        out = np.full(len(series), np.nan)
        out[words.isin(TRUE_WORDS).to_numpy()] = 1.0
        out[words.isin(FALSE_WORDS).to_numpy()] = 0.0
        return out
    if kind == "datetime":
        stamps = series if pd.api.types.is_datetime64_any_dtype(series.dtype) else pd.to_datetime(
            series, errors="coerce", utc=True
        )
        if getattr(stamps.dt, "tz", None) is not None:
            stamps = stamps.dt.tz_convert("UTC").dt.tz_localize(None)
        seconds = (stamps - pd.Timestamp("1970-01-01")) / pd.Timedelta(seconds=1)
        return seconds.to_numpy(dtype="float64", na_value=np.nan)
    raise ValueError(f"not a numeric kind: {kind}")


def check_numbers(series: pd.Series) -> None:
    """Raw values of a numeric feature at the endpoint must parse as numbers (text is not silently read as a
    missing value); missing values and the placeholders training read as missing (`?`, `NA`, ...) pass.
    A plain loop: cheaper than pandas for a request's few rows."""
    if pd.api.types.is_numeric_dtype(series.dtype):
        return
    for row, value in enumerate(series.to_numpy()):
        if value is None or isinstance(value, (int, float)) or (
                isinstance(value, str) and value.strip().lower() in PLACEHOLDERS):
            continue
        try:
            float(value)
        except (TypeError, ValueError):
            raise ValueError(f"feature '{series.name}' expects a number, got {value!r} (row {row + 1})") from None


def vocabulary(text: pd.Series) -> list[str]:
    """The sorted distinct non-missing values of a text column."""
    return sorted(str(v) for v in pd.unique(text.dropna()))


def encode_categorical(text: pd.Series, vocab: list[str]) -> np.ndarray:
    """Codes in ``vocab`` as float32: NaN stays NaN, a value outside ``vocab`` becomes -1."""
    codes, uniques = pd.factorize(text)
    index = {value: i for i, value in enumerate(vocab)}
    lookup = np.array([index.get(str(u), UNKNOWN_CATEGORY) for u in uniques], dtype=np.float32)
    out = np.full(len(codes), np.nan, dtype=np.float32)
    present = codes >= 0
    if len(lookup):
        out[present] = lookup[codes[present]]
    return out


def encode_column(series: pd.Series, kind: str, vocab: list[str] | None = None) -> np.ndarray:
    """One raw column as the float32 values the model sees."""
    if kind == "categorical":
        return encode_categorical(as_text(series), vocab or [])
    return numeric_values(series, kind).astype(np.float32)


def encode_features(raw: pd.DataFrame, schema: dict[str, Any]) -> pd.DataFrame:
    """Raw feature columns (as an endpoint receives them) -> the encoded float32 frame the model expects.

    Missing feature columns raise DataError; extra columns are ignored.
    """
    names = schema["feature_names"]
    missing = [name for name in names if name not in raw.columns]
    if missing:
        raise DataError(f"input lacks feature columns {', '.join(missing)}; the model expects: {', '.join(names)}")
    kinds = schema["feature_kinds"]
    vocabs = schema.get("categorical_vocabularies", {})
    return pd.DataFrame(
        {name: encode_column(raw[name], kinds[name], vocabs.get(name)) for name in names},
        index=raw.index,
    )


def load_schema(directory: Path) -> dict[str, Any]:
    """Read ``features.json`` from a directory; DataError if it is missing or unreadable."""
    path = Path(directory) / FEATURES_FILE
    if not path.is_file():
        raise DataError(f"{path} not found; the input must come from the preprocess step, which writes {FEATURES_FILE}")
    return parse_schema(path.read_bytes(), str(path))


def parse_schema(content: bytes | str, source: str) -> dict[str, Any]:
    """Parse and sanity-check features.json content; ``source`` names it in error messages."""
    try:
        schema = json.loads(content)
    except ValueError as err:
        raise DataError(f"{source} is not valid JSON ({err}); rerun the preprocess step") from err
    for key in ("feature_names", "feature_kinds", "target_column", "problem_type"):
        if not isinstance(schema, dict) or key not in schema:
            raise DataError(f"{source} has no '{key}'; rerun the preprocess step to regenerate it")
    return schema


def feature_matrix(encoded: pd.DataFrame, schema: dict[str, Any], source: str) -> np.ndarray:
    """The encoded feature columns of a processed split, in schema order, as a float32 matrix."""
    names = schema["feature_names"]
    missing = [name for name in names if name not in encoded.columns]
    if missing:
        raise DataError(
            f"{source} lacks feature columns {', '.join(missing)} listed in {FEATURES_FILE}; "
            "rerun the preprocess step so data and schema match"
        )
    return np.ascontiguousarray(encoded[names].to_numpy(dtype=np.float32, na_value=np.nan))


def xgboost_feature_names(schema: dict[str, Any]) -> list[str] | None:
    """Feature names for a DMatrix, or None when a name is one xgboost rejects."""
    names = [str(name) for name in schema["feature_names"]]
    if any(ch in name for name in names for ch in "[]<,") or len(set(names)) != len(names):
        return None
    return names
