"""The local model registry: SQLite under .ml-factory/, persistent across runs.

Safe against two runs at once: every write is one IMMEDIATE transaction (version numbers are
allocated inside it), and readers see committed state only (WAL journal).
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pipelines.registry_model import PENDING, STATUSES, PackageVersion, RegistryError

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
"""
# columns added after the first release, with their definitions: opened databases gain them
ADDED_COLUMNS = {"description": "TEXT NOT NULL DEFAULT ''"}


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


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

    def list_versions(self, group: str) -> list[PackageVersion]:
        with self._connect() as db:
            rows = db.execute(
                "SELECT group_name, version, status, created, approval_description, model_data_url, "
                "model_metrics, drift_check_baselines, metadata FROM model_packages "
                "WHERE group_name = ? ORDER BY version DESC", (group,)).fetchall()
        return [self._row_to_version(row) for row in rows]

    # keyword-only, all defaulted: the fields of a CreateModelPackage request, as callers name them
    def register(self, group: str, *, status: str = PENDING, model_data_url: str = "",  # noqa: PLR0913
                 model_metrics: dict[str, Any] | None = None, drift_check_baselines: dict[str, Any] | None = None,
                 metadata: dict[str, str] | None = None, description: str = "") -> PackageVersion:
        """Create the next version in `group` (creating the group on first use), atomically.

        `description` is the package's ModelPackageDescription; the approval reason
        (ApprovalDescription) starts empty and is set by `set_status`.
        """
        if status not in STATUSES:
            raise RegistryError(f"ModelApprovalStatus {status!r} is not one of {', '.join(STATUSES)}")
        with self._connect() as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                db.execute("INSERT OR IGNORE INTO model_package_groups (name, created) VALUES (?, ?)", (group, _now()))
                (latest,) = db.execute("SELECT COALESCE(MAX(version), 0) FROM model_packages WHERE group_name = ?",
                                       (group,)).fetchone()
                version = latest + 1
                db.execute(
                    "INSERT INTO model_packages (group_name, version, status, created, approval_description, "
                    "model_data_url, model_metrics, drift_check_baselines, metadata, description) "
                    "VALUES (?,?,?,?,?,?,?,?,?,?)",
                    (group, version, status, _now(), "", model_data_url,
                     json.dumps(model_metrics or {}, sort_keys=True),
                     json.dumps(drift_check_baselines or {}, sort_keys=True),
                     json.dumps(metadata or {}, sort_keys=True), description))
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
        return next(v for v in self.list_versions(group) if v.version == version)

    def description(self, group: str, version: int) -> str:
        """The ModelPackageDescription of one version ('' when it has none)."""
        with self._connect() as db:
            row = db.execute("SELECT description FROM model_packages WHERE group_name = ? AND version = ?",
                             (group, version)).fetchone()
        return row[0] if row else ""

    def set_status(self, package: PackageVersion, status: str, reason: str) -> PackageVersion:
        group, version = package.group, package.version
        with self._connect() as db:
            changed = db.execute(
                "UPDATE model_packages SET status = ?, approval_description = ? WHERE group_name = ? AND version = ?",
                (status, reason, group, version)).rowcount
        if not changed:
            raise RegistryError(f"model package group {group!r} has no version {version} in {self.where}")
        return next(v for v in self.list_versions(group) if v.version == version)
