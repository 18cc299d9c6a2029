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

`CaptureWriter` never blocks a response: the request path samples and queues; one background
thread encodes and appends in batches; `close()` drains the queue, so a clean shutdown loses nothing.
"""

from __future__ import annotations

import base64
import json
import random
import threading
import uuid
from collections import deque
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


class CaptureWriter:
    """Sampled invocations appended as JSON Lines under `<root>/<endpoint>/<variant>/yyyy/mm/dd/hh/`.

    The request path only appends to a deque; a background thread wakes every FLUSH_SECONDS and writes
    what has gathered in one go (one flush per batch, no wake-up or lock per request, which on a busy
    server would cost more than the encoding). `close()` writes the rest before it returns."""

    FLUSH_SECONDS = 0.5

    def __init__(self, root: Path, endpoint: str, variant: str, percentage: int,
                 sample: Callable[[], float] = random.random) -> None:
        self.folder = Path(root) / endpoint / variant
        self.percentage = percentage
        self.sample = sample
        self.pending: deque[Invocation] = deque()  # append and popleft are atomic: no lock needed
        self.written = 0
        self._file: IO[str] | None = None
        self._hour: str = ""
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="capture-writer", daemon=True)
        self._thread.start()

    def capture(self, invocation: Invocation) -> bool:
        """Queue `invocation` when sampled; returns whether it was."""
        if self.percentage <= 0 or (self.percentage < 100 and self.sample() * 100 >= self.percentage):
            return False
        self.pending.append(invocation)
        return True

    def close(self) -> None:
        """Write everything queued so far, then stop."""
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        stopping = False
        while not stopping:
            stopping = self._stop.wait(self.FLUSH_SECONDS)
            while self.pending:
                self._append(self.pending.popleft())
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
