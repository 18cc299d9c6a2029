"""The Spot saving after a cloud run, in USD, recorded on the execution and in the summary; what a local
run would have cost. The Stubber (or in-process answers) stands in for the APIs moto 5.2.5 lacks."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime

import boto3
import pytest
from botocore.stub import ANY, Stubber
from test_run_cloud import answer_in_process, aws, project, run  # noqa: F401  (moto fixtures)

from pipelines.finops.prices import load_prices
from pipelines.finops.savings import (
    EXECUTION_MARK,
    local_run_cost,
    read_execution_saving,
    report_spot_savings,
)
from pipelines.progress import Progress

pytestmark = pytest.mark.usefixtures("priced_region")  # see tests/conftest.py

REGION = "eu-west-1"
ARN = "arn:aws:sagemaker:eu-west-1:111111111111:pipeline/churn-reference-dev/execution/abc123"
JOB_ARN = "arn:aws:sagemaker:eu-west-1:111111111111:training-job/pipelines-abc-train"
T0 = datetime(2026, 11, 1, 12, tzinfo=UTC)
STEPS = [{"StepName": "Train", "StepStatus": "Succeeded", "Metadata": {"TrainingJob": {"Arn": JOB_ARN}}}]


def training_job(training: int = 600, billable: int = 180, instance: str = "ml.m5.xlarge", count: int = 1) -> dict:
    return {"TrainingJobName": "pipelines-abc-train", "TrainingJobArn": JOB_ARN,
            "ModelArtifacts": {"S3ModelArtifacts": "s3://b/model.tar.gz"}, "TrainingJobStatus": "Completed",
            "SecondaryStatus": "Completed", "AlgorithmSpecification": {"TrainingInputMode": "File"},
            "ResourceConfig": {"InstanceType": instance, "InstanceCount": count, "VolumeSizeInGB": 30},
            "StoppingCondition": {}, "CreationTime": T0, "EnableManagedSpotTraining": True,
            "TrainingTimeInSeconds": training, "BillableTimeInSeconds": billable}


@pytest.fixture
def sm():
    client = boto3.client("sagemaker", region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x")
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


def test_the_saving_is_priced_printed_and_recorded_on_the_execution(sm):
    client, stubber = sm
    stubber.add_response("describe_training_job", training_job(count=2), {"TrainingJobName": "pipelines-abc-train"})
    hourly = load_prices().hourly(REGION, "training", "ml.m5.xlarge")
    saved = round(420 * 2 * hourly / 3600, 4)
    stubber.add_response("update_pipeline_execution", {"PipelineExecutionArn": ARN},
                         {"PipelineExecutionArn": ARN, "PipelineExecutionDescription": ANY})
    out = io.StringIO()
    result = report_spot_savings(client, ARN, STEPS, Progress(out))
    spot = result["spot"]
    assert result["report_warnings"] == []
    assert (spot["training_seconds"], spot["billable_seconds"], spot["saving_percent"]) == (600, 180, 70.0)
    assert spot["saved_usd"] == saved and spot["on_demand_usd"] == round(600 * 2 * hourly / 3600, 4)
    assert spot["billed_usd"] == round(180 * 2 * hourly / 3600, 4)
    line = out.getvalue().strip()
    assert "Spot: training job pipelines-abc-train: billable 180s of 600s training, saved 70.0%" in line
    assert f"= {saved:.4f} USD" in line and "2 x ml.m5.xlarge" in line


def test_the_execution_description_holds_the_figures_for_adding_up(sm):
    client, stubber = sm
    stubber.add_response("describe_training_job", training_job(), {"TrainingJobName": "pipelines-abc-train"})
    recorded = {}

    def keep(params, **_):
        recorded.update(params)

    client.meta.events.register("provide-client-params.sagemaker.UpdatePipelineExecution", keep)
    stubber.add_response("update_pipeline_execution", {"PipelineExecutionArn": ARN})
    spot = report_spot_savings(client, ARN, STEPS, Progress(io.StringIO()))["spot"]
    assert recorded["PipelineExecutionArn"] == ARN
    assert recorded["PipelineExecutionDescription"].startswith(EXECUTION_MARK)
    assert read_execution_saving(recorded["PipelineExecutionDescription"]) == spot


def test_a_denied_record_is_a_warning_with_the_grant_to_add(sm):
    client, stubber = sm
    stubber.add_response("describe_training_job", training_job(), {"TrainingJobName": "pipelines-abc-train"})
    stubber.add_client_error("update_pipeline_execution", service_error_code="AccessDeniedException",
                             service_message="no", http_status_code=400)
    result = report_spot_savings(client, ARN, STEPS, Progress(io.StringIO()))
    assert result["spot"]["saved_usd"] > 0
    assert result["report_warnings"] == [f"could not record the Spot saving on {ARN}: AccessDeniedException: no; "
                                         "grant sagemaker:UpdatePipelineExecution to the build role"]


def test_an_instance_type_without_a_price_still_reports_seconds(sm):
    client, stubber = sm
    stubber.add_response("describe_training_job", training_job(instance="ml.p9.mega"),
                         {"TrainingJobName": "pipelines-abc-train"})
    stubber.add_response("update_pipeline_execution", {"PipelineExecutionArn": ARN})
    out = io.StringIO()
    spot = report_spot_savings(client, ARN, STEPS, Progress(out))["spot"]
    assert spot["saving_percent"] == 70.0 and "saved_usd" not in spot
    assert "no USD figure: no training price for instance type ml.p9.mega" in out.getvalue()


@pytest.fixture
def finished_execution(monkeypatch):
    """The cloud run's session answers what moto lacks: the steps, the training job and the record."""
    import pipelines.aws

    real = pipelines.aws.aws_session

    def session(region: str):
        made = real(region)
        answer_in_process(made, "ListPipelineExecutionSteps", 200, {"PipelineExecutionSteps": STEPS})
        answer_in_process(made, "DescribeTrainingJob", 200, training_job())
        answer_in_process(made, "UpdatePipelineExecution", 200, {"PipelineExecutionArn": ARN})
        return made

    monkeypatch.setattr(pipelines.aws, "aws_session", session)


def test_a_waited_cloud_run_shows_and_writes_the_saving(project, finished_execution, tmp_path, capsys):  # noqa: F811
    summary_path = tmp_path / "summary.json"
    assert run(project, "--wait", "--poll-seconds", "0", "--summary", str(summary_path)) == 0
    err = capsys.readouterr().err
    assert "Spot: training job pipelines-abc-train: billable 180s of 600s training, saved 70.0% = " in err
    summary = json.loads(summary_path.read_text())
    assert summary["spot"]["saved_usd"] > 0 and summary["report_warnings"] == []
    print(next(line for line in err.splitlines() if "Spot:" in line))  # shown with -s: the summary line as printed


def test_a_local_run_costs_its_step_durations_at_the_table_prices():
    prices = load_prices()
    definition = {"Steps": [
        {"Name": "Prep", "Type": "Processing", "Arguments": {"ProcessingResources": {"ClusterConfig": {
            "InstanceType": "ml.m5.large", "InstanceCount": 1}}}},
        {"Name": "Train", "Type": "Training", "Arguments": {"ResourceConfig": {
            "InstanceType": "ml.m5.xlarge", "InstanceCount": 1}, "EnableManagedSpotTraining": True,
            "StoppingCondition": {"MaxRuntimeInSeconds": 3600}}}]}
    steps = [{"name": "Prep", "status": "Succeeded", "duration_seconds": 3600, "cache": {"hit": False}},
             {"name": "Train", "status": "Succeeded", "duration_seconds": 1800, "cache": {"hit": True}}]
    cost = local_run_cost(definition, steps, REGION, prices)
    assert cost["on_demand_usd"] == pytest.approx(prices.hourly(REGION, "processing", "ml.m5.large"))
    assert [s["step"] for s in cost["steps"]] == ["Prep"]  # a cache hit costs nothing
