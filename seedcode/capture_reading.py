"""The one reader of endpoint data capture, for local and cloud capture alike.

SageMaker (and the local server, pipelines/serving/capture.py) writes one JSON Lines record per
captured invocation under `<endpoint>/<variant>/yyyy/mm/dd/hh/<file>.jsonl`:

  {"captureData": {"endpointInput": {"observedContentType": "text/csv", "mode": "INPUT",
                                     "data": "...", "encoding": "CSV"},
                   "endpointOutput": {...}},
   "eventMetadata": {"eventId": "<uuid>", "inferenceTime": "2024-05-01T12:00:00Z"},
   "eventVersion": "0"}

`read_capture` streams the records of a time window from a folder or an s3:// prefix, file by file:
hour folders outside the window are skipped unread (on S3 the listing starts at the window's first
hour), so a window costs what it holds, not what the endpoint ever captured.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"  # eventMetadata.inferenceTime
HOUR_FOLDERS = "%Y/%m/%d/%H"
HOUR_DEPTH = 4  # yyyy/mm/dd/hh


@dataclass(frozen=True)
class CaptureRecord:
    """One parsed capture record; `raw` is the JSON object as stored."""

    event_id: str
    inference_time: datetime
    input_type: str
    input_data: bytes
    output_type: str
    output_data: bytes
    raw: dict[str, Any]


def _decode(payload: dict[str, Any]) -> bytes:
    data = payload.get("data", "")
    return base64.b64decode(data) if payload.get("encoding") == "BASE64" else str(data).encode("utf-8")


def parse_record(line: str) -> CaptureRecord:
    raw = json.loads(line)
    data, meta = raw["captureData"], raw["eventMetadata"]
    when = datetime.strptime(meta["inferenceTime"][:19], TIME_FORMAT[:-1]).replace(tzinfo=UTC)
    request, response = data["endpointInput"], data.get("endpointOutput", {})
    return CaptureRecord(meta["eventId"], when, request.get("observedContentType", ""), _decode(request),
                         response.get("observedContentType", ""), _decode(response), raw)


def _hour_of(relative: str) -> datetime | None:
    """The hour a capture file's path names (`.../yyyy/mm/dd/hh/<file>.jsonl`), or None if it is not one."""
    parts = relative.split("/")
    if len(parts) < HOUR_DEPTH + 1 or not parts[-1].endswith(".jsonl"):
        return None
    try:
        return datetime.strptime("/".join(parts[-HOUR_DEPTH - 1:-1]), HOUR_FOLDERS).replace(tzinfo=UTC)
    except ValueError:
        return None


def _in_window(hour: datetime, since: datetime | None, until: datetime | None) -> bool:
    return (since is None or hour.timestamp() + 3600 > since.timestamp()) and (until is None or hour < until)


def _local_files(root: Path, since: datetime | None, until: datetime | None) -> Iterator[Iterator[str]]:
    for path in sorted(root.rglob("*.jsonl")):
        hour = _hour_of(path.relative_to(root).as_posix())
        if hour and _in_window(hour, since, until):
            with path.open(encoding="utf-8") as handle:
                yield iter(handle)


def _s3_files(s3: Any, uri: str, since: datetime | None, until: datetime | None) -> Iterator[Iterator[str]]:
    """Keys are listed in order, and the hour folders sort as times: the listing starts at the window's
    first hour and ends past its last."""
    bucket, _, prefix = uri.removeprefix("s3://").partition("/")
    prefix = prefix.rstrip("/") + "/" if prefix else ""
    listing: dict[str, Any] = {"Bucket": bucket, "Prefix": prefix}
    if since is not None:
        listing["StartAfter"] = prefix + since.astimezone(UTC).strftime(HOUR_FOLDERS)
    for page in s3.get_paginator("list_objects_v2").paginate(**listing):
        for item in page.get("Contents", []):
            relative = item["Key"][len(prefix):]
            hour = _hour_of(relative)
            if hour and until is not None and hour >= until and relative.count("/") == HOUR_DEPTH:
                return
            if hour and _in_window(hour, since, until):
                body = s3.get_object(Bucket=bucket, Key=item["Key"])["Body"]
                yield (line.decode("utf-8") for line in body.iter_lines())


def read_capture(root: Path | str, since: datetime | None = None, until: datetime | None = None,
                 s3: Any = None, malformed: Callable[[str], None] | None = None) -> Iterator[CaptureRecord]:
    """Every capture record under `root` (a variant's capture folder, or its s3:// prefix read with the `s3`
    client) whose inferenceTime lies in [since, until), streamed file by file (hour folders outside the window
    are skipped unread). With `malformed`, lines that are not capture records go to it and are skipped."""
    if isinstance(root, str) and root.startswith("s3://"):
        if s3 is None:
            raise ValueError("reading capture from S3 needs an s3 client")
        files = _s3_files(s3, root, since, until)
    else:
        files = _local_files(Path(root), since, until)
    for lines in files:
        for line in lines:
            if not line.strip():
                continue
            try:
                record = parse_record(line)
            except (ValueError, KeyError, TypeError, AttributeError):
                if malformed is None:
                    raise
                malformed(line.strip())
                continue
            if (since is None or record.inference_time >= since) and (until is None or record.inference_time < until):
                yield record
