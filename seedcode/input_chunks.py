"""The Preprocess step's input, read a chunk of rows at a time.

Every .csv, .csv.gz and .parquet file under the input folder (subfolders included, hidden ones skipped,
same columns in each); Hive-style folders such as ``year=2024/`` add their ``year`` column, as Spark and
Athena read them. Headers are checked for every file before any row is read; rows then come as pandas
frames of at most ``chunk_rows`` rows (Parquet record batches, CSV blocks), in the first file's column
order, so memory is bounded by the chunk, not the table. A file is named in messages by its path inside
the input folder (the S3 prefix).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq

from step_report import DataError

SUFFIXES = (".csv", ".csv.gz", ".parquet")
CHUNK_ROWS = 1 << 18  # 262,144 rows: about 60-120 MB of pandas frame at 30 features


@dataclass(frozen=True)
class InputFile:
    """One data file: its path, its name inside the input folder, and its columns (partitions included)."""

    path: Path
    name: str
    file_columns: list[str]
    partitions: dict[str, str] = field(default_factory=dict)

    @property
    def columns(self) -> list[str]:
        return self.file_columns + [key for key in self.partitions if key not in self.file_columns]


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


def partition_columns(name: str) -> dict[str, str]:
    """Hive-style folder names on the way to a file: 'year=2024/month=01/part-0.parquet' -> year, month."""
    folders = Path(name).parts[:-1]
    return dict(part.split("=", 1) for part in folders if "=" in part and not part.startswith("="))


def _read_error(err: Exception, path: Path, name: str) -> DataError:
    if isinstance(err, pd.errors.EmptyDataError):
        return DataError(f"input file '{name}' is empty; remove it or replace it with data")
    first = str(err).splitlines()[0].replace(str(path), name) if str(err) else type(err).__name__
    return DataError(f"cannot read input file '{name}': {first}; check that it is valid CSV or Parquet")


READ_ERRORS = (ValueError, OSError, pd.errors.ParserError, pd.errors.EmptyDataError)


def _header(path: Path, name: str) -> list[str]:
    """The file's column names as written (pandas would rename a repeated `age` to `age.1` without a word)."""
    try:
        if path.name.lower().endswith(".parquet"):
            schema = pq.ParquetFile(path).schema_arrow
            index = {c for c in (schema.pandas_metadata or {}).get("index_columns", []) if isinstance(c, str)}
            return [str(column) for column in schema.names if column not in index]
        return [str(v) for v in pd.read_csv(path, header=None, nrows=1, dtype=str, keep_default_na=False).iloc[0]]
    except READ_ERRORS as err:
        raise _read_error(err, path, name) from err


def open_inputs(directory: Path) -> list[InputFile]:
    """Every input file with its header checked: no repeated column, the same columns as the first file."""
    files: list[InputFile] = []
    for path in input_files(directory):
        name = path.relative_to(directory).as_posix()
        header = _header(path, name)
        repeated = sorted({column for column in header if header.count(column) > 1})
        if repeated:
            shown = ", ".join(f"'{column}' ({header.count(column)} times)" for column in repeated)
            raise DataError(f"input file '{name}' repeats column name(s) {shown}; give every column a unique name")
        files.append(InputFile(path, name, header, partition_columns(name)))
        if set(files[-1].columns) != set(files[0].columns):
            missing = sorted(set(files[0].columns) - set(files[-1].columns))
            extra = sorted(set(files[-1].columns) - set(files[0].columns))
            raise DataError(
                f"input file '{name}' has different columns than '{files[0].name}' (missing: "
                f"{', '.join(missing) or '-'}; extra: {', '.join(extra) or '-'}); all input files must share the "
                "same columns"
            )
    return files


def _raw_chunks(source: InputFile, chunk_rows: int, columns: list[str] | None) -> Iterator[pd.DataFrame]:
    own = None if columns is None else [c for c in source.file_columns if c in columns]  # in file order
    if source.path.name.lower().endswith(".parquet"):
        for batch in pq.ParquetFile(source.path).iter_batches(batch_size=chunk_rows, columns=own):
            yield batch.to_pandas()
        return
    positions = None if own is None else [source.file_columns.index(c) for c in own]
    with pd.read_csv(source.path, chunksize=chunk_rows, usecols=positions, low_memory=False) as reader:
        for frame in reader:
            names = own if own is not None else source.file_columns
            if len(names) == frame.shape[1]:
                frame.columns = names
            yield frame


def read_chunks(source: InputFile, order: list[str], chunk_rows: int = CHUNK_ROWS,
                columns: list[str] | None = None) -> Iterator[pd.DataFrame]:
    """The file's rows, ``chunk_rows`` at a time, with its partition columns, in ``order`` (the first file's
    columns; ``columns``: only these) and a fresh 0-based index."""
    wanted = order if columns is None else [c for c in order if c in columns]
    chunks = _raw_chunks(source, chunk_rows, columns)
    while True:
        try:
            frame = next(chunks)
        except StopIteration:
            return
        except READ_ERRORS as err:
            raise _read_error(err, source.path, source.name) from err
        frame.index = pd.RangeIndex(len(frame))
        for key, value in source.partitions.items():
            if key not in frame.columns and key in wanted:
                frame[key] = pd.Series([value] * len(frame), dtype=object)
        yield frame if list(frame.columns) == wanted else frame[wanted]
