"""Training data as one shard per training instance: the rows, the schema and a host's view of its shard."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pandas as pd
import pytest
from seedcode_harness import run_preprocess, run_script, write_input

from pipelines.sample_data import make_churn_dataset

ARGS = ["--target-column", "churned", "--problem-type", "binary_classification"]


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    return make_churn_dataset(1200, seed=5, problem_type="binary_classification")


def _preprocess(root: Path, frame: pd.DataFrame, *extra: str) -> Path:
    write_input(root, frame, "data.parquet")
    return run_preprocess(root, [*ARGS, *extra])


def _digests(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_shards_hold_exactly_the_one_file_rows_in_order(frame: pd.DataFrame, tmp_path: Path) -> None:
    single = _preprocess(tmp_path / "one", frame)
    sharded = _preprocess(tmp_path / "three", frame, "--train-shards", "3")

    assert sorted(p.name for p in (sharded / "train").iterdir()) == [
        "part-00000.parquet", "part-00001.parquet", "part-00002.parquet"]  # one S3 object per instance, no schema
    parts = [pd.read_parquet(p) for p in sorted((sharded / "train").glob("part-*.parquet"))]
    assert max(len(p) for p in parts) - min(len(p) for p in parts) <= 1
    whole = pd.read_parquet(single / "train" / "train.parquet")
    pd.testing.assert_frame_equal(pd.concat(parts, ignore_index=True), whole)
    for name in ("validation", "test", "baseline"):  # everything but the train channel is unchanged
        assert _digests(sharded / name) == _digests(single / name)


def test_one_shard_is_the_unsharded_layout_byte_for_byte(frame: pd.DataFrame, tmp_path: Path) -> None:
    default = _preprocess(tmp_path / "a", frame)
    assert _digests(default) == _digests(_preprocess(tmp_path / "b", frame, "--train-shards", "1"))


def test_more_shards_than_training_rows_is_refused_naming_the_setting(tmp_path: Path) -> None:
    small = make_churn_dataset(40, seed=5, problem_type="binary_classification")
    root = tmp_path / "opt_ml"
    write_input(root, small)
    result = run_script("preprocess.py", [*ARGS, "--train-shards", "500"], root)
    assert result.returncode == 2
    assert "cannot fill 500 shards" in result.stderr and "instance_count" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (root / "processing" / "output" / "train").exists()


def test_a_host_with_one_shard_trains_with_the_schema_from_validation(frame: pd.DataFrame, tmp_path: Path) -> None:
    output = _preprocess(tmp_path / "prep", frame, "--train-shards", "2")
    root = tmp_path / "opt_ml"
    (root / "input" / "data" / "train").mkdir(parents=True)
    shutil.copy(output / "train" / "part-00001.parquet", root / "input" / "data" / "train")  # ShardedByS3Key's share
    shutil.copytree(output / "validation", root / "input" / "data" / "validation")

    result = run_script("train.py", ["--num_round", "3", "--checkpoint_every", "3"], root)

    assert result.returncode == 0, result.stderr
    assert f"rows train={len(pd.read_parquet(output / 'train' / 'part-00001.parquet'))} " in result.stdout
    assert (root / "model" / "features.json").read_bytes() == (output / "validation" / "features.json").read_bytes()
