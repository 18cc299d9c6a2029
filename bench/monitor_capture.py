"""Benchmark: `monitor run`'s capture path, from SageMaker-format JSON Lines to the drift verdict.

Writes captured CSV requests of `--rows-per-request` rows (30 normal features each, 3 decimals) into one hour
folder under a temporary directory, baselines a separate 50k-row sample, then times the drift run as
`monitor run` does it (seedcode/drift_job.py run_drift, in the drift step: the window parsed once, the statistics
(one pass: the spool states the ranges), the checks, report.html with 30 charts) in a fresh process per size.
Prints wall and CPU seconds, rows/s per core (rows / CPU seconds of the whole run), how much of it the parse
and the report took, and peak resident memory (VmHWM). bench/drift.py measures the statistics alone over Parquet.

  .venv/bin/python bench/monitor_capture.py --rows 1000000
  .venv/bin/python bench/monitor_capture.py --rows 100000 1000000 --rows-per-request 1 50
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "seedcode")]  # the step's own modules, imported as the step does

import data_quality as dq  # noqa: E402
from capture_reading import read_capture_batches  # noqa: E402
from capture_window import WindowReader  # noqa: E402
from drift_job import Baseline, run_drift  # noqa: E402

from bench.drift import peak_rss_mb  # noqa: E402
from pipelines.serving.capture import Invocation, capture_record  # noqa: E402

FEATURES, WHEN = 30, 1777636800.0  # 2026-05-01T12:00:00Z


def write_capture(folder: Path, rows: int, names: list[str], rng: np.random.Generator, batch: int = 50) -> None:
    hour = folder / "2026/05/01/12"
    hour.mkdir(parents=True)
    with (hour / "capture.jsonl").open("w") as handle:
        for _ in range(0, rows, 10_000):
            lines = pd.DataFrame(rng.normal(size=(10_000, len(names))).round(3), columns=names).to_csv(
                header=False, index=False).splitlines()
            for start in range(0, len(lines), batch):
                body = ("\n".join(lines[start:start + batch]) + "\n").encode()
                record = capture_record(Invocation(WHEN, body, "text/csv", b"0.5\n", "text/csv"))
                handle.write(json.dumps(record) + "\n")


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def worker(rows: int, batch: int) -> dict[str, float]:
    """One drift run over a fresh capture window, in this (fresh) process."""
    rng = np.random.default_rng(0)
    names = [f"f{i}" for i in range(FEATURES)]
    statistics = dq.compute_statistics(pd.DataFrame(rng.normal(size=(50_000, FEATURES)).round(3), columns=names))
    baseline = Baseline("bench", statistics, dq.suggest_constraints(statistics))
    with tempfile.TemporaryDirectory() as work:
        capture = Path(work) / "capture"
        write_capture(capture, rows, names, rng, batch)
        reader = WindowReader(lambda malformed: read_capture_batches(capture, malformed=malformed), names)
        parse_cpu = _cpu()
        sum(1 for _ in reader.read())  # the parse alone, once
        parse_cpu = _cpu() - parse_cpu
        started, cpu = time.perf_counter(), _cpu()
        result = run_drift(reader, baseline, Path(work) / "run")
        wall, cpu = time.perf_counter() - started, _cpu() - cpu
    return {"rows": result.rows, "rows_per_request": batch, "wall_seconds": wall, "cpu_seconds": cpu,
            "parse_cpu_seconds": parse_cpu, "violations": len(result.violations), "peak_mb": peak_rss_mb()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[1_000_000])
    parser.add_argument("--rows-per-request", type=int, nargs="+", default=[50])
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.rows[0], args.rows_per_request[0])))
        return
    for batch in args.rows_per_request:
        for rows in args.rows:
            command = [sys.executable, __file__, "--worker", "--rows", str(rows), "--rows-per-request", str(batch)]
            done = json.loads(subprocess.run(command, check=True, capture_output=True, text=True).stdout.strip()
                              .splitlines()[-1])
            print(f"{done['rows']:>10,} rows in requests of {batch:>3}: wall {done['wall_seconds']:5.1f} s, cpu "
                  f"{done['cpu_seconds']:5.1f} s, {done['rows'] / done['cpu_seconds']:>9,.0f} rows/s per core (parse "
                  f"alone {done['rows'] / done['parse_cpu_seconds']:>9,.0f} rows/s), peak {done['peak_mb']:4.0f} MB, "
                  f"{done['violations']} violation(s)", flush=True)


if __name__ == "__main__":
    main()
