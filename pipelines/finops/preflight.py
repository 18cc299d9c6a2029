"""The estimate before a run: `python -m pipelines.run --estimate` prints it; `--budget USD` refuses a
cloud run whose estimate exceeds the budget, before anything is uploaded or started."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipelines.config import Config
from pipelines.finops.estimate import RunEstimate, StepHistory, check_budget, estimate_run, format_estimate
from pipelines.finops.prices import PRICE_TABLE, load_prices


@dataclass(frozen=True)
class EstimateRequest:
    """What `--estimate` / `--budget` need beyond the team config."""

    definitions_dir: Path  # the definition cache (pipelines/engine/build.py)
    runs_dir: Path  # the local engine's runs: step durations of earlier local runs
    budget_usd: float | None = None
    prices_path: Path = PRICE_TABLE


def definition_for_estimate(config: Config, definitions_dir: Path) -> dict[str, Any]:
    """The definition with offline wiring: instance types, counts and limits do not depend on the wiring."""
    from pipelines.code_bundle import bundle_seedcode
    from pipelines.engine.build import load_definition
    from pipelines.wiring import offline_wiring

    wiring = offline_wiring(config.project, config.stage, config.account_id, config.aws_region)
    text, _ = load_definition(config, wiring, bundle_seedcode(), definitions_dir)
    return json.loads(text)


def estimate_for(config: Config, request: EstimateRequest, history: StepHistory) -> RunEstimate:
    prices = load_prices(request.prices_path)
    return estimate_run(definition_for_estimate(config, request.definitions_dir), config.aws_region, prices, history)


def print_estimate(config: Config, request: EstimateRequest) -> int:
    """`--estimate`: the estimate on stdout from the local history; non-zero over `--budget`."""
    from pipelines.finops.estimate import local_history

    estimate = estimate_for(config, request, local_history(request.runs_dir))
    print(format_estimate(estimate, config.pipeline_name))
    check_budget(estimate, request.budget_usd)
    return 0


def guard_cloud_run(config: Config, request: EstimateRequest) -> RunEstimate:
    """`--budget` on a cloud run: estimate from the cloud executions' durations (the local runs' when
    the cloud has none), print it on stderr, and refuse the run when it is over budget."""
    from pipelines.aws import aws_session, client_error_message
    from pipelines.finops.estimate import cloud_history, local_history

    sm = aws_session(config.aws_region).client("sagemaker")
    try:
        history = cloud_history(sm, config.pipeline_name)
    except Exception as exc:  # noqa: BLE001 - no history means the upper bound, never a failed run
        print(f"warning: could not read earlier executions of {config.pipeline_name} "
              f"({client_error_message(exc)}); estimating from local runs and max runtimes", file=sys.stderr)
        history = StepHistory(source="cloud")
    if not history.durations:
        history = local_history(request.runs_dir)
    estimate = estimate_for(config, request, history)
    print(format_estimate(estimate, config.pipeline_name), file=sys.stderr)
    check_budget(estimate, request.budget_usd)
    return estimate
