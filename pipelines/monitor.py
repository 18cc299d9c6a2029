"""`python -m pipelines.monitor`: check an endpoint's captured traffic against the drift-check baselines
registered with the package it serves.

  run --stage S --local [--since T] [--until T] [--fail-on-drift] [--retrain-on-drift [--cool-down-hours H]]
      reads the stage's capture in [since, until) (default: since the last run's watermark, until now),
      writes statistics.json, constraint_violations.json, report.html, summary.png and
      cloudwatch_metrics.json (Model Monitor's metric names) under
      <state>/monitoring/<stage>/runs/<UTC time>/, prints their paths and one line per violation;
      --retrain-on-drift starts `pipelines.run --local --trigger drift` on violations, at most once per
      cool-down (default 24 h, kept in <state>/monitoring/<stage>/retrain.json); the new version is
      PendingManualApproval and a person still approves it;
      with ground-truth labels (the stage's ground-truth folder, or --ground-truth FOLDER: SageMaker's format,
      keyed by the requests' InferenceId or the capture's eventId), model quality too: the window's metrics
      against the gate the served package passed, under <run folder>/model_quality/, one line on stdout

Times are ISO 8601 (UTC when no offset is given); a window ends at the last whole second (capture times are
whole seconds). Exit codes: 0 checked (drift or not), 3 violations (data or model quality) with --fail-on-drift,
2 a user error (one `error:` line).
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from pipelines.config import load_config
from pipelines.errors import UserError, run_cli
from pipelines.serving import names
from pipelines.wiring import STAGES

EXIT_DRIFT = 3


@dataclass(frozen=True)
class MonitorRequest:
    stage: str
    pyproject: Path = Path("pyproject.toml")
    local: bool = False
    state_dir: Path | None = None
    since: datetime | None = None
    until: datetime | None = None
    fail_on_drift: bool = False
    retrain_on_drift: bool = False
    cool_down: timedelta = timedelta(hours=24)
    retrain_rows: int | None = None
    ground_truth: Path | None = None  # labels folder for model quality (default: the stage's ground-truth folder)


def _time(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an ISO 8601 time, e.g. 2026-05-01T12:00:00Z") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m pipelines.monitor", description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog=__doc__.split("\n\n", 1)[1])
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="check the stage's captured traffic for drift")
    run.add_argument("--stage", choices=STAGES, default="dev")
    run.add_argument("--config", type=Path, default=Path("pyproject.toml"), help="team pyproject.toml")
    run.add_argument("--local", action="store_true", help="the local endpoint's capture and the local registry")
    run.add_argument("--state-dir", type=Path, help="local engine state folder (default: .ml-factory beside --config)")
    run.add_argument("--since", type=_time, help="window start (default: the last run's watermark)")
    run.add_argument("--until", type=_time, help="window end, exclusive (default: now, to the whole second)")
    run.add_argument("--fail-on-drift", action="store_true", help=f"exit {EXIT_DRIFT} when there are violations")
    run.add_argument("--retrain-on-drift", action="store_true",
                     help="on violations, start a local training run (trigger=drift), once per cool-down")
    run.add_argument("--cool-down-hours", type=float, default=24.0,
                     help="least time between two drift retrainings (default 24)")
    run.add_argument("--retrain-rows", type=int, help="--rows of the retraining run (the generated sample data)")
    run.add_argument("--ground-truth", type=Path, help="folder of ground-truth labels for model quality (default: "
                     "the stage's, <state>/s3/<artifact bucket>/<project>/ground-truth/<endpoint>/)")
    return parser


def to_request(args: argparse.Namespace) -> MonitorRequest:
    if not args.local:
        raise UserError("only --local monitoring is available so far; pass --local")
    if args.cool_down_hours < 0:
        raise UserError(f"--cool-down-hours must be at least 0, not {args.cool_down_hours}")
    if args.since and args.until and args.since >= args.until:
        raise UserError(f"--since {args.since.isoformat()} is not before --until {args.until.isoformat()}")
    return MonitorRequest(args.stage, args.config, args.local, args.state_dir, args.since, args.until,
                          args.fail_on_drift, args.retrain_on_drift, timedelta(hours=args.cool_down_hours),
                          args.retrain_rows, args.ground_truth)


def run_local(request: MonitorRequest, now: datetime | None = None) -> int:
    from pipelines.engine.state import state_root
    from pipelines.monitoring.job import run_drift
    from pipelines.monitoring.local import LocalStage
    from pipelines.monitoring.metrics import write_metrics
    from pipelines.monitoring.tracking import track_drift
    from pipelines.monitoring.window import WindowReader
    from pipelines.serving.capture import read_capture, read_capture_batches

    now = now or datetime.now(UTC)
    stage = LocalStage(load_config(request.stage, request.pyproject), state_root(request.pyproject,
                                                                                  request.state_dir), request.stage)
    baseline = stage.baseline()
    # capture times are whole seconds: a watermark inside a second would skip that second's later records
    since, until = request.since or stage.watermark(), request.until or now.replace(microsecond=0)
    root = stage.capture_root()
    reader = WindowReader(lambda malformed: read_capture_batches(root, since, until, malformed=malformed),
                          baseline.columns)
    result = run_drift(reader, baseline, stage.run_folder(now)) if _any_record(root, since, until) else None
    window = f"{since.isoformat() if since else 'the beginning'} and {until.isoformat()}"
    if result is None or not result.rows:
        print(f"no captured data between {window}" + (f" ({result.malformed.count} malformed input(s) skipped)"
                                                      if result and result.malformed.count else ""))
        return 0
    stage.save_watermark(until)
    write_metrics(result, names.endpoint_name(stage.config.project, stage.stage), now)
    for path in result.files.values():
        print(path)
    if result.malformed.count:
        print(f"{result.malformed.count} malformed input(s) skipped; see {result.files['report.html']}")
    for violation in result.violations:
        print(f"{violation['feature_name']}: {violation['constraint_check_type']}: {violation['description']}")
    print(f"{result.rows} rows between {window}: {len(result.violations)} violation(s) against {baseline.package}")
    from pipelines.monitoring.ground_truth import local_model_quality

    quality = local_model_quality(stage, request.ground_truth,
                                  lambda: read_capture(root, since, until, malformed=lambda _: None), result)
    print(quality.line)
    tracked = track_drift(stage, result, baseline)
    if tracked:
        print(tracked, file=sys.stderr)
    if result.violations and request.retrain_on_drift:
        from pipelines.monitoring.retrain import RetrainRequest, retrain_on_drift

        retrain = RetrainRequest(request.pyproject, request.cool_down, request.retrain_rows)
        print(retrain_on_drift(stage, retrain, result.files["constraint_violations.json"], now).line)
    return EXIT_DRIFT if (result.violations or quality.violated) and request.fail_on_drift else 0


def _any_record(root: Path, since: datetime | None, until: datetime) -> bool:
    from pipelines.serving.capture import read_capture

    return next(iter(read_capture(root, since, until, malformed=lambda _: None)), None) is not None


def main(argv: list[str] | None = None) -> int:
    return run_local(to_request(build_parser().parse_args(argv)))


if __name__ == "__main__":
    sys.exit(run_cli(main))
