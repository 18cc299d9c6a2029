"""The SageMaker Model Registry through boto3, with a status history the service does not keep.

A package's ApprovalDescription holds only the latest reason, so every status change is also
written as one CustomerMetadataProperties entry, in the same UpdateModelPackage call that changes
the status (atomic, and no permission beyond the one approving needs; sts:GetCallerIdentity needs
none). Tags would work too but share their 50 slots with the cost tags and need sagemaker:AddTags.

  key    status_history/<UTC time to the microsecond>Z   (unique per change: concurrent changes
                                                          do not overwrite each other)
  value  <status> by <caller ARN>: <reason>

The API allows 50 entries per package, keys of 128 and values of 256 characters from
[letters, digits, spaces, _.:/=+-@]. Other characters are written as +XX (UTF-8 bytes in hex, and
`+` itself as +2B), a reason longer than a value allows is cut at a character and ends in `...`
(the full latest reason stays in ApprovalDescription), and when the entries would exceed 50 the
oldest history entries are removed and counted under `status_history_dropped` (CloudTrail's
UpdateModelPackage events keep every change).
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pipelines.aws import client_error_message
from pipelines.lineage import KEY_EXECUTION_ID
from pipelines.registry_model import REGISTERED, PackageVersion, RegistryError, StatusChange

HISTORY_PREFIX = "status_history/"
HISTORY_DROPPED = "status_history_dropped"
METADATA_ENTRIES = 50  # CustomerMetadataMap max
METADATA_VALUE_CHARS = 256  # CustomerMetadataValue max
SAFE_CHARS = frozenset(string.ascii_letters + string.digits + " _.:/=-@")  # the API also allows + (our escape)
KEY_TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"
ENTRY = re.compile(r"^(\S+) by (\S+): (.*)$", re.DOTALL)
ESCAPED = re.compile(r"(?:\+[0-9A-F]{2})+")


def escape(text: str, keep_spaces: bool = True) -> str:
    safe = SAFE_CHARS if keep_spaces else SAFE_CHARS - {" "}
    return "".join(ch if ch in safe else "".join(f"+{b:02X}" for b in ch.encode()) for ch in text)


def unescape(text: str) -> str:
    return ESCAPED.sub(lambda m: bytes.fromhex(m.group().replace("+", "")).decode("utf-8", "replace"), text)


def fit(text: str, limit: int) -> str:
    """`escape(text)`, cut at a character boundary to at most `limit` characters, ending in ... when cut."""
    escaped = escape(text)
    if len(escaped) <= limit:
        return escaped
    kept, used = [], 0
    for ch in text:
        piece = escape(ch)
        if used + len(piece) > limit - 3:
            break
        kept.append(piece)
        used += len(piece)
    return "".join(kept) + "..."


def history_entry(change: StatusChange, moment: datetime) -> tuple[str, str]:
    """The metadata key and value of one status change."""
    head = f"{change.status} by {escape(change.who, keep_spaces=False)}: "
    return (HISTORY_PREFIX + moment.astimezone(UTC).strftime(KEY_TIME_FORMAT),
            head + fit(change.reason, METADATA_VALUE_CHARS - len(head)))


def read_history(metadata: dict[str, str]) -> list[StatusChange]:
    changes = []
    for key in sorted(k for k in metadata if k.startswith(HISTORY_PREFIX)):
        when = datetime.strptime(key.removeprefix(HISTORY_PREFIX), KEY_TIME_FORMAT).replace(tzinfo=UTC)
        match = ENTRY.match(metadata[key])
        status, who, reason = match.groups() if match else ("?", "?", metadata[key])
        changes.append(StatusChange(when.isoformat(timespec="seconds"), status, unescape(who), unescape(reason)))
    return changes


@dataclass(frozen=True)
class MetadataUpdate:
    """CustomerMetadataProperties to send (the whole map, as the service merges and moto replaces) and
    the keys to remove."""

    properties: dict[str, str]
    removed: list[str]


def add_history(metadata: dict[str, str], key: str, value: str) -> MetadataUpdate:
    """`metadata` with one more history entry, the oldest ones dropped to stay within the entry limit."""
    return add_entries(metadata, {key: value})


def add_entries(metadata: dict[str, str], entries: dict[str, str]) -> MetadataUpdate:
    """`metadata` with `entries` set (history entries or others, e.g. the MLflow run), the oldest history
    entries dropped (and counted) to stay within the entry limit."""
    history = sorted(k for k in metadata if k.startswith(HISTORY_PREFIX))
    others = {k for k in metadata if not k.startswith(HISTORY_PREFIX) and k != HISTORY_DROPPED}
    others |= {k for k in entries if not k.startswith(HISTORY_PREFIX)}
    new_history = [k for k in entries if k.startswith(HISTORY_PREFIX) and k not in metadata]
    room = METADATA_ENTRIES - len(others) - len(new_history) - 1  # the dropped counter
    if room < 0:
        raise RegistryError(f"the package has {len(others)} metadata properties of the {METADATA_ENTRIES} the "
                            "API allows, leaving no room for the status history; remove some first")
    removed = history[:len(history) - room] if len(history) > room else []
    properties = {k: v for k, v in metadata.items() if k not in removed}
    if removed:
        properties[HISTORY_DROPPED] = str(int(metadata.get(HISTORY_DROPPED, "0")) + len(removed))
    properties.update(entries)
    return MetadataUpdate(properties, removed)


def _iso(moment: Any) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds") if isinstance(moment, datetime) else str(moment or "")


class CloudRegistry:
    """The SageMaker Model Registry; `sts_client` tells who changes a status (needed by `set_status` only)."""

    def __init__(self, sagemaker_client: Any, sts_client: Any = None):
        self.client = sagemaker_client
        self.sts = sts_client
        self.where = f"SageMaker Model Registry ({sagemaker_client.meta.region_name})"

    def _call(self, operation: str, client: Any = None, **kwargs: Any) -> Any:
        from botocore.exceptions import ClientError

        try:
            return getattr(client or self.client, operation)(**kwargs)
        except ClientError as exc:
            raise RegistryError(f"{operation} failed: {client_error_message(exc)}") from None

    def _describe_raw(self, arn: str) -> dict[str, Any]:
        return self._call("describe_model_package", ModelPackageName=arn)

    def _describe(self, arn: str) -> PackageVersion:
        d = self._describe_raw(arn)
        containers = d.get("InferenceSpecification", {}).get("Containers", [{}])
        metadata = {k: v for k, v in d.get("CustomerMetadataProperties", {}).items()
                    if not k.startswith(HISTORY_PREFIX) and k != HISTORY_DROPPED}
        return PackageVersion(
            group=d["ModelPackageGroupName"], version=d["ModelPackageVersion"], arn=d["ModelPackageArn"],
            status=d["ModelApprovalStatus"], created=_iso(d.get("CreationTime")),
            approval_description=d.get("ApprovalDescription", ""),
            model_data_url=containers[0].get("ModelDataUrl", "") if containers else "",
            model_metrics=d.get("ModelMetrics", {}), drift_check_baselines=d.get("DriftCheckBaselines", {}),
            metadata=metadata,
        )

    def list_versions(self, group: str) -> list[PackageVersion]:
        summaries: list[dict[str, Any]] = []
        token: str | None = None
        while True:
            kwargs: dict[str, Any] = {"ModelPackageGroupName": group, "SortBy": "CreationTime",
                                      "SortOrder": "Descending", "MaxResults": 100}
            if token:
                kwargs["NextToken"] = token
            page = self._call("list_model_packages", **kwargs)
            summaries += page.get("ModelPackageSummaryList", [])
            token = page.get("NextToken")
            if not token:
                break
        versions = [self._describe(s["ModelPackageArn"]) for s in summaries]
        return sorted(versions, key=lambda v: v.version, reverse=True)

    def caller(self) -> str:
        """The IAM principal making the calls (sts:GetCallerIdentity needs no permission)."""
        if self.sts is None:
            raise RegistryError("changing a status needs an STS client to record who changed it")
        return self._call("get_caller_identity", client=self.sts)["Arn"]

    def set_status(self, package: PackageVersion, status: str, reason: str) -> PackageVersion:
        metadata = self._describe_raw(package.arn).get("CustomerMetadataProperties", {})
        now = datetime.now(UTC)
        key, value = history_entry(StatusChange(_iso(now), status, self.caller(), reason), now)
        update = add_history(metadata, key, value)
        removal = {"CustomerMetadataPropertiesToRemove": update.removed} if update.removed else {}
        self._call("update_model_package", ModelPackageArn=package.arn, ModelApprovalStatus=status,
                   ApprovalDescription=reason, CustomerMetadataProperties=update.properties, **removal)
        return self._describe(package.arn)

    def history(self, package: PackageVersion) -> list[StatusChange]:
        """The creation (status REGISTERED: the service does not keep a version's first status), then
        every change recorded by `set_status`."""
        d = self._describe_raw(package.arn)
        metadata = d.get("CustomerMetadataProperties", {})
        creator = ((d.get("CreatedBy") or {}).get("IamIdentity") or {}).get("Arn", "")
        execution = metadata.get(KEY_EXECUTION_ID)
        created = StatusChange(_iso(d.get("CreationTime")), REGISTERED, creator or "-",
                               f"registered by pipeline execution {execution}" if execution else "registered")
        dropped = int(metadata.get(HISTORY_DROPPED, "0"))
        gap = [StatusChange("", "?", "-", f"{dropped} earlier change(s) not kept here (the API allows "
                                          f"{METADATA_ENTRIES} metadata entries); see CloudTrail")] if dropped else []
        return [created, *gap, *read_history(metadata)]
