"""`python -m pipelines.run`: build the SageMaker pipeline from the team config, upsert it and run it.

  --dry-run   print the definition JSON on stdout (no AWS needed); wiring from --wiring FILE
              or clearly marked placeholders; reuses the definition cached in the state folder
  (default)   read wiring from SSM, upload step code, upsert, start; print the execution ARN
  --wait      follow the execution step by step; non-zero exit when it fails
  --local     run the same definition on this machine with the local engine (no Docker, no AWS)

Results go to stdout, progress to stderr.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from pipelines.cloud_run import CloudRunRequest, run_in_cloud
from pipelines.config import Config, load_config
from pipelines.engine.cli import LocalRunRequest, run_local
from pipelines.engine.state import StateDir, state_root
from pipelines.errors import UserError, run_cli
from pipelines.wiring import STAGES, load_wiring_file, offline_wiring


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
    parser.add_argument("--trigger", default="manual", choices=("manual", "merge", "drift"),
                        help="why this run happens, tagged on its MLflow run (default: manual; buildspec: merge)")
    parser.add_argument("--state-dir", type=Path, default=None,
                        help="state folder: the definition cache and, for --local, the object store, registry, "
                             "step cache and runs (default: .ml-factory beside --config, where "
                             "`pipelines.registry --local` looks)")
    local = parser.add_argument_group("local engine (--local)")
    local.add_argument("--data", type=Path, help="local CSV or Parquet dataset (default: generated sample data)")
    local.add_argument("--target", help="target column of --data (default: the configured target_column)")
    local.add_argument("--rows", type=int, default=20000, help="rows of generated sample data (default: 20000)")
    local.add_argument("--simulate-spot-interruption", type=int, metavar="ROUND",
                       help="stop training at this boosting round and restart it from its checkpoint")
    local.add_argument("--step-python", type=Path, default=Path(sys.executable), metavar="PATH",
                       help="interpreter that runs the step code, e.g. .venv-container/bin/python for the SageMaker "
                            "image's library versions (make container-venv; default: this interpreter)")
    local.add_argument("--demo", action="store_true", help="the demo's own state (.ml-factory/demo) and model "
                       "package group (<project>-demo), apart from the team's real local registry")
    return parser


def dry_run(config: Config, wiring_file: Path | None, definitions_dir: Path) -> int:
    """Print the definition JSON. A definition cached for the same config, wiring, code, builder sources
    and SDK version is printed as is, without importing the SDK (see pipelines/engine/build.py)."""
    from pipelines.code_bundle import bundle_seedcode
    from pipelines.engine.build import load_definition

    if wiring_file:
        wiring = load_wiring_file(wiring_file)
        print(f"wiring: from {wiring_file}", file=sys.stderr)
    else:
        wiring = offline_wiring(config.project, config.stage, config.account_id, config.aws_region)
        print("wiring: PLACEHOLDER values (no --wiring FILE given); a cloud run reads them from SSM under "
              f"/ml-factory/{config.project}/{config.stage}/", file=sys.stderr)
    definition, reused = load_definition(config, wiring, bundle_seedcode(), definitions_dir)
    if reused:
        print(f"definition: reused from {definitions_dir} (unchanged config, wiring and code)", file=sys.stderr)
    sys.stdout.write(definition + "\n")
    return 0


def cloud_request(args: argparse.Namespace) -> CloudRunRequest:
    return CloudRunRequest(definitions_dir=StateDir(state_root(args.config, args.state_dir)).definitions,
                           wiring_file=args.wiring, params=tuple(args.param), wait=args.wait,
                           poll_seconds=args.poll_seconds, summary_path=args.summary,
                           project_dir=Path(args.config).resolve().parent, trigger=args.trigger)


def local_request(args: argparse.Namespace) -> LocalRunRequest:
    return LocalRunRequest(state_root=state_root(args.config, args.state_dir, args.demo), params=tuple(args.param),
                           data=args.data, target=args.target, rows=args.rows,
                           simulate_spot_interruption=args.simulate_spot_interruption, summary_path=args.summary,
                           wiring_file=args.wiring, step_python=args.step_python, demo=args.demo,
                           project_dir=Path(args.config).resolve().parent, trigger=args.trigger)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    config = load_config(args.stage, args.config)
    if args.dry_run:
        if args.param or args.wait:
            raise UserError("--dry-run only prints the definition: drop --param/--wait")
        return dry_run(config, args.wiring, StateDir(state_root(args.config, args.state_dir)).definitions)
    if args.local:
        return run_local(config, local_request(args))
    return run_in_cloud(config, cloud_request(args))


if __name__ == "__main__":
    sys.exit(run_cli(main))
