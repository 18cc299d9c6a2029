"""report.html of a real local run, opened in headless Chromium: it loads cleanly, fetches nothing
and shows the charts its problem type calls for; missing or odd chart data becomes a note."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from local_project import ROWS, Project, Run, small_config, write_project

from pipelines.definition import STEP_EVALUATE
from pipelines.engine.charts import ChartData
from pipelines.engine.report import render_report, write_report

BINARY_CHARTS = {"roc", "precision-recall", "confusion-matrix", "feature-importance", "training-curves"}
REGRESSION_CHARTS = {"residuals", "feature-importance", "training-curves"}
MULTICLASS_CHARTS = {"confusion-matrix", "feature-importance", "training-curves"}
CHARTS = {"binary_classification": BINARY_CHARTS, "multiclass_classification": MULTICLASS_CHARTS,
          "regression": REGRESSION_CHARTS}


@pytest.fixture(scope="module")
def regression_run(tmp_path_factory, team_config) -> tuple[Project, Run]:
    project = Project(tmp_path_factory.mktemp("regression-run"))
    write_project(project.folder, small_config(team_config, problem_type="regression", target_column="spend_next_30d",
                                               metric={"name": "rmse", "threshold": 100.0}))
    run = project.run("--rows", ROWS)
    assert run.code == 0, run.stderr
    return project, run


def assert_report_shows(chromium, summary: dict[str, Any], expected: set[str]) -> None:
    visit = chromium.open(Path(summary["report_path"]))

    assert visit.problems() == []
    images = visit.images()
    assert {image["figure"] for image in images} == expected
    assert visit.broken_images() == []
    for image in images:
        assert image["src"].startswith("data:image/png;base64,")
        assert image["width"] > 100 and image["height"] > 100
        assert image["alt"].strip() and image["caption"].strip()
    assert "left out" not in visit.text()


def test_report_shows_the_charts_of_the_team_problem_type(chromium, first_run) -> None:
    project, run = first_run
    assert_report_shows(chromium, run.summary, CHARTS[project.config.problem_type])


def test_regression_report_shows_residuals_importance_and_history(chromium, regression_run) -> None:
    _, run = regression_run
    assert_report_shows(chromium, run.summary, REGRESSION_CHARTS)


def test_cache_hit_run_still_shows_the_charts(chromium, project) -> None:
    run = project.run("--rows", ROWS)
    assert run.code == 0, run.stderr
    assert next(s for s in run.summary["steps"] if s["name"] == STEP_EVALUATE)["cache"]["hit"]
    assert_report_shows(chromium, run.summary, CHARTS[project.config.problem_type])


def test_old_run_without_chart_data_gets_notes_not_a_crash(chromium, first_run, tmp_path: Path) -> None:
    _, run = first_run
    old_evaluation = {"binary_classification_metrics": {"auc": {"value": 0.8, "standard_deviation": "NaN"}}}
    report = write_report(run.summary, tmp_path / "report.html", ChartData(evaluation=old_evaluation))

    visit = chromium.open(report)

    assert visit.problems() == [] and visit.images() == []
    text = visit.text()
    for title in ("ROC curve", "Precision-recall curve", "Confusion matrix", "Feature importance", "Training curves"):
        assert f"{title} left out: this run's evaluation output has no" in text


def test_failed_evaluation_report_says_there_are_no_charts(first_run) -> None:
    _, run = first_run
    html = render_report(run.summary, None)
    assert "No charts: the evaluation did not run" in html and "<img" not in html


def test_malformed_chart_data_becomes_a_note(first_run) -> None:
    _, run = first_run
    evaluation = {"binary_classification_metrics": {"receiver_operating_characteristic_curve": {"fpr": []},
                                                    "confusion_matrix": {"0": {"0": "many"}}}}
    details = {"feature_importance": {"features": [{"name": "a", "gain": 1.0}]}, "training_history": "oops"}

    html = render_report(run.summary, ChartData(evaluation, details))

    assert "ROC curve left out: its data is malformed (KeyError" in html
    assert "Confusion matrix left out: its data is malformed (ValueError" in html
    assert 'data-chart="feature-importance"' in html and 'data-chart="precision-recall"' not in html

