"""`python -m pipelines.run`: build the SageMaker pipeline from the team config, upsert it and run it.

  --dry-run   print the definition JSON on stdout (no AWS needed); wiring from --wiring FILE
              or clearly marked placeholders; reuses the definition cached in the state folder
  (default)   read wiring from SSM, upload step code, upsert, start; print the execution ARN
  --wait      follow the execution step by step; non-zero exit when it fails
  --local     run the same definition on this machine with the local engine (no Docker, no AWS)
  --estimate  print the expected cost of one cloud run per step, on-demand and with Spot, and exit
  --budget    refuse to start a cloud run whose estimate exceeds USD (with --estimate: exit non-zero)

Each option belongs to the modes it can act in; one given to another mode is refused, not ignored.
--config defaults to the nearest pyproject.toml with [tool.ml-factory], from here upward.
--local reads [tool.ml-factory] data (a path relative to pyproject.toml) unless --data, --rows or --demo say
otherwise. Results go to stdout, progress to stderr.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from pipelines.cloud_run import CloudRunRequest, run_in_cloud
from pipelines.config import Config, ConfigError, find_pyproject, load_config
from pipelines.engine.cli import LocalRunRequest, run_local
from pipelines.engine.state import StateDir, state_root
from pipelines.errors import UserError, run_cli
from pipelines.finops.preflight import EstimateRequest, guard_cloud_run, print_estimate
from pipelines.rules import check
from pipelines.wiring import STAGES, load_wiring_file, offline_wiring


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m pipelines.run", description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__.split("\n\n", 1)[1],
    )
    parser.add_argument("--stage", default="dev", choices=STAGES, help="project stage (default: dev)")
    parser.add_argument("--config", type=Path, default=None,
                        help="team pyproject.toml holding [tool.ml-factory] (default: the nearest one from here "
                             "upward)")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--dry-run", action="store_true", help="print the pipeline definition JSON and exit")
    mode.add_argument("--local", action="store_true", help="run on this machine with the local engine")
    mode.add_argument("--estimate", action="store_true",
                      help="print the cost estimate of one cloud run (pipelines/finops/prices.json) and exit")
    parser.add_argument("--budget", type=float, metavar="USD",
                        help="refuse to start a cloud run whose estimated cost exceeds USD")
    parser.add_argument("--wiring", type=Path, metavar="FILE",
                        help="JSON file of SSM wiring keys to values, instead of reading SSM")
    parser.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                        help="set a pipeline parameter (repeatable), e.g. --param MetricThreshold=0.8")
    parser.add_argument("--wait", action="store_true", help="follow the cloud execution until it ends")
    parser.add_argument("--poll-seconds", type=float, default=None,
                        help=f"--wait polling interval (default: {DEFAULT_POLL_SECONDS:g})")
    parser.add_argument("--summary", type=Path, metavar="FILE", help="write a JSON summary of the run here")
    parser.add_argument("--trigger", default=None, choices=("manual", "merge", "drift"),
                        help="why this run happens, tagged on its MLflow run (default: manual; buildspec: merge)")
    parser.add_argument("--state-dir", type=Path, default=None,
                        help="state folder: the definition cache and, for --local, the object store, registry, "
                             "step cache and runs (default: .ml-factory beside --config, where "
                             "`pipelines.registry --local` looks)")
    local = parser.add_argument_group("local engine (--local)")
    local.add_argument("--data", type=Path, help="local CSV or Parquet dataset (default: [tool.ml-factory] data, "
                                                "else generated sample data)")
    local.add_argument("--target", help="target column of the data (default: the configured target_column)")
    local.add_argument("--rows", type=int, default=None,
                       help=f"rows of generated sample data, instead of any configured data (default: "
                            f"{DEFAULT_ROWS})")
    local.add_argument("--simulate-spot-interruption", type=int, metavar="ROUND",
                       help="stop training at this boosting round and restart it from its checkpoint")
    local.add_argument("--simulate-host-failure", type=int, metavar="ROUND",
                       help="kill training's last host process after this boosting round, as a lost instance: the "
                            "step fails (retry it with --retry)")
    local.add_argument("--retry", metavar="EXECUTION_ID",
                       help="run a failed execution again under its own id, definition and parameters (as "
                            "RetryPipelineExecution): succeeded steps are kept and training resumes from its "
                            "checkpoint; 'last' for the newest execution")
    local.add_argument("--step-python", type=Path, default=None, metavar="PATH",
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


DRY_RUN, LOCAL, CLOUD, ESTIMATE = "dry-run", "local", "cloud", "estimate"
MODE_NAMES = {DRY_RUN: "--dry-run", LOCAL: "--local", CLOUD: "a cloud run (no --local or --dry-run)",
              ESTIMATE: "--estimate"}
EVERY_MODE = frozenset((DRY_RUN, LOCAL, CLOUD, ESTIMATE))
# The modes each option acts in (by argparse dest). tests/test_run_flags.py holds this equal to the parser.
FLAG_MODES: dict[str, frozenset[str]] = {
    "help": EVERY_MODE, "stage": EVERY_MODE, "config": EVERY_MODE, "state_dir": EVERY_MODE,
    "dry_run": frozenset((DRY_RUN,)), "local": frozenset((LOCAL,)),
    "wiring": frozenset((DRY_RUN, CLOUD)),
    "param": frozenset((LOCAL, CLOUD)), "summary": frozenset((LOCAL, CLOUD)),
    "wait": frozenset((CLOUD,)), "poll_seconds": frozenset((CLOUD,)),
    "data": frozenset((LOCAL,)), "target": frozenset((LOCAL,)), "rows": frozenset((LOCAL,)),
    "simulate_spot_interruption": frozenset((LOCAL,)), "simulate_host_failure": frozenset((LOCAL,)),
    "retry": frozenset((LOCAL,)), "step_python": frozenset((LOCAL,)),
    "demo": frozenset((LOCAL,)),
    "estimate": frozenset((ESTIMATE,)), "budget": frozenset((ESTIMATE, CLOUD)),
    "trigger": frozenset((LOCAL, CLOUD)),
}
# Options that exclude each other within a mode, and why.
EXCLUSIVE = (
    ("data", "rows", "--rows sizes generated sample data and --data brings your own"),
    ("data", "demo", "--demo runs on generated sample data"),
    *((flag, "retry", "a retry runs the failed execution again with its own data and parameters")
      for flag in ("data", "rows", "target", "param")),
)
DEFAULT_ROWS = 20000
DEFAULT_POLL_SECONDS = 30.0


def run_mode(args: argparse.Namespace) -> str:
    return DRY_RUN if args.dry_run else LOCAL if args.local else ESTIMATE if args.estimate else CLOUD


def given_flags(args: argparse.Namespace) -> list[str]:
    """The options the user gave (every option defaults to None, False or [])."""
    return [dest for dest, value in vars(args).items() if not (value is None or value is False or value == [])]


def check_flags(args: argparse.Namespace, parser: argparse.ArgumentParser) -> None:
    """Refuse an option outside its modes, or two that exclude each other, naming both and the fix."""
    flag = {action.dest: action.option_strings[0] for action in parser._actions if action.option_strings}
    mode, given = run_mode(args), given_flags(args)
    for dest in given:
        if mode not in FLAG_MODES[dest]:
            modes = " or ".join(name for m, name in MODE_NAMES.items() if m in FLAG_MODES[dest])
            raise UserError(f"{flag[dest]} is for {modes}, not for {MODE_NAMES[mode]}: drop {flag[dest]}")
    for first, second, why in EXCLUSIVE:
        if first in given and second in given:
            raise UserError(f"{flag[first]} and {flag[second]} exclude each other ({why}): drop one")


def cloud_request(args: argparse.Namespace) -> CloudRunRequest:
    poll = DEFAULT_POLL_SECONDS if args.poll_seconds is None else args.poll_seconds
    return CloudRunRequest(definitions_dir=StateDir(state_root(args.config, args.state_dir)).definitions,
                           wiring_file=args.wiring, params=tuple(args.param), wait=args.wait,
                           poll_seconds=poll, summary_path=args.summary,
                           project_dir=Path(args.config).resolve().parent, trigger=args.trigger or "manual")


def local_data(args: argparse.Namespace, config: Config) -> Path | None:
    """--data, else `[tool.ml-factory.data] path` (relative to the pyproject.toml) unless --rows or --demo ask for
    generated sample data."""
    if args.data or args.rows is not None or args.demo or not config.data.path:
        return args.data
    path = Path(args.config).resolve().parent / config.data.path
    if not path.exists():
        raise ConfigError(f"{Path(args.config).name} [tool.ml-factory.data] path: {path} does not exist; fix the path "
                          "(relative to pyproject.toml) or pass --data PATH")
    return path


def local_request(args: argparse.Namespace, config: Config) -> LocalRunRequest:
    if args.target is not None and check("target_column", args.target):
        raise UserError("--target " + str(check("target_column", args.target)).split(": ", 1)[1])
    return LocalRunRequest(state_root=state_root(args.config, args.state_dir, args.demo), params=tuple(args.param),
                           data=None if args.retry else local_data(args, config), target=args.target,
                           rows=DEFAULT_ROWS if args.rows is None else args.rows,
                           simulate_spot_interruption=args.simulate_spot_interruption,
                           simulate_host_failure=args.simulate_host_failure, retry=args.retry,
                           summary_path=args.summary,
                           wiring_file=args.wiring, step_python=args.step_python or Path(sys.executable),
                           demo=args.demo, project_dir=Path(args.config).resolve().parent,
                           trigger=args.trigger or "manual")


def estimate_request(args: argparse.Namespace) -> EstimateRequest:
    state = StateDir(state_root(args.config, args.state_dir))
    return EstimateRequest(definitions_dir=state.definitions, runs_dir=state.runs, budget_usd=args.budget)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    check_flags(args, parser)
    args.config = args.config or find_pyproject()
    config = load_config(args.stage, args.config)
    if args.estimate:
        return print_estimate(config, estimate_request(args))
    if args.dry_run:
        return dry_run(config, args.wiring, StateDir(state_root(args.config, args.state_dir)).definitions)
    if args.local:
        return run_local(config, local_request(args, config))
    if args.budget is not None:
        guard_cloud_run(config, estimate_request(args))  # refuses before anything is uploaded or started
    return run_in_cloud(config, cloud_request(args))


if __name__ == "__main__":
    sys.exit(run_cli(main))
