"""Idle-resource cleanup of one project's dev stage (ML Factory, Terraform module `lifecycle`).

Run by EventBridge Scheduler. For resources tagged `Project=<PROJECT>` and `Environment=<STAGE>`:
- real-time endpoints with no invocations (CloudWatch AWS/SageMaker Invocations) for IDLE_HOURS;
- endpoint configs no endpoint uses, older than IDLE_HOURS;
- Studio apps without user activity for IDLE_HOURS (deleting an app stops it; its storage stays);
- unattached (available) EBS volumes older than IDLE_HOURS;
- and, under the project's checkpoint prefix (CHECKPOINT_BUCKET/CHECKPOINT_PREFIX), Spot training
  checkpoints older than CHECKPOINT_DAYS.

Rules: only the dev stage (any other STAGE refuses to act); never a resource without the project tag
or tagged for another stage; `ml-factory:keep=true` exempts a resource (an object too); DRY_RUN=true
(or an event {"dry_run": true}) lists what would be done. Every decision is one JSON line on stdout
(CloudWatch Logs): action, kind, resource, reason, dry_run.

Standard library and boto3 only: this file is the whole Lambda package.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

KEEP_TAG = "ml-factory:keep"
CLEANUP_STAGE = "dev"
BUSY_ENDPOINT_STATES = ("Creating", "Updating", "SystemUpdating", "RollingBack", "Deleting", "UpdateRollbackFailed")


@dataclass(frozen=True)
class Rules:
    project: str
    stage: str
    dry_run: bool
    idle_hours: float
    checkpoint_days: float
    checkpoint_bucket: str
    checkpoint_prefix: str
    now: datetime

    @classmethod
    def from_environment(cls, env: dict[str, str], event: dict[str, Any], now: datetime | None = None) -> Rules:
        dry_run = event.get("dry_run", env.get("DRY_RUN", "false"))
        return cls(project=env["PROJECT"], stage=env["STAGE"], dry_run=str(dry_run).lower() == "true",
                   idle_hours=float(env.get("IDLE_HOURS", "24")),
                   checkpoint_days=float(env.get("CHECKPOINT_DAYS", "7")),
                   checkpoint_bucket=env.get("CHECKPOINT_BUCKET", ""),
                   checkpoint_prefix=env.get("CHECKPOINT_PREFIX", ""), now=now or datetime.now(UTC))

    @property
    def idle_since(self) -> datetime:
        return self.now - timedelta(hours=self.idle_hours)

    def skip_reason(self, tags: dict[str, str]) -> str | None:
        """None when one of our resources may be cleaned up; else why not (see `ours` for the project tag)."""
        if tags.get("Environment") != self.stage:
            return f"tagged for stage {tags.get('Environment') or '(none)'}, not {self.stage}"
        if tags.get(KEEP_TAG, "").lower() == "true":
            return f"exempt: {KEEP_TAG}=true"
        return None

    def ours(self, tags: dict[str, str]) -> bool:
        return tags.get("Project") == self.project


@dataclass
class ActionLog:
    """One JSON line per decision; `actions` keeps what was (or would be) done."""

    dry_run: bool
    actions: list[dict[str, Any]] = field(default_factory=list)

    def emit(self, action: str, kind: str, resource: str, reason: str) -> None:
        line = {"action": action, "kind": kind, "resource": resource, "reason": reason, "dry_run": self.dry_run}
        print(json.dumps(line, sort_keys=True), flush=True)
        if action != "skip":
            self.actions.append(line)


@dataclass(frozen=True)
class Clients:
    sagemaker: Any
    cloudwatch: Any
    ec2: Any
    s3: Any

    @classmethod
    def default(cls) -> Clients:
        import boto3

        return cls(*(boto3.client(name) for name in ("sagemaker", "cloudwatch", "ec2", "s3")))


def _pages(call: Any, key: str, **kwargs: Any) -> Iterator[dict[str, Any]]:
    while True:
        page = call(**kwargs)
        yield from page.get(key, [])
        if not page.get("NextToken"):
            return
        kwargs["NextToken"] = page["NextToken"]


def _sagemaker_tags(sm: Any, arn: str) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in _pages(sm.list_tags, "Tags", ResourceArn=arn)}


def _eligible(rules: Rules, log: ActionLog, kind: str, name: str, tags: dict[str, str]) -> bool:
    """Ours, in this stage and not exempt; a skip of one of ours is logged with its reason."""
    if not rules.ours(tags):
        return False  # another project's, or untagged: never touched, not even named in our log
    reason = rules.skip_reason(tags)
    if reason:
        log.emit("skip", kind, name, reason)
    return reason is None


################################################################################
# Endpoints and endpoint configs
################################################################################


def invocations(clients: Clients, rules: Rules, endpoint: str, variants: list[str]) -> float:
    total = 0.0
    for variant in variants:
        points = clients.cloudwatch.get_metric_statistics(
            Namespace="AWS/SageMaker", MetricName="Invocations", StartTime=rules.idle_since, EndTime=rules.now,
            Period=3600, Statistics=["Sum"],
            Dimensions=[{"Name": "EndpointName", "Value": endpoint}, {"Name": "VariantName", "Value": variant}])
        total += sum(p.get("Sum", 0.0) for p in points.get("Datapoints", []))
    return total


def clean_endpoints(clients: Clients, rules: Rules, log: ActionLog) -> set[str]:
    """Delete idle endpoints; returns the endpoint configs still in use afterwards."""
    sm, in_use = clients.sagemaker, set()
    for summary in _pages(sm.list_endpoints, "Endpoints"):
        name = summary["EndpointName"]
        endpoint = sm.describe_endpoint(EndpointName=name)
        tags = _sagemaker_tags(sm, endpoint["EndpointArn"])
        idle = (summary["EndpointStatus"] not in BUSY_ENDPOINT_STATES and summary["CreationTime"] < rules.idle_since
                and _eligible(rules, log, "endpoint", name, tags))
        variants = [v["VariantName"] for v in endpoint.get("ProductionVariants", [])]
        if idle and invocations(clients, rules, name, variants) == 0:
            log.emit("delete", "endpoint", name, f"no invocations in the last {rules.idle_hours:g} hours")
            if not rules.dry_run:
                sm.delete_endpoint(EndpointName=name)
            continue
        in_use.add(endpoint["EndpointConfigName"])
    return in_use


def clean_endpoint_configs(clients: Clients, rules: Rules, log: ActionLog, in_use: set[str]) -> None:
    sm = clients.sagemaker
    for config in _pages(sm.list_endpoint_configs, "EndpointConfigs"):
        name = config["EndpointConfigName"]
        if name in in_use or config["CreationTime"] >= rules.idle_since:
            continue
        if _eligible(rules, log, "endpoint-config", name, _sagemaker_tags(sm, config["EndpointConfigArn"])):
            log.emit("delete", "endpoint-config", name,
                     f"used by no endpoint and older than {rules.idle_hours:g} hours")
            if not rules.dry_run:
                sm.delete_endpoint_config(EndpointConfigName=name)


################################################################################
# Studio apps
################################################################################


def _app_owner(app: dict[str, Any]) -> dict[str, str]:
    return {"UserProfileName": app["UserProfileName"]} if app.get("UserProfileName") else {
        "SpaceName": app["SpaceName"]}


def stop_idle_apps(clients: Clients, rules: Rules, log: ActionLog) -> None:
    sm = clients.sagemaker
    for app in _pages(sm.list_apps, "Apps"):
        if app.get("Status") != "InService":
            continue
        key = {"DomainId": app["DomainId"], **_app_owner(app), "AppType": app["AppType"], "AppName": app["AppName"]}
        described = sm.describe_app(**key)
        last_used = described.get("LastUserActivityTimestamp") or described.get("CreationTime")
        name = described.get("AppArn", "/".join(str(v) for v in key.values()))
        if last_used and last_used < rules.idle_since and \
                _eligible(rules, log, "studio-app", name, _sagemaker_tags(sm, described["AppArn"])):
            log.emit("delete", "studio-app", name, f"no user activity in the last {rules.idle_hours:g} hours")
            if not rules.dry_run:
                sm.delete_app(**key)


################################################################################
# EBS volumes and checkpoints
################################################################################


def delete_unattached_volumes(clients: Clients, rules: Rules, log: ActionLog) -> None:
    filters = [{"Name": "status", "Values": ["available"]}, {"Name": "tag:Project", "Values": [rules.project]}]
    for volume in _pages(clients.ec2.describe_volumes, "Volumes", Filters=filters):
        tags = {t["Key"]: t["Value"] for t in volume.get("Tags", [])}
        if volume["CreateTime"] < rules.idle_since and _eligible(rules, log, "ebs-volume", volume["VolumeId"], tags):
            log.emit("delete", "ebs-volume", volume["VolumeId"],
                     f"attached to nothing and older than {rules.idle_hours:g} hours")
            if not rules.dry_run:
                clients.ec2.delete_volume(VolumeId=volume["VolumeId"])


def _objects(s3: Any, bucket: str, prefix: str) -> Iterator[dict[str, Any]]:
    kwargs = {"Bucket": bucket, "Prefix": prefix}
    while True:
        page = s3.list_objects_v2(**kwargs)
        yield from page.get("Contents", [])
        if not page.get("IsTruncated"):
            return
        kwargs["ContinuationToken"] = page["NextContinuationToken"]


def expire_checkpoints(clients: Clients, rules: Rules, log: ActionLog) -> None:
    if not (rules.checkpoint_bucket and rules.checkpoint_prefix):
        return
    cutoff = rules.now - timedelta(days=rules.checkpoint_days)
    for item in _objects(clients.s3, rules.checkpoint_bucket, rules.checkpoint_prefix):
        if item["LastModified"] >= cutoff:
            continue
        uri = f"s3://{rules.checkpoint_bucket}/{item['Key']}"
        tagging = clients.s3.get_object_tagging(Bucket=rules.checkpoint_bucket, Key=item["Key"])
        if any(t["Key"] == KEEP_TAG and t["Value"].lower() == "true" for t in tagging.get("TagSet", [])):
            log.emit("skip", "checkpoint", uri, f"exempt: {KEEP_TAG}=true")
            continue
        log.emit("delete", "checkpoint", uri, f"checkpoint older than {rules.checkpoint_days:g} days")
        if not rules.dry_run:
            clients.s3.delete_object(Bucket=rules.checkpoint_bucket, Key=item["Key"])


################################################################################
# Entry
################################################################################


def run_cleanup(rules: Rules, clients: Clients) -> dict[str, Any]:
    log = ActionLog(rules.dry_run)
    if rules.stage != CLEANUP_STAGE:
        log.emit("refuse", "stage", rules.stage, f"cleanup acts only in the {CLEANUP_STAGE} stage")
        return {"actions": 0, "dry_run": rules.dry_run, "refused": True}
    in_use = clean_endpoints(clients, rules, log)
    clean_endpoint_configs(clients, rules, log, in_use)
    stop_idle_apps(clients, rules, log)
    delete_unattached_volumes(clients, rules, log)
    expire_checkpoints(clients, rules, log)
    kinds: dict[str, int] = {}
    for action in log.actions:
        kinds[action["kind"]] = kinds.get(action["kind"], 0) + 1
    return {"actions": len(log.actions), "dry_run": rules.dry_run, "refused": False, "by_kind": kinds}


def handler(event: dict[str, Any] | None, context: Any) -> dict[str, Any]:
    return run_cleanup(Rules.from_environment(dict(os.environ), event or {}), Clients.default())
