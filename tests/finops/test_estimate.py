"""The cost estimate before a run: per step and total, on-demand and Spot; --budget refuses to start."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import boto3
import pytest
from botocore.stub import Stubber
from test_run_cloud import aws, project, run  # noqa: F401  (moto fixtures: the repo's dev wiring in SSM)

from pipelines.config import load_config
from pipelines.errors import UserError, run_cli
from pipelines.finops.estimate import (
    StepHistory,
    check_budget,
    cloud_history,
    estimate_run,
    local_history,
)
from pipelines.finops.preflight import definition_for_estimate
from pipelines.finops.prices import load_prices
from pipelines.run import main

pytestmark = pytest.mark.usefixtures("priced_region")  # see tests/conftest.py

REGION = "eu-west-1"
REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def config():
    return load_config("dev", REPO_ROOT / "pyproject.toml")


@pytest.fixture(scope="module")
def definition(config, tmp_path_factory):
    return definition_for_estimate(config, tmp_path_factory.mktemp("definitions"))


def by_step(estimate):
    return {s.step.name: s for s in estimate.steps}


def test_without_history_each_job_step_costs_its_max_runtime_at_the_table_price(config, definition):
    prices = load_prices()
    estimate = by_step(estimate_run(definition, REGION, prices))
    assert set(estimate) == {"Preprocess", "DataQualityCheck", "Train", "Evaluate"}  # no cost for Condition/Register
    train = estimate["Train"]
    hourly = prices.hourly(REGION, "training", config.training.instance_type)
    assert train.basis == "max runtime" and train.seconds == config.training.max_runtime_seconds
    assert train.on_demand_usd == pytest.approx(config.training.max_runtime_seconds / 3600 * hourly)
    spot_share = (1 - prices.spot_discount) if config.training.use_spot else 1  # on-demand teams pay in full
    assert train.spot_usd == pytest.approx(train.on_demand_usd * spot_share)
    evaluate = estimate["Evaluate"]  # processing: no Spot; no StoppingCondition means SageMaker's 24 h limit
    assert evaluate.seconds == 86400 and evaluate.spot_usd == evaluate.on_demand_usd


def test_instance_count_multiplies_the_cost(definition):
    doubled = json.loads(json.dumps(definition))
    train = next(s for s in doubled["Steps"] if s["Name"] == "Train")
    train["Arguments"]["ResourceConfig"]["InstanceCount"] = 2
    one, two = (by_step(estimate_run(d, REGION, load_prices()))["Train"] for d in (definition, doubled))
    assert two.on_demand_usd == pytest.approx(2 * one.on_demand_usd)


def test_local_history_gives_the_median_of_successful_uncached_runs(definition, tmp_path):
    def summary(started: str, train_seconds: float, cache_hit: bool = False, status: str = "Succeeded") -> dict:
        return {"started": started, "steps": [{"name": "Train", "status": status, "duration_seconds": train_seconds,
                                               "cache": {"hit": cache_hit}}]}

    runs = [summary("2026-11-01T10:00:00", 100), summary("2026-11-02T10:00:00", 900),
            summary("2026-11-03T10:00:00", 200), summary("2026-11-04T10:00:00", 1, cache_hit=True),
            summary("2026-11-05T10:00:00", 5, status="Failed")]
    for number, data in enumerate(runs):
        (tmp_path / f"run{number}").mkdir()
        (tmp_path / f"run{number}" / "summary.json").write_text(json.dumps(data))
    history = local_history(tmp_path)
    assert history.durations["Train"] == [200, 900, 100]  # newest first; cache hits and failures left out
    train = by_step(estimate_run(definition, REGION, load_prices(), history))["Train"]
    assert train.seconds == 200 and train.basis == "median of 3 local runs"


def test_cloud_history_reads_the_last_successful_executions():
    sm = boto3.client("sagemaker", region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x")
    t0 = datetime(2026, 11, 3, 12, tzinfo=UTC)
    arn = "arn:aws:sagemaker:eu-west-1:111111111111:pipeline/churn-reference-dev/execution/"
    with Stubber(sm) as stubber:
        stubber.add_response("list_pipeline_executions", {"PipelineExecutionSummaries": [
            {"PipelineExecutionArn": arn + "b", "PipelineExecutionStatus": "Succeeded"},
            {"PipelineExecutionArn": arn + "a", "PipelineExecutionStatus": "Failed"}]},
            {"PipelineName": "churn-reference-dev", "SortBy": "CreationTime", "SortOrder": "Descending",
             "MaxResults": 50})
        stubber.add_response("list_pipeline_execution_steps", {"PipelineExecutionSteps": [
            {"StepName": "Train", "StepStatus": "Succeeded", "StartTime": t0, "EndTime": t0 + timedelta(minutes=7)},
            {"StepName": "Evaluate", "StepStatus": "Succeeded", "StartTime": t0, "EndTime": t0 + timedelta(minutes=1),
             "CacheHitResult": {"SourcePipelineExecutionArn": arn + "z"}}]},
            {"PipelineExecutionArn": arn + "b", "SortOrder": "Ascending"})
        history = cloud_history(sm, "churn-reference-dev")
    assert dict(history.durations) == {"Train": [420.0]}
    assert history.median("Train") == (420.0, 1)


def test_the_budget_refuses_an_estimate_above_it(definition):
    estimate = estimate_run(definition, REGION, load_prices(), StepHistory())
    check_budget(estimate, estimate.spot_usd + 0.01)  # within the budget: no error
    with pytest.raises(UserError, match=r"exceeds --budget 0\.5 USD; nothing was started"):
        check_budget(estimate, 0.5)


def test_an_unknown_instance_type_is_named_with_the_table(definition):
    changed = json.loads(json.dumps(definition))
    next(s for s in changed["Steps"] if s["Name"] == "Train")["Arguments"]["ResourceConfig"]["InstanceType"] = \
        "ml.p9.mega"
    with pytest.raises(UserError, match=r"no training price for instance type ml\.p9\.mega in eu-west-1 in the "
                                        r"price table .*prices\.json"):
        estimate_run(changed, REGION, load_prices())


def test_estimate_cli_prints_per_step_and_total(config, repo_root, tmp_path, capsys):
    assert run_cli(main, ["--config", str(repo_root / "pyproject.toml"), "--state-dir", str(tmp_path),
                          "--estimate"]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0].startswith(f"cost estimate for one run of {config.pipeline_name} in {config.aws_region} (USD; "
                               "prices taken ")
    training = config.training
    assert any(line.split()[:4] == ["Train", str(training.instance_count), "x", training.instance_type]
               for line in lines)
    assert any(line.split()[0] == "total" for line in lines)
    assert "with Spot" in lines[1] and "on-demand" in lines[1]
    print(out)  # shown with -s: the estimate as printed


@pytest.mark.parametrize("extra, message", [
    (["--estimate", "--wait"], "--wait is for a cloud run (no --local or --dry-run), not for --estimate: drop --wait"),
    (["--local", "--budget", "5"], "--budget is for a cloud run (no --local or --dry-run) or --estimate, "
                                   "not for --local"),
    (["--estimate", "--budget", "0.01"], "exceeds --budget 0.01 USD; nothing was started"),
])
def test_estimate_and_budget_misuse_is_one_error_line(repo_root, tmp_path, capsys, extra, message):
    assert run_cli(main, ["--config", str(repo_root / "pyproject.toml"), "--state-dir", str(tmp_path), *extra]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err and "Traceback" not in err


def test_a_cloud_run_over_budget_starts_nothing(project, capsys):  # noqa: F811
    assert run(project, "--budget", "0.01") == 2
    err = capsys.readouterr().err
    assert "cost estimate for one run" in err and "exceeds --budget 0.01 USD; nothing was started" in err
    sm = boto3.client("sagemaker", region_name=project["region"])
    assert sm.list_pipelines()["PipelineSummaries"] == []
    bucket = project["wiring"]["artifact-bucket"]
    assert boto3.client("s3", region_name=project["region"]).list_objects_v2(Bucket=bucket).get("KeyCount") == 0


def test_a_cloud_run_within_budget_starts(project, capsys):  # noqa: F811
    assert run(project, "--budget", "100") == 0
    out, err = capsys.readouterr()
    assert "/execution/" in out and "cost estimate for one run" in err
