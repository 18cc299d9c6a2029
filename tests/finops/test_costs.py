"""`python -m pipelines.costs --month`: spend by service from Cost Explorer and the month's Spot saving,
as a table, CSV and PNG. botocore's Stubber answers and checks every request (no network)."""

from __future__ import annotations

import csv
from datetime import UTC, datetime
from pathlib import Path

import boto3
import pytest
from botocore.stub import Stubber

from pipelines import costs
from pipelines.config import load_config
from pipelines.errors import run_cli
from pipelines.finops.prices import load_prices

REGION = "eu-west-1"
CONFIG = load_config("dev", Path(__file__).resolve().parents[2] / "pyproject.toml")
PROJECT, PIPELINE = CONFIG.project, CONFIG.pipeline_name
EXECUTION = f"arn:aws:sagemaker:{REGION}:111111111111:pipeline/{PIPELINE}/execution/"
JOB = f"arn:aws:sagemaker:{REGION}:111111111111:training-job/"
T0 = datetime(2026, 11, 3, 9, tzinfo=UTC)


class StubbedSession:
    """What pipelines.aws.aws_session returns, with one stubbed client per service."""

    def __init__(self):
        self.clients = {name: boto3.client(name, region_name=REGION if name != "ce" else "us-east-1",
                                           aws_access_key_id="x", aws_secret_access_key="x")
                        for name in ("ce", "sagemaker")}
        self.stubbers = {name: Stubber(client) for name, client in self.clients.items()}

    def client(self, name: str, region_name: str | None = None):
        return self.clients[name]


@pytest.fixture
def session(monkeypatch):
    import pipelines.aws

    made = StubbedSession()
    monkeypatch.setattr(pipelines.aws, "aws_session", lambda region: made)
    for stubber in made.stubbers.values():
        stubber.activate()
    yield made
    for stubber in made.stubbers.values():
        stubber.assert_no_pending_responses()
        stubber.deactivate()


def cost_request(token: str | None = None) -> dict:
    request = {"TimePeriod": {"Start": "2026-11-01", "End": "2026-12-01"}, "Granularity": "MONTHLY",
               "Metrics": ["UnblendedCost"],
               "Filter": {"Tags": {"Key": "Project", "Values": [PROJECT], "MatchOptions": ["EQUALS"]}},
               "GroupBy": [{"Type": "DIMENSION", "Key": "SERVICE"}]}
    return {**request, "NextPageToken": token} if token else request


def group(service: str, usd: str) -> dict:
    return {"Keys": [service], "Metrics": {"UnblendedCost": {"Amount": usd, "Unit": "USD"}}}


def expect_spend(stubber: Stubber) -> None:
    period = {"TimePeriod": {"Start": "2026-11-01", "End": "2026-12-01"}, "Estimated": False}
    stubber.add_response("get_cost_and_usage", {"ResultsByTime": [
        {**period, "Groups": [group("Amazon SageMaker", "41.5"), group("Amazon Simple Storage Service", "0.75")]}],
        "NextPageToken": "p2"}, cost_request())
    stubber.add_response("get_cost_and_usage", {"ResultsByTime": [
        {**period, "Groups": [group("AWS Key Management Service", "1.0")]}]}, cost_request("p2"))


def expect_executions(stubber: Stubber) -> None:
    stubber.add_response("list_pipeline_executions", {"PipelineExecutionSummaries": [
        {"PipelineExecutionArn": EXECUTION + "a", "PipelineExecutionStatus": "Succeeded"},
        {"PipelineExecutionArn": EXECUTION + "b", "PipelineExecutionStatus": "Failed"},
        {"PipelineExecutionArn": EXECUTION + "c", "PipelineExecutionStatus": "Succeeded"}]},
        {"PipelineName": PIPELINE, "CreatedAfter": datetime(2026, 11, 1, tzinfo=UTC),
         "CreatedBefore": datetime(2026, 12, 1, tzinfo=UTC), "SortBy": "CreationTime", "SortOrder": "Ascending",
         "MaxResults": 100})
    train = {"StepName": "Train", "StepStatus": "Succeeded", "Metadata": {"TrainingJob": {"Arn": JOB + "job-a"}}}
    stubber.add_response("list_pipeline_execution_steps", {"PipelineExecutionSteps": [train]},
                         {"PipelineExecutionArn": EXECUTION + "a", "SortOrder": "Ascending"})
    stubber.add_response("describe_training_job", {
        "TrainingJobName": "job-a", "TrainingJobArn": JOB + "job-a", "ModelArtifacts": {"S3ModelArtifacts": "s3://b/m"},
        "TrainingJobStatus": "Completed", "SecondaryStatus": "Completed",
        "AlgorithmSpecification": {"TrainingInputMode": "File"}, "StoppingCondition": {}, "CreationTime": T0,
        "ResourceConfig": {"InstanceType": "ml.m5.xlarge", "InstanceCount": 1, "VolumeSizeInGB": 30},
        "EnableManagedSpotTraining": True, "TrainingTimeInSeconds": 3600, "BillableTimeInSeconds": 1080},
        {"TrainingJobName": "job-a"})
    cached = {"StepName": "Train", "StepStatus": "Succeeded", "CacheHitResult": {"SourcePipelineExecutionArn": "x"}}
    stubber.add_response("list_pipeline_execution_steps", {"PipelineExecutionSteps": [cached]},
                         {"PipelineExecutionArn": EXECUTION + "c", "SortOrder": "Ascending"})


def run_costs(repo_root, tmp_path, month: str = "2026-11") -> int:
    return run_cli(costs.main, ["--month", month, "--config", str(repo_root / "pyproject.toml"),
                                "--out", str(tmp_path)])


def test_the_month_is_reported_as_a_table_csv_and_chart(session, repo_root, tmp_path, capsys):
    expect_spend(session.stubbers["ce"])
    expect_executions(session.stubbers["sagemaker"])
    assert run_costs(repo_root, tmp_path) == 0
    out = capsys.readouterr().out
    print(out)  # shown with -s: the report as printed
    saved = round(2520 * load_prices().hourly(REGION, "training", "ml.m5.xlarge") / 3600, 4)
    lines = out.splitlines()
    assert lines[0] == f"{PROJECT}: spend in 2026-11 by service (Cost Explorer, tag Project={PROJECT}, USD)"
    assert lines[1].split() == ["Amazon", "SageMaker", "41.50"]  # biggest first
    assert next(line for line in lines if line.strip().startswith("total ")).split() == ["total", "43.25"]
    assert "job-a" in out and f"{saved:.4f}" in out and "70.0% of 3600s" in out

    rows = list(csv.DictReader((tmp_path / f"costs-{PIPELINE}-2026-11.csv").open()))
    spend = {r["item"]: float(r["usd"]) for r in rows if r["section"] == "spend"}
    assert spend == {"Amazon SageMaker": 41.5, "Amazon Simple Storage Service": 0.75,
                     "AWS Key Management Service": 1.0, "total": 43.25}
    spot = [r for r in rows if r["section"] == "spot_saving"]
    assert [(r["item"], float(r["usd"])) for r in spot] == [("job-a", saved), ("total", saved)]
    chart = (tmp_path / f"costs-{PIPELINE}-2026-11.png").read_bytes()
    assert chart.startswith(b"\x89PNG\r\n\x1a\n") and 5_000 < len(chart) < 100_000


def test_no_tagged_spend_says_how_to_activate_the_cost_tag(session, repo_root, tmp_path, capsys):
    session.stubbers["ce"].add_response("get_cost_and_usage", {"ResultsByTime": []}, cost_request())
    session.stubbers["sagemaker"].add_client_error("list_pipeline_executions", service_error_code="ResourceNotFound",
                                                   service_message="Pipeline not found")
    assert run_costs(repo_root, tmp_path) == 0
    out = capsys.readouterr().out
    assert f"note: Cost Explorer knows no spend tagged Project={PROJECT} in 2026-11: activate Project as a cost " \
           "allocation tag" in out


@pytest.mark.parametrize("month", ["2026-13", "11-2026", "2026/11"])
def test_a_bad_month_is_one_error_line_and_writes_nothing(session, repo_root, tmp_path, capsys, month):
    assert run_costs(repo_root, tmp_path, month) == 2
    assert capsys.readouterr().err.strip() == f"error: --month {month!r} is not a month like 2026-11"
    assert list(tmp_path.iterdir()) == []


def test_denied_cost_explorer_is_one_error_line_and_writes_nothing(session, repo_root, tmp_path, capsys):
    session.stubbers["ce"].add_client_error("get_cost_and_usage", service_error_code="AccessDeniedException",
                                            service_message="not authorized to perform: ce:GetCostAndUsage")
    assert run_costs(repo_root, tmp_path) == 2
    err = capsys.readouterr().err
    assert err.strip() == ("error: reading the costs of 2026-11 failed: AccessDeniedException: not authorized to "
                           "perform: ce:GetCostAndUsage")
    assert list(tmp_path.iterdir()) == []
