"""The tracking settings and the drift entry point (pipelines/tracking), without a pipeline run."""

from __future__ import annotations

import mlflow
import pytest

from pipelines.config import parse_config
from pipelines.errors import UserError
from pipelines.lineage import config_hash
from pipelines.tracking.mlflow_runs import DriftRecord, TrackingTarget, log_drift


def test_tracking_defaults_to_the_embedded_store_and_the_pipeline_name(team_table):
    config = parse_config(team_table, "dev")
    assert config.tracking.uri == "" and config.tracking.experiment == "" and not config.tracking.disabled


def test_a_team_points_tracking_elsewhere_per_stage(team_table):
    team_table["tracking"] = {"uri": "http://mlflow.internal:5000", "experiment": "churn"}
    team_table["stages"]["prod"]["tracking"] = {"uri": "none"}
    assert parse_config(team_table, "dev").tracking.uri == "http://mlflow.internal:5000"
    assert parse_config(team_table, "prod").tracking.disabled


@pytest.mark.parametrize(("table", "message"), [
    ({"url": "x"}, "[tool.ml-factory.tracking] url: unknown setting (did you mean uri?)"),
    ({"uri": 5}, "[tool.ml-factory.tracking] uri: expected a string, got 5"),
])
def test_a_bad_tracking_setting_names_the_key(team_table, table, message):
    team_table["tracking"] = table
    with pytest.raises(UserError) as raised:
        parse_config(team_table, "dev")
    assert message in str(raised.value)


def test_where_runs_are_logged_does_not_change_the_model_identity(team_table):
    before = config_hash(parse_config(team_table, "dev"))
    team_table["tracking"] = {"uri": "http://elsewhere:5000"}
    assert config_hash(parse_config(team_table, "dev")) == before


def test_drift_checks_become_a_metric_per_feature_over_time(tmp_path):
    target = TrackingTarget(f"sqlite:///{tmp_path / 'mlflow.db'}", "churn-dev", (tmp_path / "mlruns").as_uri())
    for name, distance in (("monitor-1", 0.05), ("monitor-2", 0.31)):
        log_drift(target, DriftRecord(name, {"age": distance, "plan": 0.0}, violations=int(distance > 0.1)))
    mlflow.set_tracking_uri(target.uri)
    try:
        runs = mlflow.search_runs(experiment_names=["churn-dev"], filter_string="tags.trigger = 'drift'",
                                  order_by=["start_time ASC"])
    finally:
        mlflow.set_tracking_uri("")
    assert list(runs["tags.mlflow.runName"]) == ["monitor-1", "monitor-2"]
    assert list(runs["metrics.drift.age"]) == [0.05, 0.31]
    assert list(runs["metrics.drift.violations"]) == [0.0, 1.0]
