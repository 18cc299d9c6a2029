"""The local registry keeps what RegisterModel sends, apart from the approval reason, keeps every
status change, registers one model once, and opens registries written before it kept package
descriptions or histories."""

from __future__ import annotations

import getpass
import sqlite3
import threading
from datetime import datetime, timedelta

import pytest

from pipelines.engine.registry import LocalRegistry, NewVersion
from pipelines.lineage import KEY_CODE_DIGEST, KEY_CONFIG_HASH, KEY_DATA_HASH
from pipelines.registry_model import APPROVED, PENDING, REJECTED

OLD_SCHEMA = """
CREATE TABLE model_package_groups (name TEXT PRIMARY KEY, created TEXT NOT NULL);
CREATE TABLE model_packages (
    group_name TEXT NOT NULL REFERENCES model_package_groups(name), version INTEGER NOT NULL,
    status TEXT NOT NULL, created TEXT NOT NULL, approval_description TEXT NOT NULL DEFAULT '',
    model_data_url TEXT NOT NULL DEFAULT '', model_metrics TEXT NOT NULL DEFAULT '{}',
    drift_check_baselines TEXT NOT NULL DEFAULT '{}', metadata TEXT NOT NULL DEFAULT '{}',
    PRIMARY KEY (group_name, version));
INSERT INTO model_package_groups VALUES ('g', '2025-01-01');
INSERT INTO model_packages (group_name, version, status, created) VALUES ('g', 1, 'Approved', '2025-01-01');
"""


def test_description_is_not_the_approval_reason(tmp_path):
    registry = LocalRegistry(tmp_path / "registry.db")
    version = registry.register("g", model_data_url="s3://b/model.tar.gz", metadata={"primary_metric": "auc=0.9"},
                                description="XGBoost churn model")
    assert (version.version, version.status, version.approval_description) == (1, PENDING, "")
    assert registry.description("g", 1) == "XGBoost churn model"
    approved = registry.set_status(version, APPROVED, "looks good")
    assert approved.approval_description == "looks good"
    assert registry.description("g", 1) == "XGBoost churn model"


def test_registry_from_before_descriptions_still_opens(tmp_path):
    path = tmp_path / "registry.db"
    with sqlite3.connect(path) as db:
        db.executescript(OLD_SCHEMA)
    registry = LocalRegistry(path)
    assert [(v.version, v.status) for v in registry.list_versions("g")] == [(1, APPROVED)]
    assert registry.register("g", description="second").version == 2
    assert registry.description("g", 1) == ""
    assert registry.history(registry.list_versions("g")[1]) == []  # changed before the history was kept


def test_concurrent_registrations_get_distinct_versions(tmp_path):
    path = tmp_path / "registry.db"
    LocalRegistry(path)
    found: list[int] = []

    def register() -> None:
        for _ in range(5):
            found.append(LocalRegistry(path).register("g").version)

    threads = [threading.Thread(target=register) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(found) == list(range(1, 21))


IDENTITY = {KEY_DATA_HASH: "sha256:aa", KEY_CODE_DIGEST: "c0de", KEY_CONFIG_HASH: "sha256:cf"}


def test_history_keeps_every_change_with_who_when_and_why(tmp_path):
    registry = LocalRegistry(tmp_path / "registry.db")
    version = registry.add_version("g", NewVersion(reason="registered by pipeline execution e1")).version
    registry.set_status(version, APPROVED, "beats prod")
    registry.set_status(version, APPROVED, "re-checked on fresh data")
    registry.set_status(version, REJECTED, "leaks the label")
    history = registry.history(version)
    assert [(c.status, c.reason) for c in history] == [
        (PENDING, "registered by pipeline execution e1"), (APPROVED, "beats prod"),
        (APPROVED, "re-checked on fresh data"), (REJECTED, "leaks the label")]
    assert {c.who for c in history} == {getpass.getuser()}
    moments = [datetime.fromisoformat(c.when) for c in history]
    assert moments == sorted(moments) and all(m.utcoffset() == timedelta(0) for m in moments)
    assert registry.list_versions("g")[0].status == REJECTED  # the current status is the last one


def test_history_rows_cannot_be_changed_or_deleted(tmp_path):
    path = tmp_path / "registry.db"
    registry = LocalRegistry(path)
    registry.set_status(registry.register("g"), APPROVED, "ok")
    with sqlite3.connect(path) as db:
        for statement in ("UPDATE status_history SET reason = 'other'", "DELETE FROM status_history"):
            with pytest.raises(sqlite3.DatabaseError, match="append-only"):
                db.execute(statement)
    assert [c.reason for c in registry.history(registry.list_versions("g")[0])] == ["registered", "ok"]


def test_same_data_code_and_config_is_not_registered_again(tmp_path):
    registry = LocalRegistry(tmp_path / "registry.db")
    first = registry.add_version("g", NewVersion(metadata={**IDENTITY, "execution_id": "e1"}), unless_same_model=True)
    again = registry.add_version("g", NewVersion(metadata={**IDENTITY, "execution_id": "e2"}), unless_same_model=True)
    assert (first.created, again.created) == (True, False)
    assert again.version == first.version and again.version.metadata["execution_id"] == "e1"
    changed = registry.add_version("g", NewVersion(metadata={**IDENTITY, KEY_DATA_HASH: "sha256:bb"}),
                                   unless_same_model=True)
    assert changed.created and changed.version.version == 2
    # without all three hashes nothing identifies a model: every run registers
    unknown = {**IDENTITY, KEY_CONFIG_HASH: "unknown"}
    assert registry.add_version("g", NewVersion(metadata=unknown), unless_same_model=True).created
    assert registry.add_version("g", NewVersion(metadata=unknown), unless_same_model=True).created
    assert len(registry.list_versions("g")) == 4


def test_concurrent_registrations_of_one_model_keep_one_version(tmp_path):
    path = tmp_path / "registry.db"
    LocalRegistry(path)
    created: list[bool] = []

    def register() -> None:
        for _ in range(3):
            new = NewVersion(metadata=IDENTITY)
            created.append(LocalRegistry(path).add_version("g", new, unless_same_model=True).created)

    threads = [threading.Thread(target=register) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(created) == [False] * 11 + [True]
    assert [v.version for v in LocalRegistry(path).list_versions("g")] == [1]
