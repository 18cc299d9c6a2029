"""The one reader of endpoint data capture, for local and cloud capture alike.

SageMaker (and the local server, pipelines/serving/capture.py) writes one JSON Lines record per
captured invocation under `<endpoint>/<variant>/yyyy/mm/dd/hh/<file>.jsonl`:

  {"captureData": {"endpointInput": {"observedContentType": "text/csv", "mode": "INPUT",
                                     "data": "...", "encoding": "CSV"},
                   "endpointOutput": {...}},
   "eventMetadata": {"eventId": "<uuid>", "inferenceId": "<caller's id>", "inferenceTime": "2024-05-01T12:00:00Z"},
   "eventVersion": "0"}

(inferenceId only when the caller sent one). Ground truth for model quality is keyed by it, else by eventId
(`CaptureRecord.match_id`).

`read_capture` streams the records of a time window from a folder or an s3:// prefix, file by file:
hour folders outside the window are skipped unread (on S3 the listing starts at the window's first
hour), so a window costs what it holds, not what the endpoint ever captured. `read_capture_batches`
reads the same records a block of whole lines at a time with Arrow's JSON reader, for the drift job;
`hourly_files` gives the lines of each file of the layout, which ground truth shares.
"""

from __future__ import annotations

import base64
import functools
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
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
    inference_id: str | None = None

    @property
    def match_id(self) -> str:
        """The id ground truth is keyed by: the caller's inferenceId, else SageMaker's eventId."""
        return self.inference_id or self.event_id


def _decode(payload: dict[str, Any]) -> bytes:
    data = payload.get("data", "")
    return base64.b64decode(data) if payload.get("encoding") == "BASE64" else str(data).encode("utf-8")


def parse_record(line: str) -> CaptureRecord:
    raw = json.loads(line)
    data, meta = raw["captureData"], raw["eventMetadata"]
    when = datetime.fromisoformat(meta["inferenceTime"][:19]).replace(tzinfo=UTC)  # TIME_FORMAT, without the Z
    request, response = data["endpointInput"], data.get("endpointOutput", {})
    return CaptureRecord(meta["eventId"], when, request.get("observedContentType", ""), _decode(request),
                         response.get("observedContentType", ""), _decode(response), raw, meta.get("inferenceId"))


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


BLOCK_BYTES = 16 * 1024 * 1024  # capture files are read in blocks of whole lines of about this size
Source = Callable[[], Any]  # opens a binary stream: a file, or an S3 object's body


def _local_files(root: Path, since: datetime | None, until: datetime | None) -> Iterator[str]:
    for path in sorted(root.rglob("*.jsonl")):
        hour = _hour_of(path.relative_to(root).as_posix())
        if hour and _in_window(hour, since, until):
            yield str(path)


def _s3_files(s3: Any, uri: str, since: datetime | None, until: datetime | None) -> Iterator[str]:
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
                yield f"s3://{bucket}/{item['Key']}"


def window_files(root: Path | str, since: datetime | None, until: datetime | None, s3: Any = None) -> Iterator[str]:
    """Each `.jsonl` file in the window's hour folders under `root` (a folder, or an s3:// prefix listed with
    the `s3` client), in key order: a path, or an s3:// URI."""
    if isinstance(root, str) and root.startswith("s3://"):
        if s3 is None:
            raise ValueError(f"reading {root} needs an s3 client")
        return _s3_files(s3, root, since, until)
    return _local_files(Path(root), since, until)


def _opener(name: str, s3: Any) -> Source:
    if name.startswith("s3://"):
        bucket, _, key = name.removeprefix("s3://").partition("/")
        return lambda: s3.get_object(Bucket=bucket, Key=key)["Body"]
    return lambda: Path(name).open("rb")


def _sources(root: Path | str, since: datetime | None, until: datetime | None, s3: Any) -> Iterator[Source]:
    """An opener per file of `window_files`."""
    return (_opener(name, s3) for name in window_files(root, since, until, s3))


def dealt(items: Iterable[Any], share: tuple[int, int] | None) -> Iterator[Any]:
    """Host ``share[0]``'s items of ``share[1]``: every count-th in order, as ShardedByS3Key deals a prefix's
    objects in key order (pipelines/engine/hosts.keep_share); all of them without a share."""
    if share is None:
        yield from items
        return
    index, count = share
    for position, item in enumerate(items):
        if position % count == index:
            yield item


def _blocks(source: Source) -> Iterator[bytes]:
    """A file's content in blocks of whole lines (a line longer than BLOCK_BYTES is one block)."""
    stream = source()
    rest = b""
    try:
        while data := stream.read(BLOCK_BYTES):
            data = rest + data
            cut = data.rfind(b"\n") + 1
            rest = data[cut:]
            if cut:
                yield data[:cut]
        if rest:
            yield rest
    finally:
        stream.close()


def hourly_files(root: Path | str, since: datetime | None = None, until: datetime | None = None,
                 s3: Any = None) -> Iterator[Iterator[str]]:
    """The lines of each `.jsonl` file under `root`'s `yyyy/mm/dd/hh/` folders whose hour overlaps
    [since, until), file by file: SageMaker's layout of capture and of ground truth alike."""
    for source in _sources(root, since, until, s3):
        yield (line for block in _blocks(source) for line in block.decode("utf-8").split("\n"))


def _records(lines: Iterable[str], since: datetime | None, until: datetime | None,
             malformed: Callable[[str], None] | None) -> Iterator[CaptureRecord]:
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


def read_capture(root: Path | str, since: datetime | None = None, until: datetime | None = None,
                 s3: Any = None, malformed: Callable[[str], None] | None = None) -> Iterator[CaptureRecord]:
    """Every capture record under `root` (a variant's capture folder, or its s3:// prefix read with the `s3`
    client) whose inferenceTime lies in [since, until), streamed file by file (hour folders outside the window
    are skipped unread). With `malformed`, lines that are not capture records go to it and are skipped."""
    for lines in hourly_files(root, since, until, s3):
        yield from _records(lines, since, until, malformed)
# ---------------------------------------------------------------------------- in batches, for the drift job


@dataclass(frozen=True)
class CaptureBatch:
    """Records of one block of a capture file, column by column: what the drift job needs of each request."""

    event_ids: list[str]
    input_types: list[str]
    inputs: list[str]  # request bodies as text (BASE64 ones decoded; invalid UTF-8 replaced)

    @classmethod
    def of(cls, records: Iterable[CaptureRecord]) -> CaptureBatch:
        rows = [(r.event_id, r.input_type, r.input_data.decode("utf-8", "replace")) for r in records]
        return cls(*(list(column) for column in zip(*rows, strict=True))) if rows else cls([], [], [])


def _second(moment: datetime | None) -> str | None:
    """A window bound as capture writes times, rounded up to the second (capture times are whole seconds)."""
    if moment is None:
        return None
    moment = moment.astimezone(UTC)
    whole = moment.replace(microsecond=0)
    return (whole if whole == moment else whole + timedelta(seconds=1)).strftime(TIME_FORMAT[:-1])


def _arrow_batch(block: bytes, since: str | None, until: str | None) -> CaptureBatch | None:
    """A block parsed by Arrow's JSON reader, or None when it holds anything but well-formed records (then it
    is read line by line, which names what is wrong)."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.json as pajson

    options = pajson.ParseOptions(explicit_schema=_arrow_schema(), unexpected_field_behavior="ignore")
    try:
        table = pajson.read_json(pa.BufferReader(block), read_options=pajson.ReadOptions(
            use_threads=False, block_size=len(block) + 1), parse_options=options).flatten()
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return None
    required = ("eventMetadata.eventId", "eventMetadata.inferenceTime", "captureData.endpointInput")
    times = table.column("eventMetadata.inferenceTime")
    if any(table.column(name).null_count for name in required) or not pc.all(
            pc.match_substring_regex(times, r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d")).as_py():
        return None
    table = table.flatten()
    seconds = pc.utf8_slice_codeunits(times, 0, 19)
    keep = pc.and_(pc.greater_equal(seconds, since) if since else pc.is_valid(seconds),
                   pc.less(seconds, until) if until else pc.is_valid(seconds))
    table = table.filter(keep)
    inputs = table.column("captureData.endpointInput.data").to_pylist()
    encodings = table.column("captureData.endpointInput.encoding").to_pylist()
    if "BASE64" in encodings:
        inputs = [base64.b64decode(text).decode("utf-8", "replace") if encoding == "BASE64" else text or ""
                  for text, encoding in zip(inputs, encodings, strict=True)]
    types = table.column("captureData.endpointInput.observedContentType").to_pylist()
    return CaptureBatch(table.column("eventMetadata.eventId").to_pylist(), [t or "" for t in types],
                        [text or "" for text in inputs])


@functools.cache
def _arrow_schema() -> Any:
    """The fields of a capture record the drift job reads (pyarrow is imported on first use)."""
    import pyarrow as pa

    payload = pa.struct([(name, pa.string()) for name in ("observedContentType", "mode", "data", "encoding")])
    return pa.schema([("captureData", pa.struct([("endpointInput", payload), ("endpointOutput", payload)])),
                      ("eventMetadata", pa.struct([(name, pa.string()) for name in
                                                   ("eventId", "inferenceId", "inferenceTime")]))])


def read_capture_batches(root: Path | str, since: datetime | None = None, until: datetime | None = None,
                         s3: Any = None, malformed: Callable[[str], None] | None = None,
                         files: Iterable[str] | None = None) -> Iterator[CaptureBatch]:
    """read_capture's records, a block of a file at a time, for the drift job: Arrow's JSON reader parses a
    block at once (no Python object per record); a block with anything but capture records in it is read
    line by line exactly as read_capture reads it, malformed lines going to `malformed`. With ``files`` (of
    `window_files`: one host's share of the window), only those files are read."""
    bounds = _second(since), _second(until)
    names = window_files(root, since, until, s3) if files is None else files
    for source in (_opener(name, s3) for name in names):
        for block in _blocks(source):
            batch = _arrow_batch(block, *bounds)
            if batch is None:
                batch = CaptureBatch.of(_records(block.decode("utf-8", "replace").split("\n"), since, until,
                                                 malformed))
            if batch.event_ids:
                yield batch
