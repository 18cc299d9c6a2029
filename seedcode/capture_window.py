"""Capture records of a window as DataFrame chunks of about ``chunk_rows`` rows, named as the baseline.

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
from itertools import chain, repeat
from pathlib import Path
from typing import Any

import pandas as pd

from capture_reading import CaptureBatch, CaptureRecord
from stats_reading import FrameRanges

CHUNK_ROWS = 65_536
SPOOL_MEMORY_BYTES = 256 * 1024 * 1024  # parsed chunks replayed from memory; beyond, from files
SLICE_CHARS = 2_000_000  # request text checked at once
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

    def merge(self, other: Malformed) -> Malformed:
        """Another host's share of the window added (cluster.merged_over_hosts)."""
        self.count += other.count
        self.examples = (self.examples + other.examples)[:SHOWN_MALFORMED]
        return self


@dataclass
class CsvPayloads:
    """CSV request bodies waiting to be parsed together, and how many rows they hold."""

    bodies: list[bytes] = field(default_factory=list)
    rows: int = 0

    def add(self, body: bytes, rows: int) -> None:
        self.bodies.append(body if body.endswith(b"\n") else body + b"\n")
        self.rows += rows


@dataclass
class WindowReader:
    """``read()`` streams the window's chunks afresh each call (``spool`` keeps them for replay). A chunk
    holds about ``chunk_rows`` rows: whole requests, never split."""

    # given a callback for malformed lines: read_capture_batches (or read_capture, a record at a time)
    records: Callable[[Callable[[str], None]], Iterable[CaptureBatch | CaptureRecord]]
    columns: list[str]
    chunk_rows: int = CHUNK_ROWS
    malformed: Malformed = field(default_factory=Malformed)
    rows: int = 0
    ranges: dict[str, tuple[float, float]] = field(default_factory=dict)  # of the numeric columns, by spool()

    def read(self) -> Iterator[pd.DataFrame]:
        self.malformed, self.rows = Malformed(), 0
        csv_rows = CsvPayloads()
        json_rows: list[dict[str, Any]] = []
        malformed = self.malformed
        for item in self.records(lambda line: malformed.add(f"not a capture record: {line}")):
            batch = item if isinstance(item, CaptureBatch) else CaptureBatch.of([item])
            for start, stop in _slices(batch.inputs):
                self._add_slice(batch, slice(start, stop), csv_rows, json_rows)
                if csv_rows.rows >= self.chunk_rows:
                    yield self._csv_frame(csv_rows)
                    csv_rows = CsvPayloads()
                if len(json_rows) >= self.chunk_rows:
                    yield self._json_frame(json_rows)
                    json_rows = []
        if csv_rows.rows:
            yield self._csv_frame(csv_rows)
        if json_rows:
            yield self._json_frame(json_rows)

    def spool(self, folder: Path, memory_bytes: int = SPOOL_MEMORY_BYTES) -> Callable[[], Iterator[pd.DataFrame]]:
        """Parse the window once; the returned reader replays the chunks (the statistics may take more than one
        pass, and parsing capture costs far more than replaying a chunk); ``ranges`` then holds the numeric
        columns' ranges, so that they take one. The first chunks stay in memory, up to
        ``memory_bytes``; the rest go to files under ``folder``, so memory stays bounded whatever the window."""
        kept: list[pd.DataFrame] = []
        files: list[Path] = []
        held = 0
        ranges = FrameRanges()  # so the statistics take one pass over the spooled chunks
        for index, frame in enumerate(self.read()):
            ranges.add(frame)
            size = int(frame.memory_usage(index=False, deep=True).sum())
            if not files and held + size <= memory_bytes:
                kept.append(frame)
                held += size
                continue
            files.append(folder / f"chunk-{index:06d}.pkl")
            frame.to_pickle(files[-1])
        self.ranges = ranges.ranges
        return lambda: chain(kept, (pd.read_pickle(file) for file in files))

    def _add_slice(self, batch: CaptureBatch, part: slice, csv_rows: CsvPayloads,
                   json_rows: list[dict[str, Any]]) -> None:
        """Plain CSV requests are checked together, at C speed: the common case. Otherwise request by
        request, and row by row only where a request has quotes, a header row or a wrong field count."""
        bodies = batch.inputs[part]
        if "json" not in " ".join(batch.input_types[part]).lower() and self._add_plain("\n".join(bodies), csv_rows):
            return
        for event_id, kind, body in zip(batch.event_ids[part], batch.input_types[part], bodies, strict=True):
            if "json" in kind.lower():
                self._add_json(event_id, body, json_rows)
            elif not self._add_plain(body, csv_rows):
                self._add_rows(event_id, body, csv_rows)

    def _add_plain(self, text: str, csv_rows: CsvPayloads) -> bool:
        """Add CSV text whose every line has the baseline's field count, with no quotes nor header row."""
        width, header = len(self.columns), ",".join(self.columns)
        if width < 2 or '"' in text or header in text:
            return False
        lines = list(filter(None, text.split("\n")))
        if list(map(str.count, lines, repeat(","))).count(width - 1) != len(lines):
            return False
        csv_rows.add(text.encode(), len(lines))
        return True

    def _add_rows(self, event_id: str, text: str, csv_rows: CsvPayloads) -> None:
        """Row by row: header rows skipped, rows with the wrong field count counted as malformed."""
        # only quoted CSV needs the csv module to count fields
        lines = text.splitlines() if '"' not in text else [_csv_line(f) for f in csv.reader(io.StringIO(text))]
        width, header = len(self.columns), ",".join(self.columns)
        kept = []
        for line in lines:
            if not line or line == header:  # a header row: the model's input_fn skips it too
                continue
            fields = line.count(",") + 1 if '"' not in line else len(next(csv.reader([line])))
            if fields != width:
                self.malformed.add(f"event {event_id}: {fields} fields, the baseline has {width}")
                continue
            kept.append(line)
        if kept:
            csv_rows.add("\n".join(kept).encode(), len(kept))

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

    def _csv_frame(self, payloads: CsvPayloads) -> pd.DataFrame:
        self.rows += payloads.rows
        # pandas infers types as it does for the baseline CSV, so the two are read alike
        return pd.read_csv(io.BytesIO(b"".join(payloads.bodies)), header=None, names=self.columns,
                           low_memory=False)

    def _json_frame(self, rows: list[dict[str, Any]]) -> pd.DataFrame:
        self.rows += len(rows)
        frame = pd.DataFrame.from_records(rows)
        frame.columns = [str(c) for c in frame.columns]
        return frame


def _slices(bodies: list[str], size: int = SLICE_CHARS) -> Iterator[tuple[int, int]]:
    """Consecutive ranges of requests holding about `size` characters each (a chunk never grows far past
    CHUNK_ROWS)."""
    start, held = 0, 0
    for index, length in enumerate(map(len, bodies)):
        held += length
        if held >= size:
            yield start, index + 1
            start, held = index + 1, 0
    if start < len(bodies):
        yield start, len(bodies)


def _csv_line(fields: list[str]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="").writerow(fields)
    return buffer.getvalue()
