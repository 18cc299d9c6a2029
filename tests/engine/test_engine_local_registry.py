"""The local registry keeps what RegisterModel sends, apart from the approval reason, and opens
registries written before it kept package descriptions."""

from __future__ import annotations

import sqlite3
import threading

from pipelines.engine.registry import LocalRegistry
from pipelines.registry_model import APPROVED, PENDING

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
