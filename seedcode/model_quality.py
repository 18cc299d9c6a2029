"""Model quality of an endpoint's served predictions against ground truth, in Model Monitor's model-quality
files: the computation of the monitoring job, here as on a laptop.

Input: ``--capture`` and ``--labels`` (a window's capture and the ground-truth folder, merged here by
ground_truth_merge.py into merged.jsonl), or ``--merged``: JSON Lines as SageMaker's ground-truth merge writes
them, a capture record with the labels of its request rows under ``groundTruthData``:

  {"captureData": {"endpointOutput": {"observedContentType": "text/csv", "data": "0.91", "encoding": "CSV"}},
   "groundTruthData": {"data": "1", "encoding": "CSV"}, "eventMetadata": {"eventId": "..."}, "eventVersion": "0"}

A request of N rows needs N labels (CSV: one per line; JSON: a value or a list). Labels are read as the
model's classes through features.json's label_mapping (the labels as in the training data: "1", "yes",
"fraud"), or as numbers for regression. Rows whose label is not one of the model's classes, and records
whose label count differs from their prediction count, are counted and skipped.

Metrics: ``evaluate.evaluation_report``, the one implementation the pipeline's Evaluate step writes to
evaluation.json (seedcode/metrics.json names them). The gate: the primary metric must stay at or above
(at or below, for a lower-is-better metric such as rmse) the threshold the package passed at registration.

Output (``--output``): statistics.json, constraints.json and constraint_violations.json in Model Monitor's
model-quality shapes, and model_quality.json (counts and the verdict; its ``line`` is the one verdict line);
with ``--report``, the verdict is also put into the drift run's report.html.
"""

from __future__ import annotations

import argparse
import base64
import csv
import json
import math
import shutil
import sys
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

import evaluate
import feature_schema
import labels
from drift_metrics import METRICS_FILE, QUALITY_NAMESPACE, entries, publish
from drift_report import add_model_quality
from ground_truth_merge import Window, merge, read_labels
from object_uris import Objects
from step_report import DataError, log, run_step

SHOWN_SKIPPED = 5
OPERATORS = {"higher": "LessThanThreshold", "lower": "GreaterThanThreshold"}  # the violation, by direction
RESULT_FILE = "model_quality.json"
DRIFT_SUMMARY = "drift_summary.json"  # drift_check.py's, in --drift-output
MERGED_FILE = "merged.jsonl"


# ---------------------------------------------------------------------------- one merged record


def _text(payload: dict[str, Any]) -> str:
    data = payload.get("data", "")
    if payload.get("encoding") == "BASE64":
        return base64.b64decode(data).decode("utf-8")
    return data if isinstance(data, str) else json.dumps(data)


def _csv_lines(text: str) -> list[list[str]]:
    return [row for row in csv.reader(line for line in text.splitlines() if line.strip())]


def _class_row(probabilities: Any, classes: list[str]) -> list[float]:
    if isinstance(probabilities, dict):
        return [float(probabilities[name]) for name in classes]
    return [float(p) for p in probabilities]


def predictions_of(output: dict[str, Any], schema: dict[str, Any]) -> list[Any]:
    """The served predictions of one response (seedcode/inference.py's output_fn, read back): a number per
    row (binary: the positive class's probability; regression: the value), or for multiclass every class's
    probability in class-index order."""
    text, multiclass = _text(output), schema["problem_type"] == "multiclass_classification"
    classes = labels.class_names(schema)
    if "json" in str(output.get("observedContentType", "")).lower():
        body = json.loads(text)
        rows = body["predictions"] if isinstance(body, dict) else body if isinstance(body, list) else [body]
        if multiclass:
            return [_class_row(row["probabilities"] if isinstance(row, dict) else row, classes) for row in rows]
        return [float(row) for row in rows]
    lines = _csv_lines(text)
    if multiclass:
        return [_class_row(row[1:], classes) for row in lines]  # label,p_0,p_1,...
    return [float(row[0]) for row in lines]


def labels_of(ground_truth: dict[str, Any]) -> list[str]:
    """The label text of each request row: CSV lines, or a JSON value or list."""
    text = _text(ground_truth)
    if str(ground_truth.get("encoding", "CSV")).upper() == "JSON":
        value = json.loads(text)
        return [labels.display(v) for v in (value if isinstance(value, list) else [value])]
    return [row[0].strip() if row else "" for row in _csv_lines(text)]


def label_value(text: str, schema: dict[str, Any]) -> float | None:
    """A label as the model's class index (classification) or value (regression); None when it is neither."""
    if schema["problem_type"] == "regression":
        try:
            number = float(text)
        except ValueError:
            return None
        return number if math.isfinite(number) else None
    mapping: dict[str, int] = schema.get("label_mapping") or {}
    if text in mapping:
        return float(mapping[text])
    try:
        shown = labels.display(float(text))  # 1.0 reads as the label "1", as training read it
    except ValueError:
        shown = text
    loose = [index for name, index in mapping.items() if name.strip().lower() == shown.strip().lower()]
    return float(loose[0]) if len(loose) == 1 else None


# ---------------------------------------------------------------------------- the merged window


@dataclass
class Merged:
    """The labelled rows of a window: labels, predictions, and what was skipped."""

    y_true: list[float] = field(default_factory=list)
    predictions: list[Any] = field(default_factory=list)
    records: int = 0
    skipped_rows: int = 0
    examples: list[str] = field(default_factory=list)

    def skip(self, rows: int, why: str) -> None:
        self.skipped_rows += rows
        if len(self.examples) < SHOWN_SKIPPED:
            self.examples.append(why[:200])

    def add(self, record: dict[str, Any], schema: dict[str, Any]) -> None:
        event = (record.get("eventMetadata") or {}).get("eventId", "?")
        try:
            predicted = predictions_of(record["captureData"]["endpointOutput"], schema)
            truth = labels_of(record["groundTruthData"])
        except (KeyError, TypeError, ValueError, IndexError) as err:
            self.skip(1, f"event {event}: unreadable prediction or label ({type(err).__name__}: {err})")
            return
        self.records += 1
        if len(predicted) != len(truth):
            self.skip(max(len(predicted), len(truth)), f"event {event}: {len(truth)} label(s) for "
                                                        f"{len(predicted)} prediction(s)")
            return
        for text, prediction in zip(truth, predicted, strict=True):
            value = label_value(text, schema)
            if value is None:
                self.skip(1, f"event {event}: label {text!r} is not a {_expected(schema)}")
                continue
            self.y_true.append(value)
            self.predictions.append(prediction)


def _expected(schema: dict[str, Any]) -> str:
    if schema["problem_type"] == "regression":
        return "number"
    return "class of the model (" + ", ".join(labels.class_names(schema)) + ")"


def read_merged(path: Path, schema: dict[str, Any]) -> Merged:
    merged = Merged()
    files = sorted(path.rglob("*.jsonl")) if path.is_dir() else [path]
    for file in files:
        with file.open(encoding="utf-8") as handle:
            for number, line in enumerate(handle, 1):
                if not line.strip():
                    continue
                try:
                    record = json.loads(line)
                except ValueError:
                    merged.skip(1, f"{file.name} line {number}: not JSON")
                    continue
                merged.add(record, schema)
    return merged


# ---------------------------------------------------------------------------- metrics and the gate


@dataclass(frozen=True)
class Gate:
    """The registration gate the package passed: its primary metric and threshold."""

    metric: str
    threshold: float
    decision_threshold: float = 0.5  # binary: a row is the positive class at probability >= this


@dataclass
class Quality:
    """model_quality.json: the window's verdict."""

    problem_type: str
    metric: str
    threshold: float
    better: str  # "higher" or "lower"
    rows: int
    records: int
    skipped_rows: int
    skipped_examples: list[str]
    value: float | None = None
    status: str = "ok"  # ok | violated | undefined (the metric cannot be computed on these labels)
    reason: str = ""
    metrics: dict[str, float] = field(default_factory=dict)


def model_quality(merged: Merged, schema: dict[str, Any], gate: Gate) -> tuple[Quality, dict[str, Any] | None]:
    """The verdict and, when the metrics are defined, the problem type's metric section."""
    problem_type = schema["problem_type"]
    spec = evaluate.METRIC_CATALOG[problem_type]["metrics"].get(gate.metric)
    if spec is None:
        raise DataError(f"metric {gate.metric} is not a {problem_type} metric; use one of "
                        + ", ".join(evaluate.METRIC_CATALOG[problem_type]["metrics"]))
    quality = Quality(problem_type, gate.metric, gate.threshold, spec["better"], len(merged.y_true), merged.records,
                      merged.skipped_rows, merged.examples)
    y_true = np.asarray(merged.y_true, dtype="float64")
    if not len(y_true):
        quality.status, quality.reason = "undefined", "no labelled row could be read"
        return quality, None
    if problem_type == "binary_classification" and len(np.unique(y_true)) < 2:
        quality.status = "undefined"
        quality.reason = f"all {len(y_true)} labelled rows are one class, so {gate.metric} is undefined"
        return quality, None
    prediction = np.asarray(merged.predictions, dtype="float64")
    section = evaluate.evaluation_report(y_true, prediction, problem_type, gate.decision_threshold)
    metrics = section[evaluate.METRIC_SECTIONS[problem_type]]
    quality.metrics = {name: m["value"] for name, m in metrics.items() if isinstance(m, dict) and "value" in m}
    quality.value = quality.metrics[gate.metric]
    below = quality.value < gate.threshold if spec["better"] == "higher" else quality.value > gate.threshold
    quality.status = "violated" if below else "ok"
    return quality, section


def model_monitor_files(quality: Quality, section: dict[str, Any] | None) -> dict[str, dict[str, Any]]:
    """statistics.json, constraints.json and constraint_violations.json in Model Monitor's model-quality shapes."""
    operator = OPERATORS[quality.better]
    statistics = {"version": 0.0, "dataset": {"item_count": quality.rows,
                                              "evaluation_time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")},
                  **(section or {})}
    constraints = {"version": 0.0, f"{quality.problem_type}_constraints": {
        quality.metric: {"threshold": quality.threshold, "comparison_operator": operator}}}
    violations = [] if quality.status != "violated" else [{
        "constraint_check_type": operator, "metric_name": quality.metric,
        "description": f"Metric {quality.metric} with {quality.value:.6g} was {operator} {quality.threshold:g}"}]
    return {"statistics.json": statistics, "constraints.json": constraints,
            "constraint_violations.json": {"violations": violations}}


# ---------------------------------------------------------------------------- CLI


def verdict(quality: Quality, source: str, counts: str) -> str:
    """The one line `monitor run` prints: the metric against the gate the package passed, and what was skipped."""
    rows = f"{quality.rows} labelled row(s)"
    counts = ", ".join(filter(None, [f"{quality.skipped_rows} row(s) skipped" if quality.skipped_rows else "",
                                     counts]))
    tail = f"; {counts}" if counts else ""
    if quality.status == "undefined":
        return f"model quality: not computed over {rows}: {quality.reason}{tail}"
    relation = ">=" if quality.better == "higher" else "<="
    against = f"the gate {quality.metric} {relation} {quality.threshold:g} the package passed ({source})"
    if quality.status == "violated":
        return f"model quality: violation: {quality.metric} {quality.value:.4f} over {rows} breaks {against}{tail}"
    return f"model quality: {quality.metric} {quality.value:.4f} over {rows} meets {against}{tail}"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Model quality of served predictions against ground truth, "
                                                 "in Model Monitor's model-quality files.")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--merged", type=Path, help="merged records: a .jsonl file or a folder")
    source.add_argument("--capture", help="a window's capture folder or s3:// prefix (merged here with --labels)")
    parser.add_argument("--labels", help="the ground-truth folder or s3:// prefix, with --capture")
    parser.add_argument("--since", type=datetime.fromisoformat, help="window start (ISO 8601), with --capture")
    parser.add_argument("--until", type=datetime.fromisoformat, help="window end, exclusive, with --capture")
    parser.add_argument("--drift-output", type=Path, help="the DriftCheck step's output: its window (drift_summary."
                        "json) instead of --since/--until, its report.html copied to --report")
    parser.add_argument("--model", type=Path, help="the served package's model.tar.gz, or a folder holding it (the "
                        "step's model input)")
    parser.add_argument("--metric", help="the gate's metric (seedcode/metrics.json)")
    parser.add_argument("--threshold", type=float, help="the gate's threshold")
    parser.add_argument("--decision-threshold", type=float, default=0.5,
                        help="binary: a row is the positive class at probability >= this (default 0.5)")
    parser.add_argument("--gate-source", default="its registration", help="where the threshold comes from")
    parser.add_argument("--unscorable", help="why labelled rows cannot be scored (no model or gate), if so")
    parser.add_argument("--gate", default="", help='the gate as JSON (the pipeline\'s QualityGate): {"metric", '
                        '"threshold", "decision_threshold", "source"} or {"unscorable": why}')
    parser.add_argument("--report", type=Path, help="a drift report.html to add the verdict to")
    parser.add_argument("--output", required=True, type=Path, help="folder for the JSON files")
    parser.add_argument("--endpoint", default="", help="the metrics' Endpoint dimension (metrics need it)")
    parser.add_argument("--schedule", default="", help="the metrics' MonitoringSchedule dimension")
    parser.add_argument("--publish-metrics", choices=("true", "false"), default="false")
    parser.add_argument("--region", default="")
    parser.add_argument("--kms-key", default="")
    args = parser.parse_args(argv)
    if args.capture and not args.labels:
        parser.error("--capture needs --labels")
    return args


def apply_gate(args: argparse.Namespace) -> None:
    """--gate's JSON over the single gate options."""
    if not args.gate:
        return
    try:
        gate = json.loads(args.gate)
        if "unscorable" in gate:
            args.unscorable = str(gate["unscorable"])
            return
        args.metric, args.threshold = str(gate["metric"]), float(gate["threshold"])
    except (ValueError, KeyError, TypeError) as err:
        raise DataError(f"--gate {args.gate!r} is not a gate (metric, threshold) or an unscorable reason: "
                        f"{err}") from None
    args.decision_threshold = float(gate.get("decision_threshold", args.decision_threshold))
    args.gate_source = str(gate.get("source", args.gate_source))


def score(args: argparse.Namespace, merged_path: Path, model: Path | None) -> Quality:
    """The Model Monitor files and the verdict over merged records."""
    if model is None or args.metric is None or args.threshold is None:
        raise DataError(args.unscorable or "scoring needs --model, --metric and --threshold")
    raw = evaluate.archive_member(model, feature_schema.FEATURES_FILE) if model.is_file() else None
    if raw is None:
        raise DataError(f"{args.model} is not a model archive with {feature_schema.FEATURES_FILE}; pass the "
                        "served package's model.tar.gz")
    schema = feature_schema.parse_schema(raw, f"{feature_schema.FEATURES_FILE} in {args.model}")
    merged = read_merged(merged_path, schema)
    quality, section = model_quality(merged, schema, Gate(args.metric, args.threshold, args.decision_threshold))
    for name, content in model_monitor_files(quality, section).items():
        (args.output / name).write_text(json.dumps(content, indent=2) + "\n")
    log(f"model quality over {quality.rows} labelled rows: {quality.metric}={quality.value} ({quality.status}); "
        f"{quality.skipped_rows} row(s) skipped")
    return quality


def window_quality(args: argparse.Namespace, sources: Sources) -> tuple[dict[str, Any], list[str]]:
    """--capture: merge the window with its labels, then score what matched; the result and skipped examples.
    No labels, or none for this window, is a verdict, not an error."""
    found = read_labels(sources.location(args.labels), s3=sources.objects.s3)
    skipped = f"{found.bad.count} bad label line(s) skipped" if found.bad.count else ""
    counts = {"labels": len(found.by_id), "matched": 0, "bad_labels": found.bad.count}
    if not found.by_id:
        line = f"model quality: no ground-truth labels under {args.labels}" + (f" ({skipped})" if skipped else "")
        return {"status": "none", "line": line, **counts}, found.bad.examples
    window = Window(sources.location(args.capture), args.since, args.until, sources.objects.s3)
    counts["matched"] = merge(window, found, args.output / MERGED_FILE)
    unmatched = ", ".join(filter(None, [f"{len(found.by_id) - counts['matched']} label(s) without a capture in "
                                        "this window", skipped]))
    if not counts["matched"]:
        return {"status": "none", "line": f"model quality: no labels for this window's captured requests "
                                          f"({unmatched})", **counts}, found.bad.examples
    quality = score(args, args.output / MERGED_FILE, sources.model())
    result = {**asdict(quality), "line": verdict(quality, args.gate_source, unmatched), **counts}
    return result, found.bad.examples + quality.skipped_examples


@dataclass
class Sources:
    """Where the capture and labels are read from: S3 in a job, the local engine's store, or plain paths; and
    the model archive (a file, or the one .tar.gz in the step's model input)."""

    objects: Objects
    args: argparse.Namespace

    @classmethod
    def of(cls, args: argparse.Namespace) -> Sources:
        remote = any(str(uri or "").startswith("s3://") for uri in (args.capture, args.labels))
        return cls(Objects.from_environment(args.region, args.kms_key) if remote else Objects(), args)

    def location(self, uri: str) -> Path | str:
        return self.objects.location(uri)

    def model(self) -> Path | None:
        model = self.args.model
        if model is None or not model.is_dir():
            return model
        archives = sorted(model.rglob("*.tar.gz"))
        return archives[0] if len(archives) == 1 else None


def drift_window(args: argparse.Namespace) -> dict[str, Any] | None:
    """--drift-output: the DriftCheck's window as --since/--until and its report copied to --report; the
    result when that window held no captured data (nothing to score)."""
    summary = json.loads((args.drift_output / DRIFT_SUMMARY).read_text())
    window = summary["window"]
    args.since = datetime.fromisoformat(window["since"]) if window["since"] else None
    args.until = datetime.fromisoformat(window["until"])
    if not summary["rows"]:
        since = window["since"] or "the beginning"
        return {"status": "none", "line": f"model quality: no captured data between {since} and {window['until']}"}
    report = args.drift_output / "report.html"
    if args.report and report.is_file() and report.resolve() != args.report.resolve():
        args.report.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(report, args.report)
    return None


def write_quality_metrics(args: argparse.Namespace, sources: Sources, result: dict[str, Any]) -> int:
    """cloudwatch_metrics.json of the window's metrics (Model Monitor's model-quality names) and, with
    --publish-metrics true in a job, the same put to CloudWatch; returns how many were published."""
    values = {name: value for name, value in sorted((result.get("metrics") or {}).items()) if math.isfinite(value)}
    if not values or not args.endpoint:
        return 0
    metrics = {"Namespace": QUALITY_NAMESPACE,
               "MetricData": entries(values, args.endpoint, args.schedule, args.until or datetime.now(UTC))}
    (args.output / METRICS_FILE).write_text(json.dumps(metrics, indent=1) + "\n")
    if args.publish_metrics != "true" or sources.objects.s3 is None:
        return 0
    import boto3

    count = publish(boto3.client("cloudwatch", region_name=args.region or None), metrics)
    log(f"published {count} model-quality metric(s) to CloudWatch for {args.endpoint}")
    return count


def run(args: argparse.Namespace) -> dict[str, Any]:
    args.output.mkdir(parents=True, exist_ok=True)
    apply_gate(args)
    empty = drift_window(args) if args.drift_output else None
    sources = Sources.of(args)
    if empty is not None:
        result, skipped = empty, []
    elif args.capture:
        result, skipped = window_quality(args, sources)
    else:
        quality = score(args, args.merged, sources.model())
        result = {**asdict(quality), "line": verdict(quality, args.gate_source, "")}
        skipped = quality.skipped_examples
    result["metrics_published"] = write_quality_metrics(args, sources, result)
    (args.output / RESULT_FILE).write_text(json.dumps(result, indent=2) + "\n")
    if args.report and args.report.is_file():
        add_model_quality(args.report, result["line"], result if "metric" in result else None, skipped)
    return result


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    return run_step(lambda: run(args), "processing")


if __name__ == "__main__":
    sys.exit(main())
