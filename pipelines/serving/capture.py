"""Data capture in SageMaker's format and folder layout, written locally and read from either backend.

One JSON Lines record per captured invocation, as SageMaker writes it to S3:

  {"captureData": {"endpointInput":  {"observedContentType": "text/csv", "mode": "INPUT",
                                       "data": "...", "encoding": "CSV"},
                   "endpointOutput": {"observedContentType": "text/csv", "mode": "OUTPUT",
                                       "data": "...", "encoding": "CSV"}},
   "eventMetadata": {"eventId": "<uuid>", "inferenceTime": "2024-05-01T12:00:00Z"},
   "eventVersion": "0"}

under `<root>/<endpoint>/<variant>/yyyy/mm/dd/hh/<mm-ss-mmm>-<uuid>.jsonl`. Encoding follows the
CaptureContentTypeHeader the deploy plan sets: CSV for text/csv, JSON for application/json, else
BASE64. The one reader of this format, for local and cloud capture alike, runs where the drift job runs:
seedcode/capture_reading.py.

`CaptureWriter` never blocks a response: the request thread samples and enqueues; one background
thread encodes and appends; `close()` drains the queue, so a clean shutdown loses nothing.
"""

from __future__ import annotations

import base64
import json
import queue
import random
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

CSV_TYPES = ("text/csv",)
JSON_TYPES = ("application/json",)
EVENT_VERSION = "0"
TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


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


def capture_record(invocation: Invocation, event_id: str | None = None) -> dict[str, Any]:
    moment = datetime.fromtimestamp(invocation.when, UTC)
    return {
        "captureData": {"endpointInput": _payload(invocation.request, invocation.request_type, "INPUT"),
                        "endpointOutput": _payload(invocation.response, invocation.response_type, "OUTPUT")},
        "eventMetadata": {"eventId": event_id or str(uuid.uuid4()), "inferenceTime": moment.strftime(TIME_FORMAT)},
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
