"""Fixtures for the local engine tests: one shared first run whose project folder each test copies,
so every test owns its state folder while the expensive first run happens once per test run: once for all
pytest-xdist workers, and once for the pytest runs the request recorders start (tests/contracts)."""

from __future__ import annotations

import dataclasses
import fcntl
import json
import shutil
import tomllib
from typing import Any

import pytest
from local_project import REPO_ROOT, ROWS, Project, Run, small_config, write_project


@pytest.fixture(scope="session")
def team_config() -> dict[str, Any]:
    return tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["tool"]["ml-factory"]


@pytest.fixture(scope="session")
def first_run(shared_first_run_folder, team_config) -> tuple[Project, Run]:
    """One full run on fresh state, shared: tests copy its project folder (see `project`). The first process
    to get the lock runs it; the others wait and read its result."""
    folder = shared_first_run_folder
    project, result = Project(folder / "project"), folder / "run.json"
    with (folder / "lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not result.exists():
            write_project(project.folder, small_config(team_config))
            result.write_text(json.dumps(dataclasses.asdict(project.run("--rows", ROWS))))
    run = Run(**json.loads(result.read_text()))
    assert run.code == 0, run.stderr
    return project, run


@pytest.fixture
def project(first_run, tmp_path) -> Project:
    """A private copy of the first run's project folder and state."""
    source, _ = first_run
    target = tmp_path / "project"
    shutil.copytree(source.folder, target, ignore=shutil.ignore_patterns("summary-*.json"))
    return Project(target)

