"""Log a finished local run (`python -m pipelines.run --local`) and link it with its model package.

The default store is embedded: `sqlite:///<state folder>/mlflow.db`, artifacts under
`<state folder>/mlruns`, no server (`make ui` browses it). `[tool.ml-factory.tracking] uri` points
it elsewhere. A registered version gets `mlflow_run_id`, `mlflow_run_uri` and
`mlflow_tracking_uri` in its metadata, and the run gets the package's ARN, group and version as tags.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipelines.tracking.mlflow_runs import (
    LoggedRun,
    TrackingTarget,
    log_run,
    logged_outcome,
    tag_run,
    warn_skipped,
)
from pipelines.tracking.package_link import package_metadata, package_tags, run_uri
from pipelines.tracking.run_record import RunFacts, RunFiles, build_record

if TYPE_CHECKING:
    from pipelines.config import Config
    from pipelines.engine.cli import LocalSetup
    from pipelines.engine.engine import ExecutionResult
    from pipelines.engine.store import ObjectStore
    from pipelines.lineage import Lineage

TRACKING_DB, ARTIFACTS_DIR = "mlflow.db", "mlruns"


def local_target(config: Config, state_root: Path) -> TrackingTarget | None:
    """Where a local run is logged; None when tracking is off (uri = "none")."""
    if config.tracking.disabled:
        return None
    experiment = config.tracking.experiment or config.pipeline_name
    if config.tracking.uri:
        return TrackingTarget(config.tracking.uri, experiment)
    root = Path(state_root).resolve()
    return TrackingTarget(f"sqlite:///{root / TRACKING_DB}", experiment, (root / ARTIFACTS_DIR).as_uri())


def _output_file(result: ExecutionResult, store: ObjectStore, output: str, name: str) -> Path | None:
    """`name` inside the processing output called `output` of whichever step has one."""
    from pipelines.engine.processing import output_specs

    for arguments in result.properties.values():
        for output_name, uri, _ in output_specs(arguments or {}):
            if output_name == output and store.path(f"{uri.rstrip('/')}/{name}").is_file():
                return store.path(f"{uri.rstrip('/')}/{name}")
    return None


def local_files(result: ExecutionResult, store: ObjectStore, summary: dict[str, Any]) -> RunFiles:
    """The run's outputs in the local object store and its run folder."""
    baseline = [value for arguments in result.properties.values() for key, value in (arguments or {}).items()
                if key in ("CalculatedBaselineStatistics", "CalculatedBaselineConstraints") and value]
    model = (summary.get("registered") or {}).get("model_data_url") or next(
        (str((a or {}).get("ModelArtifacts", {}).get("S3ModelArtifacts")) for a in result.properties.values()
         if (a or {}).get("ModelArtifacts")), None)
    return RunFiles(
        evaluation=_output_file(result, store, "evaluation", "evaluation.json"),
        details=_output_file(result, store, "evaluation", "evaluation_details.json"),
        report=Path(summary["report_path"]) if summary.get("report_path") else None,
        summary=Path(summary["summary_path"]) if summary.get("summary_path") else None,
        baseline=tuple(p for p in (store.path(str(uri)) for uri in baseline) if p.is_file()),
        model_archive=store.path(model) if model and model.startswith("s3://") else None,
        test_split=_output_file(result, store, "test", "test.parquet"),
    )


def link_local_package(registry: Any, summary: dict[str, Any], target: TrackingTarget, logged: LoggedRun) -> None:
    """Registered now: the version's metadata names the run, and the run names the version."""
    registered = summary.get("registered")
    if not registered:
        return
    registry.add_metadata(registered["group"], int(registered["version"]),
                          package_metadata(logged.tracking_uri, logged.experiment_id, logged.run_id))
    tag_run(target, logged.run_id, package_tags(registered["arn"], registered["group"], registered["version"]))


@dataclass(frozen=True)
class TrackedRun:
    """What the engine's result does not say about a run: why it ran, and its lineage."""

    trigger: str
    lineage: Lineage


def track_local_run(setup: LocalSetup, result: ExecutionResult, summary: dict[str, Any], registry: Any,
                    run: TrackedRun) -> dict[str, Any]:
    """Log the run; the summary's `tracking` entry. Never raises: a failure is one warning and "skipped"."""
    facts = RunFacts(config=setup.config, execution_id=result.execution.execution_id,
                     failed=bool(result.failed_step), trigger=run.trigger, metrics=summary["metrics"],
                     parameters=result.parameters, lineage=run.lineage.metadata())
    outcome = log_local_run(facts, result, setup.store, summary, registry)
    if outcome["status"] == "logged":
        setup.progress.note(f"tracking: MLflow run {outcome['run_id']} in {outcome['uri']}")
    return outcome


def log_local_run(facts: RunFacts, result: ExecutionResult, store: ObjectStore, summary: dict[str, Any],
                  registry: Any) -> dict[str, Any]:
    target = local_target(facts.config, Path(summary["state_dir"]))
    if target is None:
        return {"status": "off", "reason": "[tool.ml-factory.tracking] uri = \"none\""}
    try:
        with tempfile.TemporaryDirectory(prefix="ml-factory-tracking-") as workdir:
            record = build_record(facts, local_files(result, store, summary), Path(workdir))
            logged = log_run(target, record)
        link_local_package(registry, summary, target, logged)
    except Exception as exc:  # noqa: BLE001 - tracking is never the reason a run fails
        return warn_skipped(f"run {facts.execution_id}", target, exc)
    return {**logged_outcome(target, logged), "run_uri": run_uri(logged.tracking_uri, logged.experiment_id,
                                                                 logged.run_id)}
