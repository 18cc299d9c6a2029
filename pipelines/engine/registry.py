"""The local model registry: SQLite under .ml-factory/, persistent across runs.

Safe against two runs at once: every write is one IMMEDIATE transaction (version numbers are
allocated, and an unchanged model is looked for, inside it), and readers see committed state
only (WAL journal). Every status a version gets (at registration, then by approve or reject) is
appended to `status_history` with who (the OS user), when and why; triggers refuse to change or
delete a history row.
"""

from __future__ import annotations

import contextlib
import getpass
import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pipelines.engine.state import DEFAULT_STATE_DIR
from pipelines.lineage import model_identity
from pipelines.registry_model import PENDING, STATUSES, PackageVersion, RegistryError, StatusChange

SCHEMA = """
CREATE TABLE IF NOT EXISTS model_package_groups (
    name TEXT PRIMARY KEY,
    created TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS model_packages (
    group_name TEXT NOT NULL REFERENCES model_package_groups(name),
    version INTEGER NOT NULL,
    status TEXT NOT NULL,
    created TEXT NOT NULL,
    approval_description TEXT NOT NULL DEFAULT '',
    model_data_url TEXT NOT NULL DEFAULT '',
    model_metrics TEXT NOT NULL DEFAULT '{}',
    drift_check_baselines TEXT NOT NULL DEFAULT '{}',
    metadata TEXT NOT NULL DEFAULT '{}',
    description TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (group_name, version)
);
CREATE TABLE IF NOT EXISTS status_history (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    group_name TEXT NOT NULL,
    version INTEGER NOT NULL,
    status TEXT NOT NULL,
    who TEXT NOT NULL,
    changed TEXT NOT NULL,
    reason TEXT NOT NULL DEFAULT '',
    FOREIGN KEY (group_name, version) REFERENCES model_packages(group_name, version)
);
CREATE TRIGGER IF NOT EXISTS status_history_no_update BEFORE UPDATE ON status_history
BEGIN SELECT RAISE(ABORT, 'status_history is append-only'); END;
CREATE TRIGGER IF NOT EXISTS status_history_no_delete BEFORE DELETE ON status_history
BEGIN SELECT RAISE(ABORT, 'status_history is append-only'); END;
"""
# columns added after the first release, with their definitions: opened databases gain them
ADDED_COLUMNS = {"description": "TEXT NOT NULL DEFAULT ''"}
# `--demo` (make demo): a state folder, so a registry, and a model package group of its own, so
# approving a real model never turns the demo's drift check on against the real baseline
DEMO_STATE_DIR = DEFAULT_STATE_DIR / "demo"


def demo_group(project: str) -> str:
    return f"{project}-demo"


PACKAGE_COLUMNS = ("group_name, version, status, created, approval_description, model_data_url, model_metrics, "
                   "drift_check_baselines, metadata")


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def local_user() -> str:
    """Who changes a status locally: the OS user."""
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no USER/LOGNAME and no passwd entry (e.g. a bare container)
        return "unknown"


@dataclass(frozen=True)
class NewVersion:
    """What RegisterModel asks the registry to keep; `reason` goes into the first history entry."""

    status: str = PENDING
    model_data_url: str = ""
    model_metrics: dict[str, Any] = field(default_factory=dict)
    drift_check_baselines: dict[str, Any] = field(default_factory=dict)
    metadata: dict[str, str] = field(default_factory=dict)
    description: str = ""  # the package's ModelPackageDescription
    reason: str = "registered"


@dataclass(frozen=True)
class Registration:
    """The outcome of `add_version`: the version, and whether it was created now (False: an
    existing version of the same model was found instead)."""

    version: PackageVersion
    created: bool


class LocalRegistry:
    """Model package groups and versions in one SQLite file."""

    def __init__(self, path: Path, region: str = "local", account_id: str = "000000000000"):
        self.path = Path(path)
        self.region = region
        self.account_id = account_id
        self.where = f"the local registry ({self.path})"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as db:
            db.executescript(SCHEMA)
            present = {row[1] for row in db.execute("PRAGMA table_info(model_packages)")}
            for column, spec in ADDED_COLUMNS.items():
                if column not in present:
                    with contextlib.suppress(sqlite3.OperationalError):  # another process added it first
                        db.execute(f"ALTER TABLE model_packages ADD COLUMN {column} {spec}")

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA foreign_keys=ON")
            yield db
        finally:
            db.close()

    def arn(self, group: str, version: int) -> str:
        return f"arn:aws:sagemaker:{self.region}:{self.account_id}:model-package/{group}/{version}"

    def _row_to_version(self, row: tuple[Any, ...]) -> PackageVersion:
        group, version, status, created, description, model_data, metrics, baselines, metadata = row
        return PackageVersion(
            group=group, version=version, arn=self.arn(group, version), status=status, created=created,
            approval_description=description, model_data_url=model_data, model_metrics=json.loads(metrics),
            drift_check_baselines=json.loads(baselines), metadata=json.loads(metadata),
        )

    def _versions(self, db: sqlite3.Connection, group: str) -> list[PackageVersion]:
        rows = db.execute(f"SELECT {PACKAGE_COLUMNS} FROM model_packages WHERE group_name = ? ORDER BY version DESC",
                          (group,)).fetchall()
        return [self._row_to_version(row) for row in rows]

    def list_versions(self, group: str) -> list[PackageVersion]:
        with self._connect() as db:
            return self._versions(db, group)

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One IMMEDIATE transaction: committed when the block ends, rolled back when it raises."""
        with self._connect() as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise

    def register(self, group: str, **new_version: Any) -> PackageVersion:
        """Create the next version in `group` (creating the group on first use), atomically; keyword
        arguments are the fields of `NewVersion`. The approval reason (ApprovalDescription) starts
        empty and is set by `set_status`."""
        return self.add_version(group, NewVersion(**new_version)).version

    def add_version(self, group: str, new: NewVersion, *, unless_same_model: bool = False) -> Registration:
        """Create the next version in `group`; with `unless_same_model`, return the newest version whose
        data, code and config hashes equal `new.metadata`'s instead (in the same transaction, so two
        runs of one model at once register it once)."""
        if new.status not in STATUSES:
            raise RegistryError(f"ModelApprovalStatus {new.status!r} is not one of {', '.join(STATUSES)}")
        identity = model_identity(new.metadata) if unless_same_model else None
        with self._write() as db:
            existing = self._versions(db, group)
            same = next((v for v in existing if identity and model_identity(v.metadata) == identity), None)
            if same is not None:
                return Registration(same, created=False)
            db.execute("INSERT OR IGNORE INTO model_package_groups (name, created) VALUES (?, ?)", (group, _now()))
            version = max((v.version for v in existing), default=0) + 1
            now = _now()
            db.execute(
                "INSERT INTO model_packages (group_name, version, status, created, approval_description, "
                "model_data_url, model_metrics, drift_check_baselines, metadata, description) "
                "VALUES (?,?,?,?,?,?,?,?,?,?)",
                (group, version, new.status, now, "", new.model_data_url,
                 json.dumps(new.model_metrics, sort_keys=True), json.dumps(new.drift_check_baselines, sort_keys=True),
                 json.dumps(new.metadata, sort_keys=True), new.description))
            self._append_history(db, group, version, StatusChange(now, new.status, local_user(), new.reason))
            added = self._versions(db, group)[0]
        return Registration(added, created=True)

    @staticmethod
    def _append_history(db: sqlite3.Connection, group: str, version: int, change: StatusChange) -> None:
        db.execute("INSERT INTO status_history (group_name, version, status, who, changed, reason) "
                   "VALUES (?,?,?,?,?,?)", (group, version, change.status, change.who, change.when, change.reason))

    def add_metadata(self, group: str, version: int, entries: dict[str, str]) -> None:
        """Merge `entries` into one version's metadata (e.g. the MLflow run that logged it)."""
        with self._write() as db:
            row = db.execute("SELECT metadata FROM model_packages WHERE group_name = ? AND version = ?",
                             (group, version)).fetchone()
            if row is None:
                raise RegistryError(f"model package group {group!r} has no version {version} in {self.where}")
            merged = {**json.loads(row[0]), **entries}
            db.execute("UPDATE model_packages SET metadata = ? WHERE group_name = ? AND version = ?",
                       (json.dumps(merged, sort_keys=True), group, version))

    def description(self, group: str, version: int) -> str:
        """The ModelPackageDescription of one version ('' when it has none)."""
        with self._connect() as db:
            row = db.execute("SELECT description FROM model_packages WHERE group_name = ? AND version = ?",
                             (group, version)).fetchone()
        return row[0] if row else ""

    def set_status(self, package: PackageVersion, status: str, reason: str) -> PackageVersion:
        group, version = package.group, package.version
        with self._write() as db:
            changed = db.execute(
                "UPDATE model_packages SET status = ?, approval_description = ? WHERE group_name = ? AND version = ?",
                (status, reason, group, version)).rowcount
            if not changed:
                raise RegistryError(f"model package group {group!r} has no version {version} in {self.where}")
            self._append_history(db, group, version, StatusChange(_now(), status, local_user(), reason))
        return next(v for v in self.list_versions(group) if v.version == version)

    def history(self, package: PackageVersion) -> list[StatusChange]:
        with self._connect() as db:
            rows = db.execute("SELECT changed, status, who, reason FROM status_history "
                              "WHERE group_name = ? AND version = ? ORDER BY id", (package.group, package.version))
            return [StatusChange(*row) for row in rows.fetchall()]
