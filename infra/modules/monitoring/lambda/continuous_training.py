"""Continuous training of one project (ML Factory, Terraform module `monitoring`): start the training pipeline when
drift, a schedule or new data says so, at most once per cool-down, and record why.

What started it is read off the event:
- drift: a "CloudWatch Alarm State Change" to ALARM of a stage's drift alarm (`<project>-<stage>-drift-<feature>`),
  forwarded to the retrain event bus from the stage's account;
- schedule: the retrain schedule of EventBridge Scheduler, input {"trigger": "schedule"};
- new data: an S3 "Object Created" under the data prefix (DATA_URI). An object does not start a run: it moves a
  one-time schedule to at least QUIET_MINUTES after itself, and only that schedule (input {"trigger": "new-data"})
  starts one, so a 500-file upload starts one run, within a minute after it has been quiet for the quiet period;
- a training execution that succeeded (the pipeline's "Execution Status Change"): when this function started it,
  the registered version gets RetrainTrigger and RetrainViolationsReport in its metadata, as a local retrain does.

The cool-down is enforced by state: one item per pipeline in the DynamoDB table STATE_TABLE, claimed with a
conditional write (no start within COOL_DOWN_HOURS) before the run starts, so two alarms at once start one run
and a retried invocation starts none. A start that fails gives the claim back. The execution records why: its
display name is `<trigger>-<UTC time>` and its description the JSON record (trigger, reason, violations report).
The run gets the parameters `pipelines.run` would derive from the latest approved model (the drift baseline and
the champion to beat; pipelines/registry_model.py approved_model_parameters, held equal by a template test).

Every decision is one JSON line on stdout (CloudWatch Logs). Standard library and boto3 only: this file is the
whole Lambda package.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

ALARM_EVENT = "CloudWatch Alarm State Change"
EXECUTION_EVENT = "SageMaker Model Building Pipeline Execution Status Change"
DRIFT, SCHEDULE, NEW_DATA = "drift", "schedule", "new-data"
# The pipeline parameters of pipelines/definition.py that follow from the latest approved model.
PARAM_SKIP_CHECK, PARAM_REGISTER_BASELINE = "SkipDataQualityCheck", "RegisterNewDataQualityBaseline"
PARAM_CHAMPION_MODEL = "ChampionModelDataUri"
# Registry metadata of a retrained version, as pipelines/monitoring/retrain.py writes it locally.
META_TRIGGER, META_REPORT = "RetrainTrigger", "RetrainViolationsReport"
MAX_METADATA_ENTRIES = 50  # CustomerMetadataProperties of a model package
# A one-time schedule is moved by this much at a time, so a long upload rewrites it about once a minute, not per object.
RESCHEDULE_STEP = timedelta(seconds=60)


@dataclass(frozen=True)
class Settings:
    project: str
    pipeline_name: str
    model_package_group: str
    state_table: str
    cool_down: timedelta
    quiet_period: timedelta
    schedule_group: str
    quiet_schedule: str
    scheduler_role_arn: str
    function_arn: str
    data_uri: str
    drift_sources: dict[str, dict[str, str]]  # alarm name prefix -> {"stage", "reports"}

    @classmethod
    def from_environment(cls, env: dict[str, str], function_arn: str) -> Settings:
        return cls(project=env["PROJECT"], pipeline_name=env["PIPELINE_NAME"],
                   model_package_group=env["MODEL_PACKAGE_GROUP"], state_table=env["STATE_TABLE"],
                   cool_down=timedelta(hours=float(env.get("COOL_DOWN_HOURS", "24"))),
                   quiet_period=timedelta(minutes=float(env.get("QUIET_MINUTES", "30"))),
                   schedule_group=env["SCHEDULE_GROUP"], quiet_schedule=env["QUIET_SCHEDULE"],
                   scheduler_role_arn=env["SCHEDULER_ROLE_ARN"], function_arn=function_arn,
                   data_uri=env.get("DATA_URI", ""),
                   drift_sources=json.loads(env.get("DRIFT_SOURCES", "{}")))


@dataclass(frozen=True)
class Clients:
    sagemaker: Any
    dynamodb: Any
    scheduler: Any

    @classmethod
    def default(cls) -> Clients:
        import boto3

        return cls(*(boto3.client(name) for name in ("sagemaker", "dynamodb", "scheduler")))


def log(action: str, **fields: Any) -> dict[str, Any]:
    line = {"action": action, **fields}
    print(json.dumps(line, sort_keys=True, default=str), flush=True)
    return line


def _error_code(exc: Exception) -> str:
    return getattr(exc, "response", {}).get("Error", {}).get("Code", "")


################################################################################
# What the event asks for
################################################################################


def drift_record(event: dict[str, Any], settings: Settings) -> dict[str, Any] | None:
    """Why a drift alarm asks for a run; None for another state or an alarm that is not a drift alarm of ours."""
    detail = event.get("detail") or {}
    name, state = detail.get("alarmName", ""), detail.get("state") or {}
    prefix = next((p for p in settings.drift_sources if name.startswith(p)), None)
    if state.get("value") != "ALARM" or prefix is None:
        return None
    source = settings.drift_sources[prefix]
    try:
        points = json.loads(state.get("reasonData") or "{}").get("evaluatedDatapoints") or []
    except json.JSONDecodeError:
        points = []
    window_end = max((p.get("timestamp", "") for p in points), default="") or state.get("timestamp", "")
    return {"trigger": DRIFT, "stage": source["stage"], "account": event.get("account", ""), "alarm": name,
            "feature": name[len(prefix):], "violations_report": source["reports"], "window_end": window_end,
            "reason": (state.get("reason") or "")[:500]}


def handle(event: dict[str, Any], settings: Settings, clients: Clients, now: datetime) -> dict[str, Any]:
    source, kind = event.get("source"), event.get("detail-type")
    if source == "aws.cloudwatch" and kind == ALARM_EVENT:
        record = drift_record(event, settings)
        if record is None:
            return log("ignore", reason=f"not a drift alarm of {settings.project} going to ALARM",
                       alarm=(event.get("detail") or {}).get("alarmName"))
        return start_once(record, settings, clients, now)
    if source == "aws.s3" and kind == "Object Created":
        detail = event.get("detail") or {}
        uri = f"s3://{(detail.get('bucket') or {}).get('name')}/{(detail.get('object') or {}).get('key')}"
        return wait_for_quiet(uri, settings, clients, now)
    if source == "aws.sagemaker" and kind == EXECUTION_EVENT:
        return record_on_package(event.get("detail") or {}, settings, clients)
    if event.get("trigger") == SCHEDULE:
        return start_once({"trigger": SCHEDULE, "reason": "the retrain schedule"}, settings, clients, now)
    if event.get("trigger") == NEW_DATA:
        record = {"trigger": NEW_DATA, "data": settings.data_uri,
                  "reason": f"objects created under {settings.data_uri}, then none for {settings.quiet_period}"}
        return start_once(record, settings, clients, now)
    return log("ignore", reason="an event this function does not handle", source=source, detail_type=kind)


################################################################################
# New data: wait for the upload to be quiet
################################################################################


def _fires_at(schedule: dict[str, Any]) -> datetime | None:
    expression = schedule.get("ScheduleExpression", "")
    if not (expression.startswith("at(") and expression.endswith(")")):
        return None
    return datetime.fromisoformat(expression[3:-1]).replace(tzinfo=UTC)


def wait_for_quiet(uri: str, settings: Settings, clients: Clients, now: datetime) -> dict[str, Any]:
    """Keep the one-time schedule that starts a run at least the quiet period after this object."""
    scheduler, quiet_until = clients.scheduler, now + settings.quiet_period
    key = {"Name": settings.quiet_schedule, "GroupName": settings.schedule_group}
    try:
        current = scheduler.get_schedule(**key)
    except Exception as exc:  # noqa: BLE001 - only "no such schedule" is expected; anything else is raised
        if _error_code(exc) != "ResourceNotFoundException":
            raise
        current = None
    planned = _fires_at(current) if current else None
    if planned is not None and planned >= quiet_until:
        return log("wait", trigger=NEW_DATA, object=uri, fires_at=planned.isoformat())
    fire_at = (quiet_until + RESCHEDULE_STEP + timedelta(seconds=1)).replace(microsecond=0)  # rounded up
    request = {**key, "ScheduleExpression": f"at({fire_at:%Y-%m-%dT%H:%M:%S})", "ScheduleExpressionTimezone": "UTC",
               "FlexibleTimeWindow": {"Mode": "OFF"}, "ActionAfterCompletion": "DELETE",
               "Description": f"Retrain {settings.pipeline_name} once new data has been quiet",
               "Target": {"Arn": settings.function_arn, "RoleArn": settings.scheduler_role_arn,
                          "Input": json.dumps({"trigger": NEW_DATA}),
                          "RetryPolicy": {"MaximumRetryAttempts": 2}}}
    if current is None:
        try:
            scheduler.create_schedule(**request)
        except Exception as exc:  # noqa: BLE001 - another invocation created it first: move it instead
            if _error_code(exc) != "ConflictException":
                raise
            scheduler.update_schedule(**request)
    else:
        scheduler.update_schedule(**request)
    return log("wait", trigger=NEW_DATA, object=uri, fires_at=fire_at.isoformat())


################################################################################
# The cool-down, claimed by a conditional write
################################################################################


def claim(settings: Settings, clients: Clients, record: dict[str, Any], now: datetime) -> dict[str, Any] | None:
    """Claim the run: None when one started within the cool-down (its item is logged), else the item replaced."""
    item = {"pipeline": {"S": settings.pipeline_name}, "started_epoch": {"N": str(int(now.timestamp()))},
            "started": {"S": now.isoformat()}, "trigger": {"S": record["trigger"]}, "record": {"S": json.dumps(record)}}
    cutoff = int((now - settings.cool_down).timestamp())
    try:
        answer = clients.dynamodb.put_item(
            TableName=settings.state_table, Item=item, ReturnValues="ALL_OLD",
            ConditionExpression="attribute_not_exists(started_epoch) OR started_epoch <= :cutoff",
            ExpressionAttributeValues={":cutoff": {"N": str(cutoff)}})
    except Exception as exc:  # noqa: BLE001 - a failed condition is the cool-down; anything else is raised
        if _error_code(exc) != "ConditionalCheckFailedException":
            raise
        last = clients.dynamodb.get_item(TableName=settings.state_table,
                                         Key={"pipeline": {"S": settings.pipeline_name}}).get("Item", {})
        started = last.get("started", {}).get("S", "?")
        log("skip", trigger=record["trigger"], pipeline=settings.pipeline_name,
            reason=f"the last run started at {started} ({last.get('trigger', {}).get('S', '?')}), within the "
                   f"{settings.cool_down} cool-down", record=record)
        return None
    return answer.get("Attributes") or {}


def give_back(settings: Settings, clients: Clients, now: datetime, previous: dict[str, Any]) -> None:
    """Undo a claim whose run did not start, unless another claim replaced it meanwhile."""
    condition = {"ConditionExpression": "started_epoch = :mine",
                 "ExpressionAttributeValues": {":mine": {"N": str(int(now.timestamp()))}}}
    try:
        if previous:
            clients.dynamodb.put_item(TableName=settings.state_table, Item=previous, **condition)
        else:
            clients.dynamodb.delete_item(TableName=settings.state_table,
                                         Key={"pipeline": {"S": settings.pipeline_name}}, **condition)
    except Exception as exc:  # noqa: BLE001 - a newer claim stands: leave it
        if _error_code(exc) != "ConditionalCheckFailedException":
            raise


################################################################################
# Starting the run
################################################################################


def approved_model_parameters(sm: Any, group: str) -> dict[str, str]:
    """What `pipelines.run` derives from the latest approved model: check drift against its baseline and beat it;
    with none approved yet, skip the check and register a new baseline."""
    page = sm.list_model_packages(ModelPackageGroupName=group, ModelApprovalStatus="Approved",
                                  SortBy="CreationTime", SortOrder="Descending", MaxResults=1)
    summaries = page.get("ModelPackageSummaryList") or []
    if not summaries:
        return {PARAM_SKIP_CHECK: "true", PARAM_REGISTER_BASELINE: "true"}
    package = sm.describe_model_package(ModelPackageName=summaries[0]["ModelPackageArn"])
    containers = (package.get("InferenceSpecification") or {}).get("Containers") or [{}]
    parameters = {PARAM_SKIP_CHECK: "false", PARAM_REGISTER_BASELINE: "false"}
    if containers[0].get("ModelDataUrl"):
        parameters[PARAM_CHAMPION_MODEL] = containers[0]["ModelDataUrl"]
    return parameters


def start_once(record: dict[str, Any], settings: Settings, clients: Clients, now: datetime) -> dict[str, Any]:
    """Start the training pipeline unless a run started within the cool-down; the execution records why."""
    previous = claim(settings, clients, record, now)
    if previous is None:
        return {"action": "skip", "trigger": record["trigger"]}
    token = hashlib.sha256(f"{settings.pipeline_name}:{int(now.timestamp())}".encode()).hexdigest()[:64]
    try:
        parameters = approved_model_parameters(clients.sagemaker, settings.model_package_group)
        arn = clients.sagemaker.start_pipeline_execution(
            PipelineName=settings.pipeline_name, ClientRequestToken=token,
            PipelineExecutionDisplayName=f"{record['trigger']}-{now:%Y%m%d-%H%M%S}",
            PipelineExecutionDescription=json.dumps(record, sort_keys=True)[:3072],
            PipelineParameters=[{"Name": k, "Value": v} for k, v in parameters.items()])["PipelineExecutionArn"]
    except Exception:
        give_back(settings, clients, now, previous)
        raise
    clients.dynamodb.update_item(TableName=settings.state_table, Key={"pipeline": {"S": settings.pipeline_name}},
                                 UpdateExpression="SET execution_arn = :arn",
                                 ExpressionAttributeValues={":arn": {"S": arn}})
    return log("start", trigger=record["trigger"], pipeline=settings.pipeline_name, execution_arn=arn,
               parameters=parameters, record=record)


################################################################################
# After the run: the registered version says why it was trained
################################################################################


def record_on_package(detail: dict[str, Any], settings: Settings, clients: Clients) -> dict[str, Any]:
    """RetrainTrigger and RetrainViolationsReport on the version a retrain registered."""
    arn, sm = detail.get("pipelineExecutionArn", ""), clients.sagemaker
    if detail.get("currentPipelineExecutionStatus") != "Succeeded":
        return log("ignore", reason="the execution did not succeed", execution_arn=arn)
    description = sm.describe_pipeline_execution(PipelineExecutionArn=arn).get("PipelineExecutionDescription", "")
    try:
        record = json.loads(description)
    except json.JSONDecodeError:
        record = {}
    if not isinstance(record, dict) or record.get("trigger") not in (DRIFT, SCHEDULE, NEW_DATA):
        return log("ignore", reason="not started by continuous training", execution_arn=arn)
    steps = sm.list_pipeline_execution_steps(PipelineExecutionArn=arn).get("PipelineExecutionSteps", [])
    package_arn = next((s["Metadata"]["RegisterModel"]["Arn"] for s in steps
                        if "RegisterModel" in (s.get("Metadata") or {})), None)
    if package_arn is None:
        return log("ignore", reason="the execution registered no version", execution_arn=arn)
    metadata = sm.describe_model_package(ModelPackageName=package_arn).get("CustomerMetadataProperties") or {}
    why = {META_TRIGGER: record["trigger"],
           META_REPORT: record.get("violations_report") or record.get("data") or "none"}
    merged = {**metadata, **{k: v[:256] for k, v in why.items()}}
    if len(merged) > MAX_METADATA_ENTRIES:
        return log("skip", reason="the version's metadata is full", package=package_arn, record=why)
    sm.update_model_package(ModelPackageArn=package_arn, CustomerMetadataProperties=merged)
    return log("record", package=package_arn, execution_arn=arn, **why)


def handler(event: dict[str, Any] | None, context: Any) -> dict[str, Any]:
    settings = Settings.from_environment(dict(os.environ), context.invoked_function_arn)
    return handle(event or {}, settings, Clients.default(), datetime.now(UTC))
