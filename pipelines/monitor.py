"""`python -m pipelines.monitor`: check an endpoint's captured traffic against the drift-check baselines
registered with the package it serves, on this machine or in the stage's account.

  run --local [--stage S] [--since T] [--until T] [--fail-on-drift] [--retrain-on-drift [--cool-down-hours H]]
      runs the monitoring pipeline (the definition the cloud runs) on the local engine over the local
      endpoint's capture in [since, until) (default: since the last run's watermark, until now); writes
      statistics.json, constraint_violations.json, report.html, summary.png and cloudwatch_metrics.json
      (Model Monitor's metric names) under <state>/monitoring/<stage>/runs/<UTC time>/, prints their paths
      and one line per violation; --retrain-on-drift starts `pipelines.run --local --trigger drift` on
      violations, at most once per cool-down ([tool.ml-factory.monitoring] cool_down_hours, default 24 h,
      kept in <state>/monitoring/<stage>/retrain.json); the new version is PendingManualApproval and a person
      still approves it;
      with ground-truth labels (the stage's ground-truth folder, or --ground-truth FOLDER: SageMaker's format,
      keyed by the requests' InferenceId or the capture's eventId), model quality too: the window's metrics
      against the gate the served package passed, under <run folder>/model_quality/, one line on stdout
  publish --stage staging|prod [--dry-run]
      portable mode: upserts the stage's monitoring pipeline <project>-monitor-<stage>, its baseline
      parameters defaulting to the package the stage's endpoint serves (the Terraform monitoring module's
      schedule starts it); --dry-run prints the definition and changes nothing
  schedule --stage staging|prod [--dry-run]
      native mode: creates or updates the Model Monitor DataQuality schedule <project>-<stage>-drift on the
      stage's endpoint with the served package's baselines; --dry-run prints the API calls

Times are ISO 8601 (UTC when no offset is given); a window ends at the last whole second (capture times are
whole seconds). Exit codes: 0 done (drift or not), 3 violations (data or model quality) with --fail-on-drift,
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
from pipelines.serving.names import CLOUD_STAGES
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
    cool_down: timedelta | None = None  # None: [tool.ml-factory.monitoring] cool_down_hours
    retrain_rows: int | None = None
    step_python: Path = Path(sys.executable)
    ground_truth: Path | None = None  # labels folder for model quality (default: the stage's ground-truth folder)


@dataclass(frozen=True)
class CloudMonitorRequest:
    """publish or schedule: set up a stage's cloud monitoring."""

    command: str  # publish | schedule
    stage: str
    pyproject: Path = Path("pyproject.toml")
    dry_run: bool = False


def _time(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an ISO 8601 time, e.g. 2026-05-01T12:00:00Z") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _add_run(commands: argparse._SubParsersAction) -> None:
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
    run.add_argument("--cool-down-hours", type=float,
                     help="least time between two drift retrainings (default: monitoring.cool_down_hours, 24)")
    run.add_argument("--retrain-rows", type=int, help="--rows of the retraining run (the generated sample data)")
    run.add_argument("--step-python", type=Path, default=Path(sys.executable),
                     help="interpreter of the drift step (e.g. .venv-container/bin/python, the image's versions)")
    run.add_argument("--ground-truth", type=Path, help="folder of ground-truth labels for model quality (default: "
                     "the stage's, <state>/s3/<artifact bucket>/<project>/ground-truth/<endpoint>/)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m pipelines.monitor", description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog=__doc__.split("\n\n", 1)[1])
    commands = parser.add_subparsers(dest="command", required=True)
    _add_run(commands)
    for command, text in (("publish", "portable mode: upsert the stage's monitoring pipeline"),
                          ("schedule", "native mode: create or update the stage's Model Monitor schedule")):
        cloud = commands.add_parser(command, help=text)
        cloud.add_argument("--stage", choices=CLOUD_STAGES, required=True)
        cloud.add_argument("--config", type=Path, default=Path("pyproject.toml"), help="team pyproject.toml")
        cloud.add_argument("--dry-run", action="store_true", help="print what would be sent, change nothing")
    return parser


def to_request(args: argparse.Namespace) -> MonitorRequest | CloudMonitorRequest:
    if args.command != "run":
        return CloudMonitorRequest(args.command, args.stage, args.config, args.dry_run)
    if not args.local:
        raise UserError("run checks the local endpoint's capture: pass --local (in the cloud the stage's monitoring "
                        "pipeline runs on a schedule: python -m pipelines.monitor publish --stage S)")
    if args.cool_down_hours is not None and args.cool_down_hours < 0:
        raise UserError(f"--cool-down-hours must be at least 0, not {args.cool_down_hours}")
    if args.since and args.until and args.since >= args.until:
        raise UserError(f"--since {args.since.isoformat()} is not before --until {args.until.isoformat()}")
    cool_down = None if args.cool_down_hours is None else timedelta(hours=args.cool_down_hours)
    return MonitorRequest(args.stage, args.config, args.local, args.state_dir, args.since, args.until,
                          args.fail_on_drift, args.retrain_on_drift, cool_down, args.retrain_rows, args.step_python,
                          args.ground_truth)


def run_local(request: MonitorRequest, now: datetime | None = None) -> int:
    from pipelines.engine.state import state_root
    from pipelines.monitoring.ground_truth import read_outcome
    from pipelines.monitoring.local import LocalStage
    from pipelines.monitoring.local_run import LocalWindow, run_drift_check
    from pipelines.monitoring.tracking import track_drift

    now = now or datetime.now(UTC)
    config = load_config(request.stage, request.pyproject)
    stage = LocalStage(config, state_root(request.pyproject, request.state_dir), request.stage)
    # capture times are whole seconds: a window ending inside a second would skip that second's later records
    until = request.until or now.replace(microsecond=0)
    run = run_drift_check(stage, LocalWindow(request.since, until, request.step_python, request.ground_truth), now)
    if not run.rows:
        print(f"no captured data between {run.window}" + (f" ({run.malformed} malformed input(s) skipped)"
                                                          if run.malformed else ""))
        return 0
    for path in run.files.values():
        print(path)
    if run.malformed:
        print(f"{run.malformed} malformed input(s) skipped; see {run.files['report.html']}")
    for violation in run.violations:
        print(f"{violation['feature_name']}: {violation['constraint_check_type']}: {violation['description']}")
    print(f"{run.rows} rows between {run.window}: {len(run.violations)} violation(s) against {run.summary['package']}")
    if run.quality_failure:
        raise UserError(f"model quality could not be computed: {run.quality_failure}")
    quality = read_outcome(run.folder)
    print(quality.line)
    tracked = track_drift(stage, run)
    if tracked:
        print(tracked, file=sys.stderr)
    if run.violations and request.retrain_on_drift:
        from pipelines.monitoring.retrain import RetrainRequest, retrain_on_drift

        cool_down = request.cool_down if request.cool_down is not None else timedelta(
            hours=config.monitoring.cool_down_hours)
        retrain = RetrainRequest(request.pyproject, cool_down, request.retrain_rows)
        print(retrain_on_drift(stage, retrain, run.files["constraint_violations.json"], now).line)
    return EXIT_DRIFT if (run.violations or quality.violated) and request.fail_on_drift else 0


def run_cloud(request: CloudMonitorRequest) -> int:
    """publish or schedule; exit 1 when an AWS call fails (as deploy does), 2 for a user error."""
    from pipelines.aws import aws_session
    from pipelines.monitoring.cloud import publish_pipeline, schedule_native
    from pipelines.serving.cloud import DeployFailed

    config = load_config(request.stage, request.pyproject)
    setup = publish_pipeline if request.command == "publish" else schedule_native
    try:
        print(setup(config, aws_session(config.aws_region), request.dry_run))
    except DeployFailed as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    request = to_request(build_parser().parse_args(argv))
    return run_local(request) if isinstance(request, MonitorRequest) else run_cloud(request)


if __name__ == "__main__":
    sys.exit(run_cli(main))
