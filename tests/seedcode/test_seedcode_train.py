"""seedcode/train.py: Spot checkpoint resume gives the same model; corrupt checkpoints; the CLI."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import feature_schema
import numpy as np
import pandas as pd
import pytest
import train
import xgboost as xgb
from seedcode_harness import SM_ENV, TEST_PARAMS, run_script


class Interrupted(Exception):
    """Stands in for a Spot interruption."""


class InterruptAfter(xgb.callback.TrainingCallback):
    def __init__(self, rounds: int) -> None:
        super().__init__()
        self.rounds = rounds

    def after_iteration(self, model: xgb.Booster, epoch: int, evals_log: dict) -> bool:
        if model.num_boosted_rounds() >= self.rounds:
            raise Interrupted(f"interrupted after round {self.rounds}")
        return False


def _splits(output: Path) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, dict]:
    schema = feature_schema.load_schema(output / "train")
    frames = [pd.read_parquet(output / name / f"{name}.parquet") for name in ("train", "validation", "test")]
    return (*frames, schema)


def _params(schema: dict) -> dict:
    return train.training_params(dict(TEST_PARAMS), schema["problem_type"])


def _predict(booster: xgb.Booster, frame: pd.DataFrame, schema: dict) -> np.ndarray:
    return booster.predict(train.split_xy(frame, schema, None))


@pytest.mark.parametrize(("problem_type", "every", "resumed_at", "threads"), [
    ("binary_classification", 1, 37, 1),
    ("binary_classification", 10, 30, 1),
    ("binary_classification", 10, 30, 2),  # multi-threaded histograms stay deterministic
    ("regression", 10, 30, 1),
])
def test_interrupted_run_resumes_to_the_identical_model(
    prepared: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str],
    problem_type: str, every: int, resumed_at: int, threads: int,
) -> None:
    train_df, valid_df, test_df, schema = _splits(prepared[problem_type])
    params = {**_params(schema), "nthread": threads}
    straight = train.train(train_df, valid_df, params, 100, tmp_path / "straight", every, schema=schema)

    checkpoints = tmp_path / "spot"
    with pytest.raises(Interrupted):
        train.train(train_df, valid_df, params, 100, checkpoints, every, callbacks=[InterruptAfter(37)], schema=schema)
    kept = [rounds for rounds, _ in train.list_checkpoints(checkpoints)]
    assert kept == ([37, 36] if every == 1 else [30, 20])
    capsys.readouterr()

    resumed = train.train(train_df, valid_df, params, 100, checkpoints, every, schema=schema)

    log = capsys.readouterr().out
    assert f"[ml-factory] resumed from checkpoint round={resumed_at}\n" in log
    assert f"[ml-factory] round={resumed_at + 1}/100 " in log and f"round={resumed_at}/100 " not in log
    assert resumed.num_boosted_rounds() == 100
    assert np.array_equal(_predict(straight, test_df, schema), _predict(resumed, test_df, schema))
    assert straight.save_raw("json") == resumed.save_raw("json")
    assert [rounds for rounds, _ in train.list_checkpoints(checkpoints)] == [100, 100 - every]
    assert not list(checkpoints.glob(".*"))  # no temporary files left behind


def test_training_history_covers_every_round_across_a_spot_resume(prepared: dict[str, Path], tmp_path: Path) -> None:
    train_df, valid_df, _, schema = _splits(prepared["binary_classification"])
    params = _params(schema)
    straight = train.train(train_df, valid_df, params, 40, tmp_path / "straight", 10, schema=schema, eval_train=True)
    with pytest.raises(Interrupted):
        train.train(train_df, valid_df, params, 40, tmp_path / "spot", 10, callbacks=[InterruptAfter(27)],
                    schema=schema, eval_train=True)
    resumed = train.train(train_df, valid_df, params, 40, tmp_path / "spot", 10, schema=schema, eval_train=True)

    histories = []
    for name, booster in (("straight", straight), ("resumed", resumed)):
        train.save_model(booster, tmp_path / name / "model", prepared["binary_classification"] / "train")
        histories.append(json.loads((tmp_path / name / "model" / train.HISTORY_FILE).read_text()))
        assert train.HISTORY_ATTRIBUTE not in (tmp_path / name / "model" / train.MODEL_FILE).read_text()
    assert histories[0] == histories[1]  # rounds 1-20 from the checkpoint, 21-40 from the resumed job
    history = histories[1]
    assert (history["first_round"], history["rounds"]) == (1, 40)
    assert sorted(history["metrics"]) == ["train", "validation"]
    assert [len(values) for values in history["metrics"]["validation"].values()] == [40]
    assert history["metrics"]["train"]["auc"][-1] > history["metrics"]["train"]["auc"][0]


def test_corrupt_newest_checkpoint_falls_back_to_the_previous_one(
    prepared: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    train_df, valid_df, test_df, schema = _splits(prepared["binary_classification"])
    params = _params(schema)
    checkpoints = tmp_path / "checkpoints"
    with pytest.raises(Interrupted):
        train.train(train_df, valid_df, params, 40, checkpoints, 10, callbacks=[InterruptAfter(25)], schema=schema)
    newest = train.checkpoint_path(checkpoints, 20)
    newest.write_bytes(newest.read_bytes()[: newest.stat().st_size // 2])  # torn write
    capsys.readouterr()

    booster, rounds = train.resume_point(checkpoints, 40)
    assert rounds == 10 and booster.num_boosted_rounds() == 10
    assert "warning: discarding checkpoint xgboost-checkpoint.20.ubj: it is unreadable" in capsys.readouterr().out
    assert not newest.exists()  # so it cannot crowd out the new run's checkpoints

    resumed = train.train(train_df, valid_df, params, 40, checkpoints, 10, schema=schema)
    straight = train.train(train_df, valid_df, params, 40, tmp_path / "straight", 10, schema=schema)
    assert "resumed from checkpoint round=10" in capsys.readouterr().out
    assert np.array_equal(_predict(straight, test_df, schema), _predict(resumed, test_df, schema))


def test_checkpoint_of_another_setup_is_not_resumed(
    prepared: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    train_df, valid_df, _, schema = _splits(prepared["binary_classification"])
    params = _params(schema)
    train.train(train_df, valid_df, params, 10, tmp_path, 5, schema=schema)

    for changed_params, changed_data in (({**params, "eta": 0.3}, train_df), (params, train_df.iloc[:-1])):
        capsys.readouterr()
        train.train(changed_data, valid_df, changed_params, 10, tmp_path, 5, schema=schema)
        log = capsys.readouterr().out
        assert "discarding checkpoint xgboost-checkpoint.10.ubj: it was written for different data" in log
        assert "no checkpoint found, starting at round 0" in log

    capsys.readouterr()
    train.train(train_df.iloc[:-1], valid_df, {**params, "nthread": 2, "eval_metric": "logloss"}, 12, tmp_path, 5,
                schema=schema)
    assert "resumed from checkpoint round=10" in capsys.readouterr().out  # threads and metrics do not matter


def test_no_checkpoint_starts_at_round_zero_and_logs_each_round(
    prepared: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    train_df, valid_df, _, schema = _splits(prepared["binary_classification"])
    (tmp_path / "xgboost-checkpoint.7.ubj").write_bytes(b"not a model")

    train.train(train_df, valid_df, _params(schema), 12, tmp_path, 5, schema=schema, eval_train=True)

    lines = capsys.readouterr().out.splitlines()
    assert "[ml-factory] no checkpoint found, starting at round 0" in lines
    rounds = [line for line in lines if line.startswith("[ml-factory] round=")]
    assert len(rounds) == 12
    assert re.fullmatch(r"\[ml-factory\] round=12/12 train-auc=0\.\d{6} validation-auc=0\.\d{6}", rounds[-1])
    assert [line for line in lines if "checkpoint round=" in line] == [
        f"[ml-factory] checkpoint round={n}" for n in (5, 10, 12)
    ]


def test_training_params_defaults_and_overrides() -> None:
    params = train.training_params(
        {"num_round": 10, "checkpoint_every": 5, "sagemaker_program": "train.py", "eval_metric": "auc,logloss",
         "max_depth": 3},
        "binary_classification",
    )
    assert params["objective"] == "binary:logistic" and params["eval_metric"] == ["auc", "logloss"]
    assert params["tree_method"] == "hist" and params["nthread"] >= 1 and params["max_depth"] == 3
    assert "num_round" not in params and "sagemaker_program" not in params
    assert train.training_params({}, "regression")["objective"] == "reg:squarederror"


def test_cli_trains_writes_model_and_resumes_when_rerun(
    prepared: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "opt_ml"
    output = prepared["binary_classification"]
    for channel in ("train", "validation"):
        shutil.copytree(output / channel, root / "input" / "data" / channel)
    config = root / "input" / "config"
    config.mkdir(parents=True)
    # SageMaker hands hyperparameters over as strings, some JSON-encoded
    (config / "hyperparameters.json").write_text(json.dumps(
        {"num_round": "15", "max_depth": "4", "eta": "0.3", "checkpoint_every": "5", "objective": '"binary:logistic"',
         "sagemaker_program": '"train.py"'}
    ))

    first = run_script("train.py", ["--num_round", "20", "--max_depth", "3"], root)

    assert first.returncode == 0, first.stderr
    assert "[ml-factory] round=20/20 validation-auc=" in first.stdout
    assert "[ml-factory] checkpoint round=20" in first.stdout
    assert "max_depth=3" in first.stdout and "eta=0.3" in first.stdout
    model_dir = root / "model"
    booster = xgb.Booster()
    booster.load_model(bytearray((model_dir / "xgboost-model").read_bytes()))
    assert booster.num_boosted_rounds() == 20
    schema = json.loads((output / "train" / "features.json").read_text())
    assert json.loads((model_dir / "features.json").read_text()) == schema

    # a restarted job finds the final checkpoint and does not train again (in-process: imports are slow)
    for name in SM_ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SM_OPT_ML_ROOT", str(root))
    assert train.main(["--num_round", "20", "--max_depth", "3"]) == 0
    again = capsys.readouterr().out
    assert "resumed from checkpoint round=20" in again and "round=1/20" not in again
    assert (model_dir / "xgboost-model").read_bytes() == booster.save_raw("json")


def test_cli_without_num_round_exits_2(
    prepared: dict[str, Path], sm_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for channel in ("train", "validation"):
        shutil.copytree(prepared["regression"] / channel, sm_root / "input" / "data" / channel)

    assert train.main(["--max_depth", "3"]) == 2

    err = capsys.readouterr().err
    assert err == "error: hyperparameter num_round is required (the number of boosting rounds, e.g. 100)\n"
    assert (sm_root / "output" / "failure").read_text().startswith("hyperparameter num_round is required")


def test_cli_missing_channel_exits_2(sm_root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert train.main(["--num_round", "5"]) == 2
    assert "features.json not found" in capsys.readouterr().err
