"""Where a step finds its inputs and puts its outputs, inside a SageMaker container or on a laptop.

Every path derives from one root, ``SM_OPT_ML_ROOT`` (default ``/opt/ml``), so the local engine
can run a step without Docker by pointing the root at a scratch directory. The standard
SageMaker variables (``SM_MODEL_DIR``, ``SM_CHANNEL_<NAME>``, ``SM_OUTPUT_DATA_DIR``, ``SM_HPS``)
win when they are set.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

ROOT_ENV = "SM_OPT_ML_ROOT"
DEFAULT_ROOT = "/opt/ml"


def root() -> Path:
    """The container's ``/opt/ml``, or wherever ``SM_OPT_ML_ROOT`` points."""
    return Path(os.environ.get(ROOT_ENV, DEFAULT_ROOT))


def opt_ml(*parts: str) -> Path:
    """A path under the root, e.g. ``opt_ml("processing", "output")``."""
    return root().joinpath(*parts)


def processing(*parts: str) -> Path:
    """A path under ``<root>/processing`` (processing jobs mount inputs and outputs there)."""
    return opt_ml("processing", *parts)


def model_dir() -> Path:
    """Training: where the model artifact goes (uploaded as model.tar.gz)."""
    return Path(os.environ.get("SM_MODEL_DIR") or opt_ml("model"))


def channel_dir(channel: str) -> Path:
    """Training: the local directory of an input channel such as ``train`` or ``validation``."""
    env = os.environ.get(f"SM_CHANNEL_{channel.upper()}")
    return Path(env) if env else opt_ml("input", "data", channel)


def output_data_dir() -> Path:
    """Training: extra outputs uploaded next to the model (output.tar.gz)."""
    return Path(os.environ.get("SM_OUTPUT_DATA_DIR") or opt_ml("output", "data"))


def checkpoint_dir() -> Path:
    """Training: the directory SageMaker syncs with ``CheckpointConfig.S3Uri``."""
    return opt_ml("checkpoints")


def failure_file(kind: str) -> Path:
    """The file whose content SageMaker shows as the job's FailureReason.

    ``kind`` is ``"training"`` (``<root>/output/failure``) or ``"processing"``
    (``<root>/processing/output/failure``).
    """
    if kind == "training":
        return opt_ml("output", "failure")
    if kind == "processing":
        return processing("output", "failure")
    raise ValueError(f"unknown job kind {kind!r}; expected 'training' or 'processing'")


def parse_hyperparameter(value: Any) -> Any:
    """SageMaker hands hyperparameters over as strings (sometimes JSON-encoded): recover the value."""
    if not isinstance(value, str):
        return value
    text = value.strip()
    lowered = text.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    try:
        return json.loads(text)
    except ValueError:
        return text


def hyperparameters() -> dict[str, Any]:
    """Hyperparameters from ``SM_HPS`` (JSON) or ``<root>/input/config/hyperparameters.json``, values parsed."""
    raw = os.environ.get("SM_HPS")
    if raw:
        data = json.loads(raw)
    else:
        path = opt_ml("input", "config", "hyperparameters.json")
        data = json.loads(path.read_text()) if path.is_file() else {}
    return {str(key): parse_hyperparameter(value) for key, value in data.items()}
