"""One month of a project's spend and Spot saving (`python -m pipelines.costs --month YYYY-MM`).

Spend by service comes from Cost Explorer (GetCostAndUsage, filtered by the `Project` cost tag,
grouped by SERVICE): the Project tag must be activated as a cost allocation tag in the payer
account, or Cost Explorer knows no spend for it. The Spot saving comes from the month's pipeline
executions: each succeeded execution's training job, billable vs training seconds, priced at the
table's on-demand prices (pipelines/finops/savings.py).
"""

from __future__ import annotations

import csv
import datetime
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipelines.errors import UserError
from pipelines.finops.prices import PriceTable

COST_METRIC = "UnblendedCost"


@dataclass(frozen=True)
class Month:
    start: datetime.date  # first day
    end: datetime.date  # first day of the next month (Cost Explorer's End is exclusive)

    @property
    def label(self) -> str:
        return self.start.strftime("%Y-%m")

    @classmethod
    def parse(cls, text: str) -> Month:
        match = re.fullmatch(r"(\d{4})-(\d{2})", text)
        if not match or not 1 <= int(match.group(2)) <= 12:
            raise UserError(f"--month {text!r} is not a month like 2026-11")
        start = datetime.date(int(match.group(1)), int(match.group(2)), 1)
        end = (start + datetime.timedelta(days=32)).replace(day=1)
        return cls(start, end)


@dataclass
class MonthlyReport:
    project: str
    pipeline: str
    month: Month
    spend: dict[str, float] = field(default_factory=dict)  # service -> USD
    savings: list[dict[str, Any]] = field(default_factory=list)  # one per execution with a training job
    notes: list[str] = field(default_factory=list)

    @property
    def total_spend(self) -> float:
        return sum(self.spend.values())

    @property
    def total_saved(self) -> float:
        return sum(s.get("saved_usd", 0.0) for s in self.savings)


def spend_by_service(ce: Any, project: str, month: Month) -> dict[str, float]:
    """USD per AWS service for resources tagged Project=<project>, over the month."""
    kwargs: dict[str, Any] = {
        "TimePeriod": {"Start": month.start.isoformat(), "End": month.end.isoformat()},
        "Granularity": "MONTHLY", "Metrics": [COST_METRIC],
        "Filter": {"Tags": {"Key": "Project", "Values": [project], "MatchOptions": ["EQUALS"]}},
        "GroupBy": [{"Type": "DIMENSION", "Key": "SERVICE"}],
    }
    spend: dict[str, float] = {}
    while True:
        page = ce.get_cost_and_usage(**kwargs)
        for period in page.get("ResultsByTime", []):
            for group in period.get("Groups", []):
                amount = float(group["Metrics"][COST_METRIC]["Amount"])
                spend[group["Keys"][0]] = spend.get(group["Keys"][0], 0.0) + amount
        if not page.get("NextPageToken"):
            return dict(sorted(spend.items(), key=lambda item: -item[1]))
        kwargs["NextPageToken"] = page["NextPageToken"]


def month_executions(sm: Any, pipeline: str, month: Month) -> list[dict[str, Any]]:
    """The pipeline's succeeded executions created in the month (none when the pipeline does not exist)."""
    from botocore.exceptions import ClientError

    start = datetime.datetime.combine(month.start, datetime.time(), datetime.UTC)
    end = datetime.datetime.combine(month.end, datetime.time(), datetime.UTC)
    kwargs: dict[str, Any] = {"PipelineName": pipeline, "CreatedAfter": start, "CreatedBefore": end,
                              "SortBy": "CreationTime", "SortOrder": "Ascending", "MaxResults": 100}
    executions = []
    while True:
        try:
            page = sm.list_pipeline_executions(**kwargs)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ResourceNotFound":
                return []
            raise
        executions += [e for e in page.get("PipelineExecutionSummaries", [])
                       if e.get("PipelineExecutionStatus") == "Succeeded"]
        if not page.get("NextToken"):
            return executions
        kwargs["NextToken"] = page["NextToken"]


def month_spot_savings(sm: Any, pipeline: str, month: Month, prices: PriceTable) -> list[dict[str, Any]]:
    """The priced Spot saving of each succeeded execution of the month (pipelines.cloud.spot_savings)."""
    from pipelines.cloud import list_steps, spot_savings

    savings = []
    for execution in month_executions(sm, pipeline, month):
        arn = execution["PipelineExecutionArn"]
        saving = spot_savings(sm, list_steps(sm, arn), prices)
        if saving:  # a fully cached execution ran no training job
            savings.append({"execution_arn": arn, **saving})
    return savings


def format_report(report: MonthlyReport) -> str:
    width = max([len(s) for s in report.spend] + [24])
    lines = [f"{report.project}: spend in {report.month.label} by service (Cost Explorer, tag Project="
             f"{report.project}, USD)"]
    lines += [f"  {service:<{width}} {usd:>10.2f}" for service, usd in report.spend.items()]
    lines.append(f"  {'total':<{width}} {report.total_spend:>10.2f}")
    lines.append(f"Spot saving of {report.pipeline} in {report.month.label}: {len(report.savings)} training job(s)")
    for saving in report.savings:
        usd = f"{saving['saved_usd']:>10.4f}" if "saved_usd" in saving else f"{'unpriced':>10}"
        lines.append(f"  {saving['training_job']:<{width}} {usd}  ({saving['saving_percent']}% of "
                     f"{saving['training_seconds']}s)")
    lines.append(f"  {'total saved':<{width}} {report.total_saved:>10.4f}")
    lines += [f"note: {note}" for note in report.notes]
    return "\n".join(lines)


def write_csv(report: MonthlyReport, path: Path) -> None:
    with Path(path).open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["month", "project", "section", "item", "usd", "detail"])
        for service, usd in report.spend.items():
            writer.writerow([report.month.label, report.project, "spend", service, f"{usd:.4f}", COST_METRIC])
        writer.writerow([report.month.label, report.project, "spend", "total", f"{report.total_spend:.4f}", ""])
        for saving in report.savings:
            detail = (f"execution={saving['execution_arn']};training_seconds={saving['training_seconds']};"
                      f"billable_seconds={saving['billable_seconds']};saving_percent={saving['saving_percent']}")
            writer.writerow([report.month.label, report.project, "spot_saving", saving["training_job"],
                             f"{saving.get('saved_usd', 0.0):.4f}", detail])
        writer.writerow([report.month.label, report.project, "spot_saving", "total", f"{report.total_saved:.4f}", ""])


def write_chart(report: MonthlyReport, path: Path) -> None:
    """A small bar chart: spend per service, and the Spot saving beside it."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    labels = list(report.spend) + ["Spot saving"]
    values = list(report.spend.values()) + [report.total_saved]
    colours = ["#4472c4"] * len(report.spend) + ["#70ad47"]
    figure, axes = pyplot.subplots(figsize=(7, 0.5 * len(labels) + 1.2), dpi=100)
    axes.barh(labels[::-1], values[::-1], color=colours[::-1])
    axes.set_xlabel("USD")
    axes.set_title(f"{report.project} {report.month.label}\nspend by service and Spot saving", fontsize=9)
    figure.tight_layout()
    figure.savefig(path)
    pyplot.close(figure)
