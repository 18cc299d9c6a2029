"""What a run puts into the local object store before it starts: the step code and the input data.

Code goes where the cloud run uploads it (`s3://<artifact-bucket>/<project>/code/<digest>/`).
Data gets a content-addressed key, so changed data means a new InputDataUri and so new cache
keys: `--data FILE` is hard-linked (copied across file systems) under its SHA-256; generated
sample data is written once per (rows, seed, problem type, target, generator code).
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
from pathlib import Path

from pipelines.code_bundle import CodeBundle
from pipelines.config import Config
from pipelines.engine.store import ObjectStore
from pipelines.errors import UserError

DATA_SUFFIXES = (".csv", ".csv.gz", ".parquet")
SAMPLE_FILE = "churn.parquet"
SAMPLE_GENERATOR = Path(__file__).resolve().parent.parent / "sample_data.py"  # read, not imported: numpy is slow


class InputDataError(UserError):
    """--data or --rows cannot be used; the message says why."""


def check_data_file(path: Path) -> Path:
    """The --data file, checked before anything runs."""
    path = Path(path).expanduser()
    if not path.exists():
        raise InputDataError(f"--data {path}: no such file")
    if not path.is_file():
        raise InputDataError(f"--data {path} is not a file; pass one CSV or Parquet file")
    if not path.name.lower().endswith(DATA_SUFFIXES):
        raise InputDataError(f"--data {path}: use a .csv, .csv.gz or .parquet file")
    return path.resolve()


def stage_code(store: ObjectStore, bundle: CodeBundle, bucket: str, project: str) -> int:
    """Write the bundle where the definition's code URIs point, unless it is there; returns objects written."""
    if store.is_object(bundle.tarball_uri(bucket, project)):
        return 0
    objects = bundle.objects(bucket, project)
    for uri, data in objects:
        store.put_bytes(uri, data)
    return len(objects)


class DigestMemo:
    """SHA-256 of input files, remembered by (path, size, mtime, inode) so a rerun does not re-read 1 GB."""

    def __init__(self, path: Path):
        self.path = Path(path)
        with self._connect() as db:
            db.execute("CREATE TABLE IF NOT EXISTS file_digests (path TEXT PRIMARY KEY, size INTEGER, "
                       "mtime_ns INTEGER, inode INTEGER, digest TEXT)")

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        db.execute("PRAGMA journal_mode=WAL")
        return db

    def digest(self, file: Path) -> str:
        stat = file.stat()
        identity = (str(file), stat.st_size, stat.st_mtime_ns, stat.st_ino)
        db = self._connect()
        try:
            row = db.execute("SELECT digest FROM file_digests WHERE path = ? AND size = ? AND mtime_ns = ? "
                             "AND inode = ?", identity).fetchone()
            if row:
                return row[0]
            with open(file, "rb") as handle:
                digest = hashlib.file_digest(handle, "sha256").hexdigest()
            db.execute("INSERT OR REPLACE INTO file_digests VALUES (?,?,?,?,?)", (*identity, digest))
            return digest
        finally:
            db.close()


def stage_data_file(store: ObjectStore, memo: DigestMemo, file: Path, bucket: str, project: str) -> str:
    """Put --data into the store under its content digest; returns the InputDataUri (a prefix)."""
    digest = memo.digest(file)
    prefix = f"s3://{bucket}/{project}/input/sha256-{digest[:16]}/"
    target = store.path(prefix + file.name)
    if not _holds(target, file, digest, memo):
        store.put_file(prefix + file.name, file)
    return prefix


def _holds(target: Path, file: Path, digest: str, memo: DigestMemo) -> bool:
    """The stored object is `file` itself (a hard link) or a copy with the same content."""
    if not target.is_file():
        return False
    if os.path.samefile(target, file):
        return True
    return target.stat().st_size == file.stat().st_size and memo.digest(target) == digest


def sample_data_uri(bucket: str, config: Config, rows: int) -> str:
    """Where the sample data of these settings lives: one object per generator version, rows, seed, target."""
    generator = hashlib.sha256(SAMPLE_GENERATOR.read_bytes()).hexdigest()[:8]
    safe_target = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in config.target_column)
    return (f"s3://{bucket}/{config.project}/input/sample-{rows}rows-seed{config.seed}-{config.problem_type}-"
            f"{safe_target}-{generator}/")


def stage_sample_data(store: ObjectStore, bucket: str, config: Config, rows: int) -> tuple[str, bool]:
    """Generated churn data as Parquet in the store, made once per settings; (InputDataUri, generated now)."""
    if rows < 1:
        raise InputDataError(f"--rows must be at least 1, got {rows}")
    prefix = sample_data_uri(bucket, config, rows)
    if store.is_object(prefix + SAMPLE_FILE):
        return prefix, False
    from pipelines.sample_data import make_churn_dataset

    frame = make_churn_dataset(rows, seed=config.seed, problem_type=config.problem_type,
                               target_column=config.target_column)
    path = store.path(prefix + SAMPLE_FILE)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.parent / f".{SAMPLE_FILE}.{os.getpid()}.tmp"
    frame.to_parquet(temporary, index=False)
    os.replace(temporary, path)
    return prefix, True
