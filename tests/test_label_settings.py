"""Labels in the config and the definition: positive_class and decision_threshold reach the steps,
multiclass_classification has its metrics, and the gate follows each metric's direction."""

from __future__ import annotations

import pytest

from pipelines.code_bundle import bundle_seedcode
from pipelines.config import ConfigError, parse_config
from pipelines.definition import build_pipeline
from pipelines.rules import DEFAULT_GATE, PROBLEM_TYPES, check_metric, check_template_inputs


def _steps(config) -> dict[str, dict]:
    from test_definition import WIRING, steps_by_name

    return steps_by_name(build_pipeline(config, WIRING, bundle_seedcode()).definition_dict)


def _arguments(step: dict) -> list[str]:
    return step["Arguments"]["AppSpecification"]["ContainerArguments"]


def _binary(team_table: dict) -> dict:
    """This repo's table as a binary project: the label settings below apply to binary_classification only."""
    name, threshold = DEFAULT_GATE["binary_classification"]
    team_table.update(problem_type="binary_classification", target_column="is_fraud")
    team_table["metric"] = {"name": name, "threshold": threshold}
    return team_table


def _multiclass(team_table: dict, **metric) -> dict:
    name, threshold = DEFAULT_GATE["multiclass_classification"]
    team_table.update(problem_type="multiclass_classification", target_column="cultivar")
    team_table["metric"] = {"name": name, "threshold": threshold, **metric}
    return team_table


def test_positive_class_and_decision_threshold_reach_preprocess_and_evaluate(team_table):
    _binary(team_table).update(positive_class="fraud", decision_threshold=0.3)
    config = parse_config(team_table, "dev")
    steps = _steps(config)

    preprocess, evaluate = _arguments(steps["Preprocess"]), _arguments(steps["Evaluate"])
    assert preprocess[preprocess.index("--positive-class") + 1] == "fraud"
    assert evaluate[evaluate.index("--threshold") + 1] == "0.3"


def test_without_the_settings_preprocess_picks_the_default_and_evaluate_cuts_at_one_half(team_table):
    config = parse_config(_binary(team_table), "dev")
    assert (config.positive_class, config.decision_threshold) == (None, 0.5)
    steps = _steps(config)
    assert "--positive-class" not in _arguments(steps["Preprocess"])
    evaluate = _arguments(steps["Evaluate"])
    assert evaluate[evaluate.index("--threshold") + 1] == "0.5"


def test_an_integer_positive_class_names_a_numeric_label(team_table):
    _binary(team_table)["positive_class"] = 0
    assert parse_config(team_table, "dev").positive_class == "0"


@pytest.mark.parametrize(("changes", "message"), [
    ({"decision_threshold": 1.0}, "decision_threshold: must lie strictly between 0 and 1 (the probability"),
    ({"decision_threshold": 0}, "decision_threshold: must lie strictly between 0 and 1"),
    ({"positive_class": " "}, "positive_class: is empty"),
    ({"positive_class": True}, "positive_class: expected a string or an integer, got True"),
])
def test_bad_label_settings_name_the_key(team_table, changes, message):
    _binary(team_table).update(changes)
    with pytest.raises(ConfigError) as error:
        parse_config(team_table, "dev")
    assert message in str(error.value)


@pytest.mark.parametrize("key", ["positive_class", "decision_threshold"])
def test_binary_only_settings_are_refused_for_multiclass(team_table, key):
    _multiclass(team_table)[key] = 0.4 if key == "decision_threshold" else "barolo"
    with pytest.raises(ConfigError, match=f"{key}: applies to binary_classification only, and problem_type is "
                                          "multiclass_classification; remove it"):
        parse_config(team_table, "dev")


def test_multiclass_metrics_and_their_ranges():
    assert "multiclass_classification" in PROBLEM_TYPES
    assert check_metric("multiclass_classification", "macro_f1", 0.5) == []
    assert check_metric("multiclass_classification", "accuracy", 0.8) == []  # shared with binary
    assert check_metric("binary_classification", "accuracy", 0.8) == []
    assert check_metric("multiclass_classification", "log_loss", 0) == [
        "metric_threshold: 0 must be positive for log_loss (an upper bound)"]
    assert check_metric("multiclass_classification", "auc", 0.7) == [
        "primary_metric: 'auc' does not fit problem_type 'multiclass_classification'; use one of accuracy, macro_f1, "
        "log_loss"]
    assert check_metric("binary_classification", "macro_f1", 0.7)[0].startswith("primary_metric: 'macro_f1' does not")


def test_template_accepts_multiclass_with_its_default_gate():
    values = {"project_name": "Wine Cultivars", "project": "wine-cultivars", "team": "ds", "owner_email": "a@b.co",
              "cost_center": "CC-1", "aws_region": "eu-west-1", "target_column": "cultivar",
              "training_instance_type": "ml.m5.xlarge", "dev_account_id": "1" * 12, "staging_account_id": "2" * 12,
              "prod_account_id": "3" * 12, "problem_type": "multiclass_classification", "use_spot": "yes",
              "source_provider": "codecommit", "primary_metric": "macro_f1", "metric_threshold": "0.5"}
    assert check_template_inputs(values) == []


@pytest.mark.parametrize(("metric", "threshold", "condition"), [
    ("macro_f1", 0.5, "GreaterThanOrEqualTo"),
    ("accuracy", 0.8, "GreaterThanOrEqualTo"),
    ("log_loss", 0.6, "LessThanOrEqualTo"),
])
def test_multiclass_gate_reads_its_section_in_the_metric_direction(team_table, metric, threshold, condition):
    config = parse_config(_multiclass(team_table, name=metric, threshold=threshold), "dev")
    floor = _steps(config)["CheckMetric"]["Arguments"]["Conditions"][0]
    assert floor["Type"] == condition
    assert floor["LeftValue"]["Std:JsonGet"]["Path"] == f"multiclass_classification_metrics.{metric}.value"
