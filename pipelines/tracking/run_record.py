"""What one pipeline run logs, whichever backend ran it: built from files already on this machine
(the local store, or what `cloud_run` downloaded from S3) and the run's facts.

  params     the resolved config (config.<field>, hyperparameters as config.training.hyperparameters.<name>),
             the pipeline parameters (parameter.<Name>, e.g. the InputDataUri) and the data URIs
  metrics    evaluation.json's metrics, and per boosting round the training curves
             (<data set>-<metric>, e.g. validation-auc, step = round) from evaluation_details.json
  artifacts  evaluation/ (evaluation.json, evaluation_details.json), report/ (report.html, summary.json),
             data_quality/ (statistics.json, constraints.json), charts/feature_importance.png,
             model_package/features.json (the encoding the model's inputs went through)
  model      the booster, xgboost flavour, with the encoded signature and input example
  tags       git_commit, config_hash, execution_id, trigger, stage, pipeline, code_digest, data_hash
"""

from __future__ import annotations

import base64
import dataclasses
import json
import tarfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipelines.config import Config
from pipelines.tracking.mlflow_runs import ModelToLog, RunRecord

TRIGGERS = ("manual", "merge", "drift")
EXAMPLE_ROWS = 5
MODEL_FILE, FEATURES_FILE = "xgboost-model", "features.json"


@dataclass(frozen=True)
class RunFiles:
    """Local copies of a run's outputs; any may be missing (a failed run, an older evaluation)."""

    evaluation: Path | None = None  # evaluation.json
    details: Path | None = None  # evaluation_details.json
    report: Path | None = None  # report.html
    summary: Path | None = None  # summary.json
    baseline: tuple[Path, ...] = ()  # the data-quality baseline: statistics.json, constraints.json
    model_archive: Path | None = None  # model.tar.gz
    test_split: Path | None = None  # the encoded test split (test.parquet): the model's input example


@dataclass(frozen=True)
class RunFacts:
    """What the run was: its config, identity, outcome and lineage."""

    config: Config
    execution_id: str
    failed: bool
    trigger: str
    metrics: dict[str, float] = field(default_factory=dict)
    parameters: dict[str, Any] = field(default_factory=dict)  # the pipeline parameters it ran with
    lineage: dict[str, str] = field(default_factory=dict)  # pipelines.lineage keys (registry metadata)


def flatten(value: Any, prefix: str) -> dict[str, str]:
    """Nested dicts as dotted keys with text values."""
    if isinstance(value, dict):
        return {k: v for key, item in value.items() for k, v in flatten(item, f"{prefix}.{key}").items()}
    return {prefix: json.dumps(value) if isinstance(value, (list, tuple)) else str(value)}


def run_params(facts: RunFacts) -> dict[str, str]:
    config = dataclasses.asdict(facts.config)
    config.pop("tracking", None)
    params = flatten(config, "config")
    params |= {f"parameter.{name}": str(value) for name, value in sorted(facts.parameters.items())}
    params |= {f"lineage.{key}": value for key, value in facts.lineage.items() if key in ("data_uri", "target")}
    return params


def run_tags(facts: RunFacts) -> dict[str, str]:
    lineage = facts.lineage
    tags = {"execution_id": facts.execution_id, "trigger": facts.trigger, "stage": facts.config.stage,
            "pipeline": facts.config.pipeline_name, "project": facts.config.project}
    tags |= {key: lineage[key] for key in ("git_commit", "config_hash", "code_digest", "data_hash", "data_uri")
             if lineage.get(key)}
    return tags


def read_json(path: Path | None) -> dict[str, Any]:
    try:
        document = json.loads(path.read_text()) if path else {}
    except (OSError, ValueError):
        return {}
    return document if isinstance(document, dict) else {}


def training_curves(details: dict[str, Any]) -> tuple[dict[str, list[float]], int]:
    """{"validation-auc": [...]} and the first round, from evaluation_details.json's training_history."""
    history = details.get("training_history") or {}
    curves = {f"{data}-{metric}": [float(v) for v in values]
              for data, by_metric in (history.get("metrics") or {}).items() for metric, values in by_metric.items()}
    return curves, int(history.get("first_round", 1))


def importance_png(details: dict[str, Any], folder: Path) -> Path | None:
    """The report's feature-importance chart (the same drawing, pipelines/engine/charts.py) as a PNG file."""
    from pipelines.engine.charts import Chart, importance_chart, png_data_uri

    chart = importance_chart(details.get("feature_importance"))
    if not isinstance(chart, Chart):
        return None
    path = folder / "feature_importance.png"
    path.write_bytes(base64.b64decode(png_data_uri(chart.draw).split(",", 1)[1]))
    return path


def model_to_log(archive: Path | None, test_split: Path | None, folder: Path) -> tuple[ModelToLog | None, Path | None]:
    """The booster from model.tar.gz and encoded example rows from the test split, plus features.json."""
    if archive is None or test_split is None or not archive.is_file() or not test_split.is_file():
        return None, None
    import pandas as pd
    import xgboost

    with tarfile.open(archive, "r:*") as tar:
        members = {Path(m.name).name: m for m in tar.getmembers() if m.isfile()}
        for name in (MODEL_FILE, FEATURES_FILE):
            if name in members:
                (folder / name).write_bytes(tar.extractfile(members[name]).read())  # type: ignore[union-attr]
    if not (folder / MODEL_FILE).is_file():
        return None, None
    booster = xgboost.Booster()
    booster.load_model(bytearray((folder / MODEL_FILE).read_bytes()))
    rows = pd.read_parquet(test_split).iloc[:EXAMPLE_ROWS, 1:]  # the target is the first column
    rows.columns = booster.feature_names or [f"f{i}" for i in range(rows.shape[1])]
    features = folder / FEATURES_FILE
    return ModelToLog(folder / MODEL_FILE, rows.astype("float32")), (features if features.is_file() else None)


def build_record(facts: RunFacts, files: RunFiles, workdir: Path) -> RunRecord:
    """The run as MLflow will hold it; `workdir` receives the chart and the extracted model files."""
    details = read_json(files.details)
    curves, first_round = training_curves(details)
    model, features = model_to_log(files.model_archive, files.test_split, workdir)
    chart = importance_png(details, workdir)
    candidates = [(files.evaluation, "evaluation"), (files.details, "evaluation"), (files.report, "report"),
                  (files.summary, "report"), *((path, "data_quality") for path in files.baseline),
                  (chart, "charts"), (features, "model_package")]
    return RunRecord(name=facts.execution_id, failed=facts.failed, params=run_params(facts), metrics=facts.metrics,
                     curves=curves, first_round=first_round,
                     artifacts=[(path, folder) for path, folder in candidates if path and path.is_file()],
                     tags=run_tags(facts), model=model)
