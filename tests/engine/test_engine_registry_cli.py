"""`python -m pipelines.registry --local` as users type it: options on either side of the command,
a history with who, when and why, the lineage of a version, rounded metrics, and clear errors
for a state folder that is not there."""

from __future__ import annotations

import getpass
import json

import pytest
from local_project import small_config, write_project

from pipelines.engine.registry import LocalRegistry, NewVersion
from pipelines.errors import run_cli
from pipelines.registry import format_metric, main

LINEAGE = {"execution_id": "abc123def456", "data_uri": "s3://local-data/in/", "data_hash": "sha256:feed",
           "target": "churned", "config_hash": "sha256:c0f1", "code_digest": "0123456789abcdef",
           "git_commit": "unknown", "primary_metric": "auc=0.871234567"}


@pytest.fixture
def local(tmp_path, team_config):
    """A project folder whose local registry holds version 1 of the project's dev group."""
    pyproject = write_project(tmp_path / "project", small_config(team_config))
    state = tmp_path / "project" / ".ml-factory"
    group = f"{team_config['project']}-dev"
    LocalRegistry(state / "registry.db").add_version(group, NewVersion(
        metadata=LINEAGE, reason="registered by pipeline execution abc123def456"))
    return {"argv": ["--config", str(pyproject)], "state": state, "group": group}


def cli(capsys, *argv: str) -> tuple[int, str, str]:
    code = run_cli(main, list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_local_before_or_after_the_command(local, capsys):
    before = cli(capsys, "--local", *local["argv"], "list")
    after = cli(capsys, "list", "--local", *local["argv"])
    assert before == after
    assert before[0] == 0 and local["group"] not in before[2]
    header, row = before[1].splitlines()
    assert header.split() == ["VERSION", "STATUS", "METRIC", "CREATED", "EXECUTION", "MLFLOW", "RUN", "REASON"]
    assert row.split()[:3] == ["1", "PendingManualApproval", "auc=0.8712"]
    assert row.split()[4:6] == ["abc123def456", "-"]  # registered without a tracked run


def test_history_shows_lineage_and_every_change(local, capsys):
    for command, reason in (("approve", "beats prod"), ("approve", "re-checked"), ("reject", "label leak")):
        assert cli(capsys, "--local", *local["argv"], command, "latest", "--reason", reason)[0] == 0
    code, out, _ = cli(capsys, "history", "latest", "--local", *local["argv"])
    assert code == 0
    lines = out.splitlines()
    assert lines[0].startswith(f"{local['group']} version 1: Rejected, created ")
    for value in ("abc123def456", "s3://local-data/in/", "sha256:feed", "churned", "sha256:c0f1",
                  "0123456789abcdef"):
        assert any(value in line for line in lines[1:8]), value
    rows = [line.split(maxsplit=3) for line in lines if line[:4].isdigit()]
    assert [(r[1], r[2], r[3]) for r in rows] == [
        ("PendingManualApproval", getpass.getuser(), "registered by pipeline execution abc123def456"),
        ("Approved", getpass.getuser(), "beats prod"), ("Approved", getpass.getuser(), "re-checked"),
        ("Rejected", getpass.getuser(), "label leak")]

    code, out, _ = cli(capsys, "--local", *local["argv"], "history", "1", "--json")
    document = json.loads(out)
    assert document["metadata"]["data_hash"] == "sha256:feed"
    assert [c["reason"] for c in document["history"]][1:] == ["beats prod", "re-checked", "label leak"]


def test_missing_state_dir_is_an_error(local, tmp_path, capsys):
    missing = tmp_path / "nowhere"
    code, out, err = cli(capsys, "--local", *local["argv"], "--state-dir", str(missing), "list")
    assert code == 2 and out == ""
    assert err == (f"error: --state-dir {missing} does not exist; run `python -m pipelines.run --local` first "
                   "or fix the path\n")
    assert not missing.exists()


def test_no_local_state_yet_is_an_error(tmp_path, team_config, capsys):
    pyproject = write_project(tmp_path / "fresh", small_config(team_config))
    code, _, err = cli(capsys, "list", "--local", "--config", str(pyproject))
    assert code == 2 and "run `python -m pipelines.run --local` first" in err
    assert not (tmp_path / "fresh" / ".ml-factory").exists()


def test_demo_registry_is_its_own(local, capsys):
    code, _, err = cli(capsys, "--demo", *local["argv"], "list")
    assert code == 2 and "add --local" in err
    code, _, err = cli(capsys, "--local", "--demo", *local["argv"], "list")
    assert code == 2 and "run `make demo` first" in err


@pytest.mark.parametrize("stored, shown", [
    ("auc=0.871234567", "auc=0.8712"),
    ("auc=0.99995", "auc=1"),
    ("rmse=5.678901", "rmse=5.679"),
    ("rmse=123456.7", "rmse=123457"),
    ("r2=-0.000123456", "r2=-0.0001235"),
    ("auc=nan", "auc=nan"),
    ("not a metric", "not a metric"),
])
def test_metric_is_rounded_not_cut(stored, shown):
    assert format_metric(stored) == shown
