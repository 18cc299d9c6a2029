"""The monitoring module's continuous-training Lambda (infra/modules/monitoring/lambda) against moto: drift alarms,
the retrain schedule and new data start the training pipeline at most once per cool-down, held by a conditional
write in DynamoDB, and the execution records why. moto 5.2.5 has no ListPipelineExecutionSteps: botocore's Stubber
answers the "after the run" part.

Template-only: generated repositories receive the module as a pinned git source, not its tests."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

REPO_ROOT = Path(__file__).resolve().parents[1]
LAMBDA_DIR = REPO_ROOT / "infra" / "modules" / "monitoring" / "lambda"
if str(LAMBDA_DIR) not in sys.path:
    sys.path.insert(0, str(LAMBDA_DIR))

import continuous_training as ct  # noqa: E402

REGION, ACCOUNT, PROD_ACCOUNT = "eu-west-1", "123456789012", "333333333333"
PROJECT = "churn-reference"
PIPELINE = GROUP = f"{PROJECT}-dev"
TABLE, SCHEDULE_GROUP, QUIET = f"{PIPELINE}-retrain", f"{PIPELINE}-retrain", f"{PIPELINE}-new-data"
FUNCTION_ARN = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{PIPELINE}-retrain"
REPORTS = f"s3://{PROJECT}-prod-artifacts-{PROD_ACCOUNT}/{PROJECT}/monitoring/prod/"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/{PIPELINE}-sagemaker-execution"
T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
ENV = {"PROJECT": PROJECT, "PIPELINE_NAME": PIPELINE, "MODEL_PACKAGE_GROUP": GROUP, "STATE_TABLE": TABLE,
       "COOL_DOWN_HOURS": "24", "QUIET_MINUTES": "30", "SCHEDULE_GROUP": SCHEDULE_GROUP, "QUIET_SCHEDULE": QUIET,
       "SCHEDULER_ROLE_ARN": f"arn:aws:iam::{ACCOUNT}:role/{PIPELINE}-retrain-scheduler",
       "DATA_URI": f"s3://{PROJECT}-dev-data-{ACCOUNT}/{PROJECT}/input/",
       "DRIFT_SOURCES": json.dumps({f"{PROJECT}-prod-drift-": {"stage": "prod", "reports": REPORTS}})}
SETTINGS = ct.Settings.from_environment(ENV, FUNCTION_ARN)


@pytest.fixture(scope="module")
def moto_clients():
    """One mock and one set of clients for the module (creating clients is the slow part); each test resets."""
    patch = pytest.MonkeyPatch()
    for key in ("AWS_PROFILE", "AWS_SESSION_TOKEN"):
        patch.delenv(key, raising=False)
    for key, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                       "AWS_DEFAULT_REGION": REGION}.items():
        patch.setenv(key, value)
    with mock_aws() as mock:
        yield mock, ct.Clients(*(boto3.client(n, region_name=REGION) for n in ("sagemaker", "dynamodb", "scheduler")))
    patch.undo()


@pytest.fixture
def aws(moto_clients):
    """The registry account: the state table, the schedule group, the training pipeline and its package group."""
    mock, clients = moto_clients
    mock.reset()
    clients.dynamodb.create_table(TableName=TABLE, BillingMode="PAY_PER_REQUEST",
                                  AttributeDefinitions=[{"AttributeName": "pipeline", "AttributeType": "S"}],
                                  KeySchema=[{"AttributeName": "pipeline", "KeyType": "HASH"}])
    clients.scheduler.create_schedule_group(Name=SCHEDULE_GROUP)
    clients.sagemaker.create_pipeline(PipelineName=PIPELINE, RoleArn=ROLE,
                                      PipelineDefinition=json.dumps({"Version": "2020-12-01", "Steps": []}))
    clients.sagemaker.create_model_package_group(ModelPackageGroupName=GROUP)
    return clients


def add_package(sm, status: str, model: str) -> str:
    return sm.create_model_package(
        ModelPackageGroupName=GROUP, ModelApprovalStatus=status, CustomerMetadataProperties={"data_hash": "sha256:1"},
        InferenceSpecification={"Containers": [{"Image": "img", "ModelDataUrl": model}],
                                "SupportedContentTypes": ["text/csv"], "SupportedResponseMIMETypes": ["text/csv"]},
    )["ModelPackageArn"]


def alarm_event(feature: str, state: str = "ALARM", account: str = PROD_ACCOUNT) -> dict:
    """A "CloudWatch Alarm State Change" event of one drift alarm, in the documented shape."""
    reason_data = {"version": "1.0", "statistic": "Maximum", "period": 3600, "threshold": 0.1,
                   "evaluatedDatapoints": [{"timestamp": "2026-11-20T08:00:00.000+0000", "value": 0.31}]}
    return {"version": "0", "source": "aws.cloudwatch", "detail-type": ct.ALARM_EVENT, "account": account,
            "region": REGION, "time": "2026-11-20T09:00:00Z",
            "resources": [f"arn:aws:cloudwatch:{REGION}:{account}:alarm:{PROJECT}-prod-drift-{feature}"],
            "detail": {"alarmName": f"{PROJECT}-prod-drift-{feature}",
                       "previousState": {"value": "OK"},
                       "state": {"value": state, "reason": f"Threshold Crossed: 1 datapoint [0.31] > 0.1 ({feature})",
                                 "reasonData": json.dumps(reason_data), "timestamp": "2026-11-20T09:00:00.000+0000"}}}


def object_event(key: str, bucket: str = f"{PROJECT}-dev-data-{ACCOUNT}") -> dict:
    return {"version": "0", "source": "aws.s3", "detail-type": "Object Created", "account": ACCOUNT, "region": REGION,
            "detail": {"bucket": {"name": bucket}, "object": {"key": key, "size": 10}, "reason": "PutObject"}}


def executions(sm) -> list[dict]:
    summaries = sm.list_pipeline_executions(PipelineName=PIPELINE)["PipelineExecutionSummaries"]
    return [sm.describe_pipeline_execution(PipelineExecutionArn=s["PipelineExecutionArn"]) for s in summaries]


def parameters_of(sm, arn: str) -> dict[str, str]:
    listed = sm.list_pipeline_parameters_for_execution(PipelineExecutionArn=arn)["PipelineParameters"]
    return {p["Name"]: p["Value"] for p in listed}


def log_lines(capsys) -> list[dict]:
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


def test_a_drift_alarm_starts_one_run_that_records_why(aws, capsys):
    champion = "s3://artifacts/churn/model-v3.tar.gz"
    add_package(aws.sagemaker, "Approved", champion)
    outcome = ct.handle(alarm_event("days_since_last_login"), SETTINGS, aws, T0)
    [execution] = executions(aws.sagemaker)
    assert outcome["action"] == "start" and outcome["execution_arn"] == execution["PipelineExecutionArn"]
    assert execution["PipelineExecutionDisplayName"] == "drift-20261120-090000"
    record = json.loads(execution["PipelineExecutionDescription"])
    assert record["trigger"] == "drift" and record["violations_report"] == REPORTS
    assert (record["stage"], record["account"], record["feature"]) == ("prod", PROD_ACCOUNT, "days_since_last_login")
    assert record["window_end"] == "2026-11-20T08:00:00.000+0000" and "0.31" in record["reason"]
    # the parameters pipelines.run derives from the approved model: its baseline and the champion to beat
    assert parameters_of(aws.sagemaker, execution["PipelineExecutionArn"]) == {
        "SkipDataQualityCheck": "false", "RegisterNewDataQualityBaseline": "false", "ChampionModelDataUri": champion}
    item = aws.dynamodb.get_item(TableName=TABLE, Key={"pipeline": {"S": PIPELINE}})["Item"]
    assert item["execution_arn"]["S"] == execution["PipelineExecutionArn"] and item["trigger"]["S"] == "drift"
    assert [line["action"] for line in log_lines(capsys)] == ["start"]


def test_two_alarms_at_once_start_one_run(aws, capsys):
    """Two features cross the threshold in the same window: both events arrive at the same instant, the
    conditional write lets one claim the run, the other is logged as skipped with the run it defers to."""
    first = ct.handle(alarm_event("spend_30d"), SETTINGS, aws, T0)
    second = ct.handle(alarm_event("win_rate"), SETTINGS, aws, T0)
    assert (first["action"], second["action"]) == ("start", "skip")
    assert len(executions(aws.sagemaker)) == 1
    skipped = log_lines(capsys)[1]
    assert skipped["record"]["feature"] == "win_rate"
    assert skipped["reason"] == f"the last run started at {T0.isoformat()} (drift), within the 1 day, 0:00:00 cool-down"


def test_the_cool_down_holds_for_every_trigger_then_lets_the_next_run_start(aws):
    assert ct.handle(alarm_event("level"), SETTINGS, aws, T0)["action"] == "start"
    later = [(alarm_event("level"), T0 + timedelta(hours=1)), ({"trigger": "schedule"}, T0 + timedelta(hours=12)),
             ({"trigger": "new-data"}, T0 + timedelta(hours=23, minutes=59))]
    assert [ct.handle(event, SETTINGS, aws, when)["action"] for event, when in later] == ["skip"] * 3
    assert ct.handle({"trigger": "schedule"}, SETTINGS, aws, T0 + timedelta(hours=24))["action"] == "start"
    names = sorted(e["PipelineExecutionDisplayName"] for e in executions(aws.sagemaker))
    assert names == ["drift-20261120-090000", "schedule-20261121-090000"]


def test_an_alarm_going_back_to_ok_or_someone_elses_alarm_starts_nothing(aws, capsys):
    other = alarm_event("level")
    other["detail"]["alarmName"] = "fraud-model-prod-drift-level"
    for event in (alarm_event("level", state="OK"), alarm_event("level", state="INSUFFICIENT_DATA"), other):
        assert ct.handle(event, SETTINGS, aws, T0)["action"] == "ignore"
    assert executions(aws.sagemaker) == []
    assert aws.dynamodb.get_item(TableName=TABLE, Key={"pipeline": {"S": PIPELINE}}).get("Item") is None


def test_a_run_that_fails_to_start_gives_the_cool_down_back(aws):
    aws.sagemaker.delete_pipeline(PipelineName=PIPELINE, ClientRequestToken="x" * 32)
    with pytest.raises(Exception, match="PipelineName|does not exist|not found"):
        ct.handle(alarm_event("level"), SETTINGS, aws, T0)
    assert aws.dynamodb.get_item(TableName=TABLE, Key={"pipeline": {"S": PIPELINE}}).get("Item") is None
    aws.sagemaker.create_pipeline(PipelineName=PIPELINE, RoleArn=ROLE, PipelineDefinition="{}")
    assert ct.handle(alarm_event("level"), SETTINGS, aws, T0 + timedelta(minutes=5))["action"] == "start"


def test_without_an_approved_model_the_run_skips_the_check_and_registers_a_baseline(aws):
    add_package(aws.sagemaker, "PendingManualApproval", "s3://artifacts/m.tar.gz")
    ct.handle({"trigger": "schedule"}, SETTINGS, aws, T0)
    [execution] = executions(aws.sagemaker)
    assert json.loads(execution["PipelineExecutionDescription"]) == {"trigger": "schedule",
                                                                     "reason": "the retrain schedule"}
    assert parameters_of(aws.sagemaker, execution["PipelineExecutionArn"]) == {
        "SkipDataQualityCheck": "true", "RegisterNewDataQualityBaseline": "true"}


def test_a_500_file_upload_starts_one_run_once_the_upload_is_quiet(aws, capsys):
    calls: list[str] = []
    for name in ("CreateSchedule", "UpdateSchedule"):
        aws.scheduler.meta.events.register(f"before-call.scheduler.{name}", lambda model, **_: calls.append(model.name),
                                           unique_id=f"count-{name}")
    try:
        for n in range(500):  # one object every 0.2 s: a 100-second upload
            outcome = ct.handle(object_event(f"{PROJECT}/input/part-{n:05d}.csv"), SETTINGS, aws,
                                T0 + timedelta(seconds=0.2 * n))
            assert outcome["action"] == "wait"
    finally:
        for name in ("CreateSchedule", "UpdateSchedule"):
            aws.scheduler.meta.events.unregister(f"before-call.scheduler.{name}", unique_id=f"count-{name}")
    assert executions(aws.sagemaker) == []
    assert calls == ["CreateSchedule", "UpdateSchedule"]  # moved about once a minute, not once per object
    schedule = aws.scheduler.get_schedule(Name=QUIET, GroupName=SCHEDULE_GROUP)
    fires_at = datetime.fromisoformat(schedule["ScheduleExpression"][3:-1]).replace(tzinfo=UTC)
    last_object = T0 + timedelta(seconds=0.2 * 499)
    assert timedelta(minutes=30) <= fires_at - last_object <= timedelta(minutes=31)  # quiet, then within a minute
    assert (schedule["ActionAfterCompletion"], schedule["Target"]["Arn"]) == ("DELETE", FUNCTION_ARN)
    assert schedule["Target"]["RoleArn"] == ENV["SCHEDULER_ROLE_ARN"]
    # the schedule fires: its input starts the run
    fired = json.loads(schedule["Target"]["Input"])
    assert ct.handle(fired, SETTINGS, aws, fires_at)["action"] == "start"
    [execution] = executions(aws.sagemaker)
    assert execution["PipelineExecutionDisplayName"] == f"new-data-{fires_at:%Y%m%d-%H%M%S}"
    assert json.loads(execution["PipelineExecutionDescription"])["data"] == ENV["DATA_URI"]


def test_an_object_after_the_quiet_schedule_fired_plans_a_new_one(aws):
    ct.handle(object_event(f"{PROJECT}/input/a.csv"), SETTINGS, aws, T0)
    aws.scheduler.delete_schedule(Name=QUIET, GroupName=SCHEDULE_GROUP)  # fired: ActionAfterCompletion DELETE
    ct.handle(object_event(f"{PROJECT}/input/b.csv"), SETTINGS, aws, T0 + timedelta(hours=2))
    schedule = aws.scheduler.get_schedule(Name=QUIET, GroupName=SCHEDULE_GROUP)
    assert schedule["ScheduleExpression"] == "at(2026-11-20T11:31:01)"


def test_the_handler_reads_its_settings_from_the_environment(aws, monkeypatch):
    for key, value in ENV.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setattr(ct.Clients, "default", classmethod(lambda cls: aws))
    context = type("Context", (), {"invoked_function_arn": FUNCTION_ARN})()
    assert ct.handler({"trigger": "schedule"}, context)["action"] == "start"
    assert ct.handler({"source": "aws.events", "detail-type": "Scheduled Event"}, context)["action"] == "ignore"


################################################################################
# After the run (Stubber: moto has no ListPipelineExecutionSteps)
################################################################################

EXECUTION_ARN = f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:pipeline/{PIPELINE}/execution/abc123"
PACKAGE_ARN = f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:model-package/{GROUP}/7"


def finished(status: str = "Succeeded") -> dict:
    return {"source": "aws.sagemaker", "detail-type": ct.EXECUTION_EVENT, "account": ACCOUNT,
            "detail": {"pipelineArn": f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:pipeline/{PIPELINE}",
                       "pipelineExecutionArn": EXECUTION_ARN, "currentPipelineExecutionStatus": status,
                       "previousPipelineExecutionStatus": "Executing"}}


def stubbed_sagemaker(description: str, registered: bool = True) -> tuple[object, Stubber]:
    sm = boto3.client("sagemaker", region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x")
    stubber = Stubber(sm)
    stubber.add_response("describe_pipeline_execution", {"PipelineExecutionArn": EXECUTION_ARN,
                                                         "PipelineExecutionDescription": description},
                         {"PipelineExecutionArn": EXECUTION_ARN})
    if description.startswith("{"):
        register = {"StepName": "RegisterModel", "StepStatus": "Succeeded",
                    "Metadata": {"RegisterModel": {"Arn": PACKAGE_ARN}}}
        steps = [{"StepName": "Train", "StepStatus": "Succeeded", "Metadata": {}}] + ([register] if registered else [])
        stubber.add_response("list_pipeline_execution_steps", {"PipelineExecutionSteps": steps},
                             {"PipelineExecutionArn": EXECUTION_ARN})
    return sm, stubber


def test_the_retrained_version_names_its_trigger_and_report_in_the_registry(capsys):
    record = {"trigger": "drift", "violations_report": REPORTS, "alarm": f"{PROJECT}-prod-drift-level"}
    sm, stubber = stubbed_sagemaker(json.dumps(record))
    lineage = {"data_hash": "sha256:1", "git_commit": "unknown"}
    stubber.add_response("describe_model_package", {"ModelPackageName": GROUP, "ModelPackageArn": PACKAGE_ARN,
                                                    "CreationTime": T0, "ModelPackageStatus": "Completed",
                                                    "ModelPackageStatusDetails": {"ValidationStatuses": []},
                                                    "CustomerMetadataProperties": lineage},
                         {"ModelPackageName": PACKAGE_ARN})
    stubber.add_response("update_model_package", {"ModelPackageArn": PACKAGE_ARN}, {
        "ModelPackageArn": PACKAGE_ARN,
        "CustomerMetadataProperties": {**lineage, "RetrainTrigger": "drift", "RetrainViolationsReport": REPORTS}})
    with stubber:
        outcome = ct.handle(finished(), SETTINGS, ct.Clients(sm, None, None), T0)
        stubber.assert_no_pending_responses()
    assert outcome["action"] == "record" and outcome["RetrainTrigger"] == "drift"


@pytest.mark.parametrize("description, registered", [("Built by ML Factory", True), ("", True),
                                                       (json.dumps({"trigger": "new-data"}), False)])
def test_runs_not_started_here_or_registering_nothing_are_left_alone(description, registered):
    sm, stubber = stubbed_sagemaker(description, registered)
    with stubber:
        assert ct.handle(finished(), SETTINGS, ct.Clients(sm, None, None), T0)["action"] == "ignore"
        stubber.assert_no_pending_responses()


def test_a_failed_run_is_left_alone():
    sm = boto3.client("sagemaker", region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x")
    with Stubber(sm) as stubber:  # no call expected
        assert ct.handle(finished("Failed"), SETTINGS, ct.Clients(sm, None, None), T0)["action"] == "ignore"
        stubber.assert_no_pending_responses()
