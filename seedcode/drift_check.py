"""DriftCheck, the monitoring pipeline's one step: an endpoint's captured traffic over a time window,
checked against the drift-check baselines of the package it serves, with Model Monitor's checks and files.

The same code runs in the SageMaker XGBoost image (a processing job of the `<project>-monitor-<stage>`
pipeline, started on a schedule) and on a laptop (the local engine runs the same definition for
`python -m pipelines.monitor run --local`).

  --capture-uri URI          the endpoint variant's capture prefix (.../data-capture/<endpoint>/AllTraffic)
  --window-start / --window-end T   ISO 8601 (UTC without an offset); "" = since the watermark / now
  --state-uri URI            holds watermark.json: the end of the last window that held data
  --baseline-statistics, --baseline-constraints PATH   the package's DriftCheckBaselines (processing inputs:
                             a file, or a folder holding one .json file)
  --model-package-arn ARN    the package the baselines belong to, named in messages and the report
  --drift-thresholds JSON    the team's thresholds over the constraints': {"default": x, "features": {...}}
  --endpoint, --schedule     the metric dimensions Endpoint and MonitoringSchedule
  --output DIR               statistics.json, constraint_violations.json, report.html, summary.png,
                             cloudwatch_metrics.json and, always, drift_summary.json (what the caller prints)
  --publish-metrics true     put the metrics to CloudWatch (namespace aws/sagemaker/Endpoints/data-metrics)

On N hosts (the job's InstanceCount, `[tool.ml-factory.monitoring] instance_count`), the hosts join XGBoost's
collective (cluster.py): the first lists the window's capture files and sends the list, each reads every N-th
file (as ShardedByS3Key deals a prefix), the statistics are merged before the checks and the first host alone
writes the files, the metrics and the watermark.

Exit 0 whether or not there is drift, and for an empty window; 2 with one `error:` line for bad input.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import cluster
import sm_paths
from capture_reading import dealt, read_capture_batches, window_files
from capture_window import WindowReader
from drift_job import Baseline, DriftResult, run_drift
from drift_metrics import METRICS_FILE, publish, write_metrics
from object_uris import Objects
from step_report import DataError, log, run_step

SUMMARY_FILE = "drift_summary.json"
WATERMARK_FILE = "watermark.json"


def parse_time(text: str, name: str) -> datetime | None:
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise DataError(f"{name} {text!r} is not an ISO 8601 time, e.g. 2026-05-01T12:00:00Z") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def package_label(arn: str) -> str:
    """`<group> version <n>` for a model package ARN (.../model-package/<group>/<n>), else the ARN itself."""
    resource = arn.rsplit(":", 1)[-1]
    parts = resource.split("/")
    if len(parts) == 3 and parts[0] == "model-package" and parts[2].isdigit():
        return f"{parts[1]} version {parts[2]}"
    return arn or "the baseline"


def _json_file(path: Path, what: str) -> dict[str, Any]:
    """A processing input: the file itself, or the one .json file its folder holds."""
    files = [path] if path.is_file() else sorted(path.glob("*.json")) if path.is_dir() else []
    if len(files) != 1:
        raise DataError(f"the {what} input {path} must be one JSON file, found {len(files)}")
    try:
        return json.loads(files[0].read_text())
    except ValueError as err:
        raise DataError(f"the {what} file {files[0].name} is not valid JSON: {err}") from None


def load_baseline(args: argparse.Namespace) -> Baseline:
    """The package's baseline, with the team's drift thresholds (--drift-thresholds) over its own."""
    baseline = Baseline(package_label(args.model_package_arn),
                        _json_file(args.baseline_statistics, "baseline statistics"),
                        _json_file(args.baseline_constraints, "baseline constraints"))
    try:
        thresholds = json.loads(args.drift_thresholds or "{}")
    except ValueError:
        raise DataError(f"--drift-thresholds {args.drift_thresholds!r} is not JSON") from None
    return baseline.with_thresholds(thresholds.get("default"), thresholds.get("features") or {})


def window(args: argparse.Namespace, objects: Objects, now: datetime) -> tuple[datetime | None, datetime]:
    """[since, until): the arguments, else since the watermark (or the beginning) until now. A window that ends
    at or before the watermark is empty, not an error: nothing new was captured since the last run."""
    # capture times are whole seconds: a window ending inside a second would skip that second's later records
    until = parse_time(args.window_end, "--window-end") or now.replace(microsecond=0)
    since = parse_time(args.window_start, "--window-start")
    if since is not None and since >= until:
        raise DataError(f"the window start {since.isoformat()} is not before its end {until.isoformat()}")
    if since is None:
        mark = objects.read_json(f"{args.state_uri.rstrip('/')}/{WATERMARK_FILE}")
        since = parse_time(mark["until"], "the watermark") if mark else None
    return since, until


def _summary(result: DriftResult | None, since: datetime | None, until: datetime,
             baseline: Baseline) -> dict[str, Any]:
    summary: dict[str, Any] = {"window": {"since": since.isoformat() if since else None, "until": until.isoformat()},
                               "package": baseline.package, "rows": 0, "malformed": {"count": 0, "examples": []},
                               "violations": [], "drift": {}, "files": [], "metrics_published": 0}
    if result is None:
        return summary
    summary.update(rows=result.rows, violations=result.violations,
                   malformed={"count": result.malformed.count, "examples": result.malformed.examples},
                   drift={name: {"distance": d.distance, "threshold": d.threshold, "p_value": d.p_value}
                          for name, d in sorted(result.drift.items())})
    return summary


@dataclass(frozen=True)
class SharedWindow:
    """The window and its capture files as the first host listed them (every host reads its share)."""

    since: datetime | None
    until: datetime
    files: list[str]  # empty: no captured record in the window


def list_window(args: argparse.Namespace, objects: Objects, now: datetime) -> SharedWindow:
    since, until = window(args, objects, now)
    if since is not None and since >= until:
        return SharedWindow(since, until, [])
    capture = objects.location(args.capture_uri)
    files = list(window_files(capture, since, until, objects.s3))
    has_records = next(iter(read_capture_batches(capture, since, until, objects.s3, lambda _: None, files)), None)
    return SharedWindow(since, until, files if has_records is not None else [])


def check(args: argparse.Namespace, now: datetime) -> dict[str, Any]:
    """Read the window, check it, write the files and (when asked) publish the metrics; the summary. On N
    hosts, the first lists the window's files, each host reads every N-th, the statistics are merged over
    the collective and the first host alone writes the files, the metrics and the watermark."""
    objects = Objects.from_environment(args.region, args.kms_key)
    baseline = load_baseline(args)
    hosts = cluster.current_cluster()
    capture = objects.location(args.capture_uri)
    with cluster.joined_or_lost(hosts, "drift", "run the monitoring pipeline again", DataError):
        shared = cluster.from_first_host(hosts, lambda: list_window(args, objects, now))
        share = list(dealt(shared.files, (hosts.rank, len(hosts.hosts))))
        result = None if not shared.files else run_drift(
            WindowReader(lambda bad: read_capture_batches(capture, shared.since, shared.until, objects.s3, bad, share),
                         baseline.columns), baseline, args.output,
            cluster.merged_over_hosts if hosts.distributed else None, write=hosts.rank == 0)
    since, until = shared.since, shared.until
    summary = _summary(result, since, until, baseline)
    if result is None or not result.rows:
        log(f"no captured data between {since.isoformat() if since else 'the beginning'} and {until.isoformat()}")
        return summary
    if hosts.rank > 0:
        log(f"host {hosts.current_host} (rank {hosts.rank}) checked {len(share)} of the window's {len(shared.files)} "
            "capture file(s); the first host writes the files")
        return summary
    write_metrics(result, args.endpoint, args.schedule, until)
    summary["files"] = sorted([*result.files, METRICS_FILE, "summary.png"])
    if args.publish_metrics == "true":
        summary["metrics_published"] = _publish(objects, args, result.folder / METRICS_FILE)
    objects.write_json(f"{args.state_uri.rstrip('/')}/{WATERMARK_FILE}", {"until": until.isoformat()})
    log(f"{result.rows} rows between {summary['window']['since'] or 'the beginning'} and {until.isoformat()}: "
        f"{len(result.violations)} violation(s) against {baseline.package}")
    return summary


def _publish(objects: Objects, args: argparse.Namespace, metrics_file: Path) -> int:
    if objects.local:
        log("metrics not published: the local engine has no CloudWatch (they are in cloudwatch_metrics.json)")
        return 0
    import boto3

    count = publish(boto3.client("cloudwatch", region_name=args.region or None), json.loads(metrics_file.read_text()))
    log(f"published {count} metric(s) to CloudWatch for {args.endpoint}")
    return count


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--capture-uri", required=True)
    parser.add_argument("--state-uri", required=True)
    parser.add_argument("--window-start", default="")
    parser.add_argument("--window-end", default="")
    inputs = sm_paths.processing("input")
    parser.add_argument("--baseline-statistics", type=Path, default=inputs / "baseline-statistics")
    parser.add_argument("--baseline-constraints", type=Path, default=inputs / "baseline-constraints")
    parser.add_argument("--model-package-arn", default="")
    parser.add_argument("--drift-thresholds", default="",
                        help='JSON {"default": 0.1 or null, "features": {"age": 0.2}} over the constraints\' own')
    parser.add_argument("--endpoint", required=True)
    parser.add_argument("--schedule", required=True)
    parser.add_argument("--output", type=Path, default=sm_paths.processing("output", "monitoring"))
    parser.add_argument("--publish-metrics", choices=("true", "false"), default="false")
    parser.add_argument("--region", default="")
    parser.add_argument("--kms-key", default="")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None, now: datetime | None = None) -> int:
    args = parse_args(argv)

    def step() -> None:
        summary = check(args, now or datetime.now(UTC))
        if cluster.current_cluster().rank > 0:  # the first host writes the job's files
            return
        args.output.mkdir(parents=True, exist_ok=True)
        (args.output / SUMMARY_FILE).write_text(json.dumps(summary, indent=2, allow_nan=False) + "\n")

    return run_step(step, "processing")


if __name__ == "__main__":
    sys.exit(main())
