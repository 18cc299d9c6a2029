"""What a local run reports: `summary.json` (for machines) and a few lines on stdout (for people)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipelines.engine.engine import ExecutionResult
from pipelines.progress import format_seconds

if TYPE_CHECKING:
    from pipelines.engine.store import ObjectStore

FEATURES_FILE = "features.json"  # written by seedcode/preprocess.py into each split's output
ROW_COUNTS = (("input", "read"), ("dropped_missing_target", "dropped (missing target)"), ("train", "train"),
              ("validation", "validation"), ("test", "test"))


def metrics_from(property_files: dict[str, dict[str, Any]]) -> tuple[dict[str, float], str | None]:
    """Flatten Model Registry style reports ({"<kind>_metrics": {"auc": {"value": ..}}}) into {"auc": ..}."""
    metrics: dict[str, float] = {}
    source = None
    for step, files in property_files.items():
        for name, document in files.items():
            if not isinstance(document, dict):
                continue
            for section, entries in document.items():
                if not (section.endswith("_metrics") and isinstance(entries, dict)):
                    continue
                for metric, entry in entries.items():
                    value = entry.get("value") if isinstance(entry, dict) else entry
                    if isinstance(value, (int, float)) and not isinstance(value, bool):
                        metrics[metric] = float(value)
                        source = f"{step}/{name}"
    return metrics, source


def labels_from(property_files: dict[str, dict[str, Any]], source: str | None) -> dict[str, Any] | None:
    """The `labels` section (label -> class index, positive class, decision threshold) of the report the
    metrics came from; None for regression or when the evaluation did not run."""
    step, _, name = (source or "").partition("/")
    labels = (property_files.get(step, {}).get(name) or {}).get("labels")
    return labels if isinstance(labels, dict) and isinstance(labels.get("mapping"), dict) else None


def labels_line(labels: dict[str, Any] | None) -> str | None:
    """`legit=0, fraud=1 (positive class fraud, decision threshold 0.5)` for people."""
    if not labels:
        return None
    mapping = ", ".join(f"{label}={index}" for label, index in labels["mapping"].items())
    if labels.get("positive_class") is None:
        return mapping
    threshold = labels.get("decision_threshold")
    return f"{mapping} (positive class {labels['positive_class']}, decision threshold {threshold})"


def _facts(result: ExecutionResult, key: str) -> tuple[str | None, Any]:
    for step in result.steps:
        if key in step.facts:
            return step.name, step.facts[key]
    return None, None


def drift_result(result: ExecutionResult) -> dict[str, Any]:
    name, drift = _facts(result, "drift")
    if drift is not None:
        return {"step": name, **drift}
    check = next((s for s in result.steps if s.type == "QualityCheck"), None)
    if check is None:
        return {"status": "no check in this pipeline"}
    if check.status == "Failed":
        return {"step": check.name, "status": "failed", "reason": check.failure_reason}
    return {"step": check.name, "status": "not run"}


def spot_result(result: ExecutionResult) -> dict[str, Any]:
    name, spot = _facts(result, "spot")
    training = next((s for s in result.steps if s.type == "Training"), None)
    if training is None:
        return {"simulated": False, "note": "no training step"}
    arguments = result.properties.get(training.name, {})
    base = {"step": training.name, "managed_spot": bool(arguments.get("EnableManagedSpotTraining")),
            "training_seconds": arguments.get("TrainingTimeInSeconds")}
    if spot is None:
        note = f"cache hit from {training.cache_hit_from}" if training.cache_hit_from else None
        return {"simulated": False, **base, **({"note": note} if note else {})}
    return {"simulated": True, **base, **spot}


def input_data(result: ExecutionResult, store: ObjectStore, step: str) -> dict[str, Any] | None:
    """Row counts and placeholder counts from the features.json `step` (Preprocess) wrote; None when it
    wrote none (it failed, or did not run)."""
    from pipelines.engine.processing import output_specs
    from pipelines.engine.store import StoreError

    for _, uri, _ in output_specs(result.properties.get(step) or {}):
        try:
            schema = store.read_json(f"{uri.rstrip('/')}/{FEATURES_FILE}")
        except StoreError:
            continue
        if isinstance(schema, dict) and isinstance(schema.get("row_counts"), dict):
            return {"step": step, "row_counts": schema["row_counts"],
                    "missing_placeholders": schema.get("missing_placeholders") or {}}
    return None


def build_summary(result: ExecutionResult, *, run_dir: Path, extra: dict[str, Any] | None = None,
                  primary_metric: str | None = None, threshold_parameter: str | None = None,
                  data: dict[str, Any] | None = None) -> dict[str, Any]:
    metrics, metrics_source = metrics_from(result.property_files)
    _, registered = _facts(result, "registered")
    _, unchanged = _facts(result, "unchanged")  # RegisterModel found the same model already registered
    gate = next(({"step": s.name, "outcome": s.facts["outcome"], "conditions": s.facts.get("conditions", [])}
                 for s in result.steps if "outcome" in s.facts), None)
    summary: dict[str, Any] = {
        "pipeline": result.execution.pipeline_name,
        "execution_id": result.execution.execution_id,
        "execution_arn": result.execution.arn,
        "status": result.status,
        "failed_step": result.failed_step,
        "failure_reason": result.failure_reason,
        "started": result.execution.started.isoformat(timespec="seconds"),
        "duration_seconds": round(result.seconds, 3),
        "parameters": result.parameters,
        "steps": [s.to_dict() for s in result.steps],
        "data": data,  # input_data(): rows read, dropped, per split; placeholders read as missing
        "metrics": metrics,
        "metrics_source": metrics_source,
        "labels": labels_from(result.property_files, metrics_source),
        "primary_metric": None,
        "gate": gate,
        "registered": None if registered is None else
        {k: registered[k] for k in ("group", "version", "status", "arn", "model_data_url")},
        "model_unchanged": None if unchanged is None else
        {k: unchanged[k] for k in ("group", "version", "status", "arn", "message")},
        "drift": drift_result(result),
        "spot": spot_result(result),
        "run_dir": str(run_dir),
        **(extra or {}),
    }
    if primary_metric:
        summary["primary_metric"] = {"name": primary_metric, "value": metrics.get(primary_metric),
                                     "threshold": result.parameters.get(threshold_parameter or "")}
    return summary


def write_summary(summary: dict[str, Any], *paths: Path | None) -> None:
    text = json.dumps(summary, indent=2, default=str) + "\n"
    for path in paths:
        if path is not None:
            path = Path(path)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)


def _drift_line(drift: dict[str, Any]) -> str:
    status = drift.get("status")
    baseline = (drift.get("baseline") or {}).get("source", "")
    if status == "skipped":
        return "skipped" + (" (new baseline registered)" if drift.get("register_new_baseline") else "")
    if status == "passed":
        return f"passed against {baseline}"
    if status == "violations":
        checks = sorted({f"{v['feature_name']} ({v['constraint_check_type']})" for v in drift.get("violations", [])})
        shown = ", ".join(checks[:6]) + (f" and {len(checks) - 6} more" if len(checks) > 6 else "")
        return f"{len(checks)} violation(s) against {baseline}: {shown}"
    if status == "failed":
        return f"failed: {drift.get('reason')}"
    return str(status)


def _spot_line(spot: dict[str, Any]) -> str | None:
    if not spot.get("simulated"):
        return None
    if not spot.get("interrupted"):
        return spot.get("note") or "interruption requested but not triggered"
    return (f"interrupted at round {spot['interrupted_at_round']}, resumed from checkpoint round "
            f"{spot['resumed_from_round']}: {spot['rounds_saved']} rounds saved, {spot['rounds_redone']} redone "
            f"({spot['attempts']} attempts)")


def data_line(data: dict[str, Any] | None) -> str | None:
    """`rows: 2000 read, 21 dropped (missing target), 1385 train, ...; placeholders read as missing: age 37`."""
    if not data:
        return None
    counts = data.get("row_counts") or {}
    line = "rows: " + ", ".join(f"{counts[key]} {label}" for key, label in ROW_COUNTS if key in counts)
    placeholders = data.get("missing_placeholders") or {}
    if placeholders:
        line += "; placeholders read as missing: " + ", ".join(f"{k} {v}" for k, v in placeholders.items())
    return line


def _step_lines(steps: list[dict[str, Any]]) -> list[str]:
    width = max([len(s["name"]) for s in steps] + [4])
    lines = []
    for step in steps:
        took = format_seconds(step["duration_seconds"]) if step["duration_seconds"] is not None else "-"
        note = ""
        if step["cache"]["hit"]:
            note = f"cache hit from {step['cache']['source_execution_id']}"
        elif step["status"] == "Failed" and step.get("failure_reason"):
            note = step["failure_reason"][:160]
        lines.append(f"  {step['name']:<{width}}  {step['status']:<10} {took:>7}  {note}".rstrip())
    return lines


def _registered_line(summary: dict[str, Any]) -> str:
    registered = summary.get("registered")
    if registered:
        return f"registered: {registered['group']} version {registered['version']} ({registered['status']})"
    unchanged = summary.get("model_unchanged")
    return "registered: nothing" + (f" ({unchanged['message']})" if unchanged else "")


def _result_lines(summary: dict[str, Any]) -> list[str]:
    """Data, metrics, labels and gate: what the run found, each line only when there is something to say."""
    from pipelines.finops.savings import cost_line

    gate = summary.get("gate")
    labels = labels_line(summary.get("labels"))
    spot = _spot_line(summary["spot"])
    candidates = [
        data_line(summary.get("data")),
        "metrics: " + ", ".join(f"{k}={v:.4f}" for k, v in summary["metrics"].items()) if summary["metrics"] else "",
        f"labels: {labels}" if labels else "",
        f"gate {gate['step']}: {'; '.join(gate['conditions'])} -> {gate['outcome']}" if gate else "",
        _registered_line(summary),
        f"drift check: {_drift_line(summary['drift'])}",
        f"spot: {spot}" if spot else "",
        cost_line(summary.get("cost")) or "",
    ]
    return [line for line in candidates if line]


def human_summary(summary: dict[str, Any]) -> str:
    lines = [f"pipeline {summary['pipeline']} execution {summary['execution_id']} (local): {summary['status']} "
             f"in {format_seconds(summary['duration_seconds'])}"]
    lines += _step_lines(summary["steps"]) + _result_lines(summary)
    for key, label in (("summary_path", "summary"), ("report_path", "report")):
        if summary.get(key):
            lines.append(f"{label}: {summary[key]}")
    return "\n".join(lines)
