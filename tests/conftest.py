"""Shared fixtures for the project tests (these ship into every generated team repo)."""

from __future__ import annotations

import copy
import os
import re
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from botocore_loader import share_botocore_loader
from browser import chromium  # noqa: F401  (the one browser harness: a session fixture for every report test)

REPO_ROOT = Path(__file__).resolve().parent.parent
# Step code imports its sibling modules by bare name (it runs with seedcode/ as its code folder); tests that
# use it in process import it the same way. Appended: it shadows no installed package.
if str(REPO_ROOT / "seedcode") not in sys.path:
    sys.path.append(str(REPO_ROOT / "seedcode"))
if TYPE_CHECKING:
    from pipelines.config import Config

share_botocore_loader()  # the service models parsed once per test process, not once per session

CONTAINER_RECORD = REPO_ROOT / "requirements-container.in"
CONTAINER_VENV = REPO_ROOT / ".venv-container"


@dataclass(frozen=True)
class ContainerRecord:
    """requirements-container.in: the SageMaker image the steps run in, its Python and library pins."""

    image: str  # framework version, e.g. "3.2-0"
    python: str  # major.minor, e.g. "3.12"
    pins: dict[str, str]  # distribution name -> version


def read_container_record(path: Path = CONTAINER_RECORD) -> ContainerRecord:
    text = path.read_text()
    fields = dict(re.findall(r"^# (image|python): *(\S+)$", text, flags=re.M))
    pins = dict(re.findall(r"^([A-Za-z0-9_.-]+)==(\S+)", text, flags=re.M))
    return ContainerRecord(image=fields["image"], python=fields["python"], pins=pins)


# The folder of the one first run of a test run (tests/engine/conftest.py `first_run`): set by the first
# process of the run and inherited by the pytest runs the request recorders start (tests/contracts).
SHARED_FIRST_RUN = "ML_FACTORY_TEST_FIRST_RUN"


@pytest.fixture(scope="session", autouse=True)
def shared_first_run_folder(tmp_path_factory) -> Path:
    """The xdist workers' common temporary folder (or this run's own), named in the environment before any
    test starts a pytest of its own, so that every process of the test run shares one first run."""
    if not os.environ.get(SHARED_FIRST_RUN):
        base = tmp_path_factory.getbasetemp()
        common = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
        os.environ[SHARED_FIRST_RUN] = str(common / "shared-first-run")
    folder = Path(os.environ[SHARED_FIRST_RUN])
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def team_table() -> dict:
    """This repo's own `[tool.ml-factory]` table (a fresh copy per test)."""
    data = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())
    return copy.deepcopy(data["tool"]["ml-factory"])


@pytest.fixture
def repo_root() -> Path:
    return REPO_ROOT


@pytest.fixture(scope="session")
def repo_config() -> Config:
    """This repo's own settings at stage dev. Tests take the region, problem type, metric and gate from
    here, never from the template's defaults, so they pass in every generated repo."""
    from pipelines.config import load_config  # lazily: the seedcode tests run on the container's Python

    return load_config("dev", REPO_ROOT / "pyproject.toml")


@pytest.fixture
def fake_aws(monkeypatch, repo_config: Config) -> str:
    """Fake credentials and this repo's region in the environment, for moto or the Stubber; returns the region."""
    for key in ("AWS_PROFILE", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", repo_config.aws_region)
    return repo_config.aws_region


@pytest.fixture(scope="session")
def container_record() -> ContainerRecord:
    return read_container_record()


@pytest.fixture(scope="session")
def container_python() -> Path:
    """`$ML_FACTORY_CONTAINER_PYTHON`, else `<repo>/.venv-container/bin/python` (created by `make test`)."""
    python = Path(os.environ.get("ML_FACTORY_CONTAINER_PYTHON") or CONTAINER_VENV / "bin" / "python")
    if not python.is_file():
        pytest.fail(f"the container runtime's Python is not at {python}. Run `make test`, which creates "
                    f"{CONTAINER_VENV.name} from requirements-container.lock (or `make container-venv`, or point "
                    "ML_FACTORY_CONTAINER_PYTHON at its python).", pytrace=False)
    return python


@pytest.fixture
def priced_region(monkeypatch, repo_config: Config) -> str:
    """The shipped price table covers eu-west-1 and us-east-1 (pipelines/finops/prices.json). In a repo rendered
    for another region, the cost tests price that region with eu-west-1's rows, so they test the estimate and
    savings logic, not the table's coverage (which `python -m pipelines.finops.prices --refresh` extends)."""
    from pipelines.finops.prices import PriceTable

    original = PriceTable.hourly
    region = repo_config.aws_region

    def hourly(self: PriceTable, wanted: str, usage: str, instance_type: str) -> float:
        return original(self, "eu-west-1" if wanted == region and region not in self.prices else wanted, usage,
                        instance_type)

    monkeypatch.setattr(PriceTable, "hourly", hourly)
    return region
