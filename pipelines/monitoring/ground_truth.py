"""Model quality of a monitored window: the monitoring pipeline's ModelQuality step (seedcode/model_quality.py,
after DriftCheck, over the same window) merges the team's ground-truth labels with the window's captured
predictions and scores them against the gate the served package passed. In the cloud the step runs when
`[tool.ml-factory.monitoring] model_quality` is on; `monitor run --local` always runs it.

Ground truth is SageMaker's format, JSON Lines under the stage's ground-truth folder in SageMaker's
`yyyy/mm/dd/hh/` layout (the hour the labels were written, not the hour of the predictions):

  local  <state>/s3/<local artifact bucket>/<project>/ground-truth/<endpoint>/   (or `--ground-truth PATH`)
  cloud  s3://<stage artifact bucket>/<project>/ground-truth/<endpoint>/          (the GroundTruthUri default)

  {"groundTruthData": {"data": "1", "encoding": "CSV"}, "eventMetadata": {"eventId": "<id>"}, "eventVersion": "0"}

`<id>` is the request's InferenceId when the caller sent one (InvokeEndpoint's InferenceId), else the
capture record's eventId; seedcode/ground_truth_merge.py reads and merges them (pipelines/ reads no capture).
The step writes merged.jsonl (SageMaker's merge format), statistics.json, constraints.json,
constraint_violations.json (Model Monitor's model-quality shapes), cloudwatch_metrics.json and
model_quality.json under <run>/model_quality/, and the verdict into the run's report.html.

This module gives the step its parameters (the served package's model and gate) and reads its outcome.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipelines.definition import METADATA_METRIC, METADATA_THRESHOLD
from pipelines.errors import UserError
from pipelines.monitoring import names
from pipelines.rules import HIGHER_IS_BETTER

if TYPE_CHECKING:
    from pipelines.config import Config
    from pipelines.monitoring.local import LocalStage
    from pipelines.registry_model import PackageVersion

FOLDER = names.QUALITY_FOLDER
RESULT_FILE = "model_quality.json"  # written by seedcode/model_quality.py


@dataclass(frozen=True)
class Gate:
    """What the served package passed at registration: its primary metric and threshold."""

    metric: str
    threshold: float
    registered_value: float | None  # the metric on the package's own test split
    decision_threshold: float
    source: str  # where the threshold comes from, for messages

    @property
    def relation(self) -> str:
        return ">=" if HIGHER_IS_BETTER.get(self.metric, True) else "<="


@dataclass
class QualityOutcome:
    """What the ModelQuality step found (its model_quality.json); `line` is the one stdout verdict."""

    line: str
    violated: bool = False
    files: dict[str, Path] = field(default_factory=dict)
    result: dict[str, Any] = field(default_factory=dict)


def read_outcome(run_folder: Path) -> QualityOutcome:
    """The ModelQuality step's outcome in a run folder (<run>/model_quality/)."""
    output = run_folder / FOLDER
    result = json.loads((output / RESULT_FILE).read_text())
    files = {name: output / name for name in ("statistics.json", "constraints.json", "constraint_violations.json")
             if (output / name).is_file()}
    return QualityOutcome(result["line"], result["status"] == "violated", files, result)


def package_gate(metadata: dict[str, str], evaluation: dict[str, Any] | None, config_metric: Any,
                 decision_threshold: float = 0.5) -> Gate:
    """The gate a package passed, from its registry record: the metric named in `primary_metric` ("auc=0.87"),
    the threshold in `metric_threshold` (packages registered before it was recorded: the config's, said so),
    the decision threshold its evaluation used (else `decision_threshold`)."""
    name, _, value = (metadata.get(METADATA_METRIC) or "").partition("=")
    metric = name or config_metric.name
    recorded = metadata.get(METADATA_THRESHOLD)
    if recorded not in (None, ""):
        threshold, source = float(recorded), "registry metadata metric_threshold"
    elif metric == config_metric.name:
        threshold, source = float(config_metric.threshold), "the config's metric.threshold; the package records none"
    else:
        raise UserError(f"the deployed package was gated on {metric} but records no threshold, and the config's "
                        f"metric is {config_metric.name}; redeploy a package registered by this version")
    labels = (evaluation or {}).get("labels") or {}
    try:
        registered = float(value) if value else None
    except ValueError:
        registered = None
    return Gate(metric, threshold, registered, float(labels.get("decision_threshold") or decision_threshold), source)


def quality_parameters(version: PackageVersion, label: str, config: Config,
                       evaluation: dict[str, Any] | None = None) -> dict[str, str]:
    """The ModelQuality step's ModelDataUri and QualityGate for a served package: its model archive and the gate
    it passed, or (in the gate) why labelled rows could not be scored against it (said only when labels match: a
    window without labels needs no gate). Without its evaluation, the config's decision_threshold. A package
    without model data is refused, naming it."""
    if not version.model_data_url:
        raise UserError(f"package {label} has no model data, which model quality scores with; deploy a package "
                        "registered by a pipeline run, or set [tool.ml-factory.monitoring] model_quality = false")
    try:
        gate = package_gate(version.metadata, evaluation, config.metric, config.decision_threshold)
    except UserError as err:
        return {names.PARAM_MODEL_DATA: version.model_data_url, names.PARAM_GATE: json.dumps({"unscorable": str(err)})}
    return {names.PARAM_MODEL_DATA: version.model_data_url, names.PARAM_GATE: json.dumps(
        {"metric": gate.metric, "threshold": gate.threshold, "decision_threshold": gate.decision_threshold,
         "source": gate.source}, sort_keys=True)}


NO_MODEL_FILE = "no-model-data.txt"  # the local stand-in input of a package without model data


def local_quality_parameters(stage: LocalStage, labels_root: Path | None) -> dict[str, str]:
    """`monitor run --local`'s model-quality parameters: the deployed package's model and gate (its evaluation
    read from the local store), the labels under the stage's ground-truth folder or `labels_root`. A package
    without model data (registered by hand) gets a stand-in model input, and its reason is said only when
    labels match."""
    label, version = stage.deployed_package()
    labels = {names.PARAM_GROUND_TRUTH: str(labels_root.resolve() if labels_root else stage.ground_truth_root())}
    if not version.model_data_url:
        stand_in = f"{names.monitoring_uri(stage.wiring.artifact_bucket, stage.config.project, stage.stage)}/" \
                   f"{NO_MODEL_FILE}"
        stage.store().put_bytes(stand_in, f"package {label} has no model data\n".encode())
        reason = f"package {label} has no model data; deploy a package registered by a pipeline run"
        return {**labels, names.PARAM_MODEL_DATA: stand_in, names.PARAM_GATE: json.dumps({"unscorable": reason})}
    statistics = ((version.model_metrics.get("ModelQuality") or {}).get("Statistics") or {}).get("S3Uri")
    evaluation = stage.store_path(statistics) if statistics else None
    content = json.loads(evaluation.read_text()) if evaluation and evaluation.is_file() else None
    return {**labels, **quality_parameters(version, label, stage.config, content)}
