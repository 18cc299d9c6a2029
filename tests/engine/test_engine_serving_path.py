"""The registered package serves: its model.tar.gz and code, loaded the way the XGBoost
container's script mode loads them, give the evaluation step's predictions on the same rows."""

from __future__ import annotations

import json
import subprocess
import sys
import tarfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from local_project import REPO_ROOT, Project, store_path

SEEDCODE = REPO_ROOT / "seedcode"


def _register_step(definition: dict[str, Any]) -> dict[str, Any]:
    steps = list(definition["Steps"])
    while steps:
        step = steps.pop()
        if step["Type"] == "RegisterModel":
            return step
        steps += step["Arguments"].get("IfSteps", []) + step["Arguments"].get("ElseSteps", [])
    raise AssertionError("no RegisterModel step")


@pytest.fixture(scope="module")
def package(first_run) -> dict[str, Any]:
    """The registered version's model, and the serving container spec of its RegisterModel request."""
    project, _ = first_run
    version = project.versions()[0]
    [definition_file] = sorted((project.state / "definitions").glob("*.json"))
    spec = _register_step(json.loads(definition_file.read_text()))["Arguments"]["InferenceSpecification"]
    return {"project": project, "version": version, "spec": spec}


def _serve(python: Path, project: Project, package: dict[str, Any], body: bytes, content_type: str,
           workdir: Path) -> bytes:
    """One request (answered in its own content type) through the container's script-mode sequence, in a fresh
    interpreter of the image's runtime."""
    environment = package["spec"]["Containers"][0]["Environment"]
    result = subprocess.run(
        [str(python), "-m", "pipelines.serving.script_mode",
         "--model", str(store_path(project, package["version"].model_data_url)),
         "--code", str(store_path(project, environment["SAGEMAKER_SUBMIT_DIRECTORY"])),
         "--program", environment["SAGEMAKER_PROGRAM"], "--content-type", content_type, "--accept", content_type,
         "--workdir", str(workdir)],
        input=body, capture_output=True, cwd=REPO_ROOT, timeout=120)
    assert result.returncode == 0, result.stderr.decode()
    return result.stdout


def _evaluation_predictions(project: Project, model_tar: Path) -> tuple[np.ndarray, Path]:
    """What the Evaluate step's code predicts on the test split, and the raw rows of that split."""
    sys.path.insert(0, str(SEEDCODE))
    try:
        import evaluate
    finally:
        sys.path.remove(str(SEEDCODE))
    [test_file] = sorted(project.state.glob("s3/**/Preprocess/test/test.parquet"))
    booster, schema = evaluate.load_model_archive(model_tar)
    prediction = evaluate.predict(booster, pd.read_parquet(test_file), schema, "test")
    return prediction, test_file.parent / "raw" / "test_raw.csv"


def served_values(response: str, content_type: str) -> np.ndarray:
    """The numbers of a response: one value per row, or (multiclass) the class probabilities after the label."""
    if content_type == "text/csv":
        rows = [line.split(",") for line in response.splitlines()]
        return np.array([[float(v) for v in row[1:]] if len(row) > 1 else float(row[0]) for row in rows])
    predictions = json.loads(response)["predictions"]
    return np.array([list(p["probabilities"].values()) if isinstance(p, dict) else p for p in predictions])


def test_package_declares_script_mode_and_only_the_types_it_serves(package):
    spec = package["spec"]
    environment = spec["Containers"][0]["Environment"]
    assert environment["SAGEMAKER_PROGRAM"] == "inference.py"
    assert environment["SAGEMAKER_SUBMIT_DIRECTORY"].endswith("/sourcedir.tar.gz")
    assert spec["SupportedContentTypes"] == ["text/csv", "application/json"]
    assert spec["SupportedResponseMIMETypes"] == ["text/csv", "application/json"]


def test_model_archive_holds_files_algorithm_mode_could_not_load(package):
    """Why script mode is needed: the archive holds features.json beside the booster."""
    model_tar = store_path(package["project"], package["version"].model_data_url)
    with tarfile.open(model_tar) as tar:
        names = {Path(m.name).name for m in tar.getmembers() if m.isfile()}
    assert {"xgboost-model", "features.json"} <= names


@pytest.mark.parametrize("content_type", ["text/csv", "application/json"])
def test_script_mode_serving_predicts_what_evaluation_measured(package, content_type, tmp_path, container_python):
    """Served by the SageMaker image's Python and libraries (.venv-container), as the endpoint would."""
    project = package["project"]
    expected, raw_file = _evaluation_predictions(project, store_path(project, package["version"].model_data_url))
    if content_type == "text/csv":
        body = raw_file.read_bytes()  # with its header row, which input_fn skips
    else:
        rows = pd.read_csv(raw_file, dtype=object).replace({np.nan: None}).to_dict(orient="records")
        body = json.dumps({"instances": rows}).encode()
    response = _serve(container_python, project, package, body, content_type, tmp_path)
    served = served_values(response.decode(), content_type)
    assert len(served) == len(expected) > 100
    np.testing.assert_allclose(served, expected, rtol=1e-6, atol=1e-7)
