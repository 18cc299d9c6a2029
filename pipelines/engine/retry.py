"""`pipelines.run --local --retry EXECUTION_ID|last`: run a failed execution again, as SageMaker's
RetryPipelineExecution does.

The retry keeps the execution's id, definition and parameter values, so everything keyed by the
execution id is the same: the Train step's checkpoint prefix above all, so a training job that
failed (a lost host, an error fixed since) resumes from its last checkpoint instead of round 0.
Steps that succeeded are not run again: their step-cache records (same key, since the execution
id enters cache keys only symbolically) give back their results, as the service keeps them.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipelines.errors import UserError

if TYPE_CHECKING:
    from pipelines.engine.cli import LocalSetup, PlannedExecution

LAST = "last"


def failed_execution(runs: Path, wanted: str) -> tuple[str, dict[str, Any]]:
    """The execution id and summary.json of `wanted` (an execution id, or `last`: the newest one), which
    must have failed."""
    summaries = sorted(runs.glob("*/summary.json"), key=lambda path: path.stat().st_mtime) if runs.is_dir() else []
    if wanted == LAST:
        if not summaries:
            raise UserError(f"--retry last: no local execution in {runs} yet; run the pipeline first")
        path = summaries[-1]
    else:
        path = runs / wanted / "summary.json"
        if not path.is_file():
            known = ", ".join(p.parent.name for p in summaries[-5:]) or "none"
            raise UserError(f"--retry {wanted}: no local execution with that id in {runs} (newest: {known}); "
                            "give an execution id from a run's summary, or last")
    summary = json.loads(path.read_text())
    execution_id = path.parent.name
    if summary.get("status") != "Failed":
        raise UserError(f"--retry: execution {execution_id} {str(summary.get('status', 'did not fail')).lower()}; "
                        "only a failed execution can be retried (start a new one without --retry)")
    return execution_id, summary


def planned_retry(setup: LocalSetup, wanted: str) -> PlannedExecution:
    """The failed execution, ready to run again under the same id with the same definition and values."""
    from pipelines.definition import PARAM_INPUT
    from pipelines.engine.cli import LoadedDefinition, LocalInputs, PlannedExecution
    from pipelines.engine.execution import Execution
    from pipelines.engine.graph import PipelineGraph

    config = setup.config
    execution_id, summary = failed_execution(setup.state.runs, wanted)
    if summary.get("pipeline") != config.pipeline_name:
        raise UserError(f"--retry: execution {execution_id} ran pipeline {summary.get('pipeline')}, not "
                        f"{config.pipeline_name}; give the --stage (and --config) it ran with")
    text = (setup.state.run_dir(execution_id) / "definition.json").read_text()
    started = datetime.fromisoformat(summary["started"]) if summary.get("started") else datetime.now(UTC)
    execution = Execution(config.pipeline_name, execution_id, config.aws_region, config.account_id, started)
    values = dict(summary.get("parameters") or {})
    setup.progress.note(f"retrying execution {execution_id}, which failed at step {summary.get('failed_step')}: "
                        "steps that succeeded are kept, the others run again")
    definition = LoadedDefinition(text, PipelineGraph.from_definition(json.loads(text)), reused=True)
    return PlannedExecution(definition, execution, values, LocalInputs({}, None, str(values.get(PARAM_INPUT, ""))))
