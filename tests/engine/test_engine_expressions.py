"""The definition's expression language: Get, Std:Join, Std:JsonGet and every condition type."""

from __future__ import annotations

from typing import Any

import pytest

from pipelines.engine.expressions import (
    ExpressionError,
    evaluate,
    evaluate_condition,
    parse_path,
    step_references,
    with_parameters,
)

PREPROCESS_PROPERTIES = {
    "ProcessingJobName": "pipelines-abc-Preprocess-1",
    "ProcessingOutputConfig": {"Outputs": [
        {"OutputName": "train", "S3Output": {"S3Uri": "s3://b/run/Preprocess/train", "LocalPath": "/opt/ml/x"}},
        {"OutputName": "evaluation", "S3Output": {"S3Uri": "s3://b/run/Evaluate/evaluation"}},
    ]},
    "HyperParameters": {"num_round": "100"},
}
REPORT = {"binary_classification_metrics": {"auc": {"value": 0.87}, "curve": [{"x": 0.1}, {"x": 0.9}]},
          "odd key": {"value": 3}}


class FakeScope:
    def __init__(self) -> None:
        self.parameters: dict[str, Any] = {"MetricThreshold": 0.7, "Approval": "Approved", "Skip": False,
                                           "Rounds": 5}
        self.files_read: list[tuple[str, str]] = []

    def parameter(self, name: str) -> Any:
        if name not in self.parameters:
            raise ExpressionError(f"unknown parameter {name}")
        return self.parameters[name]

    def execution_variable(self, name: str) -> Any:
        return {"PipelineExecutionId": "exec123", "PipelineName": "p-dev"}[name]

    def step_properties(self, step: str) -> dict[str, Any]:
        if step != "Preprocess":
            raise ExpressionError(f"step {step} has no properties")
        return PREPROCESS_PROPERTIES

    def property_file(self, step: str, name: str) -> Any:
        self.files_read.append((step, name))
        return REPORT

    def read_json(self, uri: str) -> Any:
        return {"uri": uri, "n": [1, 2, 3]}


def get(path: str) -> dict[str, str]:
    return {"Get": path}


def json_get(path: str) -> dict[str, Any]:
    return {"Std:JsonGet": {"PropertyFile": get("Steps.Evaluate.PropertyFiles.EvaluationReport"), "Path": path}}


@pytest.fixture
def scope() -> FakeScope:
    return FakeScope()


def test_join_renders_values_as_the_service_does(scope):
    expression = {"Std:Join": {"On": "/", "Values": [
        "s3://b/runs", get("Execution.PipelineExecutionId"), get("Parameters.MetricThreshold"),
        get("Parameters.Skip"), get("Parameters.Rounds")]}}
    assert evaluate(expression, scope) == "s3://b/runs/exec123/0.7/false/5"
    nested = {"Std:Join": {"On": "", "Values": ["auc=", json_get("binary_classification_metrics.auc.value")]}}
    assert evaluate(nested, scope) == "auc=0.87"


def test_get_walks_lists_by_name_and_index(scope):
    uri = get("Steps.Preprocess.ProcessingOutputConfig.Outputs['train'].S3Output.S3Uri")
    assert evaluate(uri, scope) == "s3://b/run/Preprocess/train"
    assert evaluate(get("Steps.Preprocess.ProcessingOutputConfig.Outputs[1].OutputName"), scope) == "evaluation"
    assert evaluate(get("Steps.Preprocess.HyperParameters['num_round']"), scope) == "100"
    with pytest.raises(ExpressionError, match="no item named 'nope'"):
        evaluate(get("Steps.Preprocess.ProcessingOutputConfig.Outputs['nope'].S3Output.S3Uri"), scope)
    with pytest.raises(ExpressionError, match="has no properties"):
        evaluate(get("Steps.Train.ModelArtifacts.S3ModelArtifacts"), scope)
    with pytest.raises(ExpressionError, match="unknown parameter"):
        evaluate(get("Parameters.Missing"), scope)


def test_json_get_reads_property_files_and_s3_uris(scope):
    assert evaluate(json_get("binary_classification_metrics.auc.value"), scope) == 0.87
    assert evaluate(json_get("binary_classification_metrics.curve[1].x"), scope) == 0.9
    assert evaluate(json_get("['odd key'].value"), scope) == 3
    assert scope.files_read[0] == ("Evaluate", "EvaluationReport")
    by_uri = {"Std:JsonGet": {"S3Uri": {"Std:Join": {"On": "/", "Values": ["s3://b", "x.json"]}}, "Path": "n[2]"}}
    assert evaluate(by_uri, scope) == 3
    with pytest.raises(ExpressionError, match="'rmse' not found"):
        evaluate(json_get("binary_classification_metrics.rmse.value"), scope)


def test_plain_json_is_left_alone_and_nested_expressions_resolve(scope):
    arguments = {"A": [1, "two", {"Get": "Parameters.Approval"}], "B": {"C": None}}
    assert evaluate(arguments, scope) == {"A": [1, "two", "Approved"], "B": {"C": None}}


def test_parse_path_handles_every_accessor():
    assert parse_path("Outputs['train'].S3Output.S3Uri") == ["Outputs", "train", "S3Output", "S3Uri"]
    assert parse_path('a["b c"][0].d') == ["a", "b c", 0, "d"]
    with pytest.raises(ExpressionError):
        parse_path("a..b")


def test_step_references_are_data_dependencies():
    arguments = {"In": get("Steps.Preprocess.ProcessingOutputConfig.Outputs['x'].S3Output.S3Uri"),
                 "M": json_get("a.b"), "P": get("Parameters.MetricThreshold"), "E": get("Execution.PipelineName")}
    assert step_references(arguments) == {"Preprocess", "Evaluate"}


def test_cache_view_resolves_parameters_only():
    arguments = {"Uri": {"Std:Join": {"On": "/", "Values": ["s3://b", get("Execution.PipelineExecutionId")]}},
                 "T": get("Parameters.MetricThreshold"), "Model": get("Steps.Train.ModelArtifacts.S3ModelArtifacts")}
    view = with_parameters(arguments, {"MetricThreshold": 0.8})
    assert view["T"] == {"Parameter": 0.8}
    assert view["Uri"] == arguments["Uri"] and view["Model"] == arguments["Model"]


@pytest.mark.parametrize("condition, expected", [
    ({"Type": "GreaterThanOrEqualTo", "LeftValue": json_get("binary_classification_metrics.auc.value"),
      "RightValue": get("Parameters.MetricThreshold")}, True),
    ({"Type": "GreaterThan", "LeftValue": 0.7, "RightValue": get("Parameters.MetricThreshold")}, False),
    ({"Type": "LessThan", "LeftValue": "0.5", "RightValue": 0.7}, True),
    ({"Type": "LessThanOrEqualTo", "LeftValue": 0.7, "RightValue": 0.7}, True),
    ({"Type": "Equals", "LeftValue": get("Parameters.Approval"), "RightValue": "Approved"}, True),
    ({"Type": "Equals", "LeftValue": get("Parameters.Rounds"), "RightValue": 5.0}, True),
    ({"Type": "Equals", "LeftValue": get("Parameters.Skip"), "RightValue": "false"}, True),
    ({"Type": "Equals", "LeftValue": "05", "RightValue": "5"}, False),  # two strings compare as text
    ({"Type": "In", "QueryValue": get("Parameters.Approval"), "Values": ["Rejected", "Approved"]}, True),
    ({"Type": "In", "QueryValue": 3, "Values": [1, 2]}, False),
    ({"Type": "Not", "Condition": {"Type": "Equals", "LeftValue": 1, "RightValue": 2}}, True),
    ({"Type": "Or", "Conditions": [{"Type": "Equals", "LeftValue": 1, "RightValue": 2},
                                   {"Type": "LessThan", "LeftValue": 1, "RightValue": 2}]}, True),
    ({"Type": "Or", "Conditions": []}, False),
])
def test_conditions(scope, condition, expected):
    assert evaluate_condition(condition, lambda v: evaluate(v, scope)) is expected


def test_bad_conditions_say_why(scope):
    with pytest.raises(ExpressionError, match="unknown condition type 'And'"):
        evaluate_condition({"Type": "And"}, lambda v: v)
    with pytest.raises(ExpressionError, match="compares numbers"):
        evaluate_condition({"Type": "GreaterThan", "LeftValue": "high", "RightValue": 1}, lambda v: v)
