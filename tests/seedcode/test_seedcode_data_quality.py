"""seedcode/data_quality.py: Model Monitor file shapes, no false alarms, drift and schema violations."""

from __future__ import annotations

import json
from pathlib import Path

import data_quality as dq
import numpy as np
import pandas as pd
import pytest
import stats_drift

from pipelines.sample_data import make_churn_dataset, shift_dataset, write_dataset


@pytest.fixture(scope="module")
def baseline_frame() -> pd.DataFrame:
    return make_churn_dataset(4000, seed=21).drop(columns="churned")


@pytest.fixture(scope="module")
def baseline_files(baseline_frame: pd.DataFrame, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """The baseline dataset (Parquet) and its statistics.json / constraints.json."""
    folder = tmp_path_factory.mktemp("baseline")
    dataset = write_dataset(baseline_frame, folder / "baseline.parquet")
    assert dq.analyze(dataset, folder / "out") == []
    return dataset, folder / "out" / "statistics.json", folder / "out" / "constraints.json"


def _violations(frame: pd.DataFrame, baseline_files: tuple[Path, Path, Path], tmp_path: Path) -> list[dict]:
    _, statistics, constraints = baseline_files
    dataset = write_dataset(frame, tmp_path / "current.csv")
    found = dq.analyze(dataset, tmp_path / "out", statistics, constraints)
    written = json.loads((tmp_path / "out" / "constraint_violations.json").read_text())
    assert written == {"violations": found}
    return found


def _checks(violations: list[dict]) -> set[tuple[str, str]]:
    return {(v["constraint_check_type"], v["feature_name"]) for v in violations}


def test_statistics_and_constraints_shape(baseline_files: tuple[Path, Path, Path]) -> None:
    _, statistics_path, constraints_path = baseline_files
    statistics = json.loads(statistics_path.read_text())
    constraints = json.loads(constraints_path.read_text())

    assert statistics["version"] == 0.0 and statistics["dataset"] == {"item_count": 4000}
    by_name = {f["name"]: f for f in statistics["features"]}
    assert {name: f["inferred_type"] for name, f in by_name.items() if name in (
        "sessions_last_7d", "spend_30d", "friends_count", "platform")} == {
        "sessions_last_7d": "Integral", "spend_30d": "Fractional", "friends_count": "Integral", "platform": "String"}

    numeric = by_name["avg_session_minutes"]["numerical_statistics"]
    assert set(numeric) == {"common", "mean", "sum", "std_dev", "min", "max", "distribution"}
    assert numeric["common"]["num_present"] + numeric["common"]["num_missing"] == 4000
    assert numeric["common"]["num_missing"] > 0
    values = make_churn_dataset(4000, seed=21)["avg_session_minutes"].dropna()
    assert numeric["mean"] == pytest.approx(values.mean()) and numeric["std_dev"] == pytest.approx(values.std(ddof=0))
    assert (numeric["min"], numeric["max"]) == (values.min(), values.max())
    kll = numeric["distribution"]["kll"]
    assert len(kll["buckets"]) == 10 and sum(b["count"] for b in kll["buckets"]) == numeric["common"]["num_present"]
    assert kll["buckets"][0]["lower_bound"] == numeric["min"] and kll["buckets"][-1]["upper_bound"] == numeric["max"]
    assert kll["sketch"]["parameters"] == {"c": 0.64, "k": 2048.0} and len(kll["sketch"]["data"][0]) == 2048

    text = by_name["country"]["string_statistics"]
    assert set(text) == {"common", "distinct_count", "distribution"} and text["distinct_count"] == 13
    assert sum(b["count"] for b in text["distribution"]["categorical"]["buckets"]) == text["common"]["num_present"]

    constraint = {c["name"]: c for c in constraints["features"]}
    assert constraint["sessions_last_7d"] == {
        "name": "sessions_last_7d", "inferred_type": "Integral", "completeness": 1.0,
        "num_constraints": {"is_non_negative": True},
    }
    assert constraint["subscription_tier"]["string_constraints"] == {"domains": ["basic", "free", "premium"]}
    assert constraint["friends_count"]["completeness"] == pytest.approx(values.size / 4000, abs=0.05)
    assert constraints["monitoring_config"] == {
        "evaluate_constraints": "Enabled",
        "emit_metrics": "Enabled",
        "datatype_check_threshold": 1.0,
        "domain_content_threshold": 1.0,
        "false_alarm_rate": 0.05,
        "multiple_testing": "holm",
        "distribution_constraints": {
            "perform_comparison": "Enabled",
            "comparison_threshold": 0.1,
            "comparison_method": "Robust",
            "categorical_comparison_threshold": 0.1,
            "categorical_drift_method": "LInfinity",
        },
    }


def test_dataset_against_itself_and_a_fresh_sample_has_no_violations(
    baseline_frame: pd.DataFrame, baseline_files: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    assert _violations(baseline_frame, baseline_files, tmp_path / "self") == []
    fresh = make_churn_dataset(2500, seed=99).drop(columns="churned")
    assert _violations(fresh, baseline_files, tmp_path / "fresh") == []


def test_shifted_dataset_raises_drift_violations(
    baseline_frame: pd.DataFrame, baseline_files: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    found = _violations(shift_dataset(baseline_frame, seed=5), baseline_files, tmp_path)

    drifted = {name for check, name in _checks(found) if check == "baseline_drift_check"}
    assert {"sessions_last_7d", "spend_30d", "days_since_last_login", "platform", "subscription_tier"} <= drifted
    assert all("Baseline drift distance" in v["description"] for v in found)


def test_schema_and_content_violations(
    baseline_frame: pd.DataFrame, baseline_files: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    current = baseline_frame.iloc[:2000].drop(columns="level").copy()
    current["favourite_colour"] = "blue"
    current["platform"] = current["platform"].where(current.index % 10 != 0, "smart-fridge")
    current["sessions_last_7d"] = current["sessions_last_7d"].astype(object).where(current.index % 50 != 0, "many")
    current.loc[current.index % 4 == 0, "win_rate"] = np.nan

    checks = _checks(_violations(current, baseline_files, tmp_path))

    assert ("missing_column_check", "level") in checks
    assert ("extra_column_check", "favourite_colour") in checks
    assert ("categorical_values_check", "platform") in checks
    assert ("data_type_check", "sessions_last_7d") in checks
    assert ("completeness_check", "win_rate") in checks
    assert not any(name in ("country", "spend_30d", "purchases_30d") for _, name in checks)


def test_numeric_distance_is_the_largest_cdf_gap() -> None:
    baseline = pd.DataFrame({"x": np.arange(1000, dtype="float64")})
    stats = dq.compute_statistics(baseline)["features"][0]["numerical_statistics"]

    shifted = np.sort(np.arange(1000, dtype="float64") + 250)
    assert dq.numeric_distance(stats, shifted) == pytest.approx(0.25, abs=0.002)
    assert dq.numeric_distance(stats, np.arange(1000, dtype="float64")) == 0.0


def test_baseline_cdf_reads_multi_level_kll_sketches() -> None:
    # Model Monitor's sketches keep compactor levels whose items weigh 2**level
    numeric = {"distribution": {"kll": {"buckets": [], "sketch": {"data": [[1.0, 2.0], [3.0], [4.0]]}}}}
    cdf = stats_drift.baseline_cdf(numeric, np.array([1.0, 2.0, 3.0, 4.0]))
    np.testing.assert_allclose(cdf, np.array([1, 2, 4, 8]) / 8)


def test_cli_headerless_csv_and_fail_on_violations(
    baseline_frame: pd.DataFrame, baseline_files: tuple[Path, Path, Path], tmp_path: Path,
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    _, statistics, constraints = baseline_files
    captured = tmp_path / "capture"
    captured.mkdir()
    shift_dataset(baseline_frame.iloc[:1500], seed=2).to_csv(captured / "part-0.csv", header=False, index=False)
    args = ["--dataset", str(captured), "--output", str(tmp_path / "out"),
            "--baseline-statistics", str(statistics), "--baseline-constraints", str(constraints), "--no-header"]

    monkeypatch.setenv("SM_OPT_ML_ROOT", str(tmp_path / "opt_ml"))

    assert dq.main([*args, "--fail-on-violations"]) == 3

    out, err = capsys.readouterr()
    assert err.startswith("error: ") and "data-quality violation(s)" in err and err.count("\n") == 1
    assert "[ml-factory] violation baseline_drift_check platform:" in out
    violations = json.loads((tmp_path / "out" / "constraint_violations.json").read_text())["violations"]
    assert violations and not {"missing_column_check", "extra_column_check"} & {
        v["constraint_check_type"] for v in violations}
    assert (tmp_path / "opt_ml" / "processing" / "output" / "failure").is_file()
    assert dq.main(args) == 0  # without the flag, violations do not fail the run


def test_missing_dataset_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch) -> None:
    monkeypatch.setenv("SM_OPT_ML_ROOT", str(tmp_path))
    assert dq.main(["--dataset", str(tmp_path / "nope"), "--output", str(tmp_path / "out")]) == 2
    assert capsys.readouterr().err.startswith("error: dataset ")
