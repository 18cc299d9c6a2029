"""Reading a dataset in bounded chunks: CSV (pandas' chunked reader) and Parquet (Arrow record batches).

The data-quality statistics and the drift check never hold a whole dataset: they consume
``iter_chunks(path)``, one DataFrame of at most ``chunk_rows`` rows at a time, so memory depends on
the chunk size and the number of columns, not on the row count. A sharded job passes its own
files (``dataset_files`` of its shard) and merges the accumulators afterwards.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from stats_accumulators import Chunk
from step_report import DataError

SUFFIXES = (".csv", ".csv.gz", ".parquet")
CHUNK_ROWS = 65_536


def dataset_files(path: Path) -> list[Path]:
    """A data file, or every .csv/.csv.gz/.parquet file under a directory in a stable order."""
    path = Path(path)
    if path.is_file():
        return [path]
    if not path.is_dir():
        raise DataError(f"dataset {path} does not exist; pass a CSV/Parquet file or a directory of them")
    files = sorted(
        (p for p in path.rglob("*") if p.is_file() and p.name.lower().endswith(SUFFIXES) and p.name[0] != "."),
        key=lambda p: p.relative_to(path).as_posix(),
    )
    if not files:
        raise DataError(f"no .csv, .csv.gz or .parquet files under {path}")
    return files


def parquet_ranges(files: Iterable[Path]) -> dict[str, tuple[float, float]]:
    """Each numeric Parquet column's [min, max] as the files' footers state it (row-group statistics, which
    leave out NaN and nulls), where every row group with values states it. Only a guess that lets the
    statistics take one pass: stats_accumulators checks it against the data's own min and max, so a missing,
    stale or wrong footer costs a second pass, never a wrong result. CSV files state nothing."""
    bounds: dict[str, tuple[float, float]] = {}
    unstated: set[str] = set()
    for file in files:
        if not Path(file).name.lower().endswith(".parquet"):
            continue
        try:
            metadata = pq.ParquetFile(file).metadata
            schema = metadata.schema.to_arrow_schema()
        except (OSError, pa.ArrowException):
            continue  # reading the data reports it
        for index, field in enumerate(schema):
            numeric = pa.types.is_integer(field.type) or field.type in (pa.float32(), pa.float64())
            stated = _stated_range(metadata, index, field.name) if numeric else None
            if stated is None:
                unstated.add(field.name)
            elif stated != ():
                low, high = bounds.get(field.name, stated)
                bounds[field.name] = (min(low, stated[0]), max(high, stated[1]))
    return {name: bounds[name] for name in bounds if name not in unstated}


class FrameRanges:
    """Each numeric column's [min, max] over DataFrame chunks as they go by (a parse that keeps its chunks, such as
    the drift job's spool, knows them before the statistics read the chunks again): finite numbers only, and
    no range for a column that is text in any chunk."""

    def __init__(self) -> None:
        self.bounds: dict[str, tuple[float, float]] = {}
        self.unstated: set[str] = set()

    def add(self, frame: pd.DataFrame) -> None:
        for name, series in frame.items():
            name = str(name)
            dtype = series.dtype
            if not (pd.api.types.is_bool_dtype(dtype) or (pd.api.types.is_numeric_dtype(dtype)
                                                          and not pd.api.types.is_complex_dtype(dtype))):
                self.unstated.add(name)
                continue
            values = series.to_numpy(dtype="float64", na_value=np.nan)
            finite = values[np.isfinite(values)]
            if len(finite):
                low, high = float(finite.min()), float(finite.max())
                known = self.bounds.get(name, (low, high))
                self.bounds[name] = (min(known[0], low), max(known[1], high))

    @property
    def ranges(self) -> dict[str, tuple[float, float]]:
        return {name: bounds for name, bounds in self.bounds.items() if name not in self.unstated}


def _stated_range(metadata: pq.FileMetaData, index: int, name: str) -> tuple[float, ...] | None:
    """A column's [min, max] over a file's row groups; () when it holds no values; None when not stated."""
    lows, highs = [], []
    for group in range(metadata.num_row_groups):
        column = metadata.row_group(group).column(index)
        statistics = column.statistics
        if column.path_in_schema != name or statistics is None:
            return None
        if statistics.has_null_count and statistics.null_count == metadata.row_group(group).num_rows:
            continue
        if not statistics.has_min_max:
            return None
        lows.append(float(statistics.min))
        highs.append(float(statistics.max))
    if not lows:
        return ()
    low, high = min(lows), max(highs)
    return (low, high) if math.isfinite(low) and math.isfinite(high) else None


def _parquet_chunks(file: Path, chunk_rows: int) -> Iterator[pa.RecordBatch]:
    # Arrow batches, not DataFrames: the accumulators read Arrow columns without a pandas conversion,
    # and text columns come back dictionary-encoded, so they are counted by index, not by string
    schema = pq.read_schema(file)
    text = [f.name for f in schema if pa.types.is_string(f.type) or pa.types.is_large_string(f.type)]
    reader = pq.ParquetFile(file, read_dictionary=text)
    if reader.metadata.num_rows == 0:
        yield pa.RecordBatch.from_pylist([], schema=reader.schema_arrow)
        return
    yield from reader.iter_batches(batch_size=chunk_rows, use_threads=False)


def _csv_chunks(file: Path, chunk_rows: int, header: bool, names: list[str] | None) -> Iterator[pd.DataFrame]:
    options = {"chunksize": chunk_rows, "low_memory": False}
    if header:
        yield from pd.read_csv(file, **options)
        return
    for chunk in pd.read_csv(file, header=None, **options):
        width = chunk.shape[1]
        chunk.columns = list(names) if names and len(names) == width else [f"_c{i}" for i in range(width)]
        yield chunk


def _file_chunks(file: Path, chunk_rows: int, header: bool, names: list[str] | None) -> Iterator[Chunk]:
    try:
        if file.name.lower().endswith(".parquet"):
            yield from _parquet_chunks(file, chunk_rows)
        else:
            yield from _csv_chunks(file, chunk_rows, header, names)
    except pd.errors.EmptyDataError as err:
        raise DataError(f"dataset file {file} is empty; remove it or replace it with data") from err
    except (ValueError, OSError, pd.errors.ParserError, pa.ArrowException) as err:
        first = (str(err).splitlines() or [type(err).__name__])[0]
        raise DataError(f"cannot read dataset file {file}: {first}") from err


def iter_chunks(
    path: Path, chunk_rows: int | None = None, header: bool = True, names: list[str] | None = None
) -> Iterator[Chunk]:
    """The rows of a dataset file or directory in chunks of at most ``chunk_rows`` (CHUNK_ROWS) rows:
    Arrow record batches from Parquet, DataFrames (string column names) from CSV; every accumulator
    takes either.

    Headerless CSV columns get ``names`` (when the count matches) or _c0, _c1, ... A dataset whose
    files hold no column at all is refused.
    """
    chunk_rows = chunk_rows or CHUNK_ROWS
    seen_columns = False
    for file in dataset_files(Path(path)):
        for chunk in _file_chunks(file, chunk_rows, header, names):
            if isinstance(chunk, pd.DataFrame):
                chunk.columns = [str(c) for c in chunk.columns]
            seen_columns = seen_columns or chunk.shape[1] > 0
            yield chunk
    if not seen_columns:
        raise DataError(f"dataset {path} has no columns")
