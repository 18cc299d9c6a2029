"""Tags everywhere: every resource the Python side creates carries Project, Team, Owner, CostCenter
and Environment. Pipeline executions take none of their own: they carry the pipeline's tags.
(The Terraform side has its own check: tests/infra/test_cost_tags.py.)"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from tagging import assert_tagged, definition_tag_problems, tag_problems
from test_run_cloud import aws, project, run  # noqa: F401  (moto fixtures)

from pipelines.config import load_config
from pipelines.finops.preflight import definition_for_estimate

CONTRACTS = Path(__file__).resolve().parents[1] / "contracts"
if str(CONTRACTS) not in sys.path:
    sys.path.insert(0, str(CONTRACTS))


@pytest.fixture(scope="module")
def config():
    return load_config("dev", Path(__file__).resolve().parents[2] / "pyproject.toml")


@pytest.fixture(scope="module")
def definition(config, tmp_path_factory):
    return definition_for_estimate(config, tmp_path_factory.mktemp("definitions"))


def test_every_job_and_model_step_of_the_definition_is_tagged(config, definition):
    assert definition_tag_problems(definition, config.tags) == []
    steps = {s["Type"] for s in definition["Steps"]}
    assert {"Processing", "QualityCheck", "Training"} <= steps  # the check walked real job steps


def test_the_definition_check_fails_on_an_untagged_or_unknown_step(config, definition):
    changed = json.loads(json.dumps(definition))
    train = next(s for s in changed["Steps"] if s["Name"] == "Train")
    train["Arguments"]["Tags"] = [t for t in train["Arguments"]["Tags"] if t["Key"] != "CostCenter"]
    changed["Steps"].append({"Name": "BatchScore", "Type": "Transform", "Arguments": {}})
    changed["Steps"].append({"Name": "Notify", "Type": "Callback", "Arguments": {}})
    assert definition_tag_problems(changed, config.tags) == [
        "step Train (Training): no CostCenter tag",
        "step BatchScore (Transform): no Project tag", "step BatchScore (Transform): no Team tag",
        "step BatchScore (Transform): no Owner tag", "step BatchScore (Transform): no CostCenter tag",
        "step BatchScore (Transform): no Environment tag",
        "step Notify (Callback): a step type this check does not know; add it to tests/tagging.py"]


def test_a_wrong_tag_value_is_named():
    request = {"Tags": [{"Key": k, "Value": "x"} for k in ("Project", "Team", "Owner", "CostCenter", "Environment")]}
    problems = tag_problems(request, {"Environment": "dev"}, "endpoint e")
    assert problems == ["endpoint e: Environment='x', expected 'dev'"]
    with pytest.raises(AssertionError, match="untagged resource"):
        assert_tagged({"Tags": []}, what="CreateEndpoint e")


def test_every_create_request_of_a_cloud_run_is_tagged(project, capsys):  # noqa: F811
    """Whatever the cloud run creates (today the pipeline; its executions inherit the pipeline's tags)."""
    from contract_recorder import recording
    from contract_shapes import operation_model

    with recording() as calls:
        assert run(project) == 0
    creating = [c for c in calls if "Tags" in operation_model(c.service, c.operation).input_shape.members]
    assert [c.operation for c in creating] == ["CreatePipeline"]
    for call in creating:
        assert_tagged(call.params, project["config"].tags, what=call.operation)
    start = next(c for c in calls if c.operation == "StartPipelineExecution")
    assert start.params["PipelineName"] == creating[0].params["PipelineName"]  # the execution of the tagged pipeline
