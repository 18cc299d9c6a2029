"""Ground truth merged with a window's capture, as SageMaker's ground-truth merge does it, for
model_quality.py: labels in SageMaker's format under a `yyyy/mm/dd/hh/` folder (the hour they were written),

  {"groundTruthData": {"data": "1", "encoding": "CSV"}, "eventMetadata": {"eventId": "<id>"}, "eventVersion": "0"}

keyed by the request's InferenceId when the caller sent one, else the capture record's eventId
(`CaptureRecord.match_id`). A later line for the same id replaces an earlier one; lines that are not such
records are counted and skipped. Each captured request of the window with a label becomes one merged record
(the capture record plus `groundTruthData`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from capture_reading import hourly_files, read_capture
from capture_window import Malformed

LABEL_ENCODINGS = ("CSV", "JSON", "BASE64")


@dataclass
class Labels:
    """The labels found under the ground-truth folder, by id."""

    by_id: dict[str, dict[str, Any]] = field(default_factory=dict)
    bad: Malformed = field(default_factory=Malformed)


def read_labels(root: Path | str, s3: Any = None) -> Labels:
    """Every label line under `root` (all hours), keyed by eventId; malformed lines counted and skipped."""
    found = Labels()
    for lines in hourly_files(root, s3=s3):
        for line in lines:
            if not line.strip():
                continue
            try:
                record = json.loads(line)
                truth, key = record["groundTruthData"], str(record["eventMetadata"]["eventId"])
                if not isinstance(truth, dict) or "data" not in truth:
                    raise TypeError("groundTruthData has no data")
                if str(truth.get("encoding", "CSV")).upper() not in LABEL_ENCODINGS:
                    raise ValueError(f"encoding {truth.get('encoding')!r} is not one of {', '.join(LABEL_ENCODINGS)}")
            except (ValueError, KeyError, TypeError) as err:
                found.bad.add(f"{type(err).__name__} {err}: {line.strip()}")
                continue
            found.by_id[key] = truth
    return found


@dataclass(frozen=True)
class Window:
    """The capture to merge: a variant's capture folder (or s3:// prefix) and the window [since, until)."""

    capture: Path | str
    since: datetime | None
    until: datetime | None
    s3: Any = None


def merge(window: Window, labels: Labels, target: Path) -> int:
    """Write the window's labelled records in SageMaker's merge format to `target`; returns their count."""
    target.parent.mkdir(parents=True, exist_ok=True)
    matched = 0
    with target.open("w", encoding="utf-8") as handle:
        for record in read_capture(window.capture, window.since, window.until, s3=window.s3,
                                   malformed=lambda _: None):
            truth = labels.by_id.get(record.match_id)
            if truth is None:
                continue
            merged = {"captureData": record.raw["captureData"], "groundTruthData": truth,
                      "eventMetadata": record.raw["eventMetadata"], "eventVersion": record.raw.get("eventVersion", "0")}
            handle.write(json.dumps(merged, separators=(",", ":")) + "\n")
            matched += 1
    return matched
