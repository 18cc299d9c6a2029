"""Benchmark: the whole local pipeline against the bare work it wraps.

For each size: generate churn data with `pipelines.sample_data` (14 base + extra features), run
`python -m pipelines.run --local --data FILE` on fresh state, and in the same session the bare
work as a plain script: read the same file, encode the text columns, `xgboost.train` with the
same parameters and rounds. Prints wall times and the ratio; see bench/README.md.

    python bench/local_pipeline.py                      # 100k and 1M rows x 30 features
    python bench/local_pipeline.py --rows 20000 100000  # pick sizes
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

BASE_FEATURES = 14
OBJECTIVES = {"binary_classification": ("binary:logistic", "auc"), "regression": ("reg:squarederror", "rmse")}

BARE_WORK = r"""
import json, sys, time
started = time.perf_counter()
import numpy as np, pandas as pd, xgboost as xgb
imported = time.perf_counter()
path, target, params, rounds = sys.argv[1], sys.argv[2], json.loads(sys.argv[3]), int(sys.argv[4])
frame = pd.read_parquet(path)
label = frame.pop(target).to_numpy(dtype="float32")
for name in frame.columns:
    if not pd.api.types.is_numeric_dtype(frame[name]):
        codes = frame[name].astype("category").cat.codes.to_numpy()
        frame[name] = np.where(codes < 0, np.nan, codes).astype("float32")
matrix = xgb.DMatrix(frame.to_numpy(dtype="float32", na_value=np.nan), label=label)
read = time.perf_counter()
booster = xgb.train(params, matrix, num_boost_round=rounds)
done = time.perf_counter()
print(json.dumps({"import": imported - started, "read": read - imported, "train": done - read,
                  "work": done - imported}))
"""


def xgboost_params(config) -> dict:
    """The parameters seedcode/train.py trains with (defaults by problem type, hist, all cores)."""
    objective, metric = OBJECTIVES[config.problem_type]
    params = {key: value for key, value in config.training.hyperparameters.items()}
    params.setdefault("objective", objective)
    params.setdefault("eval_metric", metric)
    params.setdefault("tree_method", "hist")
    params.setdefault("nthread", os.cpu_count() or 1)
    params.setdefault("seed", config.seed)
    return params


def make_data(path: Path, rows: int, features: int, config) -> float:
    if path.is_file():
        return 0.0
    from pipelines.sample_data import make_churn_dataset, write_dataset

    started = time.perf_counter()
    frame = make_churn_dataset(rows, seed=config.seed, problem_type=config.problem_type,
                               target_column=config.target_column, extra_features=max(features - BASE_FEATURES, 0))
    write_dataset(frame, path)
    return time.perf_counter() - started


def warm_definition(config, state: Path) -> float:
    """Build the definition once into `state/definitions` (the SDK import a rerun skips)."""
    from pipelines.code_bundle import bundle_seedcode
    from pipelines.engine.build import load_definition, local_wiring

    started = time.perf_counter()
    load_definition(config, local_wiring(config), bundle_seedcode(), state / "definitions")
    return time.perf_counter() - started


def run_pipeline(data: Path, state: Path, config_path: Path) -> tuple[float, dict]:
    summary = state / "bench-summary.json"
    started = time.perf_counter()
    completed = subprocess.run(
        [sys.executable, "-m", "pipelines.run", "--local", "--config", str(config_path), "--data", str(data),
         "--state-dir", str(state), "--summary", str(summary), "--param", "MetricThreshold=0"],
        cwd=REPO_ROOT, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if completed.returncode != 0:
        raise SystemExit(f"local pipeline failed:\n{completed.stderr}")
    return seconds, json.loads(summary.read_text())


def run_bare(data: Path, config) -> tuple[float, dict]:
    started = time.perf_counter()
    completed = subprocess.run(
        [sys.executable, "-c", BARE_WORK, str(data), config.target_column, json.dumps(xgboost_params(config)),
         str(config.training.num_round)], capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if completed.returncode != 0:
        raise SystemExit(f"bare work failed:\n{completed.stderr}")
    return seconds, json.loads(completed.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[100_000, 1_000_000], help="dataset sizes")
    parser.add_argument("--features", type=int, default=30, help="feature columns (default 30)")
    parser.add_argument("--config", type=Path, default=REPO_ROOT / "pyproject.toml", help="team pyproject.toml")
    parser.add_argument("--work-dir", type=Path, default=REPO_ROOT / "build" / "bench",
                        help="data and state (default build/bench)")
    parser.add_argument("--repeat", type=int, default=1,
                        help="runs of each side per size; the fastest counts (a shared machine is noisy)")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args(argv)

    from pipelines.config import load_config

    config = load_config("dev", args.config)
    args.work_dir.mkdir(parents=True, exist_ok=True)
    seed_state = args.work_dir / "definition-seed"
    shutil.rmtree(seed_state, ignore_errors=True)
    sdk_seconds = warm_definition(config, seed_state)
    print(f"definition build (SageMaker SDK import, paid once per config/code change): {sdk_seconds:.1f}s",
          file=sys.stderr)

    results = []
    for rows in args.rows:
        data = args.work_dir / f"churn-{rows}x{args.features}.parquet"
        generated = make_data(data, rows, args.features, config)
        if generated:
            print(f"generated {data.name} in {generated:.1f}s", file=sys.stderr)
        with open(data, "rb") as handle:  # same page-cache state for both runs
            while handle.read(1 << 24):
                pass
        bare_wall, bare = min((run_bare(data, config) for _ in range(args.repeat)), key=lambda r: r[0])
        pipeline_runs = []
        for attempt in range(args.repeat):
            state = args.work_dir / f"state-{rows}-{attempt}"  # fresh state: no step cache hits
            shutil.rmtree(state, ignore_errors=True)
            shutil.copytree(seed_state / "definitions", state / "definitions")
            pipeline_runs.append(run_pipeline(data, state, args.config))
        pipeline_wall, summary = min(pipeline_runs, key=lambda r: r[0])
        if not summary.get("definition_reused"):
            print("note: the definition was rebuilt during the run (step code changed?)", file=sys.stderr)
        steps = {s["name"]: s["duration_seconds"] for s in summary["steps"] if s["duration_seconds"] is not None}
        result = {"rows": rows, "features": args.features, "pipeline_seconds": round(pipeline_wall, 2),
                  "bare_seconds": round(bare_wall, 2), "bare_work_seconds": round(bare["work"], 2),
                  "ratio": round(pipeline_wall / bare_wall, 2),
                  "ratio_to_bare_work": round(pipeline_wall / bare["work"], 2),
                  "steps": steps, "metrics": summary["metrics"]}
        results.append(result)
        print(f"{rows:>9} rows: local pipeline {pipeline_wall:6.1f}s | bare script {bare_wall:6.1f}s "
              f"(read {bare['read']:.1f}s + train {bare['train']:.1f}s + imports {bare['import']:.1f}s) | "
              f"ratio {result['ratio']:.2f} (vs work alone {result['ratio_to_bare_work']:.2f})")
        print("           steps: " + ", ".join(f"{k} {v:.1f}s" for k, v in steps.items()))
    if args.json:
        args.json.write_text(json.dumps({"definition_build_seconds": round(sdk_seconds, 2), "results": results},
                                        indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
