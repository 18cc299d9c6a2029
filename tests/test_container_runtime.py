"""One runtime for local and cloud: requirements-container.in records the SageMaker image the steps
run in; its lock, .venv-container, the pipeline's default image and the seedcode's language level
all follow that record."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path

from pipelines.config import TrainingConfig

REPO_ROOT = Path(__file__).resolve().parent.parent
LOCK = REPO_ROOT / "requirements-container.lock"
INSTALLED = ("import importlib.metadata as m, json, sys; print(json.dumps({'python': sys.version.split()[0], "
             "'dists': {d.metadata['Name'].lower(): d.version for d in m.distributions()}}))")


def lock_pins(path: Path) -> dict[str, str]:
    return {name.lower(): version for name, version in re.findall(r"^([A-Za-z0-9_.-]+)==(\S+)", path.read_text(),
                                                                   flags=re.M)}


def test_the_lock_pins_exactly_the_recorded_versions_for_the_recorded_python(container_record):
    locked = lock_pins(LOCK)
    assert {name: locked.get(name.lower()) for name in container_record.pins} == container_record.pins
    assert f"--python-version {container_record.python} " in LOCK.read_text().split("\n", 3)[1]


def test_the_container_venv_runs_the_recorded_python_and_versions(container_record, container_python):
    done = subprocess.run([str(container_python), "-c", INSTALLED], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    installed = json.loads(done.stdout)
    assert installed["python"].rsplit(".", 1)[0] == container_record.python
    assert {name: installed["dists"].get(name.lower()) for name in container_record.pins} == container_record.pins


def test_the_pipeline_runs_the_recorded_image_by_default(container_record):
    from pipelines.definition import XGBOOST_FRAMEWORK_VERSION

    assert TrainingConfig().framework_version == XGBOOST_FRAMEWORK_VERSION == container_record.image


def test_seedcode_needs_no_python_newer_than_the_image(container_record):
    """vermin over every seedcode file, also the branches no test reaches (tests run the code on the image's
    Python too, in .venv-container)."""
    vermin = [sys.executable, "-c", "import sys, vermin; sys.exit(vermin.main())"]
    options = [f"--target={container_record.python}-", "--violations", "--no-tips", "--eval-annotations"]
    done = subprocess.run([*vermin, *options, str(REPO_ROOT / "seedcode")], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr


def test_seedcode_is_linted_for_the_image_python(container_record):
    ruff = tomllib.loads((REPO_ROOT / "seedcode" / "ruff.toml").read_text())
    assert ruff["target-version"] == "py" + container_record.python.replace(".", "")
