"""The one door to the SageMaker Python SDK v3.

Importing the SDK needs an AWS region (sagemaker.mlops raises NoRegionError otherwise) and,
by default, lets decorated SDK calls send telemetry over the network. `load_sdk(region)`
sets the region from the team config when the environment has none, turns IAM role
validation off (definitions are built offline) and makes telemetry a no-op at no start-up
cost: the documented config opt-out makes the SDK re-validate its config schema on every
lookup, which adds seconds to each build.
"""

from __future__ import annotations

import logging
import os
import warnings
from types import ModuleType

_loaded: ModuleType | None = None


def _no_telemetry(*_args: object, **_kwargs: object) -> None:
    return None


def load_sdk(region: str) -> ModuleType:
    """Import the SDK pieces we use, once; returns the telemetry module for inspection.

    The region is ensured on every call: step constructors open their own boto3.Session()
    from the environment each time a definition is built, not just at import.
    """
    global _loaded
    if not (os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")):
        os.environ["AWS_DEFAULT_REGION"] = region
    if _loaded is not None:
        return _loaded
    os.environ.setdefault("SAGEMAKER_VALIDATE_ROLE", "false")
    warnings.filterwarnings("ignore", message="Running within a PipelineSession")
    from sagemaker.core.telemetry import telemetry_logging

    telemetry_logging._send_telemetry_request = _no_telemetry
    telemetry_logging._send_telemetry_request_sync = _no_telemetry
    telemetry_logging._telemetry_msg_shown = True
    _loaded = telemetry_logging
    quiet_sdk_logging()
    return telemetry_logging


def quiet_sdk_logging() -> None:
    """SDK modules set their own loggers to INFO/DEBUG at import; keep our stderr for our progress."""
    for name in list(logging.root.manager.loggerDict):
        if name.split(".")[0] in ("sagemaker", "sagemaker_core", "botocore", "boto3"):
            logging.getLogger(name).setLevel(logging.ERROR)
