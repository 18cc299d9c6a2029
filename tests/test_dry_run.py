"""`python -m pipelines.run --dry-run` reuses the definition cached by config, wiring, code, builder
sources and SDK version: a rerun prints the same bytes without importing the SageMaker SDK."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from pathlib import Path

import pytest

import pipelines.engine.build as build
from pipelines.code_bundle import bundle_seedcode
from pipelines.config import load_config
from pipelines.wiring import offline_wiring


def dry_run(repo_root: Path, state_dir: Path) -> subprocess.CompletedProcess[bytes]:
    """A dry run as a user types it, with -X importtime so the imports show on stderr."""
    return subprocess.run([sys.executable, "-X", "importtime", "-m", "pipelines.run", "--dry-run",
                           "--state-dir", str(state_dir)], cwd=repo_root, capture_output=True, timeout=300)


def imported_modules(importtime_stderr: bytes) -> set[str]:
    return {line.rsplit("|", 1)[1].strip() for line in importtime_stderr.decode().splitlines()
            if line.startswith("import time:") and "|" in line}


def test_second_dry_run_prints_identical_json_without_the_sdk(repo_root, tmp_path):
    first = dry_run(repo_root, tmp_path / "state")
    assert first.returncode == 0, first.stderr.decode()[-2000:]
    assert "sagemaker" in imported_modules(first.stderr)  # built with the SDK
    assert len(list((tmp_path / "state" / "definitions").glob("*.json"))) == 1

    second = dry_run(repo_root, tmp_path / "state")
    assert second.returncode == 0, second.stderr.decode()[-2000:]
    assert second.stdout == first.stdout
    assert not {m for m in imported_modules(second.stderr) if m.split(".")[0] in ("sagemaker", "boto3")}
    assert b"definition: reused from" in second.stderr
    tracking = ("mlflow", "sagemaker_mlflow")  # experiment tracking is for runs, not for printing a definition
    assert not {m for run in (first, second) for m in imported_modules(run.stderr) if m.split(".")[0] in tracking}


@pytest.fixture
def key_inputs(repo_root):
    config = load_config("dev", repo_root / "pyproject.toml")
    wiring = offline_wiring(config.project, config.stage, config.account_id, config.aws_region)
    return config, wiring, bundle_seedcode()


def test_key_changes_with_config_and_wiring(key_inputs):
    config, wiring, bundle = key_inputs
    key = build.definition_key(config, wiring, bundle)
    assert build.definition_key(config, wiring, bundle) == key
    stricter = dataclasses.replace(config, metric=dataclasses.replace(config.metric, threshold=0.9))
    assert build.definition_key(stricter, wiring, bundle) != key
    assert build.definition_key(config, dataclasses.replace(wiring, artifact_bucket="other"), bundle) != key


def test_builder_sources_cover_subpackages_but_not_the_engine_or_the_run_clis(tmp_path, monkeypatch):
    package = tmp_path / "pipelines"
    for name in ("definition.py", "run.py", "cloud_run.py", "steps/train.py", "steps/__init__.py",
                 "engine/cli.py"):
        (package / name).parent.mkdir(parents=True, exist_ok=True)
        (package / name).write_text(f"# {name}\n")
    monkeypatch.setattr(build, "PIPELINES_DIR", package)
    monkeypatch.setattr(build, "ENGINE_DIR", package / "engine")
    assert sorted(build._builder_sources()) == ["definition.py", "steps/__init__.py", "steps/train.py"]


def test_a_cache_folder_that_cannot_be_written_still_prints_the_definition(repo_root, tmp_path, capsys):
    from pipelines.run import main

    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder")
    assert main(["--dry-run", "--config", str(repo_root / "pyproject.toml"), "--state-dir", str(blocked)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("{") and '"Steps"' in out
    assert blocked.read_text() == "not a folder"
