"""Data capture: the writer's records in SageMaker's format and layout, read back by the one reader from a
local folder and from S3 (moto) alike."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta

import boto3
from capture_reading import read_capture
from moto import mock_aws

from pipelines.serving.capture import CaptureWriter, Invocation

START = datetime(2024, 5, 1, 12, 59, 58, tzinfo=UTC).timestamp()


def _write(root, count: int, percentage: int = 100, sample=None) -> CaptureWriter:
    writer = CaptureWriter(root, "churn-staging", "AllTraffic", percentage, **({"sample": sample} if sample else {}))
    for i in range(count):
        writer.capture(Invocation(START + i, f"{i},a".encode(), "text/csv", f"0.{i}".encode(), "text/csv"))
    writer.capture(Invocation(START, b"\x00\x01", "application/x-npy", b'{"predictions": [0.5]}', "application/json"))
    writer.close()
    return writer


def test_records_follow_sagemakers_format_and_hourly_layout(tmp_path):
    _write(tmp_path, 4)
    files = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*.jsonl"))
    assert {f.rsplit("/", 1)[0] for f in files} == {"churn-staging/AllTraffic/2024/05/01/12",
                                                    "churn-staging/AllTraffic/2024/05/01/13"}
    lines = [json.loads(line) for f in files for line in (tmp_path / f).read_text().splitlines()]
    first = next(r for r in lines if r["captureData"]["endpointInput"]["data"] == "0,a")
    assert first["captureData"]["endpointInput"] == {"observedContentType": "text/csv", "mode": "INPUT",
                                                     "data": "0,a", "encoding": "CSV"}
    assert first["captureData"]["endpointOutput"]["mode"] == "OUTPUT"
    assert first["eventMetadata"]["inferenceTime"] == "2024-05-01T12:59:58Z" and first["eventVersion"] == "0"
    records = list(read_capture(tmp_path))
    assert len(records) == 5
    binary = next(r for r in records if r.input_type == "application/x-npy")
    assert binary.raw["captureData"]["endpointInput"]["encoding"] == "BASE64" and binary.input_data == b"\x00\x01"
    assert binary.raw["captureData"]["endpointOutput"]["encoding"] == "JSON"


def test_the_reader_filters_by_time_and_reads_s3_the_same_way(tmp_path, monkeypatch):
    _write(tmp_path, 4)
    since = datetime.fromtimestamp(START + 2, UTC)
    local = [r.raw for r in read_capture(tmp_path, since=since, until=since + timedelta(seconds=1))]
    assert [r["captureData"]["endpointInput"]["data"] for r in local] == ["2,a"]
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(key, "testing")
    with mock_aws():
        s3 = boto3.client("s3", region_name="eu-west-1")
        s3.create_bucket(Bucket="art", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
        for path in tmp_path.rglob("*.jsonl"):
            s3.put_object(Bucket="art", Key=f"p/data-capture/{path.relative_to(tmp_path).as_posix()}",
                          Body=path.read_bytes())
        remote = [r.raw for r in read_capture("s3://art/p/data-capture", s3=s3)]
    assert sorted(map(json.dumps, remote)) == sorted(json.dumps(r.raw) for r in read_capture(tmp_path))


def test_sampling_keeps_the_configured_share_and_close_loses_nothing(tmp_path):
    draws = iter([0.05, 0.5, 0.15, 0.95] * 51)
    writer = _write(tmp_path, 200, percentage=20, sample=lambda: next(draws))
    assert writer.written == sum(1 for _ in read_capture(tmp_path)) == 100 + 1  # 0.05 and 0.15 of every 4
    started = time.perf_counter()
    quiet = CaptureWriter(tmp_path / "off", "e", "v", 0)
    assert not quiet.capture(Invocation(START, b"1", "text/csv", b"0", "text/csv"))
    quiet.close()
    assert time.perf_counter() - started < 1 and not (tmp_path / "off").exists()
