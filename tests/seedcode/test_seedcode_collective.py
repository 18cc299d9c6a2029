"""Training on two hosts as one XGBoost collective, on loopback: the real RabitTracker, one shard per host,
the host list SageMaker gives each host; quality, a killed host and the resume after it."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xgboost as xgb
from seedcode_harness import SEEDCODE, run_preprocess, write_input
from sklearn.datasets import load_breast_cancer
from sklearn.metrics import roc_auc_score

HOSTS = ["algo-1", "algo-2"]
PREPROCESS = ["--target-column", "target", "--problem-type", "binary_classification", "--positive-class", "1"]
TRAIN = ["--max_depth", "3", "--eta", "0.2", "--nthread", "1", "--checkpoint_every", "5"]


def _preprocess(root: Path, *extra: str) -> Path:
    cancer = load_breast_cancer(as_frame=True).frame
    write_input(root, cancer.rename(columns=lambda c: c.replace(" ", "_")), "data.parquet")
    return run_preprocess(root, [*PREPROCESS, *extra])


@pytest.fixture(scope="module")
def splits(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("collective")
    return {"one": _preprocess(base / "one"), "two": _preprocess(base / "two", "--train-shards", "2")}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _host_root(base: Path, output: Path, train_files: list[Path]) -> Path:
    root = base / "opt_ml"
    (root / "input" / "data" / "train").mkdir(parents=True)
    for path in train_files:
        shutil.copy(path, root / "input" / "data" / "train")
    shutil.copytree(output / "validation", root / "input" / "data" / "validation")
    return root


def _start(root: Path, host: str, port: int, rounds: int) -> subprocess.Popen[str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("SM_")}
    env.update(SM_OPT_ML_ROOT=str(root), SM_HOSTS=json.dumps(HOSTS), SM_CURRENT_HOST=host,
               ML_FACTORY_TRACKER_HOST="127.0.0.1", ML_FACTORY_TRACKER_PORT=str(port),
               ML_FACTORY_COLLECTIVE_TIMEOUT="60")
    return subprocess.Popen([sys.executable, str(SEEDCODE / "train.py"), "--num_round", str(rounds), *TRAIN],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _two_hosts(tmp_path: Path, output: Path) -> list[Path]:
    shards = sorted((output / "train").glob("part-*.parquet"))
    return [_host_root(tmp_path / host, output, [shard]) for host, shard in zip(HOSTS, shards, strict=True)]


def _finish(processes: list[subprocess.Popen[str]]) -> list[tuple[int, str, str]]:
    outputs = [p.communicate(timeout=180) for p in processes]
    return [(p.returncode, *output) for p, output in zip(processes, outputs, strict=True)]


def _test_auc(model_dir: Path, output: Path) -> float:
    booster = xgb.Booster()
    booster.load_model(bytearray((model_dir / "xgboost-model").read_bytes()))
    test = pd.read_parquet(output / "test" / "test.parquet")
    matrix = xgb.DMatrix(test.iloc[:, 1:].to_numpy(np.float32), feature_names=booster.feature_names)
    return float(roc_auc_score(test.iloc[:, 0], booster.predict(matrix)))


def test_two_hosts_train_one_model_as_good_as_one_host(splits: dict[str, Path], tmp_path: Path) -> None:
    single = _host_root(tmp_path / "single", splits["one"], [splits["one"] / "train" / "train.parquet"])
    alone = subprocess.run([sys.executable, str(SEEDCODE / "train.py"), "--num_round", "30", *TRAIN],
                           env={**{k: v for k, v in os.environ.items() if not k.startswith("SM_")},
                                "SM_OPT_ML_ROOT": str(single)}, capture_output=True, text=True, timeout=180)
    assert alone.returncode == 0, alone.stderr
    roots = _two_hosts(tmp_path, splits["two"])
    port = _free_port()
    results = _finish([_start(root, host, port, 30) for root, host in zip(roots, HOSTS, strict=True)])

    for code, _, stderr in results:
        assert code == 0, stderr
    assert "round=30/30" in results[1][1]  # the second host trained every round with the first
    assert (roots[0] / "model" / "xgboost-model").is_file() and not (roots[1] / "model").exists()
    assert [p.name for p in (roots[0] / "checkpoints").iterdir()] and not (roots[1] / "checkpoints").exists()
    one_host, two_hosts = _test_auc(single / "model", splits["one"]), _test_auc(roots[0] / "model", splits["two"])
    assert two_hosts == pytest.approx(one_host, abs=0.02), (one_host, two_hosts)


def _wait_for_checkpoint(directory: Path, leader: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 120
    while not (directory.is_dir() and any(directory.glob("*.ubj"))):
        assert leader.poll() is None and time.monotonic() < deadline, "the first host never wrote a checkpoint"
        time.sleep(0.05)


def test_a_killed_host_fails_the_job_clearly_and_the_rerun_resumes(splits: dict[str, Path], tmp_path: Path) -> None:
    roots = _two_hosts(tmp_path, splits["two"])
    port = _free_port()
    processes = [_start(root, host, port, 200_000) for root, host in zip(roots, HOSTS, strict=True)]
    _wait_for_checkpoint(roots[0] / "checkpoints", processes[0])
    processes[1].kill()
    (leader_code, _, leader_err), _ = _finish(processes)

    assert leader_code != 0
    assert "host algo-1 of 2 lost the training collective" in leader_err
    assert "retry the pipeline execution to resume" in leader_err
    assert "Traceback" not in leader_err
    assert not (roots[0] / "model" / "xgboost-model").exists()

    saved = max(int(p.name.split(".")[1]) for p in (roots[0] / "checkpoints").glob("*.ubj"))
    shutil.copytree(roots[0] / "checkpoints", roots[1] / "checkpoints")  # SageMaker restores the S3 prefix on each
    rounds = saved + 5
    port = _free_port()  # a new job: the killed one's tracker port may linger in TIME_WAIT
    results = _finish([_start(root, host, port, rounds) for root, host in zip(roots, HOSTS, strict=True)])
    for code, stdout, stderr in results:
        assert code == 0, stderr
        assert f"resumed from checkpoint round={saved}" in stdout and f"round={saved + 1}/{rounds}" in stdout
    booster = xgb.Booster()
    booster.load_model(bytearray((roots[0] / "model" / "xgboost-model").read_bytes()))
    assert booster.num_boosted_rounds() == rounds
