"""The tracking calls: one finished run (or one drift check) into MLflow, and nothing else.

What a run is made of is decided by `pipelines.tracking.run_record`; this module only speaks MLflow.
The model goes in MLflow's xgboost flavour: the booster as trained, with the ENCODED feature
signature (the columns after features.json's encoding, named as the booster names them) and an
input example of encoded test rows. A pyfunc wrapping seedcode/inference.py would take raw rows,
but it would have to ship the seed code and pandas encoding into MLflow's model format, a second
serving path beside the package's script mode; the package (and `python -m
pipelines.serving.script_mode`) stays the one way to serve raw rows, and the run carries
features.json beside the model so the encoding is one click away.

Tracking is never the reason a run fails: `track` turns any error into a "skipped" outcome and
one warning line, and bounds MLflow's HTTP retries so an unreachable server costs seconds.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

PARAM_VALUE_CHARS = 6000  # MLflow's limit on a parameter value
MODEL_ARTIFACT = "model"
# their INFO lines (database creation, migrations) are not progress; the sagemaker-mlflow plugin's header
# provider warns on every request to a tracking URI that is not an ARN
QUIET_LOGGERS = {"mlflow": logging.WARNING, "alembic": logging.WARNING,
                 "mlflow.tracking.request_header.registry": logging.ERROR}
# an unreachable server: give up after ~3 s instead of MLflow's default of minutes of retries
HTTP_LIMITS = {"MLFLOW_HTTP_REQUEST_MAX_RETRIES": "1", "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1",
               "MLFLOW_HTTP_REQUEST_TIMEOUT": "20"}


@dataclass(frozen=True)
class TrackingTarget:
    """Where runs go: a tracking URI, an experiment, and where a NEW experiment keeps its artifacts."""

    uri: str
    experiment: str
    artifact_location: str | None = None  # None: the server's default artifact root


@dataclass(frozen=True)
class ModelToLog:
    """The trained booster and an input example in the encoded feature space it predicts from."""

    model_file: Path  # xgboost-model
    example: pd.DataFrame  # a few encoded rows, columns named as the booster names its features


@dataclass(frozen=True)
class RunRecord:
    """Everything one run logs."""

    name: str  # the execution id
    failed: bool
    params: dict[str, str] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)
    curves: dict[str, list[float]] = field(default_factory=dict)  # "validation-auc" -> one value per round
    first_round: int = 1
    artifacts: list[tuple[Path, str]] = field(default_factory=list)  # (file, artifact folder or "")
    tags: dict[str, str] = field(default_factory=dict)
    model: ModelToLog | None = None


@dataclass(frozen=True)
class LoggedRun:
    run_id: str
    experiment_id: str
    tracking_uri: str

    @property
    def model_uri(self) -> str:
        return f"runs:/{self.run_id}/{MODEL_ARTIFACT}"


@contextlib.contextmanager
def _mlflow_at(target: TrackingTarget) -> Iterator[Any]:
    """mlflow with the tracking URI and HTTP limits set, restored afterwards (tests run CLIs in-process)."""
    import mlflow

    quiet = {name: logging.getLogger(name) for name in QUIET_LOGGERS}
    levels = {name: logger.level for name, logger in quiet.items()}
    for name, logger in quiet.items():
        logger.setLevel(QUIET_LOGGERS[name])
    saved_env = {name: os.environ.get(name) for name in HTTP_LIMITS}
    os.environ.update({k: v for k, v in HTTP_LIMITS.items() if saved_env[k] is None})
    saved_uri = mlflow.get_tracking_uri() if mlflow.is_tracking_uri_set() else None
    mlflow.set_tracking_uri(target.uri)
    try:
        yield mlflow
    finally:
        while mlflow.active_run():
            mlflow.end_run("FAILED")
        mlflow.set_tracking_uri(saved_uri or "")
        for name, value in saved_env.items():
            if value is None:
                os.environ.pop(name, None)
        for name, level in levels.items():
            quiet[name].setLevel(level)


def experiment_id(mlflow: Any, target: TrackingTarget) -> str:
    found = mlflow.get_experiment_by_name(target.experiment)
    if found is not None:
        return found.experiment_id
    return mlflow.create_experiment(target.experiment, artifact_location=target.artifact_location)


def _params(values: dict[str, str]) -> dict[str, str]:
    return {key: str(value)[:PARAM_VALUE_CHARS] for key, value in values.items()}


def _log_curves(mlflow: Any, record: RunRecord) -> None:
    from mlflow.entities import Metric

    timestamp = mlflow.active_run().info.start_time
    points = [Metric(name, float(value), timestamp, record.first_round + index)
              for name, values in sorted(record.curves.items()) for index, value in enumerate(values)]
    if points:
        mlflow.MlflowClient().log_batch(mlflow.active_run().info.run_id, metrics=points)


def _log_model(mlflow: Any, model: ModelToLog) -> None:
    import mlflow.xgboost
    import xgboost
    from mlflow.models import infer_signature

    booster = xgboost.Booster()
    booster.load_model(bytearray(model.model_file.read_bytes()))
    prediction = booster.predict(xgboost.DMatrix(model.example))
    mlflow.xgboost.log_model(booster, name=MODEL_ARTIFACT, signature=infer_signature(model.example, prediction),
                             input_example=model.example, model_format="json",
                             pip_requirements=[f"xgboost=={xgboost.__version__}"])  # no slow inference of them


def log_run(target: TrackingTarget, record: RunRecord) -> LoggedRun:
    """One MLflow run holding the record; raises whatever MLflow raises."""
    with _mlflow_at(target) as mlflow:
        experiment = experiment_id(mlflow, target)
        with mlflow.start_run(experiment_id=experiment, run_name=record.name, tags=record.tags) as run:
            mlflow.log_params(_params(record.params))
            mlflow.log_metrics(record.metrics)
            _log_curves(mlflow, record)
            for path, folder in record.artifacts:
                mlflow.log_artifact(str(path), artifact_path=folder or None)
            if record.model is not None:
                _log_model(mlflow, record.model)
            if record.failed:
                mlflow.end_run("FAILED")
        return LoggedRun(run.info.run_id, experiment, target.uri)


def tag_run(target: TrackingTarget, run_id: str, tags: dict[str, str]) -> None:
    with _mlflow_at(target) as mlflow:
        client = mlflow.MlflowClient()
        for key, value in tags.items():
            client.set_tag(run_id, key, value)


@dataclass(frozen=True)
class DriftRecord:
    """One drift check: per-feature distances and the violation count (see `log_drift`)."""

    name: str  # e.g. the monitoring execution id
    distances: dict[str, float]  # feature -> distance from the baseline
    violations: int
    tags: dict[str, str] = field(default_factory=dict)


def log_drift(target: TrackingTarget, record: DriftRecord) -> LoggedRun:
    """A drift check as a run tagged trigger=drift: metrics drift.<feature> and drift.violations, so drift
    over time is a chart in the MLflow UI (compare the runs, or chart a metric across them)."""
    with _mlflow_at(target) as mlflow:
        experiment = experiment_id(mlflow, target)
        tags = {"trigger": "drift", "kind": "drift-check", **record.tags}
        with mlflow.start_run(experiment_id=experiment, run_name=record.name, tags=tags) as run:
            mlflow.log_metrics({f"drift.{name}": float(value) for name, value in record.distances.items()}
                               | {"drift.violations": float(record.violations)})
        return LoggedRun(run.info.run_id, experiment, target.uri)


def warn_skipped(what: str, target: TrackingTarget, exc: BaseException) -> dict[str, Any]:
    """The one warning line, and the summary's record of a skipped tracking."""
    first_line = (str(exc).strip().splitlines() or [""])[0][:300]
    reason = f"{type(exc).__name__}: {first_line}"
    print(f"warning: {what} not logged to MLflow at {target.uri} ({reason}); the run itself is unaffected",
          file=sys.stderr)
    return {"status": "skipped", "uri": target.uri, "experiment": target.experiment, "reason": reason}


def logged_outcome(target: TrackingTarget, logged: LoggedRun) -> dict[str, Any]:
    return {"status": "logged", "uri": target.uri, "experiment": target.experiment,
            "experiment_id": logged.experiment_id, "run_id": logged.run_id, "model_uri": logged.model_uri}
