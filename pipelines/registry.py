"""`python -m pipelines.registry list | history | approve | reject`: the human approval gate.

Approving sets ModelApprovalStatus=Approved with the reason in ApprovalDescription; the
promotion stage reacts to Approved only. Every change is also kept in the version's status
history (who, when, why), which `history VERSION|latest` prints with the version's lineage.
`--local` works on the local engine's registry; options go before or after the command.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import sys
from dataclasses import dataclass
from pathlib import Path

from pipelines.aws import aws_session
from pipelines.config import find_pyproject, load_config
from pipelines.definition import METADATA_METRIC
from pipelines.errors import run_cli
from pipelines.lineage import (
    KEY_CODE_DIGEST,
    KEY_CONFIG_HASH,
    KEY_DATA_HASH,
    KEY_DATA_URI,
    KEY_EXECUTION_ID,
    KEY_GIT_COMMIT,
    KEY_TARGET,
)
from pipelines.registry_cloud import CloudRegistry
from pipelines.registry_model import (
    APPROVED,
    REJECTED,
    PackageVersion,
    Registry,
    RegistryError,
    StatusChange,
    change_status,
    resolve_version,
)
from pipelines.tracking.package_link import KEY_RUN_ID, KEY_RUN_URI
from pipelines.wiring import STAGES, offline_wiring, read_wiring

__all__ = ["CloudRegistry", "main", "open_registry"]
METRIC_DIGITS = 4  # significant digits of the metric in `list`


@dataclass(frozen=True)
class RegistryTarget:
    """Which registry a command works on: the stage's cloud registry, or a local state folder."""

    stage: str = "dev"
    pyproject: Path | None = None  # default: the nearest pyproject.toml with [tool.ml-factory], upward
    local: bool = False
    state_dir: Path | None = None  # local only; default .ml-factory beside pyproject
    demo: bool = False  # local only: the demo's own state folder and model package group


def _local_state(target: RegistryTarget) -> Path:
    """The state folder `pipelines.run --local` uses for the same options; it must exist already."""
    from pipelines.engine.state import state_root

    state = state_root(target.pyproject or find_pyproject(), target.state_dir, target.demo)
    if target.state_dir and not state.is_dir():
        raise RegistryError(f"--state-dir {target.state_dir} does not exist; run `python -m pipelines.run "
                            "--local` first or fix the path")
    if not state.is_dir():
        run = "make demo" if target.demo else "python -m pipelines.run --local"
        raise RegistryError(f"no local state folder {state}; run `{run}` first, or pass --state-dir")
    return state


def open_registry(target: RegistryTarget) -> tuple[Registry, str]:
    """The registry backend and the model package group for a project stage."""
    if target.demo and not target.local:
        raise RegistryError("--demo is the local demo's registry: add --local")
    if target.state_dir is not None and not target.local:
        raise RegistryError("--state-dir is the local engine's state folder: add --local, or drop --state-dir")
    target = dataclasses.replace(target, pyproject=target.pyproject or find_pyproject())
    config = load_config(target.stage, target.pyproject)
    if target.local:
        from pipelines.engine.registry import LocalRegistry, demo_group
        from pipelines.engine.state import REGISTRY_FILE

        state = _local_state(target)
        group = (demo_group(config.project) if target.demo else
                 offline_wiring(config.project, target.stage, config.account_id, config.aws_region,
                                "local").model_package_group)
        return LocalRegistry(state / REGISTRY_FILE, region=config.aws_region, account_id=config.account_id), group
    session = aws_session(config.aws_region)
    wiring = read_wiring(session.client("ssm"), config.project, target.stage)
    return CloudRegistry(session.client("sagemaker"), session.client("sts")), wiring.model_package_group


def format_metric(text: str) -> str:
    """"auc=0.871234567" as "auc=0.8712": rounded to 4 significant digits, whole numbers from 10^4 on."""
    name, sep, value = text.partition("=")
    try:
        number = float(value)
    except ValueError:
        return text
    if not math.isfinite(number):
        return text
    shown = f"{number:.{METRIC_DIGITS}g}"
    if "e" in shown and abs(number) >= 1:
        shown = f"{number:.0f}"
    return f"{name}{sep}{shown}"


def format_versions(versions: list[PackageVersion]) -> str:
    rows = [("VERSION", "STATUS", "METRIC", "CREATED", "EXECUTION", "MLFLOW RUN", "REASON")]
    for v in versions:
        rows.append((str(v.version), v.status, format_metric(v.metadata.get(METADATA_METRIC, "")) or "-",
                     v.created or "-", v.metadata.get(KEY_EXECUTION_ID) or "-", v.metadata.get(KEY_RUN_ID) or "-",
                     v.approval_description))
    return _table(rows, right_aligned=1)


def _table(rows: list[tuple[str, ...]], right_aligned: int = 0) -> str:
    """Columns as wide as their widest cell; the first `right_aligned` columns aligned right."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    lines = []
    for row in rows:
        cells = [cell.rjust(width) if i < right_aligned else cell.ljust(width)
                 for i, (cell, width) in enumerate(zip(row, widths, strict=False))]
        lines.append("  ".join([*cells, row[-1]]).rstrip())
    return "\n".join(lines)


LINEAGE_LABELS = ((KEY_EXECUTION_ID, "execution"), (KEY_DATA_URI, "data"), (KEY_DATA_HASH, "data hash"),
                  (KEY_TARGET, "target"), (KEY_CONFIG_HASH, "config hash"), (KEY_CODE_DIGEST, "code digest"),
                  (KEY_GIT_COMMIT, "git commit"), (KEY_RUN_URI, "mlflow run"))


def format_history(package: PackageVersion, changes: list[StatusChange]) -> str:
    lines = [f"{package.group} version {package.version}: {package.status}, created {package.created}"]
    lines += [f"  {label + ':':<13}{package.metadata[key]}" for key, label in LINEAGE_LABELS
              if package.metadata.get(key)]
    if not changes:
        lines.append("no status changes recorded (registered before the registry kept a history)")
        return "\n".join(lines)
    rows = [("WHEN", "STATUS", "WHO", "REASON")] + [(c.when or "-", c.status, c.who, c.reason) for c in changes]
    return "\n".join(lines) + "\n" + _table(rows)


def common_options() -> argparse.ArgumentParser:
    """Options accepted before and after the command: SUPPRESS keeps a subcommand from resetting a value
    given before it."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--stage", default=argparse.SUPPRESS, choices=STAGES, help="project stage (default: dev)")
    common.add_argument("--config", type=Path, default=argparse.SUPPRESS,
                        help="team pyproject.toml (default: the nearest one with [tool.ml-factory], from here upward)")
    common.add_argument("--local", action="store_true", default=argparse.SUPPRESS,
                        help="use the local engine's registry (.ml-factory/)")
    common.add_argument("--state-dir", type=Path, default=argparse.SUPPRESS,
                        help="local engine state folder, as given to `pipelines.run --local --state-dir` "
                             "(default: .ml-factory beside --config)")
    common.add_argument("--demo", action="store_true", default=argparse.SUPPRESS,
                        help="with --local: the registry of `make demo` (.ml-factory/demo, group <project>-demo)")
    return common


def build_parser() -> argparse.ArgumentParser:
    common = common_options()
    parser = argparse.ArgumentParser(prog="python -m pipelines.registry", description=__doc__.splitlines()[0],
                                     parents=[common])
    commands = parser.add_subparsers(dest="command", required=True)
    listing = commands.add_parser("list", parents=[common], help="list model versions, newest first")
    listing.add_argument("--json", action="store_true", help="print JSON instead of a table")
    history = commands.add_parser("history", parents=[common],
                                  help="a version's lineage and status history (who, when, why)")
    history.add_argument("version", help="a version number, or 'latest'")
    history.add_argument("--json", action="store_true", help="print JSON instead of text")
    for name, help_text in (("approve", "approve a version"), ("reject", "reject a version")):
        sub = commands.add_parser(name, parents=[common], help=help_text)
        sub.add_argument("version", help="a version number, or 'latest'")
        sub.add_argument("--reason", required=True, help="why; recorded as the package's ApprovalDescription "
                                                         "and in its status history")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    target = RegistryTarget(stage=getattr(args, "stage", "dev"),
                            pyproject=getattr(args, "config", None),
                            local=getattr(args, "local", False), state_dir=getattr(args, "state_dir", None),
                            demo=getattr(args, "demo", False))
    registry, group = open_registry(target)
    if args.command == "list":
        versions = registry.list_versions(group)
        if args.json:
            print(json.dumps([v.to_dict() for v in versions], indent=2, default=str))
        elif not versions:
            print(f"no model versions in {group!r} ({registry.where})", file=sys.stderr)
        else:
            print(format_versions(versions))
        return 0
    if args.command == "history":
        package = resolve_version(registry, group, args.version)
        changes = registry.history(package)
        if args.json:
            print(json.dumps({**package.to_dict(), "history": [c.to_dict() for c in changes]}, indent=2,
                             default=str))
        else:
            print(format_history(package, changes))
        return 0
    status = APPROVED if args.command == "approve" else REJECTED
    changed = change_status(registry, group, args.version, status, args.reason)
    print(f"{group} version {changed.version}: {changed.status} ({changed.approval_description})")
    return 0


if __name__ == "__main__":
    sys.exit(run_cli(main))
