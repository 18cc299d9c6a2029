"""Capture records of a window as DataFrame chunks of at most ``chunk_rows`` rows, named as the baseline.

CSV requests (one row per line; a header row is skipped, as the model skips it) take the baseline's
feature names by position; JSON requests (an object, a list of objects, or {"instances": [...]}) carry
their own names, so missing and added columns show up. Lines
that are not capture records, and rows whose field count differs from the baseline's, are counted as
malformed, remembered (the first few, for the report) and skipped.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from capture_reading import CaptureRecord

CHUNK_ROWS = 65_536
SHOWN_MALFORMED = 5


@dataclass
class Malformed:
    """Skipped input of one pass over the window."""

    count: int = 0
    examples: list[str] = field(default_factory=list)

    def add(self, what: str) -> None:
        self.count += 1
        if len(self.examples) < SHOWN_MALFORMED:
            self.examples.append(what[:200])


@dataclass
class WindowReader:
    """``read()`` streams the window's chunks afresh each call (the statistics take two passes)."""

    records: Callable[[Callable[[str], None]], Iterable[CaptureRecord]]  # given a callback for malformed lines
    columns: list[str]
    chunk_rows: int = CHUNK_ROWS
    malformed: Malformed = field(default_factory=Malformed)
    rows: int = 0

    def read(self) -> Iterator[pd.DataFrame]:
        self.malformed, self.rows = Malformed(), 0
        csv_rows: list[str] = []
        json_rows: list[dict[str, Any]] = []
        malformed = self.malformed
        for record in self.records(lambda line: malformed.add(f"not a capture record: {line}")):
            self._add(record, csv_rows, json_rows)
            if len(csv_rows) >= self.chunk_rows:
                yield self._csv_frame(csv_rows)
                csv_rows = []
            if len(json_rows) >= self.chunk_rows:
                yield self._json_frame(json_rows)
                json_rows = []
        if csv_rows:
            yield self._csv_frame(csv_rows)
        if json_rows:
            yield self._json_frame(json_rows)

    def spool(self, folder: Path) -> Callable[[], Iterator[pd.DataFrame]]:
        """Parse the window once into chunk files under ``folder``; the returned reader replays them (the
        statistics take two passes, and parsing capture costs far more than reading a pickled chunk)."""
        files = []
        for index, frame in enumerate(self.read()):
            files.append(folder / f"chunk-{index:06d}.pkl")
            frame.to_pickle(files[-1])
        return lambda: (pd.read_pickle(file) for file in files)

    def _add(self, record: CaptureRecord, csv_rows: list[str], json_rows: list[dict[str, Any]]) -> None:
        text = record.input_data.decode("utf-8", "replace")
        if "json" in record.input_type.lower():
            self._add_json(record.event_id, text, json_rows)
            return
        # rows stay text for pandas' C parser; only quoted CSV needs the csv module to count fields
        lines = text.splitlines() if '"' not in text else [_csv_line(f) for f in csv.reader(io.StringIO(text))]
        width, header = len(self.columns), ",".join(self.columns)
        for line in lines:
            if not line or line == header:  # a header row: the model's input_fn skips it too
                continue
            fields = line.count(",") + 1 if '"' not in line else len(next(csv.reader([line])))
            if fields != width:
                self.malformed.add(f"event {record.event_id}: {fields} fields, the baseline has {width}")
                continue
            csv_rows.append(line)

    def _add_json(self, event_id: str, text: str, json_rows: list[dict[str, Any]]) -> None:
        try:
            body = json.loads(text)
        except ValueError:
            self.malformed.add(f"event {event_id}: request is not valid JSON")
            return
        if isinstance(body, dict) and isinstance(body.get("instances"), list):
            body = body["instances"]  # the serving JSON format: {"instances": [row, ...]}
        rows = body if isinstance(body, list) else [body]
        for row in rows:
            if isinstance(row, dict):
                json_rows.append(row)
            else:
                self.malformed.add(f"event {event_id}: a JSON row is not an object")

    def _csv_frame(self, rows: list[str]) -> pd.DataFrame:
        self.rows += len(rows)
        # pandas infers types as it does for the baseline CSV, so the two are read alike
        return pd.read_csv(io.StringIO("\n".join(rows)), header=None, names=self.columns, low_memory=False)

    def _json_frame(self, rows: list[dict[str, Any]]) -> pd.DataFrame:
        self.rows += len(rows)
        frame = pd.DataFrame.from_records(rows)
        frame.columns = [str(c) for c in frame.columns]
        return frame


def _csv_line(fields: list[str]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="").writerow(fields)
    return buffer.getvalue()
