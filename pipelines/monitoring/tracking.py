"""Each drift run as an MLflow run (pipelines.tracking's log_drift: tag trigger=drift, metrics drift.<feature>
and drift.violations) in the stage's tracking store, so drift over time is a chart in the MLflow UI."""

from __future__ import annotations

from pipelines.monitoring.local import LocalStage
from pipelines.monitoring.local_run import DriftRun


def track_drift(stage: LocalStage, run: DriftRun) -> str | None:
    """Log the run; a line for stdout, or None when tracking is off. Never raises: tracking is never the
    reason a drift check fails (a failure is one warning on stderr)."""
    from pipelines.tracking.local_run import local_target
    from pipelines.tracking.mlflow_runs import DriftRecord, log_drift, warn_skipped

    target = local_target(stage.config, stage.state_root)
    if target is None or run.folder is None:
        return None
    record = DriftRecord(f"drift-{stage.stage}-{run.folder.name}", run.distances, len(run.violations),
                         {"stage": stage.stage, "package": run.summary["package"],
                          "violations_report": str(run.files["constraint_violations.json"])})
    try:
        logged = log_drift(target, record)
    except Exception as exc:  # noqa: BLE001 - tracking is never the reason a drift check fails
        warn_skipped(f"drift run {run.folder.name}", target, exc)
        return None
    return f"tracking: MLflow run {logged.run_id} in {target.uri}"
