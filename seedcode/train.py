"""Training step (SageMaker script mode): XGBoost on the preprocessed splits, resumable on Spot.

Inputs: the ``train`` and ``validation`` channels (``SM_CHANNEL_TRAIN`` / ``SM_CHANNEL_VALIDATION``
or ``<root>/input/data/<channel>``), each holding the preprocess step's Parquet and features.json.
Hyperparameters: ``SM_HPS`` or ``<root>/input/config/hyperparameters.json``, overridden by
``--name value`` arguments (SageMaker passes them both ways). ``num_round`` is required;
``checkpoint_every`` (default 10) sets how often a checkpoint is written; ``eval_train`` (default
false) adds the training-set metric to the per-round log; every other key is an xgboost parameter.
The objective follows features.json's problem type (multiclass: multi:softprob with num_class set
from its label_mapping).

Checkpoints go to ``<root>/checkpoints/xgboost-checkpoint.<round>.ubj`` (written atomically, newest
two kept); SageMaker syncs that folder to S3, so a Spot job restarted after an interruption
continues from the newest readable checkpoint of the same setup (data + hyperparameters
fingerprint) instead of round 0. The model is written to
``<model dir>/xgboost-model`` (xgboost JSON format) with features.json next to it, and the metric
of every round to ``<model dir>/training_history.json`` (the report's training curves). The history
travels inside each checkpoint (a booster attribute), so a resumed job still records every round.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import re
import shutil
import sys
import tempfile
import time
import weakref
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import xgboost as xgb

import cluster
import feature_schema
import sm_paths
from step_report import DataError, log, run_step

MODEL_FILE = "xgboost-model"
HISTORY_FILE = "training_history.json"
CHECKPOINT_PATTERN = re.compile(r"^xgboost-checkpoint\.(\d+)\.ubj$")
KEEP_CHECKPOINTS = 2
DEFAULT_CHECKPOINT_EVERY = 10
DEFAULT_OBJECTIVES = {"binary_classification": "binary:logistic", "multiclass_classification": "multi:softprob",
                      "regression": "reg:squarederror"}
DEFAULT_METRICS = {"binary_classification": "auc", "multiclass_classification": "mlogloss", "regression": "rmse"}
# hyperparameters that steer this script, not xgboost
SCRIPT_KEYS = ("num_round", "checkpoint_every", "eval_train")
# xgboost parameters that change speed or logging but not the trees
NEUTRAL_PARAMS = ("nthread", "n_jobs", "verbosity", "eval_metric")
BATCH_ROWS = 262_144  # rows quantized at a time (about 30 MB of float32 features at 30 features)
FINGERPRINT_ATTRIBUTE = "ml_factory_fingerprint"
HISTORY_ATTRIBUTE = "ml_factory_history"


# ---------------------------------------------------------------------------- checkpoints


def checkpoint_path(directory: Path, rounds: int) -> Path:
    return Path(directory) / f"xgboost-checkpoint.{rounds}.ubj"


def list_checkpoints(directory: Path) -> list[tuple[int, Path]]:
    """(rounds, path) of every checkpoint file in ``directory``, newest first."""
    directory = Path(directory)
    if not directory.is_dir():
        return []
    found = []
    for path in directory.iterdir():
        match = CHECKPOINT_PATTERN.match(path.name)
        if match and path.is_file():
            found.append((int(match.group(1)), path))
    return sorted(found, reverse=True)


def save_checkpoint(booster: xgb.Booster, directory: Path, rounds: int) -> Path:
    """Write the booster atomically (temp file + rename) and keep only the newest checkpoints.

    The rename keeps the S3 sync and a restarted job from ever seeing a half-written file. No fsync:
    a Spot interruption kills the process, not the page cache, and a lost instance loses its disk.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    final = checkpoint_path(directory, rounds)
    temporary = directory / f".{final.name}.tmp"
    with open(temporary, "wb") as handle:
        handle.write(booster.save_raw(raw_format="ubj"))
    os.replace(temporary, final)
    log(f"checkpoint round={rounds}")
    for _, old in list_checkpoints(directory)[KEEP_CHECKPOINTS:]:
        with contextlib.suppress(OSError):
            old.unlink()
    return final


def training_fingerprint(params: dict[str, Any], names: list[str], data_digest: str) -> str:
    """Identifies a training setup (tree-shaping parameters, feature names, the data's digest: its size,
    a sample of its rows and every label; ``SplitBatches.digest``).

    A checkpoint only resumes a run with the same fingerprint, so a checkpoint folder reused by a
    later pipeline execution (new data or hyperparameters) cannot leak an old model into it.
    """
    digest = hashlib.sha256()
    relevant = {key: params[key] for key in sorted(params) if key not in NEUTRAL_PARAMS}
    digest.update(json.dumps(relevant, sort_keys=True, default=str).encode())
    digest.update(json.dumps(list(names)).encode())
    digest.update(data_digest.encode())
    return digest.hexdigest()[:32]


def resume_point(
    directory: Path, num_round: int, fingerprint: str | None = None
) -> tuple[xgb.Booster | None, int]:
    """The newest usable checkpoint and its round count, or (None, 0).

    A checkpoint is usable when it loads, holds the rounds its name claims (at most ``num_round``)
    and, when ``fingerprint`` is given, was written for the same setup. Unusable ones are deleted
    so they cannot crowd out the new run's checkpoints.
    """
    for rounds, path in list_checkpoints(directory):
        problem = None
        booster = xgb.Booster()
        if rounds > num_round:
            problem = f"it holds {rounds} rounds, more than num_round={num_round}"
        else:
            try:
                booster.load_model(str(path))
                if booster.num_boosted_rounds() != rounds:
                    raise ValueError(f"it holds {booster.num_boosted_rounds()} rounds")
            except (xgb.core.XGBoostError, ValueError, OSError) as err:
                problem = f"it is unreadable ({(str(err).strip().splitlines() or [type(err).__name__])[0][:200]})"
            else:
                if fingerprint is not None and booster.attr(FINGERPRINT_ATTRIBUTE) != fingerprint:
                    problem = "it was written for different data or hyperparameters"
        if problem is None:
            return booster, rounds
        log(f"warning: discarding checkpoint {path.name}: {problem}")
        with contextlib.suppress(OSError):
            path.unlink()
    return None, 0


# ---------------------------------------------------------------------------- metric history


def history_of(booster: xgb.Booster | None) -> dict[str, Any] | None:
    """The metric history a checkpoint carries: {"first_round": n, "metrics": {data: {metric: [..]}}}."""
    text = booster.attr(HISTORY_ATTRIBUTE) if booster is not None else None
    if not text:
        return None
    try:
        history = json.loads(text)
        return history if isinstance(history.get("first_round"), int) and isinstance(history["metrics"], dict) else None
    except (ValueError, KeyError, AttributeError):
        return None


def extend_history(prior: dict[str, Any] | None, done: int, evals_log: dict) -> dict[str, Any]:
    """The history of rounds 1.. so far: a checkpoint's history up to round ``done`` plus this job's rounds.

    The prior part is kept only when it ends at ``done`` and has the same data sets and metrics
    (``eval_metric`` and ``eval_train`` may change between attempts); otherwise the history starts
    at round ``done + 1``.
    """
    current = {
        data: {metric: [float(v[0] if isinstance(v, tuple) else v) for v in values] for metric, values in by.items()}
        for data, by in evals_log.items()
    }
    continues = prior is not None and _history_length(prior) == done - prior["first_round"] + 1
    if continues and _series(prior["metrics"]) == _series(current):
        merged = {data: {m: prior["metrics"][data][m] + v for m, v in by.items()} for data, by in current.items()}
        return {"first_round": prior["first_round"], "metrics": merged}
    return {"first_round": done + 1, "metrics": current}


def _history_length(history: dict[str, Any]) -> int:
    lengths = {len(values) for by in history["metrics"].values() for values in by.values()}
    return lengths.pop() if len(lengths) == 1 else -1


def _series(metrics: dict[str, Any]) -> set[tuple[str, str]]:
    return {(data, metric) for data, by in metrics.items() for metric in by}


class RoundLogger(xgb.callback.TrainingCallback):
    """``[ml-factory] round=<n>/<total> train-auc=... validation-auc=...`` after every round."""

    def __init__(self, total: int) -> None:
        super().__init__()
        self.total = total

    def after_iteration(self, model: xgb.Booster, epoch: int, evals_log: dict) -> bool:
        metrics = []
        for data_name, by_metric in evals_log.items():
            for metric, values in by_metric.items():
                value = values[-1][0] if isinstance(values[-1], tuple) else values[-1]
                metrics.append(f"{data_name}-{metric}={float(value):.6f}")
        log(f"round={model.num_boosted_rounds()}/{self.total} {' '.join(metrics)}".rstrip())
        return False


class Checkpointer(xgb.callback.TrainingCallback):
    """Save the booster every ``every`` rounds and after the last round, with the metric history so far.

    ``prior`` is the history of the checkpoint this job resumed from (None at round 0) and
    ``done`` its round count; the saved history joins it to this job's rounds.
    """

    def __init__(self, directory: Path, every: int, total: int, fingerprint: str,
                 prior: dict[str, Any] | None = None, done: int = 0) -> None:
        super().__init__()
        self.directory = Path(directory)
        self.every = every
        self.total = total
        self.fingerprint = fingerprint
        self.prior = prior
        self.done = done
        self.evals_log: dict = {}
        self.saved = -1

    def _save(self, model: xgb.Booster) -> None:
        history = extend_history(self.prior, self.done, self.evals_log)
        model.set_attr(**{FINGERPRINT_ATTRIBUTE: self.fingerprint, HISTORY_ATTRIBUTE: json.dumps(history)})
        self.saved = model.num_boosted_rounds()
        if cluster.is_leader():  # every host holds the same model; one copy goes to the shared S3 prefix
            save_checkpoint(model, self.directory, self.saved)

    def after_iteration(self, model: xgb.Booster, epoch: int, evals_log: dict) -> bool:
        self.evals_log = evals_log
        rounds = model.num_boosted_rounds()
        if rounds % self.every == 0 or rounds == self.total:
            self._save(model)
        return False

    def after_training(self, model: xgb.Booster) -> xgb.Booster:
        if model.num_boosted_rounds() != self.saved:
            self._save(model)
        return model


# ---------------------------------------------------------------------------- training


def split_arrays(
    frame: pd.DataFrame, schema: dict[str, Any] | None, target_column: str | None
) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    """Features (float32, schema order), labels and the schema of a processed split (target first by default)."""
    target = target_column or (schema["target_column"] if schema else frame.columns[0])
    if target not in frame.columns:
        raise DataError(f"target column '{target}' missing from the training data; rerun the preprocess step")
    if schema is None:
        schema = {"feature_names": [c for c in frame.columns if c != target]}
    features = feature_schema.feature_matrix(frame, schema, "the training data")
    return features, frame[target].to_numpy(dtype=np.float32), schema


def split_xy(frame: pd.DataFrame, schema: dict[str, Any] | None, target_column: str | None) -> xgb.DMatrix:
    """A DMatrix from a processed split: the target column (first by default) and the features."""
    features, label, schema = split_arrays(frame, schema, target_column)
    return xgb.DMatrix(features, label=label, feature_names=feature_schema.xgboost_feature_names(schema))


Split = pd.DataFrame | list[Path]  # a processed split in memory, or its Parquet files


class SplitBatches(xgb.DataIter):
    """A processed split (a DataFrame, or its Parquet files read BATCH_ROWS rows at a time) as batches of
    encoded features for an ExtMemQuantileDMatrix, which quantizes them batch by batch into pages cached
    on disk under ``cache_prefix`` and reads them back page by page every round: neither the split nor its
    quantized matrix is held whole in memory. The first pass also digests the data for the checkpoint
    fingerprint: its size, every ``rows // 4096``-th row and every label."""

    def __init__(self, split: Split, schema: dict[str, Any], target_column: str | None) -> None:
        super().__init__(release_data=True, on_host=False)  # external_matrix sets cache_prefix
        self.split, self.schema, self.target = split, schema, target_column
        self.rows = len(split) if isinstance(split, pd.DataFrame) else sum(
            pq.ParquetFile(path).metadata.num_rows for path in split)
        self.step = max(1, self.rows // 4096)
        self._digest = hashlib.sha256(f"{self.rows}".encode())
        self._batches: Iterator[pd.DataFrame] | None = None
        self._passes = self._offset = 0

    @property
    def digest(self) -> str:
        return self._digest.hexdigest()

    def frames(self) -> Iterator[pd.DataFrame]:
        """The split's rows, BATCH_ROWS at a time."""
        if isinstance(self.split, pd.DataFrame):
            for start in range(0, max(self.rows, 1), BATCH_ROWS):
                yield self.split.iloc[start:start + BATCH_ROWS]
            return
        for path in self.split:
            for batch in pq.ParquetFile(path).iter_batches(batch_size=BATCH_ROWS):
                yield batch.to_pandas()

    def reset(self) -> None:
        self._batches = None

    def next(self, input_data: Callable[..., None]) -> bool:
        if self._batches is None:
            self._batches, self._offset = self.frames(), 0
            self._passes += 1
        frame = next(self._batches, None)
        if frame is None:
            return False
        features, label, _ = split_arrays(frame, self.schema, self.target)
        if self._passes == 1:
            self._digest.update(np.ascontiguousarray(features[(-self._offset) % self.step::self.step]).tobytes())
            self._digest.update(np.ascontiguousarray(label).tobytes())
        self._offset += len(features)
        input_data(data=features, label=label, feature_names=feature_schema.xgboost_feature_names(self.schema))
        return True


def external_matrix(batches: SplitBatches, options: dict[str, Any],
                    ref: xgb.DMatrix | None = None) -> tuple[xgb.DMatrix, SplitBatches]:
    """An ExtMemQuantileDMatrix whose pages go to a folder of their own (``scratch_dir``), removed once the
    matrix is freed (xgboost removes the pages themselves then, also when an error keeps it alive a while)."""
    folder = tempfile.mkdtemp(prefix="xgboost-cache-", dir=scratch_dir())
    batches.cache_prefix = os.path.join(folder, "pages")
    try:
        matrix = xgb.ExtMemQuantileDMatrix(batches, ref=ref, **options)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    weakref.finalize(matrix, shutil.rmtree, folder, True)
    return matrix, batches


def matrices(train_split: Split, valid_split: Split, params: dict[str, Any], schema: dict[str, Any],
             target_column: str | None) -> tuple[xgb.DMatrix, xgb.DMatrix, str]:
    """The training and validation matrices and the training data's digest. With ``hist`` (the default)
    xgboost's external memory, whatever the size: one path for small and large data, memory flat in the
    rows but for per-row training state (labels, gradients, the prediction cache), and the same trees as
    an in-memory QuantileDMatrix. Other tree methods need a DMatrix of the whole split."""
    if params.get("tree_method", "hist") == "hist":
        options = {key: params[key] for key in ("max_bin", "nthread") if key in params}
        dtrain, batches = external_matrix(SplitBatches(train_split, schema, target_column), options)
        dvalid, _ = external_matrix(SplitBatches(valid_split, schema, target_column), options, ref=dtrain)
        return dtrain, dvalid, batches.digest
    batches = SplitBatches(train_split, schema, target_column)
    frames = list(batches.frames())  # the whole split, as exact and approx need
    features, label, _ = split_arrays(pd.concat(frames) if len(frames) > 1 else frames[0], schema, target_column)
    whole = valid_split if isinstance(valid_split, pd.DataFrame) else pd.concat(map(pd.read_parquet, valid_split))
    names = feature_schema.xgboost_feature_names(schema)
    digest = hashlib.sha256(np.ascontiguousarray(features[::batches.step]).tobytes() + label.tobytes()).hexdigest()
    return xgb.DMatrix(features, label=label, feature_names=names), split_xy(whole, schema, target_column), digest


def train(
    train_df: Split,
    valid_df: Split,
    params: dict[str, Any],
    num_round: int,
    checkpoint_dir: Path,
    checkpoint_every: int = DEFAULT_CHECKPOINT_EVERY,
    callbacks: Iterable[xgb.callback.TrainingCallback] = (),
    schema: dict[str, Any] | None = None,
    target_column: str | None = None,
    eval_train: bool = False,
) -> xgb.Booster:
    """Train ``num_round`` rounds, resuming from the newest readable checkpoint in ``checkpoint_dir``.

    The splits are DataFrames or their Parquet files (``Split``). The validation metric is computed
    every round; the training-set metric only with ``eval_train`` (at 700k rows it makes training
    about 4x slower). Extra ``callbacks`` run after the logging and checkpoint callbacks of each round
    (tests use one that raises to simulate a Spot interruption).
    """
    if num_round < 1 or checkpoint_every < 1:
        raise DataError(f"num_round ({num_round}) and checkpoint_every ({checkpoint_every}) must be at least 1")
    if schema is None:  # a DataFrame without features.json: every column but the target (first) is a feature
        target = target_column or train_df.columns[0]
        schema = {"target_column": target, "feature_names": [c for c in train_df.columns if c != target]}
    dtrain, dvalid, data_digest = matrices(train_df, valid_df, params, schema, target_column)
    local = training_fingerprint(params, list(schema["feature_names"]), data_digest)
    fingerprint = cluster.shared_fingerprint(local)  # the same on every host of a collective
    booster, done = resume_point(Path(checkpoint_dir), num_round, fingerprint)
    if booster is None:
        log("no checkpoint found, starting at round 0")
    else:
        log(f"resumed from checkpoint round={done}")
    if done >= num_round:
        log(f"checkpoint already holds all {num_round} rounds; nothing left to train")
        return booster
    return xgb.train(
        params,
        dtrain,
        num_boost_round=num_round - done,
        evals=[(dtrain, "train"), (dvalid, "validation")] if eval_train else [(dvalid, "validation")],
        xgb_model=booster,
        verbose_eval=False,
        callbacks=[
            RoundLogger(num_round),
            Checkpointer(Path(checkpoint_dir), checkpoint_every, num_round, fingerprint, history_of(booster), done),
            *callbacks,
        ],
    )


def scratch_dir() -> Path | None:
    """Where the external-memory pages go: in a job, its storage volume (under /opt/ml; not the model or
    the output data, which SageMaker uploads); outside one, the system's temporary folder (None)."""
    if not sm_paths.root().is_dir():
        return None
    folder = sm_paths.opt_ml("output", "scratch")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def training_params(hyperparameters: dict[str, Any], problem_type: str, num_class: int | None = None) -> dict[str, Any]:
    """xgboost parameters from the hyperparameters: defaults by problem type, hist, all cores (SageMaker's
    SM_NUM_CPUS: the instance's; the local engine gives each of N host processes its share of the machine).

    Multiclass models get ``num_class`` (the classes in features.json) and must output probabilities
    (multi:softprob): evaluation and serving read one probability per class.
    """
    params = {
        key: value
        for key, value in hyperparameters.items()
        if key not in SCRIPT_KEYS and not key.startswith(("sagemaker_", "_")) and value is not None
    }
    params.setdefault("objective", DEFAULT_OBJECTIVES[problem_type])
    if problem_type == "multiclass_classification":
        multiclass_params(params, num_class)
    params.setdefault("eval_metric", DEFAULT_METRICS[problem_type])
    if isinstance(params["eval_metric"], str) and "," in params["eval_metric"]:
        params["eval_metric"] = [m.strip() for m in params["eval_metric"].split(",") if m.strip()]
    params.setdefault("tree_method", "hist")
    params.setdefault("nthread", int(os.environ.get("SM_NUM_CPUS") or os.cpu_count() or 1))
    return params


def multiclass_params(params: dict[str, Any], num_class: int | None) -> None:
    """Set num_class; refuse an objective or class count that would not give one probability per class."""
    if params["objective"] != "multi:softprob":
        raise DataError(f"hyperparameter objective={params['objective']} does not fit multiclass_classification; "
                        "remove it (the default multi:softprob gives the class probabilities evaluation and serving "
                        "need)")
    given = params.setdefault("num_class", num_class)
    if num_class is not None and given != num_class:
        raise DataError(f"hyperparameter num_class={given} differs from the {num_class} classes in features.json; "
                        "remove it (it is set from the data)")


def positive_int(hyperparameters: dict[str, Any], key: str, default: int | None) -> int:
    value = hyperparameters.get(key, default)
    if value is None:
        raise DataError(f"hyperparameter {key} is required (the number of boosting rounds, e.g. 100)")
    try:
        number = int(value)
        if number != float(value) or number < 1:
            raise ValueError
    except (TypeError, ValueError):
        raise DataError(f"hyperparameter {key} must be a whole number of at least 1, got {value!r}") from None
    return number


# ---------------------------------------------------------------------------- CLI


def split_files(directory: Path, name: str) -> list[Path]:
    """The Parquet files of one channel (``<name>.parquet``, else every .parquet file in the folder)."""
    directory = Path(directory)
    preferred = directory / f"{name}.parquet"
    files = [preferred] if preferred.is_file() else sorted(directory.glob("*.parquet")) if directory.is_dir() else []
    if not files:
        raise DataError(
            f"no Parquet file in {directory}; the {name} channel must point at the preprocess step's {name} output"
        )
    return files


def parse_args(argv: list[str] | None = None) -> dict[str, Any]:
    """Known options plus any ``--name value`` hyperparameter pairs, as parsed hyperparameters."""
    parser = argparse.ArgumentParser(
        allow_abbrev=False,
        description="Train XGBoost on the preprocess step's train/validation Parquet with Spot-safe checkpoints. "
        "Hyperparameters come from SM_HPS or <root>/input/config/hyperparameters.json and may be given or "
        "overridden as --name value (any xgboost parameter, e.g. --max_depth 5 --eta 0.2).",
    )
    parser.add_argument("--num_round", help="number of boosting rounds (required unless set in hyperparameters)")
    parser.add_argument("--checkpoint_every", help=f"rounds between checkpoints (default {DEFAULT_CHECKPOINT_EVERY})")
    parser.add_argument("--objective", help="default binary:logistic, multi:softprob or reg:squarederror by the "
                        "problem type in features.json")
    parser.add_argument("--eval_metric", help="default auc (binary), mlogloss (multiclass) or rmse (regression); "
                        "comma-separated for several")
    parser.add_argument("--seed", help="xgboost random seed")
    parser.add_argument("--eval_train", help="true to also log the training-set metric each round (slower)")
    known, rest = parser.parse_known_args(argv)
    given = {key: value for key, value in vars(known).items() if value is not None}
    if len(rest) % 2 or any(not token.startswith("--") for token in rest[::2]):
        parser.error(f"expected --name value pairs, got: {' '.join(rest)}")
    given.update({flag[2:].replace("-", "_"): value for flag, value in zip(rest[::2], rest[1::2], strict=True)})
    return {key: sm_paths.parse_hyperparameter(value) for key, value in given.items()}


def save_model(booster: xgb.Booster, model_dir: Path, schema_dir: Path) -> Path:
    """``<model dir>/xgboost-model`` (JSON, loadable by xgboost 1.x and later), features.json and
    training_history.json (the history leaves the model: it only travels in checkpoints)."""
    model_dir.mkdir(parents=True, exist_ok=True)
    history = history_of(booster)
    booster.set_attr(**{HISTORY_ATTRIBUTE: None})
    (model_dir / HISTORY_FILE).write_text(json.dumps(history_file(history, booster.num_boosted_rounds())) + "\n")
    path = model_dir / MODEL_FILE
    path.write_bytes(bytes(booster.save_raw(raw_format="json")))
    shutil.copyfile(schema_dir / feature_schema.FEATURES_FILE, model_dir / feature_schema.FEATURES_FILE)
    return path


def history_file(history: dict[str, Any] | None, rounds: int) -> dict[str, Any]:
    """training_history.json: per data set and metric one value per round, from ``first_round`` to ``rounds``."""
    history = history or {"first_round": rounds + 1, "metrics": {}}
    return {"schema_version": 1, "rounds": rounds, **history}


def schema_channel(train_dir: Path, valid_dir: Path) -> Path:
    """The channel holding features.json: train, else validation (a sharded train channel holds shards only)."""
    return train_dir if (train_dir / feature_schema.FEATURES_FILE).is_file() else valid_dir


def run(cli_hyperparameters: dict[str, Any]) -> None:
    started = time.perf_counter()
    hyperparameters = sm_paths.hyperparameters()
    hyperparameters.update(cli_hyperparameters)
    num_round = positive_int(hyperparameters, "num_round", None)
    checkpoint_every = positive_int(hyperparameters, "checkpoint_every", DEFAULT_CHECKPOINT_EVERY)
    eval_train = hyperparameters.get("eval_train", False)
    if not isinstance(eval_train, bool):
        raise DataError(f"hyperparameter eval_train must be true or false, got {eval_train!r}")
    train_dir, valid_dir = sm_paths.channel_dir("train"), sm_paths.channel_dir("validation")
    schema_dir = schema_channel(train_dir, valid_dir)
    schema = feature_schema.load_schema(schema_dir)
    train_files, valid_files = split_files(train_dir, "train"), split_files(valid_dir, "validation")
    params = training_params(hyperparameters, schema["problem_type"], len(schema.get("label_mapping") or {}) or None)
    rows = {name: sum(pq.ParquetFile(path).metadata.num_rows for path in files)
            for name, files in (("train", train_files), ("validation", valid_files))}
    log(
        f"training num_round={num_round} checkpoint_every={checkpoint_every} rows train={rows['train']} "
        f"validation={rows['validation']} features={len(schema['feature_names'])} "
        + " ".join(f"{key}={value}" for key, value in sorted(params.items()))
    )
    hosts = cluster.current_cluster()
    try:
        with cluster.joined(hosts):
            booster = train(train_files, valid_files, params, num_round, sm_paths.checkpoint_dir(), checkpoint_every,
                            schema=schema, eval_train=eval_train)
    except xgb.core.XGBoostError as err:
        reason = (str(err).strip().splitlines() or ["unknown error"])[0]
        if hosts.distributed:
            raise DataError(cluster.lost_collective(hosts, "training", err, "retry the pipeline execution to resume "
                                                    "from the last checkpoint")) from err
        raise DataError(f"xgboost rejected the training setup: {reason}; check the hyperparameters") from err
    if hosts.rank > 0:
        log(f"host {hosts.current_host} (rank {hosts.rank}) done; the first host writes the model")
        return
    path = save_model(booster, sm_paths.model_dir(), schema_dir)
    log(f"model written to {path}")
    log(f"train done in {time.perf_counter() - started:.2f} s")


def main(argv: list[str] | None = None) -> int:
    hyperparameters = parse_args(argv)
    return run_step(lambda: run(hyperparameters), "training")


if __name__ == "__main__":
    sys.exit(main())
