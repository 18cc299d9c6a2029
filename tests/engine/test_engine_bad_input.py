"""Bad input fails clearly: one `error:` line naming the problem, a non-zero exit, the registry untouched."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from local_project import REPO_ROOT, Project, small_config, write_project

from pipelines.definition import STEP_PREPROCESS
from pipelines.engine.graph import DefinitionError, PipelineGraph
from pipelines.sample_data import make_churn_dataset


def _frame(project: Project, rows: int = 600) -> pd.DataFrame:
    config = project.config
    return make_churn_dataset(rows, seed=3, problem_type=config.problem_type, target_column=config.target_column)


def without_target(project: Project, path):
    _frame(project).drop(columns=[project.config.target_column]).to_csv(path, index=False)


def header_only(project: Project, path):
    _frame(project).head(0).to_csv(path, index=False)


def all_features_missing(project: Project, path):
    frame = _frame(project)
    for column in frame.columns:
        if column != project.config.target_column:
            frame[column] = np.nan
    frame.to_csv(path, index=False)


@pytest.mark.parametrize("make, options, message", [
    (without_target, [], "target column '{target}' not found in input"),
    (all_features_missing, ["--target", "label_from_cli"], "target column 'label_from_cli' not found in input"),
    (header_only, [], "contain no rows"),
    (all_features_missing, [], "every feature value in the input is missing"),
])
def test_bad_data_fails_the_preprocess_step_clearly(project, tmp_path, make, options, message):
    data = tmp_path / "data.csv"
    make(project, data)
    before = project.versions()
    run = project.run("--data", str(data), *options)
    assert run.code == 1
    expected = message.format(target=project.config.target_column)
    assert f"error: pipeline failed at step {STEP_PREPROCESS}: " in run.stderr and expected in run.stderr
    assert "Traceback" not in run.stderr + run.stdout
    assert run.summary["failed_step"] == STEP_PREPROCESS and run.summary["registered"] is None
    assert project.versions() == before


def test_missing_data_file_is_refused_before_anything_runs(project, tmp_path):
    before = sorted(p.name for p in (project.state / "runs").iterdir())
    completed = subprocess.run(
        [sys.executable, "-m", "pipelines.run", "--local", "--config", str(project.pyproject), "--state-dir",
         str(project.state), "--data", str(tmp_path / "nowhere.csv")],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=120)
    assert completed.returncode == 2
    assert completed.stderr.strip() == f"error: --data {tmp_path / 'nowhere.csv'}: no such file"
    assert sorted(p.name for p in (project.state / "runs").iterdir()) == before


def test_bad_parameter_is_refused_before_anything_runs(project):
    before = sorted(p.name for p in (project.state / "runs").iterdir())
    run = project.run("--param", "NoSuchParameter=1")
    assert run.code == 2 and "unknown pipeline parameter(s) NoSuchParameter" in run.stderr
    assert sorted(p.name for p in (project.state / "runs").iterdir()) == before


def test_non_numeric_regression_target_is_named(tmp_path, team_config):
    target = "spend_next_30d"
    project = Project(tmp_path / "regression")
    write_project(project.folder, small_config(team_config, problem_type="regression", target_column=target,
                                               metric={"name": "rmse", "threshold": 100.0}))
    frame = make_churn_dataset(600, seed=5, problem_type="regression", target_column=target)
    frame[target] = frame[target].astype(str)
    frame.loc[3, target] = "lots"
    data = tmp_path / "regression.csv"
    frame.to_csv(data, index=False)
    run = project.run("--data", str(data))
    assert run.code == 1
    assert (f"error: pipeline failed at step {STEP_PREPROCESS}: regression target column '{target}' is not numeric"
            in run.stderr)
    assert project.versions() == []


def test_unsupported_step_type_is_rejected_by_name(project, monkeypatch):
    import pipelines.engine.build as build

    real = build.load_definition

    def with_transform(*args, **kwargs):
        text, reused = real(*args, **kwargs)
        definition = json.loads(text)
        definition["Steps"].append({"Name": "BatchScore", "Type": "Transform", "Arguments": {}})
        return json.dumps(definition), reused

    monkeypatch.setattr(build, "load_definition", with_transform)
    before = sorted(p.name for p in (project.state / "runs").iterdir())
    run = project.run()
    assert run.code == 2
    assert "step 'BatchScore' has type 'Transform', which the local engine cannot run" in run.stderr
    assert sorted(p.name for p in (project.state / "runs").iterdir()) == before


def test_graph_rejects_unknown_dependencies_and_check_types():
    with pytest.raises(DefinitionError, match="depends on unknown step"):
        PipelineGraph.from_definition({"Steps": [{"Name": "A", "Type": "Fail", "DependsOn": ["Nope"]}]})
    with pytest.raises(DefinitionError, match="CheckType 'MODEL_QUALITY'"):
        PipelineGraph.from_definition({"Steps": [{"Name": "Q", "Type": "QualityCheck", "CheckType": "MODEL_QUALITY"}]})
    with pytest.raises(DefinitionError, match="cycle"):
        PipelineGraph.from_definition({"Steps": [
            {"Name": "A", "Type": "Fail", "DependsOn": ["B"]}, {"Name": "B", "Type": "Fail", "DependsOn": ["A"]}]})
