"""The inference-api Lambda handler (infra/modules/inference-api/lambda/handler.py).

botocore's Stubber stands in for SageMaker (InvokeEndpoint, DescribeEndpoint): each test queues the
calls the handler must make, with the parameters it must send, and fails on any other call. The
last tests send real HTTP over loopback through boto3 to a stand-in SageMaker Runtime, the hook
(SAGEMAKER_RUNTIME_ENDPOINT_URL) by which the same handler talks to `pipelines.deploy --local`.
"""

from __future__ import annotations

import base64
import importlib.util
import io
import json
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import ModuleType
from typing import Any

import boto3
import pytest
from botocore.response import StreamingBody
from botocore.stub import Stubber

HANDLER = Path(__file__).resolve().parents[1] / "infra" / "modules" / "inference-api" / "lambda" / "handler.py"
REGION = "eu-west-1"
ENDPOINT = "churn-model-prod"


def load_handler() -> ModuleType:
    spec = importlib.util.spec_from_file_location("inference_api_handler_under_test", HANDLER)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


handler = load_handler()


@pytest.fixture(autouse=True)
def fake_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                        "AWS_DEFAULT_REGION": REGION}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def backend() -> Iterator[tuple[Any, Stubber, Stubber, Clock]]:
    runtime = boto3.client("sagemaker-runtime", region_name=REGION)
    sagemaker = boto3.client("sagemaker", region_name=REGION)
    clock = Clock()
    with Stubber(runtime) as runtime_stub, Stubber(sagemaker) as sagemaker_stub:
        yield handler.Backend(runtime, sagemaker, clock), runtime_stub, sagemaker_stub, clock
        runtime_stub.assert_no_pending_responses()
        sagemaker_stub.assert_no_pending_responses()


def expect_invoke(stub: Stubber, csv_row: str, answer: dict[str, Any]) -> None:
    body = json.dumps(answer).encode()
    stub.add_response(
        "invoke_endpoint",
        {"Body": StreamingBody(io.BytesIO(body), len(body)), "ContentType": "application/json"},
        {"EndpointName": ENDPOINT, "ContentType": "text/csv", "Accept": "application/json", "Body": csv_row.encode()},
    )


def expect_describe(stub: Stubber, config_name: str) -> None:
    stub.add_response("describe_endpoint", {
        "EndpointName": ENDPOINT, "EndpointArn": f"arn:aws:sagemaker:{REGION}:222222222222:endpoint/{ENDPOINT}",
        "EndpointConfigName": config_name, "EndpointStatus": "InService", "CreationTime": 0, "LastModifiedTime": 0,
    }, {"EndpointName": ENDPOINT})


def call(backend: Any, body: str | None, settings: Any = None, **event: Any) -> tuple[int, dict[str, Any]]:
    answer = handler.handle({"body": body, **event}, settings or handler.Settings(ENDPOINT), backend)
    assert answer["headers"] == {"Content-Type": "application/json"}
    return answer["statusCode"], json.loads(answer["body"])


def test_a_row_of_raw_features_gets_a_prediction_and_the_model_version(backend) -> None:
    client, runtime, sagemaker, _ = backend
    expect_invoke(runtime, '42,basic,true,,19.5,"Paris, FR"', {"predictions": [0.87]})
    expect_describe(sagemaker, f"{ENDPOINT}-v23")
    status, body = call(client, json.dumps({"features": [42, "basic", True, None, 19.5, "Paris, FR"]}))
    assert (status, body) == (200, {"prediction": 0.87, "model_version": "v23"})


def test_the_version_is_read_once_a_minute_not_per_request(backend) -> None:
    client, runtime, sagemaker, clock = backend
    expect_describe(sagemaker, f"{ENDPOINT}-v23-a1b2")
    for _ in range(3):
        expect_invoke(runtime, "1", {"predictions": [0.5]})
        assert call(client, '{"features": [1]}')[1]["model_version"] == "v23"
    clock.now += handler.VERSION_TTL_SECONDS + 1  # a blue/green update may have switched the config
    expect_invoke(runtime, "1", {"predictions": [0.5]})
    expect_describe(sagemaker, f"{ENDPOINT}-v24")
    assert call(client, '{"features": [1]}')[1]["model_version"] == "v24"


def test_a_configured_version_needs_no_describe(backend) -> None:
    client, runtime, _, _ = backend
    expect_invoke(runtime, "1", {"predictions": [0.25]})
    settings = handler.Settings(ENDPOINT, model_version="v7")
    assert call(client, '{"features": [1]}', settings) == (200, {"prediction": 0.25, "model_version": "v7"})


def test_a_base64_body_from_api_gateway_is_decoded(backend) -> None:
    client, runtime, sagemaker, _ = backend
    expect_invoke(runtime, "1.5,2", {"predictions": [0.1]})
    expect_describe(sagemaker, f"{ENDPOINT}-v3")
    encoded = base64.b64encode(b'{"features": [1.5, 2]}').decode()
    assert call(client, encoded, isBase64Encoded=True) == (200, {"prediction": 0.1, "model_version": "v3"})


@pytest.mark.parametrize(("body", "reason"), [
    (None, 'empty body: send {"features": [...]}'),
    ("", 'empty body: send {"features": [...]}'),
    ("features=1,2", "body is not JSON"),
    ('[1, 2]', 'body must be a JSON object with a "features" list'),
    ('{"rows": [[1, 2]]}', 'body must be a JSON object with a "features" list'),
    ('{"features": "1,2"}', '"features" must be a non-empty list'),
    ('{"features": []}', '"features" must be a non-empty list'),
    ('{"features": [1, {"a": 2}]}', "feature 1 is a dict; send a number, true/false, text or null"),
    ('{"features": [1, [2]]}', "feature 1 is a list"),
    ('{"features": [NaN]}', "feature 0 is nan; send a finite number or null"),
    ('{"features": [1, Infinity]}', "feature 1 is inf"),
])
def test_a_bad_body_is_a_400_with_its_reason_and_no_endpoint_call(backend, body: str | None, reason: str) -> None:
    client, _, _, _ = backend  # nothing queued: any SageMaker call fails the test
    status, answer = call(client, body)
    assert status == 400 and answer["error"].startswith(reason) and "\n" not in answer["error"]


def test_too_many_features_is_a_400(backend) -> None:
    client, _, _, _ = backend
    status, answer = call(client, json.dumps({"features": [0] * (handler.MAX_FEATURES + 1)}))
    assert status == 400 and "at most 10000" in answer["error"]


def test_values_the_model_rejects_are_a_400_with_the_model_reason(backend) -> None:
    client, runtime, _, _ = backend
    runtime.add_client_error(
        "invoke_endpoint", service_error_code="ModelError", http_status_code=424,
        service_message="Received client error (400) from primary with message \"...\"",
        modeled_fields={"OriginalStatusCode": 400,
                        "OriginalMessage": "each CSV row needs 4 values (age, plan, active, spend), got 2\ntrace"},
    )
    assert call(client, '{"features": [1, 2]}') == (
        400, {"error": "each CSV row needs 4 values (age, plan, active, spend), got 2"})


@pytest.mark.parametrize(("code", "http", "fields", "status", "reason"), [
    ("ModelError", 424, {"OriginalStatusCode": 500, "OriginalMessage": "Traceback ..."}, 502,
     "the model failed to answer"),
    ("ValidationError", 400, {}, 503, "the endpoint is not deployed"),
    ("ServiceUnavailable", 503, {}, 503, "the endpoint is busy: retry with backoff"),
    ("ThrottlingException", 400, {}, 429, "the endpoint is busy: retry with backoff"),
    ("InternalFailure", 500, {}, 502, "the endpoint call failed"),
])
def test_endpoint_failures_keep_their_class_and_hide_internals(backend, code, http, fields, status, reason) -> None:
    client, runtime, _, _ = backend
    message = f"Endpoint {ENDPOINT} of account 222222222222 not found." if code == "ValidationError" else "x"
    runtime.add_client_error("invoke_endpoint", service_error_code=code, service_message=message,
                             http_status_code=http, modeled_fields=fields)
    assert call(client, '{"features": [1]}') == (status, {"error": reason})


def test_an_answer_without_one_prediction_is_a_502(backend) -> None:
    client, runtime, _, _ = backend
    expect_invoke(runtime, "1", {"predictions": [0.1, 0.2]})
    assert call(client, '{"features": [1]}') == (502, {"error": "the endpoint call failed"})


def test_settings_come_from_the_environment() -> None:
    with pytest.raises(RuntimeError, match="ENDPOINT_NAME is not set"):
        handler.Settings.from_env({})
    settings = handler.Settings.from_env({"ENDPOINT_NAME": ENDPOINT, "MODEL_VERSION": "v9"})
    assert settings == handler.Settings(ENDPOINT, "v9", None)
    cloud = handler.Backend.for_settings(handler.Settings(ENDPOINT))
    assert cloud.sagemaker is not None and "runtime.sagemaker" in cloud.runtime.meta.endpoint_url


################################################################################
# The local-endpoint hook, over real HTTP
################################################################################


class StandInRuntime(BaseHTTPRequestHandler):
    """Answers the SageMaker Runtime route like the service: a prediction, or a ModelError for 2 columns."""

    requests: list[tuple[str, str, bytes]] = []

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        body = self.rfile.read(int(self.headers["Content-Length"]))
        StandInRuntime.requests.append((self.path, self.headers["Content-Type"], body))
        if body.count(b",") == 1:
            error = {"ErrorCode": "CLIENT_ERROR_FROM_MODEL", "OriginalStatusCode": 400, "Message": "client error",
                     "OriginalMessage": "each CSV row needs 3 values, got 2"}
            self._send(424, error, {"x-amzn-ErrorType": "ModelError"})
        else:
            self._send(200, {"predictions": [0.75]}, {"x-Amzn-Invoked-Production-Variant": "AllTraffic"})

    def _send(self, status: int, payload: dict[str, Any], headers: dict[str, str]) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *_: Any) -> None:
        pass


@pytest.fixture
def local_runtime_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), StandInRuntime)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    StandInRuntime.requests = []
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_the_handler_reaches_a_local_endpoint_through_the_environment(monkeypatch, local_runtime_url: str) -> None:
    monkeypatch.setenv("ENDPOINT_NAME", ENDPOINT)
    monkeypatch.setenv("SAGEMAKER_RUNTIME_ENDPOINT_URL", local_runtime_url)
    monkeypatch.setattr(handler, "_STATE", {})
    ok = handler.lambda_handler({"body": '{"features": [3, "pro", false]}'}, None)
    assert (ok["statusCode"], json.loads(ok["body"])) == (200, {"prediction": 0.75, "model_version": "local"})
    rejected = handler.lambda_handler({"body": '{"features": [3, "pro"]}'}, None)
    assert (rejected["statusCode"], json.loads(rejected["body"])) == (
        400, {"error": "each CSV row needs 3 values, got 2"})
    assert StandInRuntime.requests[0] == (f"/endpoints/{ENDPOINT}/invocations", "text/csv", b"3,pro,false")
