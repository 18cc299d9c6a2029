"""The positive class end to end: with fraud/legit labels and positive_class = "fraud", fraud is class 1
and the F1 gate measures it (on data where legit's F1 would pass and fraud's fails); without the
setting the run stops at Preprocess with one line naming both labels and registers nothing."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from local_project import Project, small_config, write_project

from pipelines.definition import STEP_PREPROCESS

F1_FLOOR = 0.75  # fraud's F1 on this data is about 0.5, legit's about 0.9


@pytest.fixture(scope="module")
def fraud_csv(tmp_path_factory) -> str:
    """15% fraud, weakly separable: a rare class whose F1 is far below the common class's."""
    rng = np.random.default_rng(3)
    fraud = rng.random(1500) < 0.15
    frame = pd.DataFrame({"amount_z": rng.normal(0, 1, 1500) + 1.3 * fraud,
                          "night_share": rng.normal(0, 1, 1500) + 0.9 * fraud,
                          "noise": rng.normal(0, 1, 1500),
                          "label": np.where(fraud, "fraud", "legit")})
    path = tmp_path_factory.mktemp("fraud") / "transactions.csv"
    frame.to_csv(path, index=False)
    return str(path)


def _project(folder, team_config, **settings) -> Project:
    table = small_config(team_config, problem_type="binary_classification", target_column="label",
                         metric={"name": "f1", "threshold": F1_FLOOR}, **settings)
    write_project(folder, table)
    return Project(folder)


def _f1(matrix: dict[str, dict[str, int]], positive: str) -> float:
    negative = "0" if positive == "1" else "1"
    true_positive = matrix[positive][positive]
    return 2 * true_positive / (2 * true_positive + matrix[negative][positive] + matrix[positive][negative])


def test_positive_class_fraud_makes_the_f1_gate_measure_fraud(fraud_csv, team_config, tmp_path) -> None:
    project = _project(tmp_path / "p", team_config, positive_class="fraud", decision_threshold=0.4)

    run = project.run("--data", fraud_csv, "--param", f"MetricThreshold={F1_FLOOR}")

    assert run.code != 0 and "failed at step MetricBelowThreshold" in run.stderr
    assert run.summary["labels"] == {"mapping": {"legit": 0, "fraud": 1}, "classes": ["legit", "fraud"],
                                     "positive_class": "fraud", "decision_threshold": 0.4}
    assert "labels: legit=0, fraud=1 (positive class fraud, decision threshold 0.4)" in run.stdout
    [evaluation] = project.state.glob("s3/**/Evaluate/evaluation/evaluation.json")
    section = json.loads(evaluation.read_text())["binary_classification_metrics"]
    matrix = section["confusion_matrix"]
    assert sum(matrix["1"].values()) < sum(matrix["0"].values())  # class 1 is the rare fraud
    assert section["f1"]["value"] == pytest.approx(_f1(matrix, "1"))
    assert section["f1"]["value"] < F1_FLOOR
    assert _f1(matrix, "0") > F1_FLOOR  # measured on legit, as alphabetical order had it, the gate would pass
    assert f"Primary metric f1 = {section['f1']['value']}" in run.stderr
    assert project.versions() == []


def test_two_text_labels_without_positive_class_stop_at_preprocess(fraud_csv, team_config, tmp_path) -> None:
    project = _project(tmp_path / "p", team_config)

    run = project.run("--data", fraud_csv)

    assert run.code != 0
    [error] = [line for line in run.stderr.splitlines() if line.startswith("error:")]
    assert error.startswith(f"error: pipeline failed at step {STEP_PREPROCESS}: target column 'label' has two "
                            "labels, 'fraud' and 'legit'")
    assert 'set positive_class = "fraud" or "legit" under [tool.ml-factory]' in error
    assert "Traceback" not in run.stderr and project.versions() == []
