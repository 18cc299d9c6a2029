"""Following an execution (--wait) and the Spot report, with botocore's Stubber.

moto 5.2.5 lacks list_pipeline_execution_steps; the Stubber checks every request and canned
response against the real SageMaker service model instead.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import boto3
import pytest
from botocore.stub import Stubber

from pipelines.cloud import spot_report, spot_savings, wait_for_execution
from pipelines.progress import Progress

ARN = "arn:aws:sagemaker:eu-west-1:123456789012:pipeline/churn-dev/execution/abc123"
T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


def step(name: str, status: str, minutes: int = 1, **extra) -> dict:
    data = {"StepName": name, "StepStatus": status, "StartTime": T0}
    if status in ("Succeeded", "Failed"):
        data["EndTime"] = T0 + timedelta(minutes=minutes)
    data.update(extra)
    return data


@pytest.fixture
def sm():
    client = boto3.client("sagemaker", region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="x")
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


def expect_poll(stubber: Stubber, status: str, steps: list[dict], failure: str = "") -> None:
    execution = {"PipelineExecutionArn": ARN, "PipelineExecutionStatus": status}
    if failure:
        execution["FailureReason"] = failure
    stubber.add_response("describe_pipeline_execution", execution, {"PipelineExecutionArn": ARN})
    stubber.add_response("list_pipeline_execution_steps", {"PipelineExecutionSteps": steps},
                         {"PipelineExecutionArn": ARN, "SortOrder": "Ascending"})


def test_wait_reports_each_step_and_success(sm):
    client, stubber = sm
    expect_poll(stubber, "Executing", [step("Preprocess", "Executing")])
    expect_poll(stubber, "Succeeded", [step("Preprocess", "Succeeded", 3), step("Train", "Succeeded", 10,
                                        CacheHitResult={"SourcePipelineExecutionArn": ARN})])
    out = io.StringIO()
    result = wait_for_execution(client, ARN, Progress(out), poll_seconds=0, sleep=lambda _: None)
    assert result.status == "Succeeded"
    lines = out.getvalue().splitlines()
    assert any("Preprocess" in line and "Succeeded" in line and "(3m00s)" in line for line in lines)
    assert any("Train" in line and "cache hit" in line for line in lines)


def test_wait_names_the_failing_step_and_reason(sm):
    client, stubber = sm
    reason = "Primary metric auc = 0.61 is below the approval threshold MetricThreshold = 0.7"
    expect_poll(stubber, "Failed", [step("Evaluate", "Succeeded"), step("MetricBelowThreshold", "Failed",
                                     FailureReason=reason)], failure="Step failure")
    result = wait_for_execution(client, ARN, Progress(io.StringIO()), poll_seconds=0, sleep=lambda _: None)
    assert result.status == "Failed"
    assert result.failed_step == "MetricBelowThreshold"
    assert result.failure_reason == reason


def test_spot_saving_from_billable_vs_training_seconds(sm):
    client, stubber = sm
    job_arn = "arn:aws:sagemaker:eu-west-1:123456789012:training-job/pipelines-abc-train"
    stubber.add_response("describe_training_job", {
        "TrainingJobName": "pipelines-abc-train", "TrainingJobArn": job_arn,
        "ModelArtifacts": {"S3ModelArtifacts": "s3://b/model.tar.gz"}, "TrainingJobStatus": "Completed",
        "SecondaryStatus": "Completed", "AlgorithmSpecification": {"TrainingInputMode": "File"},
        "ResourceConfig": {"InstanceCount": 1, "VolumeSizeInGB": 30}, "StoppingCondition": {},
        "CreationTime": T0, "EnableManagedSpotTraining": True,
        "TrainingTimeInSeconds": 600, "BillableTimeInSeconds": 180,
    }, {"TrainingJobName": "pipelines-abc-train"})
    steps = [step("Preprocess", "Succeeded"), step("Train", "Succeeded", Metadata={"TrainingJob": {"Arn": job_arn}})]
    saving = spot_savings(client, steps)
    assert saving == {"training_job": "pipelines-abc-train", "spot": True, "training_seconds": 600,
                      "billable_seconds": 180, "saving_percent": 70.0}


@pytest.mark.parametrize("code, fix", [
    ("AccessDeniedException", "; grant sagemaker:DescribeTrainingJob to the build role"),
    ("ThrottlingException", ""),  # not a permission problem: no grant advice
])
def test_spot_report_turns_a_failed_read_into_a_warning(sm, code, fix):
    client, stubber = sm
    job_arn = "arn:aws:sagemaker:eu-west-1:123456789012:training-job/pipelines-abc-train"
    stubber.add_client_error("describe_training_job", service_error_code=code, service_message="no",
                             http_status_code=400, expected_params={"TrainingJobName": "pipelines-abc-train"})
    report = spot_report(client, [step("Train", "Succeeded", Metadata={"TrainingJob": {"Arn": job_arn}})])
    assert report.saving is None
    assert report.warning == f"could not read Spot billing for pipelines-abc-train: {code}: no{fix}"
