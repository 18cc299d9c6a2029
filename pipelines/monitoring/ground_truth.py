"""Model quality of a monitored window: the team's ground-truth labels merged with the captured predictions,
then scored by seedcode/model_quality.py, run as a file in its own process (as the container runs it).

Ground truth is SageMaker's format, JSON Lines under the stage's ground-truth folder in SageMaker's
`yyyy/mm/dd/hh/` layout (the hour the labels were written, not the hour of the predictions):

  local  <state>/s3/<local artifact bucket>/<project>/ground-truth/<endpoint>/   (or `--ground-truth PATH`)
  cloud  s3://<stage artifact bucket>/<project>/ground-truth/<endpoint>/          (names.ground_truth_uri)

  {"groundTruthData": {"data": "1", "encoding": "CSV"}, "eventMetadata": {"eventId": "<id>"}, "eventVersion": "0"}

`<id>` is the request's InferenceId when the caller sent one (InvokeEndpoint's InferenceId), else the
capture record's eventId. `data` holds one label per request row (CSV lines, or JSON). A later line for the
same id replaces an earlier one. Lines that are not such records are counted and skipped; labels whose
request is not in the window are counted ("without a capture in this window").

The merged records (SageMaker's merge format: the capture record plus `groundTruthData`) are written to
<run>/model_quality/merged.jsonl; the scoring writes statistics.json, constraints.json and
constraint_violations.json in Model Monitor's model-quality shapes beside it.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipelines.definition import METADATA_METRIC, METADATA_THRESHOLD
from pipelines.errors import UserError
from pipelines.monitoring.window import Malformed
from pipelines.rules import HIGHER_IS_BETTER
from pipelines.serving.capture import CaptureRecord, hourly_files

if TYPE_CHECKING:
    from pipelines.monitoring.job import DriftResult
    from pipelines.monitoring.local import LocalStage

SEEDCODE = Path(__file__).resolve().parent.parent.parent / "seedcode"
FOLDER = "model_quality"
MERGED_FILE = "merged.jsonl"
RESULT_FILE = "model_quality.json"  # written by seedcode/model_quality.py
LABEL_ENCODINGS = ("CSV", "JSON", "BASE64")


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
    """One window's model-quality check."""

    records: Callable[[], Iterable[CaptureRecord]]  # the window's capture records, streamed
    labels_root: Path | str  # the ground-truth folder (or s3:// prefix)
    package: Callable[[], tuple[Path, Gate]]  # the served model.tar.gz and its gate, read once labels match
    folder: Path  # the run folder


@dataclass
class Labels:
    """The labels found under the ground-truth folder, by id."""

    by_id: dict[str, dict[str, Any]] = field(default_factory=dict)
    bad: Malformed = field(default_factory=Malformed)


@dataclass
class QualityOutcome:
    """What the check found; `line` is the one stdout verdict."""

    line: str
    violated: bool = False
    files: dict[str, Path] = field(default_factory=dict)
    result: dict[str, Any] | None = None  # model_quality.json
    labels: int = 0
    matched: int = 0
    bad_labels: Malformed = field(default_factory=Malformed)


def read_labels(root: Path | str, s3: Any = None) -> Labels:
    """Every label line under `root` (all hours), keyed by eventId; malformed lines counted and skipped."""
    found = Labels()
    for lines in hourly_files(root, s3=s3):
        for line in lines:
            if not line.strip():
                continue
            try:
                record = json.loads(line)
                truth, key = record["groundTruthData"], str(record["eventMetadata"]["eventId"])
                if not isinstance(truth, dict) or "data" not in truth:
                    raise TypeError("groundTruthData has no data")
                if str(truth.get("encoding", "CSV")).upper() not in LABEL_ENCODINGS:
                    raise ValueError(f"encoding {truth.get('encoding')!r} is not one of {', '.join(LABEL_ENCODINGS)}")
            except (ValueError, KeyError, TypeError) as err:
                found.bad.add(f"{type(err).__name__} {err}: {line.strip()}")
                continue
            found.by_id[key] = truth
    return found


def merge(request: QualityRequest, labels: Labels) -> tuple[Path, int]:
    """Write the window's labelled records in SageMaker's merge format; returns the file and their count."""
    target = request.folder / FOLDER / MERGED_FILE
    target.parent.mkdir(parents=True, exist_ok=True)
    matched = 0
    with target.open("w", encoding="utf-8") as handle:
        for record in request.records():
            truth = labels.by_id.get(record.match_id)
            if truth is None:
                continue
            merged = {"captureData": record.raw["captureData"], "groundTruthData": truth,
                      "eventMetadata": record.raw["eventMetadata"], "eventVersion": record.raw.get("eventVersion", "0")}
            handle.write(json.dumps(merged, separators=(",", ":")) + "\n")
            matched += 1
    return target, matched


def score(merged: Path, model_archive: Path, gate: Gate) -> dict[str, Any]:
    """seedcode/model_quality.py over the merged records; its model_quality.json."""
    output = merged.parent
    command = [sys.executable, str(SEEDCODE / "model_quality.py"), "--merged", str(merged), "--model",
               str(model_archive), "--metric", gate.metric, "--threshold", repr(gate.threshold),
               "--decision-threshold", repr(gate.decision_threshold), "--output", str(output)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        reason = next((line[len("error: "):] for line in done.stderr.splitlines() if line.startswith("error: ")),
                      done.stderr.strip().splitlines()[-1] if done.stderr.strip() else f"exit {done.returncode}")
        raise UserError(f"model quality could not be computed: {reason}")
    return json.loads((output / RESULT_FILE).read_text())


def check_model_quality(request: QualityRequest, s3: Any = None) -> QualityOutcome:
    """Merge, score, and say so in one line. No labels, or none for this window, is a verdict, not an error."""
    labels = read_labels(request.labels_root, s3)
    skipped = f", {labels.bad.count} bad label line(s) skipped" if labels.bad.count else ""
    if not labels.by_id:
        return QualityOutcome(f"model quality: no ground-truth labels under {request.labels_root}"
                              + (f" ({skipped[2:]})" if skipped else ""),
                              bad_labels=labels.bad)
    merged, matched = merge(request, labels)
    unmatched = len(labels.by_id) - matched
    counts = f"{unmatched} label(s) without a capture in this window{skipped}"
    if not matched:
        return QualityOutcome(f"model quality: no labels for this window's captured requests ({counts})",
                              labels=len(labels.by_id), bad_labels=labels.bad)
    model_archive, gate = request.package()
    result = score(merged, model_archive, gate)
    files = {name: merged.parent / name for name in ("statistics.json", "constraints.json",
                                                     "constraint_violations.json")}
    return QualityOutcome(verdict(result, gate, counts), result["status"] == "violated", files, result,
                          len(labels.by_id), matched, labels.bad)


def verdict(result: dict[str, Any], gate: Gate, counts: str) -> str:
    rows = f"{result['rows']} labelled row(s)"
    counts = (f"{result['skipped_rows']} row(s) skipped, " if result["skipped_rows"] else "") + counts
    if result["status"] == "undefined":
        return f"model quality: not computed over {rows}: {result['reason']}; {counts}"
    value = result["value"]
    against = f"the gate {gate.metric} {gate.relation} {gate.threshold:g} the package passed ({gate.source})"
    if result["status"] == "violated":
        return f"model quality: violation: {gate.metric} {value:.4f} over {rows} breaks {against}; {counts}"
    return f"model quality: {gate.metric} {value:.4f} over {rows} meets {against}; {counts}"


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


def local_model_quality(stage: LocalStage, labels_root: Path | None, records: Callable[[], Iterable[CaptureRecord]],
                        drift: DriftResult) -> QualityOutcome:
    """The check for `monitor run --local`: the deployed package's gate and model, the stage's ground-truth
    folder (or `labels_root`), the verdict added to the drift run's report.html."""
    from pipelines.monitoring.report import add_model_quality

    def package() -> tuple[Path, Gate]:
        label, version = stage.deployed_package()
        if not version.model_data_url:
            raise UserError(f"package {label} has no model data; deploy a package registered by a pipeline run")
        statistics = ((version.model_metrics.get("ModelQuality") or {}).get("Statistics") or {}).get("S3Uri")
        evaluation = stage.store_path(statistics) if statistics else None
        content = json.loads(evaluation.read_text()) if evaluation and evaluation.is_file() else None
        return stage.store_path(version.model_data_url), package_gate(version.metadata, content, stage.config.metric)

    request = QualityRequest(records, labels_root or stage.ground_truth_root(), package, drift.folder)
    outcome = check_model_quality(request)
    add_model_quality(drift.files["report.html"], outcome.line, outcome.result, outcome.bad_labels.examples
                      + list((outcome.result or {}).get("skipped_examples") or []))
    return outcome
