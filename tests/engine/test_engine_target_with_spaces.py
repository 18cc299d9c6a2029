"""A target column with spaces goes through every step as one argument: preprocess, train, evaluate,
the registered model's lineage."""

from __future__ import annotations

from local_project import ROWS


def test_a_target_with_spaces_runs_end_to_end(project):
    run = project.run("--rows", ROWS, "--target", "Churn Flag")
    assert run.code == 0, run.stderr
    assert run.summary["status"] == "Succeeded"
    assert not any(step["cache"]["hit"] for step in run.summary["steps"] if step["name"] == "Preprocess")
    newest = max(project.versions(), key=lambda version: version.version)
    assert newest.metadata["target"] == "Churn Flag"
