"""Preprocess step: validate the raw table, encode features, split train/validation/test.

Reads every .csv, .csv.gz and .parquet file under ``<root>/processing/input/data`` (subfolders
included, hidden ones skipped, same columns in each; Hive-style folders such as ``year=2024/`` add
their ``year`` column, as Spark and Athena read them; see input_chunks.py), and writes under
``<root>/processing/output``:
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

Memory is bounded by a chunk of rows (--chunk-rows), not the table: pass 1 reads the input a chunk at a
time and keeps what needs every row in state bounded by cardinality (input_tally.py: kinds, label
mapping, vocabularies, counts); the split is a seeded function of each labelled row's position with
exact split sizes (row_split.py); pass 2 reads the input again, encodes each chunk and appends it to
the output files. Only the baseline sample (--baseline-max-rows rows) is held whole.

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
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

import feature_schema
import input_chunks
import labels
import row_split
import sm_paths
from input_tally import ColumnTally, InputTally, TargetTally
from step_report import DataError, log, run_step

PROBLEM_TYPES = ("binary_classification", "multiclass_classification", "regression")
MANY_CATEGORIES = 10_000
BASELINE_MAX_ROWS = 100_000
MAX_DROPPED_FRACTION = 0.1
# the test split's raw feature values, as an endpoint receives them: the Evaluate step scores the
# champion on them through its own features.json, and a deploy smoke test can replay them
RAW_TEST_FILE = "raw/test_raw.csv"
SPLIT_CODES = {"train": 0, "validation": 1, "test": 2}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Validate raw tabular data, encode features and split it into train/validation/test "
        "Parquet files plus a raw-feature baseline. Paths derive from SM_OPT_ML_ROOT (default /opt/ml).",
    )
    parser.add_argument("--target-column", required=True, help="name of the column to predict")
    parser.add_argument("--problem-type", required=True, choices=PROBLEM_TYPES)
    parser.add_argument("--positive-class", help="binary: the label that becomes class 1 (default: 1 of 0/1, yes of "
                        "no/yes; any other pair of labels must be named)")
    parser.add_argument("--seed", type=int, default=42, help="seed of the split (default 42)")
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
    parser.add_argument("--chunk-rows", type=int, default=input_chunks.CHUNK_ROWS,
                        help="rows read and encoded at a time; bounds the step's memory "
                        f"(default {input_chunks.CHUNK_ROWS})")
    return parser.parse_args(argv)


# ---------------------------------------------------------------------------- pass 1


@dataclass(frozen=True)
class Inputs:
    """The input files and the column order every chunk comes in."""

    files: list[input_chunks.InputFile]
    columns: list[str]
    chunk_rows: int

    def chunks(self, columns: list[str] | None = None) -> Iterator[pd.DataFrame]:
        for source in self.files:
            yield from input_chunks.read_chunks(source, self.columns, self.chunk_rows, columns)


def open_input(args: argparse.Namespace) -> tuple[Inputs, list[str]]:
    """The input's files and its feature names, with the header-level checks."""
    files = input_chunks.open_inputs(sm_paths.processing("input", "data"))
    columns = files[0].columns
    target_name = args.target_column
    if target_name not in columns:
        shown = ", ".join(columns[:50]) + (", ..." if len(columns) > 50 else "")
        raise DataError(f"target column '{target_name}' not found in input; columns are: {shown}")
    feature_names = [column for column in columns if column != target_name]
    if not feature_names:
        raise DataError(f"the input has only the target column '{target_name}'; it needs feature columns too")
    check_declared_categorical(args.categorical_columns, columns, target_name)
    return Inputs(files, columns, args.chunk_rows), feature_names


def tally_input(inputs: Inputs, args: argparse.Namespace, feature_names: list[str]) -> InputTally:
    """Pass 1: every chunk into the bounded tallies."""
    tally = InputTally(TargetTally(args.target_column, args.problem_type),
                       {name: ColumnTally(name, name in args.categorical_columns) for name in feature_names},
                       args.seed)
    for chunk in inputs.chunks():
        tally.add(chunk)
    if tally.rows == 0:
        raise DataError("the input files contain no rows; provide data with at least a header and some rows")
    partitions = sorted(input_chunks.partition_columns(inputs.files[0].name))
    log(f"read {len(inputs.files)} file(s), {tally.rows} rows x {len(inputs.columns)} columns"
        + (f" (partition columns from folder names: {', '.join(partitions)})" if partitions else ""))
    return tally


def check_missing_target(tally: InputTally, max_fraction: float) -> None:
    """More than ``max_fraction`` of the rows without a target value is a DataError."""
    dropped, rows, name = tally.target.missing, tally.rows, tally.target.name
    if dropped == rows:
        raise DataError(f"target column '{name}' is empty in every row; fill in the labels")
    if dropped > max_fraction * rows:
        raise DataError(
            f"{dropped} of {rows} rows ({dropped / rows:.1%}) have no value in target column "
            f"'{name}', more than max_dropped_fraction {max_fraction:g} allows; fill in the labels, or raise "
            "max_dropped_fraction in [tool.ml-factory.data] if training on the labelled rows is intended"
        )
    if dropped:
        log(f"dropped {dropped} rows with a missing target '{name}' ({dropped / rows:.1%}, "
            f"max_dropped_fraction {max_fraction:g})")


def feature_kinds(tally: InputTally) -> dict[str, str]:
    """Each feature's kind; an all-missing input is a DataError, an all-missing column a warning."""
    kinds = {name: column.kind() for name, column in tally.features.items()}
    if sum(column.nulls for column in tally.features.values()) == tally.labelled * len(kinds):
        raise DataError("every feature value in the input is missing; provide data with feature values")
    for name, column in tally.features.items():
        if column.nulls == tally.labelled:
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


def vocabularies(inputs: Inputs, tally: InputTally, kinds: dict[str, str],
                 plan: row_split.SplitPlan) -> dict[str, list[str]]:
    """The sorted training values of each categorical feature. A column whose chunks read as numbers in
    part (so its values were not gathered) has them gathered by one more pass over that column alone."""
    categorical = [name for name, kind in kinds.items() if kind == "categorical"]
    again = [name for name in categorical if tally.features[name].values is None]
    if again:
        regathered = InputTally(TargetTally(tally.target.name, tally.target.problem_type),
                                {name: ColumnTally(name, declared=True) for name in again}, tally.seed,
                                count_target=False)
        for chunk in inputs.chunks([tally.target.name, *again]):
            regathered.add(chunk)
        tally.features.update(regathered.features)
    found: dict[str, list[str]] = {}
    for name in categorical:
        vocab = tally.features[name].vocabulary(plan)
        assert vocab is not None
        if len(vocab) > MANY_CATEGORIES:
            log(f"warning: feature '{name}' has {len(vocab)} distinct values; an id-like column rarely helps")
        found[name] = vocab
    return found


def plan_split(args: argparse.Namespace, tally: InputTally, target: labels.Target) -> row_split.SplitPlan:
    """The split, checked: every class in training, enough rows for the shards and the baseline parts."""
    plan = row_split.plan_split(tally.labelled, args.seed, (args.validation_fraction, args.test_fraction),
                                args.baseline_max_rows)
    if target.mapping is not None:
        labels.check_classes_present(target, tally.target.training_classes(target, plan), args.target_column)
    if plan.sizes["train"] < args.train_shards:
        raise DataError(f"{plan.sizes['train']} training rows cannot fill {args.train_shards} shards (one per "
                        "training instance); lower [tool.ml-factory.training] instance_count or add data")
    baseline_rows = min(plan.sizes["train"], args.baseline_max_rows)
    if baseline_rows < args.baseline_parts:
        raise DataError(f"{baseline_rows} baseline rows cannot fill {args.baseline_parts} parts (one per "
                        "data-quality instance); lower [tool.ml-factory.processing] instance_count or add data")
    log("split rows " + " ".join(f"{name}={n}" for name, n in plan.sizes.items()) + f" (seed={args.seed})")
    return plan


# ---------------------------------------------------------------------------- pass 2


def encode(data: pd.DataFrame, kinds: dict[str, str],
           vocabularies: dict[str, list[str]]) -> tuple[dict[str, np.ndarray], dict[str, pd.Series]]:
    """Encoded float32 columns and raw (normalized) columns for the baseline and the raw test rows."""
    encoded: dict[str, np.ndarray] = {}
    raw: dict[str, pd.Series] = {}
    for name, kind in kinds.items():
        column = data[name]
        if kind == "categorical":
            column = feature_schema.as_text(column)
            encoded[name] = feature_schema.encode_categorical(column, vocabularies[name])
        else:
            encoded[name] = feature_schema.encode_column(column, kind)
            if kind == "numeric" and not pd.api.types.is_numeric_dtype(column.dtype):
                column = pd.Series(feature_schema.numeric_values(column, kind), name=name)  # e.g. Decimal objects
        raw[name] = column
    return encoded, raw


class SplitWriter:
    """One split's Parquet file, or consecutive shards of nearly equal size (``part-NNNNN.parquet``, as
    np.array_split would cut them), appended to a chunk at a time."""

    def __init__(self, folder: Path, name: str, rows: int, shards: int, dictionary_columns: list[str]) -> None:
        self.paths = ([folder / f"{name}.parquet"] if shards == 1
                      else [folder / f"part-{i:05d}.parquet" for i in range(shards)])
        self.ends = np.cumsum([len(part) for part in np.array_split(np.arange(rows), shards)])
        self.dictionary_columns = dictionary_columns
        self.writers: list[pq.ParquetWriter] = []
        self.written = 0

    def write(self, table: pa.Table) -> None:
        offset = 0
        while offset < table.num_rows:
            shard = int(np.searchsorted(self.ends, self.written, side="right"))
            take = min(table.num_rows - offset, int(self.ends[shard]) - self.written)
            while len(self.writers) <= shard:
                path = self.paths[len(self.writers)]
                path.parent.mkdir(parents=True, exist_ok=True)
                self.writers.append(pq.ParquetWriter(str(path), table.schema,
                                                     use_dictionary=self.dictionary_columns or False))
            self.writers[shard].write_table(table.slice(offset, take))
            offset += take
            self.written += take

    def close(self) -> None:
        for writer in self.writers:
            writer.close()


@dataclass
class Outputs:
    """Pass 2's open outputs: the three splits, the raw test rows, and the baseline sample held in memory
    (at most --baseline-max-rows rows)."""

    folder: Path
    schema: dict[str, Any]
    splits: dict[str, SplitWriter]
    raw_test: BinaryIO  # test/raw/test_raw.csv, appended to a chunk at a time
    baseline: list[pd.DataFrame] = field(default_factory=list)
    placeholders: dict[str, dict[str, int]] = field(default_factory=dict)

    @classmethod
    def open(cls, folder: Path, schema: dict[str, Any], plan: row_split.SplitPlan, shards: int) -> Outputs:
        kinds = schema["feature_kinds"]
        # dictionary encoding pays off for few distinct values only; elsewhere it just costs write time
        low = [schema["target_column"], *(n for n in schema["feature_names"] if kinds[n] in ("categorical", "boolean"))]
        splits = {name: SplitWriter(folder / name, name, rows, shards if name == "train" else 1, low)
                  for name, rows in plan.sizes.items()}
        (folder / "test" / RAW_TEST_FILE).parent.mkdir(parents=True, exist_ok=True)
        return cls(folder, schema, splits, (folder / "test" / RAW_TEST_FILE).open("wb"))

    def add(self, target: np.ndarray, encoded: dict[str, np.ndarray], raw: dict[str, pd.Series],
            assignment: tuple[np.ndarray, np.ndarray]) -> None:
        codes, in_baseline = assignment
        target_name = self.schema["target_column"]
        target_dtype = "float64" if self.schema["problem_type"] == "regression" else "int64"
        for name, code in SPLIT_CODES.items():
            rows = np.flatnonzero(codes == code)
            if len(rows):
                columns = {target_name: pa.array(target[rows].astype(target_dtype))}
                columns.update({feature: pa.array(values[rows]) for feature, values in encoded.items()})
                self.splits[name].write(pa.Table.from_pydict(columns))
        test_rows = np.flatnonzero(codes == SPLIT_CODES["test"])
        if len(test_rows):
            options = pa_csv.WriteOptions(include_header=self.raw_test.tell() == 0)
            pa_csv.write_csv(raw_table(raw, test_rows), self.raw_test, write_options=options)
        if in_baseline.any():
            self.baseline.append(raw_rows(raw, np.flatnonzero(in_baseline)))

    def close(self) -> None:
        self.raw_test.close()
        for writer in self.splits.values():
            writer.close()

    def finish(self, baseline_parts: int) -> int:
        """Writes features.json and the baseline; returns the baseline's rows."""
        for name, writer in self.splits.items():
            if len(writer.paths) == 1:  # a sharded channel holds the shards alone
                (self.folder / name / feature_schema.FEATURES_FILE).write_text(json.dumps(self.schema, indent=2) + "\n")
        baseline = pd.concat(self.baseline, ignore_index=True)
        parts = ([self.folder / "baseline" / "baseline.csv"] if baseline_parts == 1 else
                 [self.folder / "baseline" / f"part-{i:05d}.csv" for i in range(baseline_parts)])
        for path, rows in zip(parts, np.array_split(np.arange(len(baseline)), baseline_parts), strict=True):
            write_csv(baseline.iloc[rows], path)
        return len(baseline)


def raw_rows(raw: dict[str, pd.Series], rows: np.ndarray) -> pd.DataFrame:
    return pd.concat([column.iloc[rows].reset_index(drop=True) for column in raw.values()], axis=1)


def raw_table(raw: dict[str, pd.Series], rows: np.ndarray) -> pa.Table:
    return pa.Table.from_pandas(raw_rows(raw, rows), preserve_index=False)


def count_placeholders(counts: dict[str, dict[str, int]], data: pd.DataFrame, kinds: dict[str, str]) -> None:
    """Add the placeholders (?, NA, -, blank, ...) read as missing in each numeric text column of a chunk."""
    for name, kind in kinds.items():
        if kind != "numeric" or pd.api.types.is_numeric_dtype(data[name].dtype):
            continue
        for value, n in feature_schema.placeholders(data[name]).items():
            counts.setdefault(name, {})[value] = counts.setdefault(name, {}).get(value, 0) + n


def write_splits(inputs: Inputs, outputs: Outputs, plan: row_split.SplitPlan, mapping: dict[str, int] | None,
                 vocabs: dict[str, list[str]]) -> None:
    """Pass 2: each chunk encoded and appended to its splits' files."""
    target_name, kinds = outputs.schema["target_column"], outputs.schema["feature_kinds"]
    position = 0
    for chunk in inputs.chunks():
        missing = chunk[target_name].isna().to_numpy()
        labelled = chunk.loc[~missing].reset_index(drop=True) if missing.any() else chunk
        assignment = plan.assign(position, position + len(labelled))
        position += len(labelled)
        target = labels.label_codes(labelled[target_name], mapping)
        encoded, raw = encode(labelled, kinds, vocabs)
        count_placeholders(outputs.placeholders, labelled, kinds)
        outputs.add(target, encoded, raw, assignment)


def placeholder_totals(counts: dict[str, dict[str, int]]) -> dict[str, int]:
    """Per column, the placeholders read as missing, logged."""
    totals: dict[str, int] = {}
    for name, found in counts.items():
        totals[name] = sum(found.values())
        shown = ", ".join(f"{value!r} x{n}" for value, n in sorted(found.items()))
        log(f"feature '{name}': {totals[name]} placeholder value(s) read as missing ({shown})")
    return totals


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
    if args.chunk_rows < 1:
        raise DataError(f"--chunk-rows must be positive, got {args.chunk_rows}")
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
    inputs, feature_names = open_input(args)
    tally = tally_input(inputs, args, feature_names)
    check_missing_target(tally, args.max_dropped_fraction)
    target = tally.target.target(args.positive_class)
    log(tally.target.describe(target))
    kinds = feature_kinds(tally)
    plan = plan_split(args, tally, target)
    schema: dict[str, Any] = {
        "schema_version": feature_schema.SCHEMA_VERSION,
        "target_column": args.target_column,
        "problem_type": args.problem_type,
        "feature_names": feature_names,
        "feature_kinds": kinds,
        "categorical_vocabularies": vocabularies(inputs, tally, kinds, plan),
        "label_mapping": target.mapping,
        "positive_class": target.positive_class,
        "row_counts": {"input": tally.rows, "dropped_missing_target": tally.target.missing, **plan.sizes},
        "missing_placeholders": {},  # numeric text column -> placeholders read as missing
        "split": {
            "seed": args.seed,
            "validation_fraction": args.validation_fraction,
            "test_fraction": args.test_fraction,
        },
    }
    output = sm_paths.processing("output")
    outputs = Outputs.open(output, schema, plan, args.train_shards)
    try:
        write_splits(inputs, outputs, plan, target.mapping, schema["categorical_vocabularies"])
    finally:
        outputs.close()
    schema["missing_placeholders"] = placeholder_totals(outputs.placeholders)
    baseline_rows = outputs.finish(args.baseline_parts)
    log(f"wrote train/validation/test Parquet, a {baseline_rows}-row baseline CSV and features.json "
        f"under {output}")
    log(f"preprocess done in {time.perf_counter() - started:.2f} s")
    return schema


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    return run_step(lambda: preprocess(args), "processing")


if __name__ == "__main__":
    sys.exit(main())
