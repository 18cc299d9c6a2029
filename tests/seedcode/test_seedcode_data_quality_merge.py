"""Mergeable statistics: per-shard accumulators merged equal one pass over the whole data (issue 16),
bit for bit, for the statistics, the drift counts and the violations; also across the instances of a
processing job, merged over XGBoost's collective."""

from __future__ import annotations

import json
import math
import os
import pickle
import shutil
import socket
import subprocess
import sys
import threading
import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import data_quality as dq
import numpy as np
import pandas as pd
import pytest
import stats_reading
from seedcode_harness import SEEDCODE
from stats_accumulators import SKETCH_ITEMS, ExactSum, StatsAccumulator, collect_statistics
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


class _Collective:
    """``cluster.merged_over_hosts`` for workers in threads: every worker's part, through pickles as between
    instances, merged in rank order, on every worker."""

    def __init__(self, size: int) -> None:
        self.parts: list[bytes] = [b""] * size
        self.result = b""
        self.barrier = threading.Barrier(size, timeout=60)

    def merged(self, rank: int, part: Any) -> Any:
        self.parts[rank] = pickle.dumps(part)
        self.barrier.wait()
        if rank == 0:
            merged = pickle.loads(self.parts[0])
            for blob in self.parts[1:]:
                merged.merge(pickle.loads(blob))
            self.result = pickle.dumps(merged)
        self.barrier.wait()
        return pickle.loads(self.result)


def _sharded(shards: list[pd.DataFrame], baseline: dict | None = None) -> tuple[dict, StatsAccumulator, list]:
    """What N workers do: the statistics (and drift counts) of their own shard, every pass's results merged over
    all workers in shard order."""
    collective, results = _Collective(len(shards)), [None] * len(shards)

    def work(rank: int) -> None:
        def merge(part: Any) -> Any:
            return collective.merged(rank, part)

        drift = DriftAccumulator(baseline) if baseline is not None else None
        statistics = collect_statistics(lambda: iter([shards[rank]]), [drift] if drift else [], merge)
        results[rank] = statistics, merge(drift) if drift is not None else None

    with ThreadPoolExecutor(len(shards)) as pool:
        list(pool.map(work, range(len(shards))))
    statistics, drift = results[0]
    return statistics.to_statistics(), statistics.summary, [drift]


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


@dataclass(frozen=True)
class ShardedFiles:
    """A shifted dataset as one Parquet file and as 4 shard files, a baseline, and the one-pass outputs."""

    folder: Path
    base: tuple[Path, Path]
    violations: list[dict]

    @property
    def shards(self) -> list[Path]:
        return sorted((self.folder / "shards").iterdir())

    def same_files(self, output: Path) -> bool:
        names = ("statistics.json", "constraints.json", "constraint_violations.json")
        return all((output / name).read_bytes() == (self.folder / "one_pass" / name).read_bytes() for name in names)


@pytest.fixture(scope="module")
def sharded_files(whole: pd.DataFrame, baseline: tuple[dict, dict],
                  tmp_path_factory: pytest.TempPathFactory) -> ShardedFiles:
    folder = tmp_path_factory.mktemp("sharded_files")
    statistics, constraints = baseline
    (folder / "base").mkdir()
    (folder / "base" / "statistics.json").write_text(json.dumps(statistics))
    (folder / "base" / "constraints.json").write_text(json.dumps(constraints))
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "overflow encountered")  # shift_dataset's nanstd of tiny_and_huge
        shifted = pd.concat([shift_dataset(whole.iloc[:3000], seed=2, target_column=None), whole.iloc[3000:]],
                            ignore_index=True).astype({"mixed_code": str})
    shifted.to_parquet(folder / "whole.parquet", index=False)
    (folder / "shards").mkdir()
    for i, shard in enumerate(_shards(shifted, 4, seed=2)):
        shard.to_parquet(folder / "shards" / f"part-{i}.parquet", index=False)
    base = (folder / "base" / "statistics.json", folder / "base" / "constraints.json")
    return ShardedFiles(folder, base, dq.analyze(folder / "whole.parquet", folder / "one_pass", *base))


def test_sharded_files_read_in_small_chunks_write_the_same_files(
    sharded_files: ShardedFiles, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(stats_reading, "CHUNK_ROWS", 777)
    found_shards = dq.analyze(sharded_files.folder / "shards", tmp_path / "out_shards", *sharded_files.base)

    assert found_shards == sharded_files.violations
    assert {v["constraint_check_type"] for v in found_shards} >= {"baseline_drift_check"}
    assert sharded_files.same_files(tmp_path / "out_shards")


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


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_the_instances_of_a_processing_job_merge_over_the_collective_into_the_one_pass_files(
    sharded_files: ShardedFiles, tmp_path: Path
) -> None:
    """data_quality.py on two processing instances (resourceconfig.json names them), each with its
    ShardedByS3Key share of the files, joined by XGBoost's tracker on loopback: the first writes the
    same statistics, constraints and violations as one pass over all the files."""
    hosts, port = ["algo-1", "algo-2"], _free_port()
    for index, shard in enumerate(sharded_files.shards):
        share = tmp_path / hosts[index % 2] / "processing" / "input" / "data"  # ShardedByS3Key: dealt in key order
        share.mkdir(parents=True, exist_ok=True)
        shutil.copy(shard, share)
    statistics, constraints = sharded_files.base
    processes = []
    for host in hosts:
        root = tmp_path / host
        (root / "config").mkdir()
        (root / "config" / "resourceconfig.json").write_text(json.dumps({"current_host": host, "hosts": hosts}))
        env = {key: value for key, value in os.environ.items() if not key.startswith("SM_")}
        env.update(SM_OPT_ML_ROOT=str(root), ML_FACTORY_TRACKER_HOST="127.0.0.1", ML_FACTORY_TRACKER_PORT=str(port),
                   ML_FACTORY_COLLECTIVE_TIMEOUT="60")
        processes.append(subprocess.Popen(
            [sys.executable, str(SEEDCODE / "data_quality.py"), "--dataset", str(root / "processing/input/data"),
             "--output", str(root / "processing/output"), "--baseline-statistics", str(statistics),
             "--baseline-constraints", str(constraints)],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    outputs = [p.communicate(timeout=120) for p in processes]
    results = [(p.returncode, *output) for p, output in zip(processes, outputs, strict=True)]

    for code, _, stderr in results:
        assert code == 0, stderr
    assert "profiled its share" in results[1][1] and not (tmp_path / "algo-2" / "processing" / "output").exists()
    assert sharded_files.same_files(tmp_path / "algo-1" / "processing" / "output")
