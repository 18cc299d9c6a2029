"""Benchmark: `python -m pipelines.run --dry-run` as whole processes, cold and warm.

cold: a fresh state folder each run, so the definition is built with the SageMaker SDK;
warm: the definition cached by an earlier run is reused and the SDK is never imported.
Prints the median (and range) of each; the goal is a median of at most 4 s. See bench/README.md.

    python bench/dry_run.py                  # 5 runs of each
    python bench/dry_run.py --runs 9 --json build/bench/dry_run.json
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
GOAL_SECONDS = 4.0


def timed_dry_run(config: Path, state_dir: Path) -> tuple[float, bytes]:
    """Wall seconds of one dry run and its stdout (the definition JSON)."""
    command = [sys.executable, "-m", "pipelines.run", "--dry-run", "--config", str(config),
               "--state-dir", str(state_dir)]
    started = time.perf_counter()
    result = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, timeout=600)
    seconds = time.perf_counter() - started
    if result.returncode != 0:
        sys.exit(f"error: the dry run failed ({result.returncode}): {result.stderr.decode()[-2000:]}")
    return seconds, result.stdout


def measure(config: Path, runs: int, scratch: Path) -> dict[str, list[float]]:
    cold, warm, outputs = [], [], set()
    for index in range(runs):
        seconds, out = timed_dry_run(config, scratch / f"cold-{index}")
        cold.append(seconds)
        outputs.add(out)
        print(f"cold {index + 1}/{runs}: {seconds:.2f}s", file=sys.stderr)
    warm_state = scratch / "cold-0"  # already holds the cached definition
    for index in range(runs):
        seconds, out = timed_dry_run(config, warm_state)
        warm.append(seconds)
        outputs.add(out)
        print(f"warm {index + 1}/{runs}: {seconds:.2f}s", file=sys.stderr)
    if len(outputs) != 1:
        sys.exit("error: cold and warm dry runs printed different definitions")
    return {"cold": cold, "warm": warm}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="runs of each kind (default: 5)")
    parser.add_argument("--config", type=Path, default=REPO_ROOT / "pyproject.toml", help="team pyproject.toml")
    parser.add_argument("--json", type=Path, metavar="FILE", help="also write the timings here")
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    with tempfile.TemporaryDirectory(prefix="dry-run-bench-") as scratch:
        timings = measure(args.config.resolve(), args.runs, Path(scratch))
    report = {kind: {"median": round(statistics.median(values), 3), "min": round(min(values), 3),
                     "max": round(max(values), 3), "runs": [round(v, 3) for v in values]}
              for kind, values in timings.items()}
    for kind, figures in report.items():
        verdict = "within" if figures["median"] <= GOAL_SECONDS else "over"
        print(f"dry run {kind:<4}: median {figures['median']:.2f}s (min {figures['min']:.2f}s, "
              f"max {figures['max']:.2f}s, {args.runs} runs) - {verdict} the {GOAL_SECONDS:.0f} s goal")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
