"""Benchmark: `monitor run`'s capture path, from SageMaker-format JSON Lines to the drift verdict.

Writes N captured CSV requests (50 rows x 30 normal features each) into one hour folder under a
temporary directory, baselines a separate 50k-row sample, then times the drift run as `monitor run`
does it (seedcode/drift_job.py run_drift, in the drift step: the window parsed once into chunk files, the two
statistics passes, the checks, report.html with 30 charts) and prints rows/s and peak memory.
bench/drift.py measures the statistics alone over Parquet; the difference is the cost of reading capture.

  .venv/bin/python bench/monitor_capture.py --rows 1000000
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "seedcode")]  # the step's own modules, imported as the step does

import data_quality as dq  # noqa: E402
from capture_reading import read_capture  # noqa: E402
from capture_window import WindowReader  # noqa: E402
from drift_job import Baseline, run_drift  # noqa: E402

from pipelines.serving.capture import Invocation, capture_record  # noqa: E402

FEATURES, BATCH, WHEN = 30, 50, 1777636800.0  # 2026-05-01T12:00:00Z


def write_capture(folder: Path, rows: int, names: list[str], rng: np.random.Generator) -> None:
    hour = folder / "2026/05/01/12"
    hour.mkdir(parents=True)
    with (hour / "capture.jsonl").open("w") as handle:
        for _ in range(0, rows, 10_000):
            lines = pd.DataFrame(rng.normal(size=(10_000, len(names))).round(3), columns=names).to_csv(
                header=False, index=False).splitlines()
            for start in range(0, len(lines), BATCH):
                body = ("\n".join(lines[start:start + BATCH]) + "\n").encode()
                record = capture_record(Invocation(WHEN, body, "text/csv", b"0.5\n", "text/csv"))
                handle.write(json.dumps(record) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    names = [f"f{i}" for i in range(FEATURES)]
    statistics = dq.compute_statistics(pd.DataFrame(rng.normal(size=(50_000, FEATURES)).round(3), columns=names))
    baseline = Baseline("bench", statistics, dq.suggest_constraints(statistics))
    with tempfile.TemporaryDirectory() as work:
        capture = Path(work) / "capture"
        write_capture(capture, args.rows, names, rng)
        started = time.perf_counter()
        reader = WindowReader(lambda malformed: read_capture(capture, malformed=malformed), names)
        result = run_drift(reader, baseline, Path(work) / "run")
        seconds = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{result.rows:,} rows x {FEATURES} features: {seconds:.1f} s, {result.rows / seconds:,.0f} rows/s, "
          f"peak RSS {peak_mb:.0f} MB (process), {len(result.violations)} violation(s)")


if __name__ == "__main__":
    main()
