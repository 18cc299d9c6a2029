"""The inference API: API Gateway (REST, Lambda proxy integration) -> SageMaker InvokeEndpoint.

POST {"features": [v1, v2, ...]}, one row of RAW feature values in the model's features.json order
(numbers, true/false, dates or text; null for a missing value), answers
{"prediction": 0.87, "model_version": "v23"}. A bad request answers 400 {"error": "<reason>"}:
the handler checks the shape, and the serving code (seedcode/inference.py) checks the values, its
4xx answers passed on with their reason.

Settings come from the environment (read once per container, in `Settings.from_env`):
- ENDPOINT_NAME: the stage endpoint, `<project>-<stage>`;
- MODEL_VERSION (optional): the version to report; otherwise it is read from the endpoint's
  current endpoint config, named `<project>-<stage>-v<version>[...]` by pipelines.deploy, and
  cached for VERSION_TTL_SECONDS;
- SAGEMAKER_RUNTIME_ENDPOINT_URL (optional): send InvokeEndpoint elsewhere, e.g. to the local
  endpoint (`python -m pipelines.deploy --local`), which answers the SageMaker Runtime API.

Standard library and boto3 only: the Lambda Python runtime provides both.
"""

from __future__ import annotations

import base64
import csv
import io
import json
import logging
import math
import os
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

LOGGER = logging.getLogger()
LOGGER.setLevel(logging.INFO)

VERSION_TTL_SECONDS = 60.0
MAX_FEATURES = 10_000
_VERSION_IN_CONFIG = re.compile(r"-v(\d+)(?:-|$)")
_CLIENT_CONFIG = Config(connect_timeout=2, read_timeout=30, retries={"max_attempts": 3, "mode": "standard"})


class BadRequest(Exception):
    """The caller's mistake: answered 400 with this one-line reason."""


@dataclass(frozen=True)
class Settings:
    endpoint_name: str
    model_version: str | None = None
    runtime_endpoint_url: str | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Settings:
        name = env.get("ENDPOINT_NAME", "").strip()
        if not name:
            raise RuntimeError("ENDPOINT_NAME is not set: the inference-api module sets it to <project>-<stage>")
        return cls(name, env.get("MODEL_VERSION") or None, env.get("SAGEMAKER_RUNTIME_ENDPOINT_URL") or None)


@dataclass
class Backend:
    """The AWS clients the handler calls, and the endpoint-version cache."""

    runtime: Any  # sagemaker-runtime client
    sagemaker: Any | None  # sagemaker client (None when the version is given or the endpoint is local)
    clock: Callable[[], float] = time.monotonic
    _version: tuple[float, str] | None = field(default=None, repr=False)

    @classmethod
    def for_settings(cls, settings: Settings) -> Backend:
        runtime = boto3.client("sagemaker-runtime", endpoint_url=settings.runtime_endpoint_url, config=_CLIENT_CONFIG)
        describe = settings.model_version is None and settings.runtime_endpoint_url is None
        return cls(runtime, boto3.client("sagemaker", config=_CLIENT_CONFIG) if describe else None)

    def model_version(self, settings: Settings) -> str:
        if settings.model_version:
            return settings.model_version
        if self.sagemaker is None:
            return "local"
        now = self.clock()
        if self._version is None or now - self._version[0] > VERSION_TTL_SECONDS:
            config_name = self.sagemaker.describe_endpoint(EndpointName=settings.endpoint_name)["EndpointConfigName"]
            found = _VERSION_IN_CONFIG.search(config_name)
            self._version = (now, f"v{found.group(1)}" if found else config_name)
        return self._version[1]


def features_csv(body: str | None, is_base64: bool = False) -> str:
    """The request body's features as one CSV row; BadRequest names what is wrong."""
    if not body:
        raise BadRequest('empty body: send {"features": [...]}')
    text = base64.b64decode(body).decode("utf-8") if is_base64 else body
    try:
        payload = json.loads(text)
    except (ValueError, UnicodeDecodeError) as error:
        raise BadRequest(f"body is not JSON ({error})") from None
    if not isinstance(payload, dict) or "features" not in payload:
        raise BadRequest('body must be a JSON object with a "features" list')
    features = payload["features"]
    if not isinstance(features, list) or not features:
        raise BadRequest('"features" must be a non-empty list of values, one row in the model\'s feature order')
    if len(features) > MAX_FEATURES:
        raise BadRequest(f'"features" has {len(features)} values; at most {MAX_FEATURES} are accepted')
    row = [_cell(value, position) for position, value in enumerate(features)]
    out = io.StringIO()
    csv.writer(out, lineterminator="").writerow(row)
    return out.getvalue()


def _cell(value: Any, position: int) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        if not math.isfinite(value):
            raise BadRequest(f"feature {position} is {value}; send a finite number or null for a missing value")
        return repr(value)
    if isinstance(value, str):
        return value
    raise BadRequest(f"feature {position} is a {type(value).__name__}; send a number, true/false, text or null")


def predict(csv_row: str, settings: Settings, backend: Backend) -> dict[str, Any]:
    """Invoke the endpoint with one CSV row; the prediction and the model version."""
    response = backend.runtime.invoke_endpoint(
        EndpointName=settings.endpoint_name, ContentType="text/csv", Accept="application/json", Body=csv_row.encode()
    )
    answer = json.loads(response["Body"].read())
    predictions = answer.get("predictions") if isinstance(answer, dict) else None
    if not isinstance(predictions, list) or len(predictions) != 1:
        raise RuntimeError(f"the endpoint answered {str(answer)[:200]!r}, not one prediction")
    return {"prediction": predictions[0], "model_version": backend.model_version(settings)}


def _error_status(error: ClientError) -> tuple[int, str]:
    """Map a SageMaker Runtime error to the API's answer: the caller's errors stay 4xx."""
    details = error.response.get("Error", {})
    code, message = details.get("Code", ""), details.get("Message", "")
    if code == "ModelError":
        original = int(error.response.get("OriginalStatusCode") or 500)
        reason = (error.response.get("OriginalMessage") or message).strip().splitlines()
        if 400 <= original < 500:
            return 400, reason[0] if reason else "the model rejected the request"
        return 502, "the model failed to answer"
    if code in ("ThrottlingException", "ServiceUnavailable"):
        return 429 if code == "ThrottlingException" else 503, "the endpoint is busy: retry with backoff"
    if code == "ValidationError" and "not found" in message.lower():
        return 503, "the endpoint is not deployed"
    return 502, "the endpoint call failed"


def respond(status: int, body: dict[str, Any]) -> dict[str, Any]:
    return {"statusCode": status, "headers": {"Content-Type": "application/json"}, "body": json.dumps(body)}


def handle(event: Mapping[str, Any], settings: Settings, backend: Backend) -> dict[str, Any]:
    """One API Gateway proxy event -> its proxy response."""
    try:
        row = features_csv(event.get("body"), bool(event.get("isBase64Encoded")))
        return respond(200, predict(row, settings, backend))
    except BadRequest as error:
        return respond(400, {"error": str(error)})
    except ClientError as error:
        status, reason = _error_status(error)
        LOGGER.warning("InvokeEndpoint failed: %s -> %s", error, status)
        return respond(status, {"error": reason})
    except (BotoCoreError, RuntimeError, ValueError) as error:
        LOGGER.error("inference failed: %s", error)
        return respond(502, {"error": "the endpoint call failed"})


_STATE: dict[str, Any] = {}


def lambda_handler(event: Mapping[str, Any], context: Any) -> dict[str, Any]:
    """The Lambda entry point: settings and clients are built once per container."""
    if "settings" not in _STATE:
        _STATE["settings"] = Settings.from_env(os.environ)
        _STATE["backend"] = Backend.for_settings(_STATE["settings"])
    return handle(event, _STATE["settings"], _STATE["backend"])
