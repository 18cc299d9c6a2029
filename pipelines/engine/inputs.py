"""What a run puts into the local object store before it starts: the step code and the input data.

Code goes where the cloud run uploads it (`s3://<artifact-bucket>/<project>/code/<digest>/`).
Data gets a content-addressed key, so changed data means a new InputDataUri and so new cache
keys: `--data FILE` is hard-linked (copied across file systems) under its SHA-256, `--data FOLDER`
(partitioned CSV or Parquet files, e.g. `year=2024/month=01/part-0.parquet`) file by file under
the lineage's data hash, keeping the folder layout; generated sample data is written once per
(rows, seed, problem type, target, generator code). A step's message about a staged file is put
back in the user's terms by `name_user_files`.
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
from pipelines.lineage import DATA_SUFFIXES, data_files, data_hash

SAMPLE_FILE = "churn.parquet"
SAMPLE_GENERATOR = Path(__file__).resolve().parent.parent / "sample_data.py"  # read, not imported: numpy is slow


class InputDataError(UserError):
    """--data or --rows cannot be used; the message says why."""


def check_data_file(path: Path) -> Path:
    """The --data file or folder, checked before anything runs."""
    path = Path(path).expanduser()
    if not path.exists():
        raise InputDataError(f"--data {path}: no such file")
    if path.is_dir():
        if not data_files(path):
            raise InputDataError(f"--data {path}: the folder holds no .csv, .csv.gz or .parquet files (hidden "
                                 "folders skipped); pass a data file or a folder of them")
        return path.resolve()
    if not path.is_file():
        raise InputDataError(f"--data {path} is neither a file nor a folder; pass a CSV or Parquet file or a "
                             "folder of them")
    if not path.name.lower().endswith(DATA_SUFFIXES):
        raise InputDataError(f"--data {path}: use a .csv, .csv.gz or .parquet file, or a folder of them")
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


def stage_data(store: ObjectStore, memo: DigestMemo, data: Path, bucket: str, project: str) -> str:
    """Put --data (a file, or a folder's data files at their relative paths) into the store under its
    content hash; returns the InputDataUri (a prefix)."""
    files = data_files(data)
    digest = data_hash(files, memo.digest).removeprefix("sha256:")  # one file: that file's SHA-256
    prefix = f"s3://{bucket}/{project}/input/sha256-{digest[:16]}/"
    for relative, file in files:
        if not _holds(store.path(prefix + relative), file, memo):
            store.put_file(prefix + relative, file)
    return prefix


def _holds(target: Path, file: Path, memo: DigestMemo) -> bool:
    """The stored object is `file` itself (a hard link) or a copy with the same content."""
    if not target.is_file():
        return False
    if os.path.samefile(target, file):
        return True
    return target.stat().st_size == file.stat().st_size and memo.digest(target) == memo.digest(file)


def name_user_files(message: str, data: Path, uri: str, store: ObjectStore) -> str:
    """A step's message with the staged copy of --data named as the user's path: Preprocess names a
    file by its path inside the input folder in quotes ('part-0.csv'); the store's copy and its URI
    may appear too."""
    user_file = {relative: data if data.is_file() else data / relative for relative, _ in data_files(data)}
    folder = data.parent if data.is_file() else data
    names = {f"'{relative}'": f"'{path}'" for relative, path in user_file.items()}
    names |= {str(store.path(uri)): str(folder), uri.rstrip("/"): str(folder)}
    for staged in sorted(names, key=len, reverse=True):  # the longest first: a URI holds shorter names
        message = message.replace(staged, names[staged])
    return message


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
