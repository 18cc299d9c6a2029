"""Model quality of a monitored window: seedcode/model_quality.py, run as a file in its own process (as the
container runs it), merges the team's ground-truth labels with the window's captured predictions and scores
them against the gate the served package passed.

Ground truth is SageMaker's format, JSON Lines under the stage's ground-truth folder in SageMaker's
`yyyy/mm/dd/hh/` layout (the hour the labels were written, not the hour of the predictions):

  local  <state>/s3/<local artifact bucket>/<project>/ground-truth/<endpoint>/   (or `--ground-truth PATH`)
  cloud  s3://<stage artifact bucket>/<project>/ground-truth/<endpoint>/          (names.ground_truth_uri)

  {"groundTruthData": {"data": "1", "encoding": "CSV"}, "eventMetadata": {"eventId": "<id>"}, "eventVersion": "0"}

`<id>` is the request's InferenceId when the caller sent one (InvokeEndpoint's InferenceId), else the
capture record's eventId; seedcode/ground_truth_merge.py reads and merges them (pipelines/ reads no capture).
The merged records (SageMaker's merge format) go to <run>/model_quality/merged.jsonl; statistics.json,
constraints.json and constraint_violations.json in Model Monitor's model-quality shapes beside it, and the
verdict into the run's report.html.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipelines.definition import METADATA_METRIC, METADATA_THRESHOLD
from pipelines.errors import UserError
from pipelines.rules import HIGHER_IS_BETTER

if TYPE_CHECKING:
    from pipelines.monitoring.local import LocalStage

SEEDCODE = Path(__file__).resolve().parent.parent.parent / "seedcode"
FOLDER = "model_quality"
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


@dataclass(frozen=True)
class QualityRequest:
    """One window's model-quality check: what seedcode/model_quality.py is given."""

    capture: Path  # the variant's capture folder
    since: datetime | None
    until: datetime
    labels_root: Path  # the ground-truth folder
    folder: Path  # the drift run's folder (report.html; model_quality/ is written under it)
    model: Path | None = None  # the served model.tar.gz
    gate: Gate | None = None
    unscorable: str = ""  # why labelled rows could not be scored (no model data, no gate)
    step_python: Path = Path(sys.executable)


@dataclass
class QualityOutcome:
    """What the check found; `line` is the one stdout verdict."""

    line: str
    violated: bool = False
    files: dict[str, Path] = field(default_factory=dict)
    result: dict[str, Any] = field(default_factory=dict)  # model_quality.json


def _command(request: QualityRequest) -> list[str]:
    output = request.folder / FOLDER
    command = [str(request.step_python), str(SEEDCODE / "model_quality.py"), "--capture", str(request.capture),
               "--labels", str(request.labels_root), "--until", request.until.isoformat(), "--output", str(output),
               "--report", str(request.folder / "report.html")]
    if request.since is not None:
        command += ["--since", request.since.isoformat()]
    if request.model is not None:
        command += ["--model", str(request.model)]
    if request.gate is not None:
        command += ["--metric", request.gate.metric, "--threshold", repr(request.gate.threshold),
                    "--decision-threshold", repr(request.gate.decision_threshold), "--gate-source", request.gate.source]
    return command + (["--unscorable", request.unscorable] if request.unscorable else [])


def check_model_quality(request: QualityRequest) -> QualityOutcome:
    """Run seedcode/model_quality.py; its failure (labelled rows it cannot score) is a UserError."""
    done = subprocess.run(_command(request), capture_output=True, text=True, check=False)
    if done.returncode != 0:
        reason = next((line[len("error: "):] for line in done.stderr.splitlines() if line.startswith("error: ")),
                      done.stderr.strip().splitlines()[-1] if done.stderr.strip() else f"exit {done.returncode}")
        raise UserError(f"model quality could not be computed: {reason}")
    output = request.folder / FOLDER
    result = json.loads((output / RESULT_FILE).read_text())
    files = {name: output / name for name in ("statistics.json", "constraints.json", "constraint_violations.json")
             if (output / name).is_file()}
    return QualityOutcome(result["line"], result["status"] == "violated", files, result)


def package_gate(metadata: dict[str, str], evaluation: dict[str, Any] | None, config_metric: Any) -> Gate:
    """The gate a package passed, from its registry record: the metric named in `primary_metric` ("auc=0.87"),
    the threshold in `metric_threshold` (packages registered before it was recorded: the config's, said so),
    the decision threshold its evaluation used."""
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
    return Gate(metric, threshold, registered, float(labels.get("decision_threshold") or 0.5), source)


def served_model(stage: LocalStage) -> tuple[Path | None, Gate | None, str]:
    """The deployed package's model archive and gate, or why labelled rows could not be scored against them
    (said only when labels match: a window without labels needs neither)."""
    label, version = stage.deployed_package()
    if not version.model_data_url:
        return None, None, f"package {label} has no model data; deploy a package registered by a pipeline run"
    statistics = ((version.model_metrics.get("ModelQuality") or {}).get("Statistics") or {}).get("S3Uri")
    evaluation = stage.store_path(statistics) if statistics else None
    content = json.loads(evaluation.read_text()) if evaluation and evaluation.is_file() else None
    try:
        gate = package_gate(version.metadata, content, stage.config.metric)
    except UserError as err:
        return stage.store_path(version.model_data_url), None, str(err)
    return stage.store_path(version.model_data_url), gate, ""


@dataclass(frozen=True)
class LocalQuality:
    """`monitor run --local`'s model-quality inputs beside the stage: the drift run's window and folder."""

    since: datetime | None
    until: datetime
    folder: Path
    labels_root: Path | None = None  # --ground-truth (default: the stage's ground-truth folder)
    step_python: Path = Path(sys.executable)


def local_model_quality(stage: LocalStage, local: LocalQuality) -> QualityOutcome:
    """The check for `monitor run --local`: the deployed package's gate and model, the stage's ground-truth
    folder (or --ground-truth), the verdict added to the drift run's report.html."""
    model, gate, unscorable = served_model(stage)
    return check_model_quality(QualityRequest(stage.capture_root(), local.since, local.until,
                                              local.labels_root or stage.ground_truth_root(), local.folder, model,
                                              gate, unscorable, local.step_python))
