"""Shared fixtures for the project tests (these ship into every generated team repo)."""

from __future__ import annotations

import copy
import tomllib
from pathlib import Path

import pytest
from browser import chromium  # noqa: F401  (the one browser harness: a session fixture for every report test)

REPO_ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def team_table() -> dict:
    """This repo's own `[tool.ml-factory]` table (a fresh copy per test)."""
    data = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())
    return copy.deepcopy(data["tool"]["ml-factory"])


@pytest.fixture
def repo_root() -> Path:
    return REPO_ROOT
