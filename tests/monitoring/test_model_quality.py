"""Model quality in `python -m pipelines.monitor run --local`: ground truth in SageMaker's format, keyed by the
caller's InferenceId (else the capture's eventId), merged with the captured predictions and checked against the
gate the served package passed."""

from __future__ import annotations

import io
import json
import tarfile
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score
from test_monitor_local import HOUR, features, make_stage, monitor_run

from pipelines import monitor
from pipelines.config import MetricConfig
from pipelines.engine.registry import LocalRegistry
from pipelines.errors import UserError
from pipelines.monitoring.ground_truth import package_gate
from pipelines.monitoring.local import LocalStage
from pipelines.serving import names
from pipelines.serving.capture import Invocation, capture_record
from pipelines.wiring import offline_wiring

ROWS = 400
SCHEMA = {"feature_names": ["age", "balance", "plan"], "feature_kinds": {"age": "numeric", "balance": "numeric",
                                                                          "plan": "categorical"},
          "target_column": "churned", "problem_type": "binary_classification",
          "label_mapping": {"no": 0, "yes": 1}, "positive_class": "yes"}


def _put(stage: LocalStage, uri: str, content: bytes) -> None:
    path = stage.store_path(uri)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)


def _archive() -> bytes:
    """A model.tar.gz with the features.json model quality reads (labels and problem type)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        content = json.dumps(SCHEMA).encode()
        info = tarfile.TarInfo("features.json")
        info.size = len(content)
        tar.addfile(info, io.BytesIO(content))
    return buffer.getvalue()


def serve_scored_package(stage: LocalStage, metadata: dict[str, str]) -> None:
    """Register version 2 (model data, evaluation.json, the gate in its metadata) and deploy it."""
    registry = LocalRegistry(stage.state_root / "registry.db", region=stage.config.aws_region,
                             account_id=stage.config.account_id)
    group = offline_wiring(stage.config.project, names.REGISTRY_STAGE, stage.config.account_id,
                           stage.config.aws_region, "local").model_package_group
    first = registry.list_versions(group)[0]
    model, evaluation = "s3://local-bucket/v2/model.tar.gz", "s3://local-bucket/v2/evaluation.json"
    _put(stage, model, _archive())
    _put(stage, evaluation, json.dumps({"labels": {"decision_threshold": 0.5}}).encode())
    metrics = {"ModelQuality": {"Statistics": {"ContentType": "application/json", "S3Uri": evaluation}}}
    package = registry.register(group, status="Approved", model_data_url=model, model_metrics=metrics,
                                drift_check_baselines=first.drift_check_baselines, metadata=metadata)
    (stage.state_root / "endpoints" / "dev" / "spec.json").write_text(
        json.dumps({"version": package.version, "package_arn": package.arn}))


@pytest.fixture
def scored(tmp_path: Path) -> LocalStage:
    stage = make_stage(tmp_path, tracking=False)
    serve_scored_package(stage, {"primary_metric": "auc=0.91", "metric_threshold": "0.7"})
    return stage


@dataclass(frozen=True)
class Served:
    """What a window's callers sent and know: the id to label each request by, its true label, the prediction."""

    keys: list[str]
    truth: list[str]  # "yes" / "no"
    probability: np.ndarray

    def labels(self) -> dict[str, str]:
        return dict(zip(self.keys, self.truth, strict=True))


def serve(stage: LocalStage, skill: float, seed: int = 1) -> Served:
    """ROWS one-row requests answered by a model of the given skill (1: perfect, 0: a coin). Every other caller
    sends an InferenceId (labelled by it); the others are labelled by the capture's eventId."""
    rng = np.random.default_rng(seed)
    truth = rng.random(ROWS) < 0.3
    probability = np.clip(skill * truth + (1 - skill) * rng.random(ROWS) + rng.normal(0, 0.3, ROWS), 0, 1)
    rows = features(ROWS, seed).to_csv(header=False, index=False).splitlines()
    folder = stage.capture_root() / HOUR.strftime("%Y/%m/%d/%H")
    folder.mkdir(parents=True, exist_ok=True)
    keys = []
    with (folder / "capture.jsonl").open("w") as handle:
        for index, (row, p) in enumerate(zip(rows, probability, strict=True)):
            inference_id = f"order-{index}" if index % 2 else None
            invocation = Invocation(HOUR.timestamp() + index, row.encode(), "text/csv", repr(float(p)).encode(),
                                    "text/csv", inference_id=inference_id)
            record = capture_record(invocation)
            keys.append(inference_id or record["eventMetadata"]["eventId"])
            handle.write(json.dumps(record) + "\n")
    return Served(keys, ["yes" if t else "no" for t in truth], probability)


def write_labels(stage: LocalStage, labels: dict[str, str], extra_lines: list[str] = ()) -> Path:
    """Ground truth as a team uploads it: an hour folder of the day after, one JSON line per request."""
    folder = stage.ground_truth_root() / (HOUR + timedelta(days=1)).strftime("%Y/%m/%d/%H")
    folder.mkdir(parents=True, exist_ok=True)
    lines = [json.dumps({"groundTruthData": {"data": label, "encoding": "CSV"}, "eventMetadata": {"eventId": key},
                         "eventVersion": "0"}) for key, label in labels.items()]
    (folder / "labels.jsonl").write_text("\n".join([*lines, *extra_lines]) + "\n")
    return folder


def quality_line(out: str) -> str:
    return next(line for line in out.splitlines() if line.startswith("model quality: "))


def run_folder(out: str) -> Path:
    return next(Path(line) for line in out.splitlines() if line.endswith("report.html")).parent


def test_labels_merged_by_inference_or_event_id_give_the_metrics_and_count_what_does_not_fit(scored,
                                                                                          capsys) -> None:
    served = serve(scored, skill=0.5)
    labels = served.labels()
    labels[served.keys[3]] = "maybe"  # not a class of the model
    labels.update({"order-elsewhere-1": "yes", "order-elsewhere-2": "no"})  # requests outside this window
    write_labels(scored, labels, ["{not json", json.dumps({"eventMetadata": {"eventId": "x"}})])

    code, out, err = monitor_run(scored, capsys, "--fail-on-drift")

    assert code == 0, err
    kept = [i for i in range(ROWS) if i != 3]
    expected = roc_auc_score([served.truth[i] == "yes" for i in kept], served.probability[kept])
    assert 0.7 < expected < 0.99
    assert quality_line(out) == (
        f"model quality: auc {expected:.4f} over {ROWS - 1} labelled row(s) meets the gate auc >= 0.7 the package "
        "passed (registry metadata metric_threshold); 1 row(s) skipped, 2 label(s) without a capture in this "
        "window, 2 bad label line(s) skipped")
    folder = run_folder(out) / "model_quality"
    statistics = json.loads((folder / "statistics.json").read_text())
    assert statistics["dataset"]["item_count"] == ROWS - 1
    assert statistics["binary_classification_metrics"]["auc"]["value"] == pytest.approx(expected, abs=1e-12)
    assert set(statistics["binary_classification_metrics"]) >= {"auc", "accuracy", "f1", "precision", "recall",
                                                               "confusion_matrix"}
    assert json.loads((folder / "constraints.json").read_text())["binary_classification_constraints"] == {
        "auc": {"threshold": 0.7, "comparison_operator": "LessThanThreshold"}}
    assert json.loads((folder / "constraint_violations.json").read_text()) == {"violations": []}
    merged = [json.loads(line) for line in (folder / "merged.jsonl").read_text().splitlines()]
    assert len(merged) == ROWS and {"captureData", "groundTruthData", "eventMetadata"} <= set(merged[0])
    report = (run_folder(out) / "report.html").read_text()
    assert '<section id="model-quality" data-status="ok">' in report and "label &#x27;maybe&#x27;" in report


def test_a_metric_below_the_gate_is_a_violation(scored, capsys) -> None:
    write_labels(scored, serve(scored, skill=0.0).labels())  # a coin: auc about 0.5

    code, out, _ = monitor_run(scored, capsys, "--fail-on-drift")

    assert code == monitor.EXIT_DRIFT
    assert "model quality: violation: auc 0." in quality_line(out)
    violations = json.loads((run_folder(out) / "model_quality" / "constraint_violations.json").read_text())
    [violation] = violations["violations"]
    assert violation["metric_name"] == "auc" and violation["constraint_check_type"] == "LessThanThreshold"
    assert "was LessThanThreshold 0.7" in violation["description"]


def test_no_labels_for_the_window_is_said_not_an_error(scored, capsys) -> None:
    serve(scored, skill=0.8)
    code, out, _ = monitor_run(scored, capsys)
    assert code == 0
    assert quality_line(out) == f"model quality: no ground-truth labels under {scored.ground_truth_root()}"

    write_labels(scored, {"someone-else": "yes"})
    monitor_run_from_start = monitor_run(scored, capsys, "--since", HOUR.isoformat())
    assert monitor_run_from_start[0] == 0
    assert quality_line(monitor_run_from_start[1]) == ("model quality: no labels for this window's captured "
                                                       "requests (1 label(s) without a capture in this window)")


def test_the_gate_comes_from_the_registry_record_else_from_the_config() -> None:
    config_metric = MetricConfig("auc", 0.75)
    recorded = package_gate({"primary_metric": "auc=0.91", "metric_threshold": "0.7"},
                            {"labels": {"decision_threshold": 0.3}}, config_metric)
    assert (recorded.metric, recorded.threshold, recorded.registered_value, recorded.decision_threshold) == (
        "auc", 0.7, 0.91, 0.3)
    older = package_gate({"primary_metric": "auc=0.91"}, None, config_metric)
    assert (older.threshold, older.decision_threshold) == (0.75, 0.5) and "records none" in older.source
    assert package_gate({"primary_metric": "rmse=3.2", "metric_threshold": "5"}, None, config_metric).relation == "<="
    with pytest.raises(UserError, match="gated on rmse but records no threshold"):
        package_gate({"primary_metric": "rmse=3.2"}, None, config_metric)


def test_the_cloud_step_refuses_a_served_package_without_model_data(repo_config) -> None:
    from pipelines.monitoring.ground_truth import quality_parameters
    from pipelines.registry_model import PackageVersion

    package = PackageVersion("g", 3, "arn:aws:sagemaker:eu-west-1:111111111111:model-package/g/3", "Approved", "")
    with pytest.raises(UserError, match=r"package g version 3 has no model data, which model quality scores with; "
                                        r"deploy a package registered by a pipeline run, or set "
                                        r"\[tool.ml-factory.monitoring\] model_quality = false"):
        quality_parameters(package, "g version 3", repo_config)
