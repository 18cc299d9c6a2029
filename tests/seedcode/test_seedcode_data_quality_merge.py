"""Mergeable statistics: per-shard accumulators merged equal one pass over the whole data (issue 16),
bit for bit, for the statistics, the drift counts and the violations."""

from __future__ import annotations

import json
import math
import pickle
from fractions import Fraction
from pathlib import Path

import data_quality as dq
import numpy as np
import pandas as pd
import pytest
import stats_reading
from stats_accumulators import SKETCH_ITEMS, ExactSum, StatsAccumulator
from stats_drift import DriftAccumulator

from pipelines.sample_data import make_churn_dataset, shift_dataset


def _realish(rows: int, seed: int) -> pd.DataFrame:
    """Churn data (integers, fractions, missing values, categoricals) plus awkward columns."""
    frame = make_churn_dataset(rows, seed=seed).drop(columns="churned")
    rng = np.random.default_rng(seed)
    frame["is_vip"] = rng.random(rows) < 0.1
    mixed = rng.integers(0, 50, rows).astype(object)
    mixed[rng.random(rows) < 0.01] = "unknown"
    frame["mixed_code"] = mixed
    frame["heavy_tail"] = rng.pareto(1.5, rows) * 100 + np.where(rng.random(rows) < 0.001, 1e9, 0)
    frame["tiny_and_huge"] = rng.standard_normal(rows) * np.where(rng.random(rows) < 0.5, 1e-300, 1e300)
    frame["mostly_missing"] = np.where(rng.random(rows) < 0.97, np.nan, rng.standard_normal(rows))
    return frame


def _shards(frame: pd.DataFrame, count: int, seed: int) -> list[pd.DataFrame]:
    """``count`` contiguous shards of uneven sizes, in order."""
    cuts = np.sort(np.random.default_rng(seed).choice(np.arange(1, len(frame)), count - 1, replace=False))
    return [frame.iloc[start:stop] for start, stop in zip([0, *cuts], [*cuts, len(frame)], strict=True)]


def _sharded(shards: list[pd.DataFrame], baseline: dict | None = None) -> tuple[dict, StatsAccumulator, list]:
    """What N workers do: pass 1 per shard, merge (in data order, through pickles as between
    instances), pass 2 per shard on the merged pass 1, merge again."""
    firsts = []
    for shard in shards:
        first = StatsAccumulator()
        first.update(shard)
        firsts.append(pickle.loads(pickle.dumps(first)))
    merged = firsts[0]
    for first in firsts[1:]:
        merged.merge(first)
    seconds, drifts = [], []
    for shard in shards:
        second = merged.second_pass()
        second.update(shard)
        seconds.append(pickle.loads(pickle.dumps(second)))
        if baseline is not None:
            drift = DriftAccumulator(baseline)
            drift.update(shard)
            drifts.append(drift)
    statistics = seconds[0]
    for second in seconds[1:]:
        statistics.merge(second)
    for drift in drifts[1:]:
        drifts[0].merge(drift)
    return statistics.to_statistics(), merged, drifts


@pytest.fixture(scope="module")
def whole() -> pd.DataFrame:
    return _realish(9000, seed=3)


@pytest.fixture(scope="module")
def baseline(whole: pd.DataFrame) -> tuple[dict, dict]:
    statistics = dq.compute_statistics(_realish(5000, seed=4))
    return statistics, dq.suggest_constraints(statistics)


@pytest.mark.parametrize("shard_count", [2, 3, 7, 40])
def test_merged_shards_equal_one_pass(whole: pd.DataFrame, shard_count: int) -> None:
    one_pass = dq.compute_statistics(whole)

    merged, _, _ = _sharded(_shards(whole, shard_count, seed=shard_count))

    assert json.dumps(merged) == json.dumps(one_pass)  # bit for bit, in the same order
    by_name = {f["name"]: f for f in one_pass["features"]}
    assert by_name["mixed_code"]["inferred_type"] == "String"
    assert by_name["is_vip"]["inferred_type"] == "Integral"
    assert by_name["mostly_missing"]["numerical_statistics"]["common"]["num_missing"] > 8000
    numeric = by_name["spend_30d"]["numerical_statistics"]
    values = whole["spend_30d"].dropna().to_numpy()
    assert numeric["sum"] == math.fsum(values)  # the exact sum, correctly rounded
    assert numeric["mean"] == float(sum(map(Fraction, values)) / len(values))
    assert numeric["std_dev"] == pytest.approx(values.std(), rel=1e-13)
    extreme = by_name["tiny_and_huge"]["numerical_statistics"]
    assert 1e299 < extreme["std_dev"] < 1e301  # its squares would overflow a double unscaled


@pytest.mark.filterwarnings("ignore:overflow encountered")  # shift_dataset's nanstd of tiny_and_huge
@pytest.mark.parametrize("shard_count", [2, 5])
def test_merged_drift_counts_and_violations_equal_one_pass(
    whole: pd.DataFrame, baseline: tuple[dict, dict], shard_count: int
) -> None:
    current = pd.concat([shift_dataset(whole.iloc[:4000], seed=1, target_column=None), whole.iloc[4000:]],
                        ignore_index=True)
    statistics, constraints = baseline
    one_summary, one_drift = StatsAccumulator(), DriftAccumulator(statistics)
    one_summary.update(current)
    one_drift.update(current)
    one_violations = dq.check_constraints(one_summary, one_drift, constraints)

    _, merged_summary, drifts = _sharded(_shards(current, shard_count, seed=9), statistics)

    for name, counts in one_drift.numeric.items():
        np.testing.assert_array_equal(drifts[0].numeric[name].at_or_below, counts.at_or_below)
    assert dq.check_constraints(merged_summary, drifts[0], constraints) == one_violations
    assert {v["feature_name"] for v in one_violations if v["constraint_check_type"] == "baseline_drift_check"} >= {
        "sessions_last_7d", "spend_30d", "platform"}


def test_sharded_files_read_in_small_chunks_write_the_same_files(
    whole: pd.DataFrame, baseline: tuple[dict, dict], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    statistics, constraints = baseline
    (tmp_path / "base").mkdir()
    (tmp_path / "base" / "statistics.json").write_text(json.dumps(statistics))
    (tmp_path / "base" / "constraints.json").write_text(json.dumps(constraints))
    frame = whole.astype({"mixed_code": str})
    frame.to_parquet(tmp_path / "whole.parquet", index=False)
    for i, shard in enumerate(_shards(frame, 4, seed=2)):
        (tmp_path / "shards").mkdir(exist_ok=True)
        shard.to_parquet(tmp_path / "shards" / f"part-{i}.parquet", index=False)
    base = (tmp_path / "base" / "statistics.json", tmp_path / "base" / "constraints.json")

    found_whole = dq.analyze(tmp_path / "whole.parquet", tmp_path / "out_whole", *base)
    monkeypatch.setattr(stats_reading, "CHUNK_ROWS", 777)
    found_shards = dq.analyze(tmp_path / "shards", tmp_path / "out_shards", *base)

    assert found_shards == found_whole
    for name in ("statistics.json", "constraints.json", "constraint_violations.json"):
        assert (tmp_path / "out_shards" / name).read_bytes() == (tmp_path / "out_whole" / name).read_bytes()


def test_exact_sum_is_exact_and_order_free() -> None:
    rng = np.random.default_rng(5)
    values = np.concatenate([rng.standard_normal(3000) * 10.0 ** rng.integers(-300, 300, 3000),
                             [1e308, 1e308, -1e308, 5e-324, 2.0**-1074, 0.1, -0.1]])
    exact = sum(map(Fraction, values.tolist()), Fraction(0))
    pieces = ExactSum()
    for part in np.array_split(rng.permutation(values), 11):
        piece = ExactSum()
        piece.add(part)
        pieces.merge(piece)
    whole = ExactSum()
    whole.add(values)

    assert Fraction(whole.units, 2**1074) == exact and pieces.units == whole.units
    assert whole.value() == float(exact)


def test_small_columns_keep_every_value_in_the_sketch() -> None:
    frame = pd.DataFrame({"x": np.arange(SKETCH_ITEMS, dtype="float64")[::-1]})
    items = dq.compute_statistics(frame)["features"][0]["numerical_statistics"]["distribution"]["kll"]["sketch"]
    assert items["data"] == [list(np.arange(SKETCH_ITEMS, dtype="float64"))]
