"""`python -m pipelines.run`: build the SageMaker pipeline from the team config, upsert it and run it.

  --dry-run   print the definition JSON on stdout (no AWS needed); wiring from --wiring FILE
              or clearly marked placeholders
  (default)   read wiring from SSM, upload step code, upsert, start; print the execution ARN
  --wait      follow the execution step by step; non-zero exit when it fails
  --local     run the same definition on this machine with the local engine (no Docker, no AWS)

Results go to stdout, progress to stderr.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from pipelines.config import Config, load_config
from pipelines.errors import UserError, run_cli
from pipelines.progress import Progress, format_seconds
from pipelines.wiring import STAGES, Wiring, load_wiring_file, offline_wiring


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m pipelines.run", description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__.split("\n\n", 1)[1],
    )
    parser.add_argument("--stage", default="dev", choices=STAGES, help="project stage (default: dev)")
    parser.add_argument("--config", type=Path, default=Path("pyproject.toml"),
                        help="team pyproject.toml holding [tool.ml-factory] (default: ./pyproject.toml)")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--dry-run", action="store_true", help="print the pipeline definition JSON and exit")
    mode.add_argument("--local", action="store_true", help="run on this machine with the local engine")
    parser.add_argument("--wiring", type=Path, metavar="FILE",
                        help="JSON file of SSM wiring keys to values, instead of reading SSM")
    parser.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                        help="set a pipeline parameter (repeatable), e.g. --param MetricThreshold=0.8")
    parser.add_argument("--wait", action="store_true", help="follow the cloud execution until it ends")
    parser.add_argument("--poll-seconds", type=float, default=30.0, help="--wait polling interval (default: 30)")
    parser.add_argument("--summary", type=Path, metavar="FILE", help="write a JSON summary of the run here")
    local = parser.add_argument_group("local engine (--local)")
    local.add_argument("--data", type=Path, help="local CSV or Parquet dataset (default: generated sample data)")
    local.add_argument("--target", help="target column of --data (default: the configured target_column)")
    local.add_argument("--rows", type=int, default=20000, help="rows of generated sample data (default: 20000)")
    local.add_argument("--simulate-spot-interruption", type=int, metavar="ROUND",
                       help="stop training at this boosting round and restart it from its checkpoint")
    local.add_argument("--state-dir", type=Path, default=None,
                       help="local object store, registry, step cache and runs "
                            "(default: .ml-factory beside --config, where `pipelines.registry --local` looks)")
    local.add_argument("--demo", action="store_true", help="the demo's own state (.ml-factory/demo) and model "
                       "package group (<project>-demo), apart from the team's real local registry")
    return parser


def build_definition(config: Config, wiring: Wiring) -> tuple[Any, str]:
    from pipelines.code_bundle import bundle_seedcode
    from pipelines.definition import build_pipeline

    bundle = bundle_seedcode()
    return bundle, build_pipeline(config, wiring, bundle).definition


def dry_run(config: Config, wiring_file: Path | None) -> int:
    if wiring_file:
        wiring = load_wiring_file(wiring_file)
        print(f"wiring: from {wiring_file}", file=sys.stderr)
    else:
        wiring = offline_wiring(config.project, config.stage, config.account_id, config.aws_region)
        print("wiring: PLACEHOLDER values (no --wiring FILE given); a cloud run reads them from SSM under "
              f"/ml-factory/{config.project}/{config.stage}/", file=sys.stderr)
    _, definition = build_definition(config, wiring)
    sys.stdout.write(definition + "\n")
    return 0


def cloud_run(config: Config, args: argparse.Namespace) -> int:
    from pipelines import cloud
    from pipelines.aws import aws_session
    from pipelines.parameters import effective_values, execution_parameters, parse_assignments, resolve_parameters
    from pipelines.registry import CloudRegistry
    from pipelines.registry_model import baseline_parameters
    from pipelines.wiring import read_wiring

    progress = Progress()
    overrides = parse_assignments(args.param)
    session = aws_session(config.aws_region)
    wiring = load_wiring_file(args.wiring) if args.wiring else read_wiring(session.client("ssm"), config.project,
                                                                          config.stage)
    progress.note(f"wiring from {wiring.source}; pipeline {config.pipeline_name} in {config.aws_region}")
    bundle, definition = build_definition(config, wiring)
    parsed = json.loads(definition)
    resolve_parameters(parsed, overrides)  # fail on a bad --param before touching anything
    progress.note("definition built")

    sm = session.client("sagemaker")
    baseline, why = baseline_parameters(CloudRegistry(sm), wiring.model_package_group)
    progress.note(why)
    values = effective_values(parsed, {**baseline, **overrides})

    written = cloud.upload_code(session.client("s3"), bundle, wiring.artifact_bucket, config.project,
                                wiring.kms_key_arn)
    progress.note(f"step code {bundle.digest}: " + (f"uploaded {written} objects" if written else "already uploaded"))
    outcome = cloud.upsert_pipeline(sm, config.pipeline_name, definition, wiring.role_arn, config.tags,
                                    f"{config.project_name} ({config.stage}), built by ML Factory")
    progress.note(f"pipeline {config.pipeline_name}: {outcome}")
    arn = cloud.start_execution(sm, config.pipeline_name, execution_parameters(values),
                                display_name=f"{config.project}-{time.strftime('%Y%m%d-%H%M%S')}")
    print(arn)
    summary: dict[str, Any] = {"pipeline": config.pipeline_name, "execution_arn": arn, "upsert": outcome,
                               "parameters": values, "code_digest": bundle.digest}
    status = 0
    if args.wait:
        result = cloud.wait_for_execution(sm, arn, progress, poll_seconds=args.poll_seconds)
        summary.update(status=result.status, failed_step=result.failed_step, failure_reason=result.failure_reason,
                       steps=[{"name": s["StepName"], "status": s["StepStatus"]} for s in result.steps])
        if result.status == "Succeeded":
            saving = cloud.spot_savings(sm, result.steps)
            summary["spot"] = saving
            if saving:
                progress.note(f"training {saving['training_seconds']}s, billable {saving['billable_seconds']}s: "
                              f"Spot saved {saving['saving_percent']}%")
            progress.note(f"execution succeeded in {format_seconds(progress.elapsed())}")
        else:
            print(f"error: pipeline execution {result.status.lower()}"
                  + (f" at step {result.failed_step}: {result.failure_reason}" if result.failed_step else
                     f": {result.failure_reason}"), file=sys.stderr)
            status = 1
    if args.summary:
        args.summary.parent.mkdir(parents=True, exist_ok=True)
        args.summary.write_text(json.dumps(summary, indent=2, default=str) + "\n")
    return status


def local_run(config: Config, args: argparse.Namespace) -> int:
    try:
        from pipelines.engine.cli import run_local
    except ImportError:
        raise UserError("--local needs the local engine (pipelines/engine), which this checkout lacks") from None
    return run_local(config, args)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    config = load_config(args.stage, args.config)
    if args.dry_run:
        if args.param or args.wait:
            raise UserError("--dry-run only prints the definition: drop --param/--wait")
        return dry_run(config, args.wiring)
    if args.local:
        return local_run(config, args)
    return cloud_run(config, args)


if __name__ == "__main__":
    sys.exit(run_cli(main))
