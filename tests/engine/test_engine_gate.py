"""The registration gate on real datasets: the default floors are scale-free, so a real model
passes and a model trained on shuffled labels fails, for each problem type; once a model is
approved, a new one must also beat it on the same test split by the configured margin."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from local_project import Project, small_config, write_project
from sklearn.datasets import load_breast_cancer, load_diabetes, load_wine

from pipelines.rules import DEFAULT_GATE

DATASETS = {"binary_classification": load_breast_cancer, "multiclass_classification": load_wine,
            "regression": load_diabetes}


def _dataset(problem_type: str, folder, shuffled: bool):
    """sklearn's breast-cancer (binary), wine (3 classes) or diabetes (regression, target 25..346) data as a
    team's CSV."""
    frame = DATASETS[problem_type](as_frame=True).frame
    if shuffled:
        frame["target"] = np.random.default_rng(7).permutation(frame["target"].to_numpy())
    path = folder / f"{problem_type}-{'shuffled' if shuffled else 'real'}.csv"
    frame.to_csv(path, index=False)
    return path


def _project(folder, team_config, problem_type: str, **metric) -> Project:
    name, threshold = DEFAULT_GATE[problem_type]
    table = small_config(team_config, problem_type=problem_type, target_column="target",
                         metric={"name": name, "threshold": threshold, **metric})
    table["training"]["num_round"] = 40
    write_project(folder, table)
    return Project(folder)


def _gated_run(project: Project, data, *args: str):
    """A run under the project's own gate (no lenient test threshold)."""
    threshold = project.config.metric.threshold
    return project.run("--data", str(data), "--param", f"MetricThreshold={threshold}", *args)


@pytest.mark.parametrize("problem_type", ["binary_classification", "multiclass_classification", "regression"])
def test_default_gate_passes_a_real_model_and_fails_shuffled_labels(problem_type, team_config, tmp_path):
    project = _project(tmp_path / "p", team_config, problem_type)
    real = _gated_run(project, _dataset(problem_type, tmp_path, shuffled=False))
    assert real.code == 0, real.stderr
    assert [v.version for v in project.versions()] == [1]

    shuffled = _gated_run(project, _dataset(problem_type, tmp_path, shuffled=True))
    name, threshold = DEFAULT_GATE[problem_type]
    assert shuffled.code != 0
    assert "failed at step MetricBelowThreshold" in shuffled.stderr
    assert f"Primary metric {name} = " in shuffled.stderr and f"MetricThreshold = {threshold}" in shuffled.stderr
    assert [v.version for v in project.versions()] == [1], "a failed gate registers nothing"


def test_a_new_model_must_beat_the_approved_champion_by_the_margin(team_config, tmp_path):
    data = _dataset("binary_classification", tmp_path, shuffled=False)
    project = _project(tmp_path / "p", team_config, "binary_classification", champion_margin=0.001)
    assert _gated_run(project, data).code == 0
    assert project.registry_cli("approve", "latest", "--reason", "champion").returncode == 0

    # the same data, code and config give the same model: improvement 0, short of the 0.001 margin
    weaker = _gated_run(project, data, "--param", "ChampionMargin=0.001")
    assert weaker.code != 0
    assert "Against the champion (auc = " in weaker.stderr and "short of the required 0.001" in weaker.stderr
    assert len(project.versions()) == 1

    # a tolerance (negative margin) lets an equally good model through, and the verdict says so
    tolerated = _gated_run(project, data, "--param", "ChampionMargin=-0.01")
    assert tolerated.code == 0, tolerated.stderr
    newest = max(project.state.glob("s3/**/Evaluate/evaluation/evaluation.json"), key=lambda p: p.stat().st_mtime)
    champion = pd.read_json(newest,
                            typ="series")["champion"]
    assert champion["present"] and champion["beats_champion"] == 1
    assert champion["champion_value"] == pytest.approx(champion["challenger_value"])
