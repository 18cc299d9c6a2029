"""Data capture in SageMaker's format and folder layout, written locally and read from either backend.

One JSON Lines record per captured invocation, as SageMaker writes it to S3:

  {"captureData": {"endpointInput":  {"observedContentType": "text/csv", "mode": "INPUT",
                                       "data": "...", "encoding": "CSV"},
                   "endpointOutput": {"observedContentType": "text/csv", "mode": "OUTPUT",
                                       "data": "...", "encoding": "CSV"}},
   "eventMetadata": {"eventId": "<uuid>", "inferenceId": "<caller's id>", "inferenceTime": "2024-05-01T12:00:00Z"},
   "eventVersion": "0"}

(inferenceId only when the caller sent one: InvokeEndpoint's InferenceId, the X-Amzn-SageMaker-Inference-Id
header). Ground truth for model quality is keyed by it, else by eventId (`CaptureRecord.match_id`).

under `<root>/<endpoint>/<variant>/yyyy/mm/dd/hh/<mm-ss-mmm>-<uuid>.jsonl`. Encoding follows the
CaptureContentTypeHeader the deploy plan sets: CSV for text/csv, JSON for application/json, else
BASE64. `read_capture` streams records from a local folder or an s3:// prefix alike, so the drift
job has one reader for local and cloud capture.

`CaptureWriter` never blocks a response: the request thread samples and enqueues; one background
thread encodes and appends; `close()` drains the queue, so a clean shutdown loses nothing.
"""

from __future__ import annotations

import base64
import functools
import json
import queue
import random
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any

CSV_TYPES = ("text/csv",)
JSON_TYPES = ("application/json",)
EVENT_VERSION = "0"
TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
HOUR_DEPTH = 4  # yyyy/mm/dd/hh


def encoding_of(content_type: str) -> str:
    kind = (content_type or "").split(";")[0].strip().lower()
    return "CSV" if kind in CSV_TYPES else "JSON" if kind in JSON_TYPES else "BASE64"


def _payload(body: bytes, content_type: str, mode: str) -> dict[str, str]:
    encoding = encoding_of(content_type)
    data = base64.b64encode(body).decode() if encoding == "BASE64" else body.decode("utf-8", "replace")
    return {"observedContentType": content_type, "mode": mode, "data": data, "encoding": encoding}


@dataclass(frozen=True)
class Invocation:
    """One request and its response, as the server saw them."""

    when: float  # time.time()
    request: bytes
    request_type: str
    response: bytes
    response_type: str
    inference_id: str | None = None  # the caller's InferenceId, when given


def capture_record(invocation: Invocation, event_id: str | None = None) -> dict[str, Any]:
    moment = datetime.fromtimestamp(invocation.when, UTC)
    metadata = {"eventId": event_id or str(uuid.uuid4())}
    if invocation.inference_id:
        metadata["inferenceId"] = invocation.inference_id
    return {
        "captureData": {"endpointInput": _payload(invocation.request, invocation.request_type, "INPUT"),
                        "endpointOutput": _payload(invocation.response, invocation.response_type, "OUTPUT")},
        "eventMetadata": {**metadata, "inferenceTime": moment.strftime(TIME_FORMAT)},
        "eventVersion": EVENT_VERSION,
    }


_STOP = object()


class CaptureWriter:
    """Sampled invocations appended as JSON Lines under `<root>/<endpoint>/<variant>/yyyy/mm/dd/hh/`."""

    def __init__(self, root: Path, endpoint: str, variant: str, percentage: int,
                 sample: Callable[[], float] = random.random) -> None:
        self.folder = Path(root) / endpoint / variant
        self.percentage = percentage
        self.sample = sample
        self.queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self.written = 0
        self._file: IO[str] | None = None
        self._hour: str = ""
        self._thread = threading.Thread(target=self._run, name="capture-writer", daemon=True)
        self._thread.start()

    def capture(self, invocation: Invocation) -> bool:
        """Enqueue `invocation` when sampled; returns whether it was."""
        if self.percentage <= 0 or (self.percentage < 100 and self.sample() * 100 >= self.percentage):
            return False
        self.queue.put(invocation)
        return True

    def close(self) -> None:
        """Write everything enqueued so far, then stop."""
        if self._thread.is_alive():
            self.queue.put(_STOP)
            self._thread.join()

    def _run(self) -> None:
        stop = False
        while not stop:
            batch = [self.queue.get()]
            while not self.queue.empty() and len(batch) < 1000:
                batch.append(self.queue.get())
            for item in batch:
                if item is _STOP:
                    stop = True
                    continue
                self._append(item)
            if self._file:
                self._file.flush()
        if self._file:
            self._file.close()

    def _append(self, invocation: Invocation) -> None:
        moment = datetime.fromtimestamp(invocation.when, UTC)
        hour = moment.strftime("%Y/%m/%d/%H")
        if hour != self._hour or self._file is None:
            if self._file:
                self._file.close()
            folder = self.folder / hour
            folder.mkdir(parents=True, exist_ok=True)
            name = f"{moment.strftime('%M-%S')}-{moment.microsecond // 1000:03d}-{uuid.uuid4()}.jsonl"
            self._file = (folder / name).open("a", encoding="utf-8")
            self._hour = hour
        self._file.write(json.dumps(capture_record(invocation), separators=(",", ":")) + "\n")
        self.written += 1


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
        return datetime.strptime("/".join(parts[-HOUR_DEPTH - 1:-1]), "%Y/%m/%d/%H").replace(tzinfo=UTC)
    except ValueError:
        return None


def _in_window(hour: datetime, since: datetime | None, until: datetime | None) -> bool:
    return (since is None or hour.timestamp() + 3600 > since.timestamp()) and (until is None or hour < until)


BLOCK_BYTES = 16 * 1024 * 1024  # capture files are read in blocks of whole lines of about this size


def _sources(root: Path | str, since: datetime | None, until: datetime | None,
             s3: Any) -> Iterator[Callable[[], Any]]:
    """An opener of a binary stream per `.jsonl` file in the window's hour folders (a file, or an S3 body)."""
    if isinstance(root, str) and root.startswith("s3://"):
        if s3 is None:
            raise ValueError(f"reading {root} needs an s3 client")
        bucket, _, prefix = root.removeprefix("s3://").partition("/")
        prefix = prefix.rstrip("/") + "/" if prefix else ""
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            for item in page.get("Contents", []):
                hour = _hour_of(item["Key"][len(prefix):])
                if hour and _in_window(hour, since, until):
                    yield lambda key=item["Key"]: s3.get_object(Bucket=bucket, Key=key)["Body"]
        return
    folder = Path(root)
    for path in sorted(folder.rglob("*.jsonl")):
        hour = _hour_of(path.relative_to(folder).as_posix())
        if hour and _in_window(hour, since, until):
            yield lambda path=path: path.open("rb")


def _blocks(source: Callable[[], Any]) -> Iterator[bytes]:
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
    """Every capture record under `root` (a folder, or an s3:// prefix read with the `s3` client) whose
    inferenceTime lies in [since, until), streamed file by file (hour folders outside the window are
    skipped unread). With `malformed`, lines that are not capture records go to it and are skipped."""
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
                         s3: Any = None, malformed: Callable[[str], None] | None = None) -> Iterator[CaptureBatch]:
    """read_capture's records, a block of a file at a time, for the drift job: Arrow's JSON reader parses a
    block at once (no Python object per record); a block with anything but capture records in it is read
    line by line exactly as read_capture reads it, malformed lines going to `malformed`."""
    bounds = _second(since), _second(until)
    for source in _sources(root, since, until, s3):
        for block in _blocks(source):
            batch = _arrow_batch(block, *bounds)
            if batch is None:
                batch = CaptureBatch.of(_records(block.decode("utf-8", "replace").split("\n"), since, until,
                                                 malformed))
            if batch.event_ids:
                yield batch
