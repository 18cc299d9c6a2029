"""`python -m pipelines.costs --month 2026-11`: one month of the project's spend and Spot saving.

Prints the spend by service (Cost Explorer, filtered by the Project cost tag) and the Spot saving of
the month's pipeline executions, and writes both as CSV and as a small PNG chart. Runs with the
caller's credentials (ce:GetCostAndUsage, sagemaker:ListPipelineExecutions,
ListPipelineExecutionSteps, DescribeTrainingJob).
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

from pipelines.config import Config, load_config
from pipelines.errors import UserError, run_cli
from pipelines.finops.monthly import Month, MonthlyReport
from pipelines.wiring import STAGES

COST_EXPLORER_REGION = "us-east-1"  # Cost Explorer's one endpoint


@dataclass(frozen=True)
class CostsRequest:
    month: Month
    out_dir: Path  # where the CSV and the chart go


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m pipelines.costs", description=__doc__.split("\n\n")[0])
    parser.add_argument("--month", required=True, help="calendar month, e.g. 2026-11")
    parser.add_argument("--stage", default="dev", choices=STAGES, help="stage whose pipeline executions count")
    parser.add_argument("--config", type=Path, default=Path("pyproject.toml"), help="team pyproject.toml")
    parser.add_argument("--out", type=Path, default=Path("."), help="folder for the CSV and PNG (default: .)")
    return parser


def monthly_report(config: Config, request: CostsRequest) -> MonthlyReport:
    from botocore.exceptions import BotoCoreError, ClientError

    from pipelines.aws import aws_session, client_error_message
    from pipelines.finops.monthly import month_spot_savings, spend_by_service
    from pipelines.finops.prices import load_prices

    session = aws_session(config.aws_region)
    report = MonthlyReport(config.project, config.pipeline_name, request.month)
    try:
        report.spend = spend_by_service(session.client("ce", region_name=COST_EXPLORER_REGION), config.project,
                                        request.month)
        report.savings = month_spot_savings(session.client("sagemaker"), config.pipeline_name, request.month,
                                            load_prices())
    except (ClientError, BotoCoreError) as exc:
        raise UserError(f"reading the costs of {request.month.label} failed: {client_error_message(exc)}") from None
    if not report.spend:
        report.notes.append(f"Cost Explorer knows no spend tagged Project={config.project} in {request.month.label}: "
                            "activate Project as a cost allocation tag (Billing > Cost allocation tags); data "
                            "appears within 24 hours of activation, for usage after it")
    return report


def main(argv: list[str] | None = None) -> int:
    from pipelines.finops.monthly import format_report, write_chart, write_csv

    args = build_parser().parse_args(argv)
    request = CostsRequest(month=Month.parse(args.month), out_dir=args.out)
    config = load_config(args.stage, args.config)
    report = monthly_report(config, request)
    request.out_dir.mkdir(parents=True, exist_ok=True)
    stem = request.out_dir / f"costs-{config.pipeline_name}-{request.month.label}"
    write_csv(report, stem.with_suffix(".csv"))
    write_chart(report, stem.with_suffix(".png"))
    print(format_report(report))
    print(f"wrote {stem}.csv and {stem}.png", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(run_cli(main))
