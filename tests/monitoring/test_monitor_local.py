"""`python -m pipelines.monitor run --local`: a stage's capture checked against the deployed package's
drift-check baselines, with the registry, endpoint record and capture laid out as deploy --local leaves them."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import data_quality as dq  # the step's own code makes the baselines (tests/conftest.py puts seedcode/ on the path)
import numpy as np
import pandas as pd
import pytest

from pipelines import monitor
from pipelines.config import load_config
from pipelines.engine.registry import LocalRegistry
from pipelines.engine.store import ObjectStore
from pipelines.monitoring.local import LocalStage
from pipelines.serving import names
from pipelines.serving.capture import Invocation, capture_record
from pipelines.wiring import offline_wiring

REPO_ROOT = Path(__file__).resolve().parents[2]
HOUR = datetime(2026, 5, 1, 12, tzinfo=UTC)
BATCH = 50  # rows per captured request


def features(rows: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"age": rng.normal(40, 10, rows).round(1), "balance": rng.exponential(500, rows).round(2),
                         "plan": rng.choice(["basic", "plus", "pro"], rows, p=[0.5, 0.3, 0.2])})


def make_stage(tmp_path: Path, tracking: bool, definitions: Path | None = None) -> LocalStage:
    """A project whose dev endpoint serves version 1, registered with baselines of `features(3000, 1)`; with
    `definitions`, its state shares that folder of built definitions (the SDK builds each config's once)."""
    text = (REPO_ROOT / "pyproject.toml").read_text()
    off = '\n[tool.ml-factory.tracking]\nuri = "none"\n'
    (tmp_path / "pyproject.toml").write_text(text if tracking else text + off)
    config = load_config("dev", tmp_path / "pyproject.toml")
    state = tmp_path / ".ml-factory"
    if definitions is not None:
        state.mkdir()
        (state / "definitions").symlink_to(definitions, target_is_directory=True)
    statistics = dq.compute_statistics(features(3000, 1))
    store = ObjectStore(state / "s3")
    uris = {"Statistics": "s3://local-bucket/baseline/statistics.json",
            "Constraints": "s3://local-bucket/baseline/constraints.json"}
    for kind, content in (("Statistics", statistics), ("Constraints", dq.suggest_constraints(statistics))):
        store.path(uris[kind]).parent.mkdir(parents=True, exist_ok=True)
        store.path(uris[kind]).write_text(json.dumps(content))
    group = offline_wiring(config.project, names.REGISTRY_STAGE, config.account_id, config.aws_region,
                           "local").model_package_group
    registry = LocalRegistry(state / "registry.db", region=config.aws_region, account_id=config.account_id)
    baselines = {"ModelDataQuality": {kind: {"ContentType": "application/json", "S3Uri": uri}
                                      for kind, uri in uris.items()}}
    package = registry.register(group, status="Approved", drift_check_baselines=baselines)
    endpoint = state / "endpoints" / "dev"
    endpoint.mkdir(parents=True)
    (endpoint / "spec.json").write_text(json.dumps({"version": package.version, "package_arn": package.arn}))
    return LocalStage(config, state, "dev")


@pytest.fixture(scope="session")
def definitions(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("definitions")


@pytest.fixture
def stage(tmp_path: Path, definitions: Path) -> LocalStage:
    """The stage with MLflow tracking off (each MLflow log costs a second)."""
    return make_stage(tmp_path, tracking=False, definitions=definitions)


@pytest.fixture
def tracked_stage(tmp_path: Path, definitions: Path) -> LocalStage:
    return make_stage(tmp_path, tracking=True, definitions=definitions)


def capture(stage: LocalStage, frame: pd.DataFrame, when: datetime = HOUR, as_json: bool = False) -> None:
    """`frame` as captured requests of BATCH rows each, in SageMaker's hour-folder layout."""
    folder = stage.capture_root() / when.strftime("%Y/%m/%d/%H")
    folder.mkdir(parents=True, exist_ok=True)
    lines = []
    for start in range(0, len(frame), BATCH):
        part = frame.iloc[start:start + BATCH]
        body = (part.to_json(orient="records") if as_json else part.to_csv(header=False, index=False)).encode()
        kind = "application/json" if as_json else "text/csv"
        invocation = Invocation(when.timestamp() + start / 1000, body, kind, b"0.5\n" * len(part), "text/csv")
        lines.append(json.dumps(capture_record(invocation)))
    with (folder / f"{len(list(folder.iterdir()))}.jsonl").open("a") as handle:
        handle.write("\n".join(lines) + "\n")


def monitor_run(stage: LocalStage, capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, str, str]:
    argv = ["run", "--local", "--stage", "dev", "--config", str(stage.state_root.parent / "pyproject.toml"),
            "--until", (HOUR + timedelta(hours=1)).isoformat(), *extra]
    code = monitor.run_cli(monitor.main, argv)
    out, err = capsys.readouterr()
    return code, out, err


def violations_of(out: str) -> set[tuple[str, str]]:
    path = next(Path(line) for line in out.splitlines() if line.endswith("constraint_violations.json"))
    return {(v["feature_name"], v["constraint_check_type"]) for v in json.loads(path.read_text())["violations"]}


def test_traffic_like_the_baseline_has_no_violations_and_writes_the_three_files(stage, capsys) -> None:
    capture(stage, features(1000, 2))
    code, out, err = monitor_run(stage, capsys, "--fail-on-drift")
    assert code == 0, err
    assert violations_of(out) == set()
    for name in ("statistics.json", "constraint_violations.json", "report.html"):
        assert any(line.endswith(name) and Path(line).is_file() for line in out.splitlines()), out
    assert "1000 rows" in out and "0 violation(s)" in out


def shifted(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.assign(age=frame["age"] + 15)


def new_category(frame: pd.DataFrame) -> pd.DataFrame:
    plan = frame["plan"].copy()
    plan.iloc[::20] = "enterprise"  # 5 %: outside the domain, yet within the drift threshold
    return frame.assign(plan=plan)


def nulls(frame: pd.DataFrame) -> pd.DataFrame:
    balance = frame["balance"].copy()
    balance.iloc[::3] = np.nan
    return frame.assign(balance=balance)


def strings(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.assign(age="age-" + frame["age"].astype(str))


def test_a_drifted_window_exits_3_with_fail_on_drift_and_names_its_violation(stage, capsys) -> None:
    capture(stage, shifted(features(1000, 3)))
    code, out, err = monitor_run(stage, capsys, "--fail-on-drift")
    assert violations_of(out) == {("age", "baseline_drift_check")}
    assert code == monitor.EXIT_DRIFT, err
    assert "age: baseline_drift_check: " in out


def check_in_process(stage: LocalStage, output: Path, monkeypatch: pytest.MonkeyPatch) -> dict:
    """The DriftCheck step's code run in this process over the stage's capture (the test above runs it as the
    CLI does, in the monitoring pipeline on the local engine); its drift_summary.json."""
    import drift_check

    served, store = stage.served(), stage.store()
    monkeypatch.setenv("ML_FACTORY_LOCAL_S3", str(store.root))
    assert drift_check.main([
        "--capture-uri", stage.capture_uri(), "--state-uri", f"s3://{stage.wiring.artifact_bucket}/state",
        "--window-end", (HOUR + timedelta(hours=1)).isoformat(), "--endpoint", "e", "--schedule", "s",
        "--baseline-statistics", str(store.path(served.statistics_uri)), "--output", str(output),
        "--baseline-constraints", str(store.path(served.constraints_uri))]) == 0
    return json.loads((output / drift_check.SUMMARY_FILE).read_text())


@pytest.mark.parametrize(("change", "as_json", "expected"), [
    (new_category, False, {("plan", "categorical_values_check")}),
    (nulls, False, {("balance", "completeness_check")}),
    (strings, False, {("age", "data_type_check")}),
    (lambda f: f.drop(columns="balance"), True, {("balance", "missing_column_check")}),
    (lambda f: f.assign(channel="web"), True, {("channel", "extra_column_check")}),
], ids=["new-category", "null-spike", "turned-to-strings", "dropped-column", "added-column"])
def test_each_change_gives_exactly_its_violation(stage, tmp_path, monkeypatch, change, as_json, expected) -> None:
    capture(stage, change(features(1000, 3)), as_json=as_json)
    summary = check_in_process(stage, tmp_path / "out", monkeypatch)
    assert {(v["feature_name"], v["constraint_check_type"]) for v in summary["violations"]} == expected


def test_malformed_lines_are_counted_shown_and_skipped(stage, capsys) -> None:
    capture(stage, features(500, 4))
    hour = stage.capture_root() / HOUR.strftime("%Y/%m/%d/%H")
    with (hour / "0.jsonl").open("a") as handle:
        handle.write("{not json\n")
        handle.write(json.dumps(capture_record(Invocation(HOUR.timestamp(), b"1,2\n", "text/csv", b"", "text/csv")))
                     + "\n")
    code, out, _ = monitor_run(stage, capsys)
    assert code == 0
    assert "2 malformed input(s) skipped" in out and "500 rows" in out
    report = next(Path(line) for line in out.splitlines() if line.endswith("report.html")).read_text()
    assert "{not json" in report and "2 fields, the baseline has 3" in report


def test_the_watermark_makes_the_next_run_read_only_new_traffic(stage, capsys) -> None:
    capture(stage, features(400, 5))
    assert monitor_run(stage, capsys)[0] == 0
    code, out, _ = monitor_run(stage, capsys)  # same --until: nothing new
    assert code == 0
    assert out.strip() == f"no captured data between {(HOUR + timedelta(hours=1)).isoformat()} and " \
                          f"{(HOUR + timedelta(hours=1)).isoformat()}"


def test_an_empty_window_says_so_and_exits_0(stage, capsys) -> None:
    code, out, _ = monitor_run(stage, capsys, "--since", "2026-05-01T10:00:00Z")
    assert code == 0
    assert out.strip() == "no captured data between 2026-05-01T10:00:00+00:00 and 2026-05-01T13:00:00+00:00"


def test_a_package_without_baselines_is_named_in_one_error_line(stage, capsys) -> None:
    registry = LocalRegistry(stage.state_root / "registry.db", region=stage.config.aws_region,
                             account_id=stage.config.account_id)
    group = offline_wiring(stage.config.project, names.REGISTRY_STAGE, stage.config.account_id,
                           stage.config.aws_region, "local").model_package_group
    bare = registry.register(group, status="Approved")
    record = stage.state_root / "endpoints" / "dev" / "spec.json"
    record.write_text(json.dumps({**json.loads(record.read_text()), "package_arn": bare.arn, "version": 2}))
    capture(stage, features(100, 6))
    code, out, err = monitor_run(stage, capsys)
    assert code == 2 and out == ""
    assert err.startswith(f"error: package {group} version 2 ") and "has no drift-check baselines" in err
    assert len(err.strip().splitlines()) == 1



def test_report_loads_in_chromium_with_charts_and_the_drifted_feature_first(stage, capsys, chromium) -> None:
    capture(stage, shifted(features(1000, 7)).assign(plan="basic"))  # age shifted, plan collapsed
    code, out, _ = monitor_run(stage, capsys)
    assert code == 0
    report = next(Path(line) for line in out.splitlines() if line.endswith("report.html"))
    assert (report.parent / "summary.png").read_bytes().startswith(b"\x89PNG")
    visit = chromium.open(report)
    assert visit.problems() == []
    assert visit.broken_images() == []
    charts = [image["figure"] for image in visit.images()]
    assert charts[0] == "summary" and sorted(charts[1:]) == ["age", "balance", "plan"]
    drifted = {row[0] for row in violations_of(out)}
    assert drifted == {"age", "plan"} and set(charts[1:3]) == drifted  # the drifted features come first
    first_violation = visit.page.inner_text("#violations tr:nth-child(2) td:first-child")
    assert first_violation in drifted
    assert "balance" not in visit.text("#violations")


def test_each_drift_run_is_an_mlflow_run_with_a_metric_per_feature(tracked_stage, capsys) -> None:
    stage = tracked_stage
    import mlflow

    from pipelines.tracking.local_run import local_target

    capture(stage, shifted(features(600, 8)))
    code, _, err = monitor_run(stage, capsys)
    assert code == 0 and "tracking: MLflow run " in err
    target = local_target(stage.config, stage.state_root)
    mlflow.set_tracking_uri(target.uri)
    try:
        runs = mlflow.search_runs(experiment_names=[target.experiment], filter_string="tags.trigger = 'drift'")
    finally:
        mlflow.set_tracking_uri("")
    assert len(runs) == 1
    assert runs["metrics.drift.age"][0] > 0.3 and runs["metrics.drift.violations"][0] == 1.0
    assert runs["tags.stage"][0] == "dev" and runs["tags.violations_report"][0].endswith("constraint_violations.json")


def test_quoted_csv_rows_are_read_like_plain_ones(stage, capsys) -> None:
    frame = features(600, 9)
    folder = stage.capture_root() / HOUR.strftime("%Y/%m/%d/%H")
    folder.mkdir(parents=True)
    body = frame.to_csv(header=False, index=False, quoting=1).encode()  # every field quoted
    (folder / "q.jsonl").write_text(json.dumps(capture_record(Invocation(HOUR.timestamp(), body, "text/csv",
                                                                          b"", "text/csv"))) + "\n")
    code, out, _ = monitor_run(stage, capsys)
    assert code == 0 and "600 rows" in out and "malformed" not in out
    assert violations_of(out) == set()


@pytest.mark.parametrize(("argv", "message"), [
    (["run", "--stage", "dev"], "run checks the local endpoint's capture: pass --local (in the cloud the stage's "
     "monitoring pipeline runs on a schedule: python -m pipelines.monitor publish --stage S)"),
    (["run", "--local", "--since", "2026-05-02T00:00:00Z", "--until", "2026-05-01T00:00:00Z"],
     "--since 2026-05-02T00:00:00+00:00 is not before --until 2026-05-01T00:00:00+00:00"),
])
def test_bad_requests_are_one_error_line(argv, message, capsys) -> None:
    assert monitor.run_cli(monitor.main, argv) == 2
    assert capsys.readouterr().err == f"error: {message}\n"


def test_a_window_of_only_malformed_input_writes_nothing(stage, capsys) -> None:
    folder = stage.capture_root() / HOUR.strftime("%Y/%m/%d/%H")
    folder.mkdir(parents=True)
    bad = Invocation(HOUR.timestamp(), b"1,2\n", "text/csv", b"", "text/csv")
    (folder / "x.jsonl").write_text("{oops\n" + json.dumps(capture_record(bad)) + "\n")
    code, out, _ = monitor_run(stage, capsys)
    assert code == 0
    assert out == ("no captured data between the beginning and 2026-05-01T13:00:00+00:00 (2 malformed input(s) "
                   "skipped)\n")
    assert not (stage.folder / "runs").exists() and stage.watermark() is None


def test_each_run_writes_model_monitor_named_cloudwatch_metrics(stage, capsys) -> None:
    nulls_every_third = nulls(shifted(features(900, 10)))
    capture(stage, nulls_every_third)
    code, out, _ = monitor_run(stage, capsys)
    assert code == 0
    folder = next(Path(line) for line in out.splitlines() if line.endswith("report.html")).parent
    content = json.loads((folder / "cloudwatch_metrics.json").read_text())
    assert content["Namespace"] == "aws/sagemaker/Endpoints/data-metrics"
    values = {m["MetricName"]: m["Value"] for m in content["MetricData"]}
    assert values["feature_baseline_drift_age"] > 0.3 > values["feature_baseline_drift_balance"]
    assert values["feature_non_null_balance"] == pytest.approx(2 / 3) and values["feature_non_null_age"] == 1.0
    endpoint = names.endpoint_name(stage.config.project, "dev")
    assert all(m["Dimensions"] == [{"Name": "Endpoint", "Value": endpoint},
                                   {"Name": "MonitoringSchedule", "Value": f"{endpoint}-drift"}]
               for m in content["MetricData"])
