"""What one run of the pipeline is expected to cost, per step and in total, on-demand and with Spot.

Each job step of the definition runs `InstanceCount` instances of `InstanceType` for a while: the
median duration of the step's last successful runs when the history knows it (the local engine's
`runs/*/summary.json`, or the cloud executions), else its `MaxRuntimeInSeconds` (an upper bound;
SageMaker's default for a processing job without one is 24 hours). Prices come from the price
table (pipelines/finops/prices.py). Spot applies to training steps with managed Spot on.
"""

from __future__ import annotations

import json
import statistics
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipelines.errors import UserError
from pipelines.finops.prices import PriceTable
from pipelines.progress import format_seconds

DEFAULT_PROCESSING_MAX_RUNTIME = 86400  # SageMaker's limit for a processing job without StoppingCondition
HISTORY_RUNS = 5  # the last N successful runs a median is taken over


@dataclass(frozen=True)
class JobStep:
    """A step that starts instances: what it runs on and for how long at most."""

    name: str
    usage: str  # training or processing (a price table usage)
    instance_type: str
    instance_count: int
    max_runtime_seconds: int
    spot: bool  # managed Spot training


@dataclass(frozen=True)
class StepEstimate:
    step: JobStep
    seconds: float
    basis: str  # e.g. "median of 3 local runs" or "max runtime"
    on_demand_usd: float
    spot_usd: float  # as configured: the Spot price where the step uses Spot, else on-demand


@dataclass(frozen=True)
class RunEstimate:
    region: str
    steps: list[StepEstimate]
    prices: PriceTable

    @property
    def on_demand_usd(self) -> float:
        return sum(s.on_demand_usd for s in self.steps)

    @property
    def spot_usd(self) -> float:
        return sum(s.spot_usd for s in self.steps)

    def to_dict(self) -> dict[str, Any]:
        return {
            "region": self.region, "currency": "USD", "prices_taken": self.prices.taken,
            "spot_discount_assumed": self.prices.spot_discount,
            "on_demand_usd": round(self.on_demand_usd, 4), "with_spot_usd": round(self.spot_usd, 4),
            "steps": [{"step": s.step.name, "usage": s.step.usage, "instance_type": s.step.instance_type,
                       "instance_count": s.step.instance_count, "seconds": round(s.seconds, 1), "basis": s.basis,
                       "spot": s.step.spot, "on_demand_usd": round(s.on_demand_usd, 4),
                       "with_spot_usd": round(s.spot_usd, 4)} for s in self.steps],
        }


@dataclass
class StepHistory:
    """Durations (seconds) of earlier successful, uncached runs of each step, newest first, by source."""

    durations: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    source: str = "local"  # "local" or "cloud": named in the estimate's basis

    def median(self, step: str) -> tuple[float, int] | None:
        runs = self.durations.get(step, [])[:HISTORY_RUNS]
        return (statistics.median(runs), len(runs)) if runs else None


def _walk(steps: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for step in steps:
        yield step
        arguments = step.get("Arguments", {})
        if isinstance(arguments, dict):
            yield from _walk(arguments.get("IfSteps", []) + arguments.get("ElseSteps", []))


def _number(value: Any, step: str, member: str) -> int:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return int(value)
    raise UserError(f"step {step}: {member} is {value!r}, not a number the estimate can use; "
                    "set it in [tool.ml-factory] instead of a pipeline parameter")


def job_steps(definition: dict[str, Any]) -> list[JobStep]:
    """The steps of a definition that run instances (Processing, QualityCheck, Training)."""
    jobs = []
    for step in _walk(definition["Steps"]):
        arguments, name = step.get("Arguments", {}), step["Name"]
        if step["Type"] == "Training":
            resources, usage = arguments["ResourceConfig"], "training"
            limit = arguments.get("StoppingCondition", {}).get("MaxRuntimeInSeconds", DEFAULT_PROCESSING_MAX_RUNTIME)
            spot = bool(arguments.get("EnableManagedSpotTraining"))
        elif step["Type"] in ("Processing", "QualityCheck"):
            resources, usage = arguments["ProcessingResources"]["ClusterConfig"], "processing"
            limit = arguments.get("StoppingCondition", {}).get("MaxRuntimeInSeconds", DEFAULT_PROCESSING_MAX_RUNTIME)
            spot = False
        else:
            continue
        jobs.append(JobStep(name=name, usage=usage, instance_type=str(resources["InstanceType"]),
                            instance_count=_number(resources["InstanceCount"], name, "InstanceCount"),
                            max_runtime_seconds=_number(limit, name, "MaxRuntimeInSeconds"), spot=spot))
    return jobs


def estimate_run(definition: dict[str, Any], region: str, prices: PriceTable,
                 history: StepHistory | None = None) -> RunEstimate:
    """The cost of one run; an instance type the table lacks is a UserError naming it and the table."""
    history = history or StepHistory()
    estimates = []
    for job in job_steps(definition):
        known = history.median(job.name)
        if known:
            seconds, runs = known
            basis = f"median of {runs} {history.source} run{'s' if runs > 1 else ''}"
        else:
            seconds, basis = float(job.max_runtime_seconds), "max runtime"
        instance_hours = seconds / 3600 * job.instance_count
        on_demand = instance_hours * prices.hourly(region, job.usage, job.instance_type)
        spot = instance_hours * prices.spot_hourly(region, job.usage, job.instance_type) if job.spot else on_demand
        estimates.append(StepEstimate(job, seconds, basis, on_demand, spot))
    return RunEstimate(region, estimates, prices)


def _hours(seconds: float) -> str:
    return f"{seconds / 3600:.2f} h" if seconds >= 3600 else format_seconds(seconds)


def format_estimate(estimate: RunEstimate, pipeline: str) -> str:
    width = max([len(s.step.name) for s in estimate.steps] + [5])
    lines = [f"cost estimate for one run of {pipeline} in {estimate.region} (USD; prices taken "
             f"{estimate.prices.taken}, Spot assumed {estimate.prices.spot_discount:.0%} cheaper)",
             f"  {'step':<{width}}  {'instances':<18} {'duration':>9}  {'basis':<22} {'on-demand':>10} "
             f"{'with Spot':>10}"]
    for s in estimate.steps:
        instances = f"{s.step.instance_count} x {s.step.instance_type}"
        lines.append(f"  {s.step.name:<{width}}  {instances:<18} {_hours(s.seconds):>9}  {s.basis:<22} "
                     f"{s.on_demand_usd:>10.4f} {s.spot_usd:>10.4f}" + ("" if s.step.spot else "  (no Spot)"))
    lines.append(f"  {'total':<{width}}  {'':<18} {'':>9}  {'':<22} {estimate.on_demand_usd:>10.4f} "
                 f"{estimate.spot_usd:>10.4f}")
    if any(s.basis == "max runtime" for s in estimate.steps):
        lines.append("  max runtime: an upper bound (no earlier run of the step is known; SageMaker stops a processing "
                     "job without a limit after 24 h); one run gives medians instead")
    return "\n".join(lines)


def check_budget(estimate: RunEstimate, budget_usd: float | None) -> None:
    """Refuse a run whose estimate (as configured, Spot included) exceeds the budget."""
    if budget_usd is not None and estimate.spot_usd > budget_usd:
        raise UserError(f"the estimated cost of one run, {estimate.spot_usd:.4f} USD (on-demand "
                        f"{estimate.on_demand_usd:.4f}), exceeds --budget {budget_usd:g} USD; nothing was started. "
                        "Raise the budget, pick smaller instances or lower max_runtime_seconds in [tool.ml-factory]")


################################################################################
# History: local summaries and cloud executions
################################################################################


def local_history(runs_dir: Path) -> StepHistory:
    """Step durations of the local engine's successful, uncached steps, newest run first."""
    history = StepHistory(source="local")
    summaries = []
    for path in Path(runs_dir).glob("*/summary.json"):
        try:
            summaries.append(json.loads(path.read_text()))
        except (OSError, json.JSONDecodeError):
            continue  # a run being written, or a damaged file: not history
    for summary in sorted(summaries, key=lambda s: str(s.get("started", "")), reverse=True):
        for step in summary.get("steps", []):
            if step.get("status") == "Succeeded" and not step.get("cache", {}).get("hit") \
                    and step.get("duration_seconds") is not None:
                history.durations[step["name"]].append(float(step["duration_seconds"]))
    return history


def cloud_history(sm: Any, pipeline: str, executions: int = HISTORY_RUNS) -> StepHistory:
    """Step durations of the pipeline's last successful cloud executions (uncached steps only)."""
    from botocore.exceptions import ClientError

    from pipelines.cloud import list_steps

    history = StepHistory(source="cloud")
    try:
        page = sm.list_pipeline_executions(PipelineName=pipeline, SortBy="CreationTime", SortOrder="Descending",
                                           MaxResults=50)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in ("ResourceNotFound", "ValidationException"):
            return history  # the pipeline does not exist yet: no history
        raise
    succeeded = [e for e in page.get("PipelineExecutionSummaries", [])
                 if e.get("PipelineExecutionStatus") == "Succeeded"][:executions]
    for execution in succeeded:
        for step in _timed_steps(list_steps(sm, execution["PipelineExecutionArn"])):
            history.durations[step[0]].append(step[1])
    return history


def _timed_steps(steps: Iterable[dict[str, Any]]) -> Iterator[tuple[str, float]]:
    for step in steps:
        start, end = step.get("StartTime"), step.get("EndTime")
        if step.get("StepStatus") == "Succeeded" and not step.get("CacheHitResult") and start and end:
            yield step["StepName"], (end - start).total_seconds()
