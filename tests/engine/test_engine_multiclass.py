"""multiclass_classification end to end on sklearn's wine data (178 rows, 3 cultivars): the local
run trains, gates on macro-F1 and registers; the summary and the report name the classes and the
report draws the confusion matrix; the registered package, served as the container's script mode
serves it, returns each row's label and class probabilities, the same the evaluation scored."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from local_project import Project, Run, small_config, store_path, write_project
from sklearn.datasets import load_wine
from test_engine_serving_path import _evaluation_predictions, _register_step, _serve

CULTIVARS = np.array(["barolo", "grignolino", "barbera"], dtype=object)  # load_wine's classes 0, 1, 2
CLASSES = ["barbera", "barolo", "grignolino"]  # the label mapping: sorted
MULTICLASS_CHARTS = {"confusion-matrix", "feature-importance", "training-curves"}


@pytest.fixture(scope="module")
def wine_run(tmp_path_factory, team_config) -> tuple[Project, Run]:
    folder = tmp_path_factory.mktemp("wine")
    frame = load_wine(as_frame=True).frame
    frame = frame.assign(target=CULTIVARS[frame["target"].to_numpy()]).rename(columns={"target": "cultivar"})
    frame.to_csv(folder / "wine.csv", index=False)
    project = Project(folder / "project")
    write_project(project.folder, small_config(team_config, problem_type="multiclass_classification",
                                               target_column="cultivar",
                                               metric={"name": "macro_f1", "threshold": 0.5}))
    run = project.run("--data", str(folder / "wine.csv"), "--param", "MetricThreshold=0.5")
    assert run.code == 0, run.stderr
    return project, run


def test_wine_trains_clears_the_macro_f1_gate_and_registers(wine_run) -> None:
    project, run = wine_run
    summary = run.summary

    assert set(summary["metrics"]) == {"accuracy", "macro_f1", "log_loss"}
    assert summary["primary_metric"]["name"] == "macro_f1" and summary["metrics"]["macro_f1"] > 0.8
    assert summary["gate"]["outcome"] is True
    assert [v.version for v in project.versions()] == [1]
    assert summary["labels"]["mapping"] == {"barbera": 0, "barolo": 1, "grignolino": 2}
    assert "labels: barbera=0, barolo=1, grignolino=2\n" in run.stdout


def test_report_draws_the_confusion_matrix_with_the_cultivar_names(chromium, wine_run) -> None:
    _, run = wine_run
    visit = chromium.open(Path(run.summary["report_path"]))

    assert visit.problems() == [] and visit.broken_images() == []
    images = {image["figure"]: image for image in visit.images()}
    assert set(images) == MULTICLASS_CHARTS
    confusion = images["confusion-matrix"]
    assert "actual barolo predicted barolo: " in confusion["alt"] and confusion["width"] > 100
    assert "classes: barbera, barolo, grignolino" in confusion["caption"]
    assert "Labels (class index): barbera=0, barolo=1, grignolino=2" in visit.text()
    assert "left out" not in visit.text()


@pytest.mark.parametrize("content_type", ["text/csv", "application/json"])
def test_served_labels_and_probabilities_match_the_evaluation(wine_run, content_type, tmp_path,
                                                              container_python) -> None:
    project, _ = wine_run
    version = project.versions()[0]
    [definition] = sorted((project.state / "definitions").glob("*.json"))
    package = {"spec": _register_step(json.loads(definition.read_text()))["Arguments"]["InferenceSpecification"],
               "version": version}
    expected, raw_file = _evaluation_predictions(project, store_path(project, version.model_data_url))
    raw = pd.read_csv(raw_file, dtype=object)
    body = (raw_file.read_bytes() if content_type == "text/csv" else
            json.dumps({"instances": raw.replace({np.nan: None}).to_dict(orient="records")}).encode())

    response = _serve(container_python, project, package, body, content_type, tmp_path).decode()

    if content_type == "text/csv":
        rows = [line.split(",") for line in response.splitlines()]
        labels, served = [r[0] for r in rows], np.array([[float(v) for v in r[1:]] for r in rows])
    else:
        predictions = json.loads(response)["predictions"]
        assert all(list(p["probabilities"]) == CLASSES for p in predictions)
        labels = [p["label"] for p in predictions]
        served = np.array([list(p["probabilities"].values()) for p in predictions])
    assert expected.shape == served.shape == (len(raw), 3)
    np.testing.assert_allclose(served, expected, rtol=1e-6, atol=1e-7)
    assert labels == [CLASSES[i] for i in expected.argmax(axis=1)]
    [evaluation] = project.state.glob("s3/**/Evaluate/evaluation/evaluation.json")
    matrix = json.loads(evaluation.read_text())["multiclass_classification_metrics"]["confusion_matrix"]
    predicted_per_class = {CLASSES[int(p)]: sum(matrix[a][p] for a in matrix) for p in matrix}
    assert predicted_per_class == {name: labels.count(name) for name in CLASSES}
