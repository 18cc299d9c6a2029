"""The SDK door: telemetry can never reach the network, and a region always exists."""

from __future__ import annotations

import os

from pipelines.sdk import load_sdk


def test_telemetry_sends_nothing(monkeypatch):
    telemetry = load_sdk("eu-west-1")
    calls = []
    monkeypatch.setattr(telemetry, "_requests_helper", lambda *a, **k: calls.append(a))
    assert telemetry._send_telemetry_request(1, [1], None) is None  # no thread, no request
    assert telemetry._send_telemetry_request_sync(1, [1], None) is None
    assert calls == []


def test_region_comes_from_config_when_the_environment_has_none(monkeypatch):
    import pipelines.sdk as sdk

    monkeypatch.delenv("AWS_REGION", raising=False)
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    sdk.load_sdk("eu-west-1")  # already loaded: the region must still be ensured
    assert os.environ["AWS_DEFAULT_REGION"] == "eu-west-1"
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    monkeypatch.setattr(sdk, "_loaded", None)
    sdk.load_sdk("ap-southeast-2")
    assert os.environ["AWS_DEFAULT_REGION"] == "ap-southeast-2"
