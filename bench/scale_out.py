"""Benchmark: the local pipeline end to end on 1M, 5M and 10M rows x 30 features, with 1 and 2 training hosts.

For each size and host count: `python -m pipelines.run --local --data FOLDER` on fresh state (every step
runs), with `[tool.ml-factory.training] instance_count` set to the host count (and the data-quality
check on as many instances). Prints the wall time, each step's duration and the peak resident memory of
every process: each step's job process per host (the local engine reads it: VmHWM while it runs,
wait4's maxrss when it ends, summary.json `peak_memory_mb`) and the engine's own process (VmHWM,
sampled every 0.2 s).

The data: churn rows (pipelines.sample_data, 14 base + 16 extra features, seeded per part) as Parquet
parts of 1M rows in --work-dir (kept for reuse, about 60 MB per part); a size of N rows reads the first N
parts, as a team's S3 prefix of part files. Training runs --rounds rounds (default 20), tracking off.

  .venv/bin/python bench/scale_out.py                            # 1M, 5M and 10M rows, 1 and 2 hosts
  .venv/bin/python bench/scale_out.py --rows 1000000 --hosts 2 --json build/bench/scale_out.json
  .venv/bin/python bench/scale_out.py --step-python .venv-container/bin/python   # the SageMaker image's libraries
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
import tomllib
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
PART_ROWS = 1_000_000
EXTRA_FEATURES = 16  # 14 base features + 16 = 30
GENERATE = """
import sys
sys.path.insert(0, {root!r})
from pipelines.sample_data import make_churn_dataset
frame = make_churn_dataset({rows}, seed={seed}, extra_features={extra})
frame.to_parquet({path!r}, index=False, row_group_size=131_072)
"""


def write_parts(folder: Path, parts: int) -> list[Path]:
    """Parts 0..parts-1 of PART_ROWS rows, each made in its own process (this one stays small, so the
    engine it starts reports its own peak memory, not a share of ours)."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for index in range(parts):
        path = folder / f"part-{index:03d}.parquet"
        if not path.is_file():
            started = time.perf_counter()
            temporary = path.with_suffix(".tmp")
            code = GENERATE.format(root=str(REPO_ROOT), rows=PART_ROWS, seed=1000 + index, extra=EXTRA_FEATURES,
                                   path=str(temporary))
            subprocess.run([sys.executable, "-c", code], check=True)
            temporary.rename(path)
            print(f"generated {path.name} in {time.perf_counter() - started:.0f} s", file=sys.stderr, flush=True)
        paths.append(path)
    return paths


def dataset(work: Path, rows: int) -> Path:
    """A folder holding the first rows // PART_ROWS parts (hard links)."""
    parts = write_parts(work / "parts", rows // PART_ROWS)
    folder = work / f"data-{rows}"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    for part in parts:
        os.link(part, folder / part.name)
    return folder


def write_config(work: Path, hosts: int, rounds: int) -> Path:
    """The repo's [tool.ml-factory] with `hosts` training (and data-quality) instances, `rounds` rounds,
    and tracking off."""
    sys.path.insert(0, str(REPO_ROOT / "tests" / "engine"))
    from local_project import toml_text

    table = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["tool"]["ml-factory"]
    table["training"] = {**table.get("training", {}), "instance_count": hosts, "num_round": rounds}
    table["processing"] = {**table.get("processing", {}), "instance_count": hosts}
    table["tracking"] = {"uri": "none"}
    folder = work / f"config-{hosts}-hosts"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "pyproject.toml").write_text(toml_text(table))
    return folder / "pyproject.toml"


def run_pipeline(config: Path, data: Path, state: Path, step_python: Path) -> dict:
    """One local run on fresh state; its summary plus the wall time and the engine process's peak memory."""
    shutil.rmtree(state, ignore_errors=True)
    summary_path = state.parent / f"{state.name}-summary.json"
    command = [sys.executable, "-m", "pipelines.run", "--local", "--config", str(config), "--data", str(data),
               "--state-dir", str(state), "--summary", str(summary_path), "--param", "MetricThreshold=0",
               "--step-python", str(step_python)]
    started, peak = time.perf_counter(), 0.0
    with open(state.parent / f"{state.name}.log", "w") as log:
        process = subprocess.Popen(command, cwd=REPO_ROOT, stdout=log, stderr=subprocess.STDOUT)
        while process.poll() is None:  # the engine's own high-water mark (wait4's maxrss would count its steps)
            peak = max(peak, _peak_mb(process.pid))
            time.sleep(0.2)
    wall = time.perf_counter() - started
    if process.returncode != 0:
        raise SystemExit(f"the local pipeline failed (exit {process.returncode}); see {log.name}")
    summary = json.loads(summary_path.read_text())
    return {"wall_seconds": round(wall, 1), "engine_peak_mb": round(peak, 1), "summary": summary}


def _peak_mb(pid: int) -> float:
    """VmHWM of a running process, in MB (0 once it is gone)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0.0
    return next((int(line.split()[1]) / 1024 for line in status.splitlines() if line.startswith("VmHWM:")), 0.0)


def measure(rows: int, hosts: int, args: argparse.Namespace) -> dict:
    config = write_config(args.work_dir, hosts, args.rounds)
    run = run_pipeline(config, dataset(args.work_dir, rows), args.work_dir / f"state-{rows}-{hosts}", args.step_python)
    steps = {step["name"]: {"seconds": step["duration_seconds"], "peak_memory_mb": step.get("peak_memory_mb") or {}}
             for step in run["summary"]["steps"] if step["duration_seconds"] is not None}
    return {"rows": rows, "hosts": hosts, "wall_seconds": run["wall_seconds"],
            "engine_peak_mb": run["engine_peak_mb"], "steps": steps,
            "metrics": run["summary"].get("metrics"), "cpus": os.cpu_count(), "step_python": str(args.step_python),
            "load_average": os.getloadavg()}


def show(result: dict) -> None:
    print(f"{result['rows']:>11,} rows, {result['hosts']} host(s): wall {result['wall_seconds']:7.1f} s, "
          f"engine process peak {result['engine_peak_mb']:6.0f} MB, auc {result['metrics'].get('auc', 0):.4f}",
          flush=True)
    for name, step in result["steps"].items():
        peaks = ", ".join(f"{host} {mb:.0f} MB" for host, mb in step["peak_memory_mb"].items())
        print(f"    {name:<18} {step['seconds']:7.1f} s   {peaks}", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[1_000_000, 5_000_000, 10_000_000],
                        help=f"dataset sizes, multiples of {PART_ROWS:,}")
    parser.add_argument("--hosts", type=int, nargs="+", default=[1, 2], help="training host counts (default 1 2)")
    parser.add_argument("--rounds", type=int, default=20, help="boosting rounds (default 20)")
    parser.add_argument("--work-dir", type=Path, default=REPO_ROOT / "build" / "bench" / "scale_out",
                        help="data parts, configs and state (default build/bench/scale_out)")
    parser.add_argument("--step-python", type=Path, default=Path(sys.executable),
                        help="interpreter of the step code, e.g. .venv-container/bin/python for the SageMaker "
                             "image's library versions (default: this one)")
    parser.add_argument("--json", type=Path, help="also write the results here (appended to when it exists)")
    args = parser.parse_args(argv)
    if any(rows % PART_ROWS or rows <= 0 for rows in args.rows):
        parser.error(f"--rows must be positive multiples of {PART_ROWS:,}")
    results = json.loads(args.json.read_text()) if args.json and args.json.is_file() else []
    for rows in sorted(args.rows):
        for hosts in args.hosts:
            result = measure(rows, hosts, args)
            show(result)
            results.append(result)
            if args.json:
                args.json.parent.mkdir(parents=True, exist_ok=True)
                args.json.write_text(json.dumps(results, indent=2) + "\n")
            shutil.rmtree(args.work_dir / f"state-{rows}-{hosts}", ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
