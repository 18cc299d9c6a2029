"""`python -m pipelines.deploy`: serve an Approved model package, in a stage's account or on this machine.

  --stage staging|prod            deploy the newest Approved package (or --model-package-arn) to the stage:
                                  Model, EndpointConfig (capture, KMS), Endpoint (blue/green update with
                                  alarm rollback), autoscaling; prod only takes what passed staging's smoke test;
                                  with [tool.ml-factory.monitoring] on_deploy = true, then the stage's drift
                                  monitoring (`python -m pipelines.monitor publish` or `schedule`)
  --dry-run                       print each API call (operation and parameters) and change nothing
  --rollback                      return the stage's endpoint to its previous config
  --smoke-test                    invoke the stage's endpoint with the package's held-out rows; one-line verdict
  --local [--stage S]             serve on 127.0.0.1 (gunicorn, in the background); prints the URL once /ping answers
  --local --stage S --delete      stop that server

Results go to stdout (the endpoint URL or the verdict), progress to stderr. Exit codes: 0 ok, 1 a failed
check (smoke test, rolled-back update), 2 a user error (one `error:` line).
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

from pipelines.config import load_config
from pipelines.errors import UserError, run_cli
from pipelines.serving import names
from pipelines.wiring import STAGES


@dataclass(frozen=True)
class DeployRequest:
    """What the user asked: one of deploy, rollback, smoke test or delete, in the cloud or locally."""

    stage: str
    pyproject: Path = Path("pyproject.toml")
    package_arn: str | None = None
    dry_run: bool = False
    rollback: bool = False
    smoke_test: bool = False
    local: bool = False
    delete: bool = False
    state_dir: Path | None = None
    port: int = 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m pipelines.deploy", description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog=__doc__.split("\n\n", 1)[1])
    parser.add_argument("--stage", choices=STAGES, help="target stage (cloud: staging or prod; --local: default dev)")
    parser.add_argument("--config", type=Path, default=Path("pyproject.toml"), help="team pyproject.toml")
    parser.add_argument("--model-package-arn", help="deploy this package (default: the newest Approved one)")
    action = parser.add_mutually_exclusive_group()
    action.add_argument("--dry-run", action="store_true", help="print the API calls, change nothing")
    action.add_argument("--rollback", action="store_true", help="return the endpoint to its previous config")
    action.add_argument("--smoke-test", action="store_true", help="invoke the endpoint with held-out rows")
    action.add_argument("--delete", action="store_true", help="with --local: stop the stage's local endpoint")
    local = parser.add_argument_group("local endpoint (--local)")
    local.add_argument("--local", action="store_true", help="serve on this machine from the local registry")
    local.add_argument("--state-dir", type=Path, help="local engine state folder (default: .ml-factory beside "
                                                      "--config)")
    local.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: any free port)")
    return parser


def to_request(args: argparse.Namespace) -> DeployRequest:
    if args.local:
        if args.dry_run or args.rollback:
            raise UserError("--dry-run and --rollback are for cloud deploys; --local serves on this machine")
        stage = args.stage or names.REGISTRY_STAGE
    else:
        if args.delete or args.state_dir or args.port:
            raise UserError("--delete, --state-dir and --port go with --local")
        if args.stage not in names.CLOUD_STAGES:
            raise UserError(f"--stage {'/'.join(names.CLOUD_STAGES)} is required for a cloud deploy (the registry "
                            f"lives in {names.REGISTRY_STAGE}); use --local to serve on this machine")
    if args.model_package_arn and (args.rollback or args.smoke_test or args.delete):
        raise UserError("--model-package-arn chooses what to deploy; drop it with --rollback, --smoke-test or --delete")
    return DeployRequest(stage=stage if args.local else args.stage, pyproject=args.config,
                         package_arn=args.model_package_arn, dry_run=args.dry_run, rollback=args.rollback,
                         smoke_test=args.smoke_test, local=args.local, delete=args.delete, state_dir=args.state_dir,
                         port=args.port)


def run_local(request: DeployRequest) -> int:
    from pipelines.engine.state import state_root
    from pipelines.serving.local import LocalDeployRequest, delete_local, deploy_local, smoke_test_local

    config = load_config(request.stage, request.pyproject)
    local = LocalDeployRequest(state_root(request.pyproject, request.state_dir), request.stage, request.package_arn,
                               request.port)
    if request.delete:
        stopped = delete_local(local)
        print(f"local endpoint {names.endpoint_name(config.project, request.stage)} "
              + ("stopped" if stopped else "was not running"), file=sys.stderr)
        return 0
    if request.smoke_test:
        verdict = smoke_test_local(config, local)
        print(verdict.line)
        return 0 if verdict.passed else 1
    print(deploy_local(config, local).url)
    return 0


def run_cloud(request: DeployRequest) -> int:
    from pipelines.aws import aws_session
    from pipelines.serving.cloud import (
        CloudDeployRequest,
        DeployFailed,
        deploy_cloud,
        rollback_cloud,
        smoke_test_cloud,
    )

    config = load_config(request.stage, request.pyproject)
    session = aws_session(config.aws_region)
    try:
        if request.smoke_test:
            verdict = smoke_test_cloud(config, session)
            print(verdict.line)
            return 0 if verdict.passed else 1
        if request.rollback:
            print(rollback_cloud(config, request.dry_run, session))
            return 0
        staging = load_config("staging", request.pyproject) if request.stage == "prod" else None
        url = deploy_cloud(config, CloudDeployRequest(request.package_arn, request.dry_run, staging), session)
        if config.monitoring.on_deploy and not request.dry_run:
            from pipelines.monitoring.cloud import setup_monitoring

            print(setup_monitoring(config, session), file=sys.stderr)  # stdout stays the endpoint URL
        print(url)
    except DeployFailed as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    request = to_request(build_parser().parse_args(argv))
    return run_local(request) if request.local else run_cloud(request)


if __name__ == "__main__":
    sys.exit(run_cli(main))
