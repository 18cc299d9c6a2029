"""Benchmark: streaming data-quality statistics and the drift check over 1M and 10M rows x 30 features.

Generates churn data (pipelines.sample_data, 14 base + 16 extra features, seeded) as Parquet files of
1M rows each in a temporary folder (not in the repo), a baseline statistics.json/constraints.json
from a separate 200k-row sample, then for each size runs a fresh worker process that does what the
QualityCheck step and the drift job do (seedcode/data_quality.py): the statistics over the files in
chunks (one read: the Parquet footers state each numeric column's range), the drift counts on the
baseline's points in the same pass, and the checks.

Prints per size: rows, wall seconds, CPU seconds (user + sys of the worker, all its threads), rows/s
per core (rows / CPU seconds), and the worker's peak resident memory (VmHWM). Goal: >= 1M
rows/s per core and peak < 1 GB whatever the row count.

  .venv/bin/python bench/drift.py                      # 1M and 10M
  .venv/bin/python bench/drift.py --rows 1000000 --json build/bench/drift.json
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SEEDCODE = ROOT / "seedcode"
FILE_ROWS = 1_000_000
EXTRA_FEATURES = 16  # 14 base features + 16 = 30
BASELINE_ROWS = 200_000


@dataclass(frozen=True)
class WorkerResult:
    rows: int
    features: int
    violations: int
    wall_seconds: float
    cpu_seconds: float
    peak_mb: float

    @property
    def rows_per_core_second(self) -> float:
        return self.rows / self.cpu_seconds


def _write_data(folder: Path, files: int) -> list[Path]:
    """``files`` Parquet files of FILE_ROWS rows each (seeded by index); the target column dropped."""
    sys.path.insert(0, str(ROOT))
    from pipelines.sample_data import make_churn_dataset

    paths = []
    for index in range(files):
        path = folder / f"part-{index:03d}.parquet"
        frame = make_churn_dataset(FILE_ROWS, seed=100 + index, extra_features=EXTRA_FEATURES).drop(columns="churned")
        frame.to_parquet(path, index=False, row_group_size=131_072)
        paths.append(path)
    return paths


def _write_baseline(folder: Path) -> tuple[Path, Path]:
    sys.path[:0] = [str(ROOT), str(SEEDCODE)]
    import data_quality as dq

    from pipelines.sample_data import make_churn_dataset

    frame = make_churn_dataset(BASELINE_ROWS, seed=7, extra_features=EXTRA_FEATURES).drop(columns="churned")
    statistics = dq.compute_statistics(frame)
    (folder / "statistics.json").write_text(json.dumps(statistics))
    (folder / "constraints.json").write_text(json.dumps(dq.suggest_constraints(statistics)))
    return folder / "statistics.json", folder / "constraints.json"


def worker(files: list[Path], statistics: Path, constraints: Path) -> dict[str, float]:
    """One run as the analyzer does it, in this (fresh) process; prints its measurements as JSON."""
    sys.path.insert(0, str(SEEDCODE))
    import data_quality as dq
    import scipy.stats  # noqa: F401  a one-off start-up cost (about 0.5 s), not per row: kept out of the timing
    from allocator import keep_freed_memory
    from stats_reading import iter_chunks, parquet_ranges

    keep_freed_memory()  # as data_quality.main does

    baseline = json.loads(statistics.read_text()), json.loads(constraints.read_text())
    before = resource.getrusage(resource.RUSAGE_SELF)
    started = time.perf_counter()

    def read():
        for file in files:
            yield from iter_chunks(file)

    accumulated, violations = dq.profile_and_check(read, *baseline, ranges=parquet_ranges(files))
    result = accumulated.to_statistics()
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_SELF)
    return {
        "rows": result["dataset"]["item_count"], "features": len(result["features"]),
        "violations": len(violations or []), "wall_seconds": wall,
        "cpu_seconds": (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime),
        "peak_mb": peak_rss_mb(),
    }


def peak_rss_mb() -> float:
    """This process's peak resident memory: VmHWM (reset by exec, unlike getrusage's maxrss, which a
    child inherits from the parent that forked it), else maxrss."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def run_worker(files: list[Path], statistics: Path, constraints: Path) -> WorkerResult:
    command = [sys.executable, __file__, "--worker", "--statistics", str(statistics), "--constraints",
               str(constraints), *map(str, files)]
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    return WorkerResult(**json.loads(output.strip().splitlines()[-1]))


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[1_000_000, 10_000_000],
                        help=f"dataset sizes, multiples of {FILE_ROWS}")
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--statistics", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--constraints", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("files", nargs="*", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if not args.worker and any(rows % FILE_ROWS or rows <= 0 for rows in args.rows):
        parser.error(f"--rows must be positive multiples of {FILE_ROWS}")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.worker:
        print(json.dumps(worker(args.files, args.statistics, args.constraints)))
        return 0
    results = []
    with tempfile.TemporaryDirectory(prefix="drift-bench-") as temp:
        folder = Path(temp)
        started = time.perf_counter()
        files = _write_data(folder, max(args.rows) // FILE_ROWS)
        statistics, constraints = _write_baseline(folder)
        print(f"generated {max(args.rows):,} rows x 30 features in {time.perf_counter() - started:.0f} s", flush=True)
        for rows in sorted(args.rows):
            result = run_worker(files[: rows // FILE_ROWS], statistics, constraints)
            results.append(result)
            print(f"{result.rows:>11,} rows x {result.features} features: wall {result.wall_seconds:6.1f} s, "
                  f"cpu {result.cpu_seconds:6.1f} s, {result.rows_per_core_second / 1e6:5.2f}M rows/s per core, "
                  f"peak {result.peak_mb:5.0f} MB, {result.violations} violation(s)", flush=True)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps([{**r.__dict__, "rows_per_core_second": r.rows_per_core_second}
                                         for r in results], indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
