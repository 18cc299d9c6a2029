"""The Spot saving after a cloud run, in seconds, percent and USD, recorded where it can be added up,
and what a local run would have cost in the cloud.

SageMaker bills a managed Spot training job its billable seconds at the on-demand rate; without Spot
it would have billed every training second. So the saving in USD is (training - billable) seconds
x instances x the table's on-demand price (pipelines/finops/prices.py).

After a cloud run the figures go to the run's summary (`--summary FILE`) and onto the pipeline
execution itself: its description (UpdatePipelineExecution; executions take no tags of their own,
they carry the pipeline's), one line starting with `ml-factory:spot ` and then JSON.
"""

from __future__ import annotations

import json
from typing import Any

from pipelines.errors import UserError
from pipelines.finops.prices import PriceTable, load_prices
from pipelines.progress import Progress

EXECUTION_MARK = "ml-factory:spot "  # the execution description's prefix before the JSON figures
DESCRIPTION_LIMIT = 3072  # UpdatePipelineExecution's PipelineExecutionDescription maximum


def priced(saving: dict[str, Any], resources: dict[str, Any], region: str, prices: PriceTable) -> dict[str, Any]:
    """`saving` (from pipelines.cloud.spot_savings) with its USD figures at the table's prices."""
    instance_type, count = resources.get("InstanceType", ""), int(resources.get("InstanceCount", 1))
    try:
        hourly = prices.hourly(region, "training", instance_type)
    except UserError as exc:
        return {**saving, "instance_type": instance_type, "instance_count": count, "price_note": str(exc)}
    rate = hourly * count / 3600
    return {**saving, "instance_type": instance_type, "instance_count": count, "on_demand_hourly_usd": hourly,
            "billed_usd": round(saving["billable_seconds"] * rate, 4),
            "on_demand_usd": round(saving["training_seconds"] * rate, 4),
            "saved_usd": round((saving["training_seconds"] - saving["billable_seconds"]) * rate, 4),
            "prices_taken": prices.taken}


def saving_line(saving: dict[str, Any]) -> str:
    """One line for people: seconds, percent and, when priced, USD."""
    line = (f"Spot: training job {saving['training_job']}: billable {saving['billable_seconds']}s of "
            f"{saving['training_seconds']}s training, saved {saving['saving_percent']}%")
    if "saved_usd" in saving:
        line += (f" = {saving['saved_usd']:.4f} USD (billed {saving['billed_usd']:.4f} of "
                 f"{saving['on_demand_usd']:.4f} on-demand; {saving['instance_count']} x {saving['instance_type']} at "
                 f"{saving['on_demand_hourly_usd']} USD/h, prices taken {saving['prices_taken']})")
    elif "price_note" in saving:
        line += f" (no USD figure: {saving['price_note']})"
    return line


def execution_description(saving: dict[str, Any]) -> str:
    text = EXECUTION_MARK + json.dumps(saving, sort_keys=True, separators=(",", ":"), default=str)
    return text[:DESCRIPTION_LIMIT]


def read_execution_saving(description: str | None) -> dict[str, Any] | None:
    """The figures `record_on_execution` wrote, from an execution's description."""
    if not description or not description.startswith(EXECUTION_MARK):
        return None
    try:
        return json.loads(description.removeprefix(EXECUTION_MARK))
    except json.JSONDecodeError:
        return None


def record_on_execution(sm: Any, arn: str, saving: dict[str, Any]) -> None:
    sm.update_pipeline_execution(PipelineExecutionArn=arn, PipelineExecutionDescription=execution_description(saving))


def report_spot_savings(sm: Any, arn: str, steps: list[dict[str, Any]], progress: Progress) -> dict[str, Any]:
    """After a succeeded cloud execution: the saving, printed, recorded on the execution; returns the
    summary's `spot` and `report_warnings`. Nothing here fails the run: problems become warnings."""
    from pipelines.aws import client_error_message
    from pipelines.cloud import spot_report

    warnings = []
    prices: PriceTable | None = None
    try:
        prices = load_prices()
    except UserError as exc:
        warnings.append(f"Spot saving not priced: {exc}")
    report = spot_report(sm, steps, prices)
    if report.warning:
        warnings.append(report.warning)
    if report.saving:
        progress.note(saving_line(report.saving))
        try:
            record_on_execution(sm, arn, report.saving)
        except Exception as exc:  # noqa: BLE001 - recording is reporting: a warning, never a failed run
            fix = ("; grant sagemaker:UpdatePipelineExecution to the build role"
                   if client_error_message(exc).startswith("AccessDenied") else "")
            warnings.append(f"could not record the Spot saving on {arn}: {client_error_message(exc)}{fix}")
    return {"spot": report.saving, "report_warnings": warnings}


def local_run_cost(definition: dict[str, Any], steps: list[dict[str, Any]], region: str,
                   prices: PriceTable) -> dict[str, Any]:
    """What a local run would have cost in the cloud: each job step's local duration x the table's price
    (cache hits cost nothing, as in SageMaker). Local durations stand in for the cloud's: a laptop is
    not an ml.m5 instance, so the figure is an order of magnitude, not a bill."""
    from pipelines.finops.estimate import job_steps

    durations = {s["name"]: s.get("duration_seconds") for s in steps
                 if not s.get("cache", {}).get("hit") and s.get("status") == "Succeeded"}
    rows, problems = [], []
    for job in job_steps(definition):
        seconds = durations.get(job.name)
        if seconds is None:
            continue
        try:
            hourly = prices.hourly(region, job.usage, job.instance_type)
        except UserError as exc:
            problems.append(str(exc))
            continue
        on_demand = seconds / 3600 * job.instance_count * hourly
        rows.append({"step": job.name, "instance_type": job.instance_type, "instance_count": job.instance_count,
                     "seconds": seconds, "on_demand_usd": round(on_demand, 6),
                     "with_spot_usd": round(on_demand * (1 - prices.spot_discount) if job.spot else on_demand, 6)})
    return {"region": region, "currency": "USD", "prices_taken": prices.taken,
            "on_demand_usd": round(sum(r["on_demand_usd"] for r in rows), 6),
            "with_spot_usd": round(sum(r["with_spot_usd"] for r in rows), 6), "steps": rows, "problems": problems}


def cost_line(cost: dict[str, Any] | None) -> str | None:
    if not cost:
        return None
    line = (f"cost: in the cloud ({cost['region']}) this run would have cost {cost['on_demand_usd']:.4f} USD "
            f"on-demand, {cost['with_spot_usd']:.4f} with Spot (local step durations x prices taken "
            f"{cost['prices_taken']}; cache hits are free)")
    return line + (f"; not priced: {cost['problems'][0]}" if cost.get("problems") else "")
