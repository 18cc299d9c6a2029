"""Preprocess step: validate the raw table, encode features, split train/validation/test.

Reads every .csv, .csv.gz and .parquet file under ``<root>/processing/input/data`` (subfolders
included, hidden ones skipped, same columns in each; Hive-style folders such as ``year=2024/`` add
their ``year`` column, as Spark and Athena read them), and writes under ``<root>/processing/output``:
  train/train.parquet, validation/validation.parquet, test/test.parquet  target first, then
      the encoded float32 features; each folder also gets features.json. With --train-shards N > 1
      (N training instances) train/ holds N row slices train/part-00000.parquet ... and no
      features.json, so SageMaker's ShardedByS3Key hands each instance exactly one object
  test/raw/test_raw.csv  the test split's raw feature values (header, no target), row for row
  baseline/baseline.csv  the training split's raw feature values (no target, with a header), which
      the data-quality baseline and endpoint drift checks compare against. CSV because the
      SageMaker Model Monitor analyzer baselines CSV or JSON; above --baseline-max-rows rows it
      holds a seeded random sample, which keeps both the write and the analyzer job cheap. With
      --baseline-parts N > 1 (N data-quality instances) baseline/ holds N row slices
      part-00000.csv ... instead, each with the header, one per instance

The target becomes labels by labels.py (binary: --positive-class is 1; multiclass: sorted labels
0..K-1); features.json keeps the mapping.

Datetime features become seconds since 1970-01-01 UTC; text features become codes in the sorted
vocabulary of the training split (unseen value -> -1, missing stays NaN); numeric NaNs are kept
for xgboost's missing-value handling; placeholders in numeric text columns (``?``, ``NA``, ``-``, ...)
are missing too, counted per column in the log and features.json. Bad data exits with code 2 and one
``error:`` line that names the input file by its path inside the input folder (the S3 prefix).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

import feature_schema
import labels
import sm_paths
from step_report import DataError, log, run_step

PROBLEM_TYPES = ("binary_classification", "multiclass_classification", "regression")
SUFFIXES = (".csv", ".csv.gz", ".parquet")
MANY_CATEGORIES = 10_000
BASELINE_MAX_ROWS = 100_000
MAX_DROPPED_FRACTION = 0.1
# the test split's raw feature values, as an endpoint receives them: the Evaluate step scores the
# champion on them through its own features.json, and a deploy smoke test can replay them
RAW_TEST_FILE = "raw/test_raw.csv"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Validate raw tabular data, encode features and split it into train/validation/test "
        "Parquet files plus a raw-feature baseline. Paths derive from SM_OPT_ML_ROOT (default /opt/ml).",
    )
    parser.add_argument("--target-column", required=True, help="name of the column to predict")
    parser.add_argument("--problem-type", required=True, choices=PROBLEM_TYPES)
    parser.add_argument("--positive-class", help="binary: the label that becomes class 1 (default: 1 of 0/1, yes of "
                        "no/yes; any other pair of labels must be named)")
    parser.add_argument("--seed", type=int, default=42, help="seed of the random split (default 42)")
    parser.add_argument("--validation-fraction", type=float, default=0.15, help="share of rows for validation")
    parser.add_argument("--test-fraction", type=float, default=0.15, help="share of rows for test")
    parser.add_argument("--baseline-max-rows", type=int, default=BASELINE_MAX_ROWS,
                        help=f"rows of the data-quality baseline sample (default {BASELINE_MAX_ROWS})")
    parser.add_argument("--max-dropped-fraction", type=float, default=MAX_DROPPED_FRACTION,
                        help="largest share of rows that may be dropped for a missing target before the step "
                        f"fails (default {MAX_DROPPED_FRACTION})")
    parser.add_argument("--categorical-column", action="append", default=[], dest="categorical_columns",
                        metavar="NAME", help="treat this feature as categorical whatever its values (repeatable)")
    parser.add_argument("--train-shards", type=int, default=1, help="write the training split as this many "
                        "Parquet shards, one per training instance (default 1: train/train.parquet)")
    parser.add_argument("--baseline-parts", type=int, default=1, help="write the baseline as this many CSV parts, "
                        "one per data-quality instance (default 1: baseline/baseline.csv)")
    return parser.parse_args(argv)


# ---------------------------------------------------------------------------- reading


def input_files(directory: Path) -> list[Path]:
    """Every readable data file under ``directory``, in a stable order."""
    if not directory.is_dir():
        raise DataError(f"input directory {directory} does not exist; point the step's input at your data")
    files = [
        path
        for path in directory.rglob("*")
        if path.is_file() and path.name.lower().endswith(SUFFIXES)
        and not any(part.startswith(".") for part in path.relative_to(directory).parts)
    ]
    if not files:
        raise DataError(
            f"no .csv, .csv.gz or .parquet files found under {directory}; upload the training data there"
        )
    return sorted(files, key=lambda path: path.relative_to(directory).as_posix())


def read_file(path: Path, name: str) -> pd.DataFrame:
    """One CSV or Parquet file (``name``: its path inside the input folder, for messages); an empty,
    unreadable or repeated-header file is a DataError."""
    try:
        if path.name.lower().endswith(".parquet"):
            frame = pd.read_parquet(path)
            header = [str(column) for column in frame.columns]
        else:
            # pandas renames a repeated `age` to `age.1` without a word: read the header as written first
            header = [str(v) for v in pd.read_csv(path, header=None, nrows=1, dtype=str, keep_default_na=False)
                      .iloc[0]]
            frame = pd.read_csv(path, low_memory=False)
    except pd.errors.EmptyDataError as err:
        raise DataError(f"input file '{name}' is empty; remove it or replace it with data") from err
    except (ValueError, OSError, pd.errors.ParserError) as err:
        first = str(err).splitlines()[0].replace(str(path), name) if str(err) else type(err).__name__
        raise DataError(f"cannot read input file '{name}': {first}; check that it is valid CSV or Parquet") from err
    repeated = sorted({column for column in header if header.count(column) > 1})
    if repeated:
        shown = ", ".join(f"'{column}' ({header.count(column)} times)" for column in repeated)
        raise DataError(f"input file '{name}' repeats column name(s) {shown}; give every column a unique name")
    if len(header) == frame.shape[1]:
        frame.columns = header
    return frame


def partition_columns(name: str) -> dict[str, str]:
    """Hive-style folder names on the way to a file: 'year=2024/month=01/part-0.parquet' -> year, month."""
    folders = Path(name).parts[:-1]
    return dict(part.split("=", 1) for part in folders if "=" in part and not part.startswith("="))


def with_partitions(frame: pd.DataFrame, name: str) -> pd.DataFrame:
    """The file's rows plus its folders' partition values as text columns (a column in the file wins)."""
    added = {key: value for key, value in partition_columns(name).items() if key not in frame.columns}
    if not added:
        return frame  # assign() would copy the whole table
    return frame.assign(**{key: pd.Series([value] * len(frame), dtype=object) for key, value in added.items()})


def read_input(directory: Path) -> pd.DataFrame:
    """All input files as one frame, checking that they share the same columns."""
    names = [path.relative_to(directory).as_posix() for path in input_files(directory)]
    frames: list[pd.DataFrame] = []
    columns: list[str] | None = None
    for name in names:
        frame = with_partitions(read_file(directory / name, name), name)
        if columns is None:
            columns = list(frame.columns)
        elif set(frame.columns) != set(columns):
            missing = sorted(set(columns) - set(frame.columns))
            extra = sorted(set(frame.columns) - set(columns))
            raise DataError(
                f"input file '{name}' has different columns than '{names[0]}' (missing: {', '.join(missing) or '-'}; "
                f"extra: {', '.join(extra) or '-'}); all input files must share the same columns"
            )
        else:
            frame = frame[columns]
        frames.append(frame)
    data = frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)
    if len(data) == 0:
        raise DataError("the input files contain no rows; provide data with at least a header and some rows")
    partitions = sorted(partition_columns(names[0]))
    log(f"read {len(names)} file(s), {len(data)} rows x {data.shape[1]} columns"
        + (f" (partition columns from folder names: {', '.join(partitions)})" if partitions else ""))
    if isinstance(data.index, pd.RangeIndex) and data.index.start == 0 and data.index.step == 1:
        return data  # reset_index() would copy the whole table
    return data.reset_index(drop=True)


# ---------------------------------------------------------------------------- split


def split_indices(rows: int, seed: int, validation_fraction: float, test_fraction: float) -> dict[str, np.ndarray]:
    """Seeded random split; each split's row indices ascending so rows keep their input order."""
    n_test = int(round(rows * test_fraction))
    n_validation = int(round(rows * validation_fraction))
    n_train = rows - n_test - n_validation
    if min(n_test, n_validation, n_train) < 1:
        raise DataError(
            f"only {rows} labelled rows: too few to split into train/validation/test with fractions "
            f"validation={validation_fraction}, test={test_fraction}; provide more data"
        )
    order = np.random.default_rng(seed).permutation(rows)
    return {
        "train": np.sort(order[n_test + n_validation :]),
        "validation": np.sort(order[n_test : n_test + n_validation]),
        "test": np.sort(order[:n_test]),
    }


# ---------------------------------------------------------------------------- features


def feature_kinds(data: pd.DataFrame, feature_names: list[str], categorical: list[str]) -> dict[str, str]:
    """Each feature's kind (``categorical``: the features declared so); an all-missing input is a
    DataError, an all-missing column a warning."""
    kinds = {name: "categorical" if name in categorical else feature_schema.feature_kind(data[name])
             for name in feature_names}
    null_counts = {name: int(data[name].isna().sum()) for name in feature_names}  # data[names] would copy them
    if sum(null_counts.values()) == len(data) * len(feature_names):
        raise DataError("every feature value in the input is missing; provide data with feature values")
    for name in feature_names:
        if null_counts[name] == len(data):
            log(f"warning: feature '{name}' is missing in every row; it carries no information")
    counts = {kind: sum(1 for k in kinds.values() if k == kind) for kind in feature_schema.KINDS}
    log("features: " + ", ".join(f"{n} {kind}" for kind, n in counts.items()))
    return kinds


def check_declared_categorical(declared: list[str], columns: list[str], target_name: str) -> None:
    """Every --categorical-column names a feature of the input."""
    unknown = [name for name in declared if name not in columns]
    if unknown:
        raise DataError(f"categorical column(s) {', '.join(repr(n) for n in unknown)} not found in the input; "
                        "fix categorical_columns in [tool.ml-factory.data] or the input's header")
    if target_name in declared:
        raise DataError(f"'{target_name}' is the target column; remove it from categorical_columns in "
                        "[tool.ml-factory.data]")


def placeholder_counts(data: pd.DataFrame, kinds: dict[str, str]) -> dict[str, int]:
    """Per numeric text column, how many placeholders (?, NA, -, blank, ...) are read as missing; logged."""
    counts: dict[str, int] = {}
    for name, kind in kinds.items():
        if kind != "numeric" or pd.api.types.is_numeric_dtype(data[name].dtype):
            continue
        found = feature_schema.placeholders(data[name])
        if found:
            counts[name] = sum(found.values())
            shown = ", ".join(f"{value!r} x{n}" for value, n in sorted(found.items()))
            log(f"feature '{name}': {counts[name]} placeholder value(s) read as missing ({shown})")
    return counts


def drop_missing_target(data: pd.DataFrame, target_name: str, max_fraction: float) -> pd.DataFrame:
    """The rows with a target value; more than ``max_fraction`` of the rows without one is a DataError."""
    missing = data[target_name].isna().to_numpy()
    dropped = int(missing.sum())
    if dropped == len(data):
        raise DataError(f"target column '{target_name}' is empty in every row; fill in the labels")
    if dropped > max_fraction * len(data):
        raise DataError(
            f"{dropped} of {len(data)} rows ({dropped / len(data):.1%}) have no value in target column "
            f"'{target_name}', more than max_dropped_fraction {max_fraction:g} allows; fill in the labels, or raise "
            "max_dropped_fraction in [tool.ml-factory.data] if training on the labelled rows is intended"
        )
    if not dropped:
        return data  # a filtered copy of every row would double the table
    log(f"dropped {dropped} rows with a missing target '{target_name}' ({dropped / len(data):.1%}, "
        f"max_dropped_fraction {max_fraction:g})")
    return data.loc[~missing].reset_index(drop=True)


def encode(
    data: pd.DataFrame, kinds: dict[str, str], train_index: np.ndarray
) -> tuple[dict[str, np.ndarray], dict[str, pd.Series], dict[str, list[str]]]:
    """Encoded float32 columns, raw (normalized) columns for the baseline, and the vocabularies
    (built from the training rows only, so validation/test see unseen values as an endpoint would)."""
    encoded: dict[str, np.ndarray] = {}
    raw: dict[str, pd.Series] = {}
    vocabularies: dict[str, list[str]] = {}
    for name, kind in kinds.items():
        column = data[name]
        if kind == "categorical":
            column = feature_schema.as_text(column)
            vocab = feature_schema.vocabulary(column.iloc[train_index])
            if len(vocab) > MANY_CATEGORIES:
                log(f"warning: feature '{name}' has {len(vocab)} distinct values; an id-like column rarely helps")
            vocabularies[name] = vocab
            encoded[name] = feature_schema.encode_categorical(column, vocab)
        else:
            encoded[name] = feature_schema.encode_column(column, kind)
            if kind == "numeric" and not pd.api.types.is_numeric_dtype(column.dtype):
                column = pd.Series(feature_schema.numeric_values(column, kind), name=name)  # e.g. Decimal objects
        raw[name] = column
    return encoded, raw, vocabularies


def write_outputs(
    output: Path,
    schema: dict[str, Any],
    target: np.ndarray,
    encoded: dict[str, np.ndarray],
    raw: dict[str, pd.Series],
    splits: dict[str, np.ndarray],
    baseline_rows: np.ndarray,
    parts: tuple[int, int] = (1, 1),
) -> None:
    """The three encoded splits with features.json, and the raw training-feature baseline; ``parts``: the
    training shards and the baseline parts."""
    shards, baseline_parts = parts
    target_name = schema["target_column"]
    target_dtype = "float64" if schema["problem_type"] == "regression" else "int64"
    # dictionary encoding pays off for few distinct values only; elsewhere it just costs write time
    kinds = schema["feature_kinds"]
    low_cardinality = [name for name in schema["feature_names"] if kinds[name] in ("categorical", "boolean")]
    for name, index in splits.items():
        for path, rows in split_files(output / name, name, index, shards if name == "train" else 1):
            columns = {target_name: pa.array(target[rows].astype(target_dtype))}
            columns.update({feature: pa.array(values[rows]) for feature, values in encoded.items()})
            write_parquet(pa.Table.from_pydict(columns), path, [target_name, *low_cardinality])
        if not (name == "train" and shards > 1):  # a sharded channel holds the shards alone
            (output / name / feature_schema.FEATURES_FILE).write_text(json.dumps(schema, indent=2) + "\n")
    for path, rows in split_files(output / "baseline", "baseline", baseline_rows, baseline_parts, ".csv"):
        write_csv(raw_rows(raw, rows), path)
    write_csv(raw_rows(raw, splits["test"]), output / "test" / RAW_TEST_FILE)


def split_files(folder: Path, name: str, rows: np.ndarray, shards: int,
                suffix: str = ".parquet") -> list[tuple[Path, np.ndarray]]:
    """``<name><suffix>`` with every row, or ``part-NNNNN<suffix>`` holding consecutive slices of nearly
    equal size (one per instance)."""
    if shards == 1:
        return [(folder / f"{name}{suffix}", rows)]
    return [(folder / f"part-{i:05d}{suffix}", part) for i, part in enumerate(np.array_split(rows, shards))]


def raw_rows(raw: dict[str, pd.Series], rows: np.ndarray) -> pd.DataFrame:
    return pd.concat([column.iloc[rows].reset_index(drop=True) for column in raw.values()], axis=1)


def baseline_sample(train_rows: np.ndarray, max_rows: int, seed: int) -> np.ndarray:
    """All training rows when few enough, else a seeded sample of them in their original order."""
    if len(train_rows) <= max_rows:
        return train_rows
    chosen = np.random.default_rng(seed).choice(len(train_rows), size=max_rows, replace=False)
    return train_rows[np.sort(chosen)]


def write_csv(frame: pd.DataFrame, path: Path) -> None:
    """CSV with a header, by pyarrow's writer (about 10x faster than pandas')."""
    path.parent.mkdir(parents=True, exist_ok=True)
    pa_csv.write_csv(pa.Table.from_pandas(frame, preserve_index=False), str(path))


# ---------------------------------------------------------------------------- main


def check_arguments(args: argparse.Namespace) -> None:
    """Settings that cannot work, refused before any data is read."""
    if args.train_shards < 1 or args.baseline_parts < 1:
        raise DataError(f"--train-shards and --baseline-parts must be positive, got {args.train_shards} and "
                        f"{args.baseline_parts}")
    if args.baseline_max_rows < 1:
        raise DataError(f"--baseline-max-rows must be positive, got {args.baseline_max_rows}")
    if not 0 <= args.max_dropped_fraction < 1:
        raise DataError(f"--max-dropped-fraction must be at least 0 and below 1, got {args.max_dropped_fraction}")
    if not (0 < args.validation_fraction < 1 and 0 < args.test_fraction < 1) or (
        args.validation_fraction + args.test_fraction >= 1
    ):
        raise DataError(
            f"--validation-fraction {args.validation_fraction} and --test-fraction {args.test_fraction} must each be "
            "between 0 and 1 and leave rows for training (sum below 1)"
        )


def preprocess(args: argparse.Namespace) -> dict[str, Any]:
    """Run the whole step; returns the features.json content."""
    started = time.perf_counter()
    check_arguments(args)
    data = read_input(sm_paths.processing("input", "data"))
    target_name = args.target_column
    if target_name not in data.columns:
        shown = ", ".join(list(data.columns)[:50]) + (", ..." if data.shape[1] > 50 else "")
        raise DataError(f"target column '{target_name}' not found in input; columns are: {shown}")
    feature_names = [column for column in data.columns if column != target_name]
    if not feature_names:
        raise DataError(f"the input has only the target column '{target_name}'; it needs feature columns too")
    check_declared_categorical(args.categorical_columns, list(data.columns), target_name)

    rows_read = len(data)
    data = drop_missing_target(data, target_name, args.max_dropped_fraction)
    encoded_target = labels.encode_target(data[target_name], args.problem_type, args.positive_class)
    log(encoded_target.describe(target_name))
    target = encoded_target.values

    kinds = feature_kinds(data, feature_names, args.categorical_columns)
    placeholders = placeholder_counts(data, kinds)
    splits = split_indices(len(data), args.seed, args.validation_fraction, args.test_fraction)
    labels.check_training_split(encoded_target, splits["train"], target_name)
    if len(splits["train"]) < args.train_shards:
        raise DataError(f"{len(splits['train'])} training rows cannot fill {args.train_shards} shards (one per "
                        "training instance); lower [tool.ml-factory.training] instance_count or add data")
    baseline_rows = baseline_sample(splits["train"], args.baseline_max_rows, args.seed)
    if len(baseline_rows) < args.baseline_parts:
        raise DataError(f"{len(baseline_rows)} baseline rows cannot fill {args.baseline_parts} parts (one per "
                        "data-quality instance); lower [tool.ml-factory.processing] instance_count or add data")
    log("split rows " + " ".join(f"{name}={len(index)}" for name, index in splits.items()) + f" (seed={args.seed})")
    encoded, raw, vocabularies = encode(data, kinds, splits["train"])

    schema: dict[str, Any] = {
        "schema_version": feature_schema.SCHEMA_VERSION,
        "target_column": target_name,
        "problem_type": args.problem_type,
        "feature_names": feature_names,
        "feature_kinds": kinds,
        "categorical_vocabularies": vocabularies,
        "label_mapping": encoded_target.mapping,
        "positive_class": encoded_target.positive_class,
        "row_counts": {
            "input": rows_read,
            "dropped_missing_target": rows_read - len(data),
            **{name: int(len(index)) for name, index in splits.items()},
        },
        "missing_placeholders": placeholders,  # numeric text column -> placeholders read as missing
        "split": {
            "seed": args.seed,
            "validation_fraction": args.validation_fraction,
            "test_fraction": args.test_fraction,
        },
    }

    output = sm_paths.processing("output")
    write_outputs(output, schema, target, encoded, raw, splits, baseline_rows, (args.train_shards, args.baseline_parts))
    log(f"wrote train/validation/test Parquet, a {len(baseline_rows)}-row baseline CSV and features.json "
        f"under {output}")
    log(f"preprocess done in {time.perf_counter() - started:.2f} s")
    return schema


def write_parquet(table: pa.Table, path: Path, dictionary_columns: list[str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, str(path), use_dictionary=dictionary_columns or False)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    return run_step(lambda: preprocess(args), "processing")


if __name__ == "__main__":
    sys.exit(main())
