"""The monitoring module's EventBridge rules (infra/modules/monitoring/event-patterns), evaluated by moto's
EventBridge against sample events in the documented shapes, and the names it shares with the Python side.

Template-only: generated repositories receive the module as a pinned git source, not its tests."""

from __future__ import annotations

import json
import sys
from functools import cache
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
MODULE = REPO_ROOT / "infra" / "modules" / "monitoring"
for path in (REPO_ROOT, REPO_ROOT / "tests" / "contracts", MODULE / "lambda"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

import continuous_training as ct  # noqa: E402
from event_rules import MOTO_ACCOUNT, delivered, entry, rendered  # noqa: E402
from terraform_values import render  # noqa: E402

from infra.tools.terraform_config import config_blocks, fields  # noqa: E402

PROJECT, REGION = "churn-reference", "eu-west-1"
PATTERNS = MODULE / "event-patterns"


@cache
def blocks() -> tuple[Any, ...]:
    return tuple(config_blocks(MODULE))


@cache
def module_locals() -> dict[str, Any]:
    return {k: v for b in blocks() if b.kind == "locals" for k, v in fields(b.body).items()}


def resource(kind: str, name: str) -> dict[str, Any]:
    return next(b.body for b in blocks() if b.kind == "resource" and b.labels == (kind, name))


def name_of(local: str, stage: str = "prod") -> str:
    """A module local as Terraform would render it for PROJECT and `stage`."""
    return render(f"${{local.{local}}}", {"project": PROJECT, "stage": stage}, module_locals())


def alarm(name: str, state: str) -> dict[str, Any]:
    """A "CloudWatch Alarm State Change" entry, in the documented shape."""
    detail = {"alarmName": name, "previousState": {"value": "OK", "timestamp": "2026-11-20T08:00:00.000+0000"},
              "state": {"value": state, "reason": "Threshold Crossed", "timestamp": "2026-11-20T09:00:00.000+0000",
                        "reasonData": json.dumps({"evaluatedDatapoints": [{"timestamp": "2026-11-20T08:00:00.000+0000",
                                                                            "value": 0.3}]})},
              "configuration": {"metrics": []}}
    return entry("aws.cloudwatch", ct.ALARM_EVENT, detail, [f"arn:aws:cloudwatch:{REGION}:{MOTO_ACCOUNT}:alarm:{name}"])


def drift_pattern(stages: list[str], accounts: list[str]) -> str:
    """The drift-alarm pattern as the module fills it: one prefix per stage whose alarms start retraining."""
    prefixes = [{"prefix": name_of("drift_alarm_prefix", stage)} for stage in stages]
    return rendered(PATTERNS / "drift-alarm.json.tftpl", accounts=json.dumps(accounts),
                    alarm_name_prefixes=json.dumps(prefixes))


DRIFT_SAMPLES = {
    "a feature alarm of ours to ALARM": (alarm(f"{PROJECT}-prod-drift-win_rate", "ALARM"), True),
    "back to OK": (alarm(f"{PROJECT}-prod-drift-win_rate", "OK"), False),
    "to INSUFFICIENT_DATA": (alarm(f"{PROJECT}-prod-drift-win_rate", "INSUFFICIENT_DATA"), False),
    "the any-feature composite (it alerts, the feature alarms retrain)": (alarm(f"{PROJECT}-prod-drift", "ALARM"),
                                                                          False),
    "the rollback alarm of our endpoint": (alarm(f"{PROJECT}-prod-5xx-errors", "ALARM"), False),
    "another stage's drift alarm": (alarm(f"{PROJECT}-staging-drift-win_rate", "ALARM"), False),
    "another project's drift alarm": (alarm("fraud-model-prod-drift-win_rate", "ALARM"), False),
}


@pytest.mark.parametrize("name", DRIFT_SAMPLES)
def test_only_a_drift_alarm_of_the_stage_going_to_alarm_is_forwarded(name):
    event, expected = DRIFT_SAMPLES[name]
    got = delivered(drift_pattern(["prod"], [MOTO_ACCOUNT]), [event])
    assert len(got) == (1 if expected else 0), got


def test_the_retrain_bus_takes_every_source_stage_and_the_lambda_reads_what_it_delivers():
    pattern = drift_pattern(["staging", "prod"], ["222222222222", MOTO_ACCOUNT])
    events = [alarm(f"{PROJECT}-staging-drift-level", "ALARM"), alarm(f"{PROJECT}-prod-drift-win_rate", "ALARM"),
              alarm(f"{PROJECT}-dev-drift-level", "ALARM")]
    got = delivered(pattern, events)
    assert sorted(e["detail"]["alarmName"] for e in got) == [f"{PROJECT}-prod-drift-win_rate",
                                                             f"{PROJECT}-staging-drift-level"]
    reports = "s3://reports/prod/"
    settings = SimpleNamespace(drift_sources={name_of("drift_alarm_prefix", "prod"): {"stage": "prod",
                                                                                      "reports": reports}})
    record = ct.drift_record(next(e for e in got if "prod" in e["detail"]["alarmName"]), settings)
    assert (record["trigger"], record["stage"], record["feature"]) == ("drift", "prod", "win_rate")
    assert record["violations_report"] == reports and record["window_end"] == "2026-11-20T08:00:00.000+0000"


def test_alarms_from_an_account_the_bus_does_not_list_are_not_taken():
    assert delivered(drift_pattern(["prod"], ["333333333333"]), [alarm(f"{PROJECT}-prod-drift-level", "ALARM")]) == []


def test_the_module_fills_the_drift_pattern_with_the_alarm_names_it_gives():
    local_values = module_locals()
    assert local_values["drift_alarm_prefix"] == "${local.name}-drift-"
    assert "${var.project}-${stage}-drift-" in local_values["drift_sources"]  # the registry's side, per stage
    assert resource("aws_cloudwatch_metric_alarm", "drift")["alarm_name"] == "${local.drift_alarm_prefix}${each.key}"
    assert resource("aws_cloudwatch_composite_alarm", "drift")["alarm_name"] == "${local.name}-drift"
    forward = resource("aws_cloudwatch_event_rule", "drift")["event_pattern"]
    assert "drift-alarm.json.tftpl" in forward and "local.drift_alarm_prefix" in forward


BUCKET = f"{PROJECT}-dev-data-111111111111"


def created(key: str, bucket: str = BUCKET, kind: str = "Object Created") -> dict[str, Any]:
    """An S3 EventBridge notification, in the documented shape."""
    detail = {"version": "0", "bucket": {"name": bucket}, "object": {"key": key, "size": 1024, "etag": "e"},
              "request-id": "r", "requester": MOTO_ACCOUNT, "reason": "PutObject"}
    return entry("aws.s3", kind, detail, [f"arn:aws:s3:::{bucket}"])


@pytest.mark.parametrize("event, expected", [
    (created(f"{PROJECT}/input/part-00001.csv"), True),
    (created(f"{PROJECT}/input/2026/11/20/part.parquet"), True),
    (created(f"{PROJECT}/data-capture/AllTraffic/x.jsonl"), False),  # under the bucket, not the data prefix
    (created(f"other/{PROJECT}/input/part.csv"), False),
    (created(f"{PROJECT}/input/part.csv", bucket=f"{PROJECT}-dev-artifacts-111111111111"), False),
    (created(f"{PROJECT}/input/part.csv", kind="Object Deleted"), False),
], ids=["under-prefix", "nested", "capture", "prefix-elsewhere", "other-bucket", "deleted"])
def test_only_objects_created_under_the_data_prefix_are_new_data(event, expected):
    pattern = rendered(PATTERNS / "object-created.json.tftpl", bucket_name=BUCKET, key_prefix=f"{PROJECT}/input/")
    assert len(delivered(pattern, [event])) == (1 if expected else 0)


def test_the_data_prefix_defaults_to_the_default_input_uri():
    """pipelines/definition.py default_input_uri: s3://<data-bucket>/<project>/input/ without input_data_uri."""
    from pipelines.config import load_config
    from pipelines.definition import default_input_uri

    config = load_config("dev", REPO_ROOT / "pyproject.toml")
    assert not config.input_data_uri  # the reference project reads the default location
    assert module_locals()["data_prefix"] == '${coalesce(var.data_prefix, "${var.project}/input/")}'
    prefix = render("${var.project}/input/", {"project": config.project}, {})
    assert default_input_uri(config, SimpleNamespace(data_bucket=BUCKET)) == f"s3://{BUCKET}/{prefix}"


def execution(pipeline: str, status: str) -> dict[str, Any]:
    arn = f"arn:aws:sagemaker:{REGION}:{MOTO_ACCOUNT}:pipeline/{pipeline}"
    detail = {"pipelineArn": arn, "pipelineExecutionArn": f"{arn}/execution/abc",
              "executionStartTime": "2026-11-20T09:00:00Z", "currentPipelineExecutionStatus": status,
              "previousPipelineExecutionStatus": "Executing", "pipelineExecutionDisplayName": "drift-20261120-090000"}
    return entry("aws.sagemaker", ct.EXECUTION_EVENT, detail, [arn, f"{arn}/execution/abc"])


@pytest.mark.parametrize("event, expected", [
    (execution(f"{PROJECT}-dev", "Succeeded"), True),
    (execution(f"{PROJECT}-dev", "Failed"), False),
    (execution(f"{PROJECT}-monitor-dev", "Succeeded"), False),
    (execution(f"{PROJECT}-dev-shadow", "Succeeded"), False),
], ids=["training-succeeded", "training-failed", "monitoring-pipeline", "name-starts-like-ours"])
def test_only_a_succeeded_training_run_is_looked_at_afterwards(event, expected):
    arn = f"arn:aws:sagemaker:{REGION}:{MOTO_ACCOUNT}:pipeline/{PROJECT}-dev"
    pattern = rendered(PATTERNS / "training-succeeded.json.tftpl", pipeline_arn=arn)
    assert len(delivered(pattern, [event])) == (1 if expected else 0)


def test_the_alarms_watch_the_metrics_the_monitoring_job_writes(tmp_path):
    """Namespace, metric name and both dimensions as pipelines/monitoring/names.py spells them, and as the drift
    step's code (seedcode/drift_metrics.py) writes them; the scheduled pipeline's name likewise."""
    from datetime import UTC, datetime

    from pipelines.monitoring import names

    sys.path.append(str(REPO_ROOT / "seedcode"))  # the step's code, as it imports its siblings
    from drift_metrics import write_metrics

    (tmp_path / "statistics.json").write_text(json.dumps({"dataset": {"item_count": 10}, "features": []}))
    result = SimpleNamespace(files={"statistics.json": tmp_path / "statistics.json"}, folder=tmp_path,
                             drift={"win_rate": SimpleNamespace(distance=0.3)})
    endpoint, schedule = names.endpoint_name(PROJECT, "prod"), names.schedule_name(PROJECT, "prod")
    written = json.loads(write_metrics(result, endpoint, schedule, datetime(2026, 11, 20, tzinfo=UTC)).read_text())
    [metric] = written["MetricData"]
    alarm_block = resource("aws_cloudwatch_metric_alarm", "drift")
    assert written["Namespace"] == names.METRIC_NAMESPACE == name_of("metric_namespace")
    assert metric["MetricName"] == names.DRIFT_METRIC.format("win_rate") == name_of("drift_metric_prefix") + "win_rate"
    assert alarm_block["metric_name"] == "${local.drift_metric_prefix}${each.key}"
    assert {d["Name"]: d["Value"] for d in metric["Dimensions"]} == {
        "Endpoint": name_of("endpoint_name"), "MonitoringSchedule": name_of("monitoring_schedule")}
    assert fields(alarm_block["dimensions"]) == {"Endpoint": "${local.endpoint_name}",
                                                 "MonitoringSchedule": "${local.monitoring_schedule}"}
    assert name_of("monitoring_pipeline_name") == names.monitor_pipeline_name(PROJECT, "prod")


@pytest.mark.parametrize("approved", [0, 2])
def test_the_lambda_starts_runs_with_the_parameters_pipelines_run_derives(approved):
    """The Lambda cannot import pipelines/: its copy of approved_model_parameters is held equal here (moto)."""
    import boto3
    from moto import mock_aws

    from pipelines.registry import CloudRegistry
    from pipelines.registry_model import approved_model_parameters

    group = f"{PROJECT}-dev"
    with mock_aws():
        sm = boto3.client("sagemaker", region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x")
        sm.create_model_package_group(ModelPackageGroupName=group)
        statuses = ["Rejected"] + ["Approved"] * approved + ["PendingManualApproval"]
        for n, status in enumerate(statuses):
            sm.create_model_package(ModelPackageGroupName=group, ModelApprovalStatus=status, InferenceSpecification={
                "Containers": [{"Image": "img", "ModelDataUrl": f"s3://artifacts/v{n}.tar.gz"}],
                "SupportedContentTypes": ["text/csv"], "SupportedResponseMIMETypes": ["text/csv"]})
        ours, _ = approved_model_parameters(CloudRegistry(sm), group)
        lambdas = ct.approved_model_parameters(sm, group)
    assert lambdas == {k: str(v).lower() if isinstance(v, bool) else v for k, v in ours.items()}
    assert lambdas.get("ChampionModelDataUri") == (f"s3://artifacts/v{approved}.tar.gz" if approved else None)


def test_every_name_fits_its_service_limit_at_the_longest_project_and_stage():
    """Role, function, rule, schedule and table names at a 32-character project in staging."""
    from contract_longest import PROJECT as LONGEST
    from contract_longest import STAGE

    variables = {"project": LONGEST, "stage": STAGE, "training_pipeline_name": f"{LONGEST}-{STAGE}"}
    local_values = module_locals()
    roles = [render(role["name"], variables, local_values) for role in local_values["all_roles"].values()]
    limits = {**{name: 64 for name in roles},  # IAM role names
              render("${local.retrain_name}", variables, local_values): 64,  # function, table, schedule group
              render("${local.quiet_schedule_name}", variables, local_values): 64,
              render("${local.name}-monitor", variables, local_values): 64,
              **{render("${local.retrain_name}-on-" + rule, variables, local_values): 64  # EventBridge rules
                 for rule in ("drift", "new-data", "recorded")},
              render("${local.name}-drift-to-retrain", variables, local_values): 64}
    too_long = {name: limit for name, limit in limits.items() if len(name) > limit}
    assert not too_long and len(roles) == 4 and all(LONGEST in name for name in limits)


def test_the_schedules_start_what_they_should():
    """The monitoring schedule starts the stage's monitoring pipeline, the only one its role may start; the retrain
    schedule's input is the schedule trigger the Lambda handles."""
    monitor = resource("aws_scheduler_schedule", "monitor")["target"][0]
    assert monitor["arn"] == "${local.monitoring_pipeline_arn}"
    assert name_of("monitoring_pipeline_arn").endswith(f":pipeline/{PROJECT}-monitor-prod")
    document = ("aws_iam_policy_document", "monitor_scheduler")
    [statement] = [s for b in blocks() if b.kind == "data" and b.labels == document for s in b.body["statement"]]
    assert (statement["actions"], statement["resources"]) == (["sagemaker:StartPipelineExecution"],
                                                              ["${local.monitoring_pipeline_arn}"])
    retrain = resource("aws_scheduler_schedule", "retrain")["target"][0]
    assert retrain["input"] == '${jsonencode({trigger = "schedule"})}' and ct.SCHEDULE == "schedule"
