"""`python -m pipelines.deploy --local`: a real HTTP endpoint over the approved package, exercised through
real requests (urllib and boto3's sagemaker-runtime client), as a user and their clients would."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from local_project import REPO_ROOT, Project, store_path

SEEDCODE = REPO_ROOT / "seedcode"
MB = 1024 * 1024


def deploy_cli(project: Project, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pipelines.deploy", "--local", "--config", str(project.pyproject),
                           *args], cwd=REPO_ROOT, capture_output=True, text=True, timeout=300)


def post(url: str, body: bytes, content_type: str | None = "text/csv", accept: str = "text/csv",
         path: str = "/invocations") -> tuple[int, bytes, dict[str, str]]:
    headers = {"Accept": accept} | ({"Content-Type": content_type} if content_type else {})
    request = urllib.request.Request(url + path, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, response.read(), dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, error.read(), dict(error.headers)


def valid_prediction(value: Any, problem_type: str) -> bool:
    """One served prediction in its problem type's range: a probability (binary), a finite number (regression),
    or a label with class probabilities summing to 1 (multiclass; a CSV line `label,p_0,...` or a JSON object)."""
    import math

    if problem_type == "multiclass_classification":
        probabilities = (list(value["probabilities"].values()) if isinstance(value, dict)
                         else [float(v) for v in str(value).split(",")[1:]])
        return all(0.0 <= p <= 1.0 for p in probabilities) and abs(sum(probabilities) - 1.0) < 1e-4
    number = float(value)
    return math.isfinite(number) if problem_type == "regression" else 0.0 <= number <= 1.0


def ping(url: str) -> int:
    with urllib.request.urlopen(url + "/ping", timeout=10) as response:
        return response.status


@pytest.fixture(scope="module")
def endpoint(first_run, tmp_path_factory) -> Any:
    """A private copy of the first run's project, its version approved and served locally (stopped after)."""
    source, _ = first_run
    project = Project(tmp_path_factory.mktemp("endpoint") / "project")
    shutil.copytree(source.folder, project.folder, ignore=shutil.ignore_patterns("summary-*.json"))
    approved = project.registry_cli("approve", "latest", "--reason", "serve it")
    assert approved.returncode == 0, approved.stderr
    started = deploy_cli(project)
    assert started.returncode == 0, started.stderr
    url = started.stdout.strip()
    assert url.startswith("http://127.0.0.1:") and url.count("\n") == 0
    yield {"project": project, "url": url, "version": project.versions()[0]}
    stopped = deploy_cli(project, "--delete")
    assert stopped.returncode == 0, stopped.stderr


def _raw_test_rows(project: Project) -> Path:
    """The held-out rows the first version records (RegisterModel's test_rows_uri)."""
    first = project.versions()[-1]
    return store_path(project, first.metadata["test_rows_uri"])


def _booster_predictions(project: Project, version: Any) -> np.ndarray:
    """What the package's own booster predicts on the test split (as the Evaluate step scores it)."""
    sys.path.insert(0, str(SEEDCODE))
    try:
        import evaluate
    finally:
        sys.path.remove(str(SEEDCODE))
    booster, schema = evaluate.load_model_archive(store_path(project, version.model_data_url))
    test_file = store_path(project, version.metadata["test_rows_uri"]).parent.parent / "test.parquet"
    return evaluate.predict(booster, pd.read_parquet(test_file), schema, "test")


def test_predictions_over_http_equal_the_boosters_own(endpoint):
    project, url = endpoint["project"], endpoint["url"]
    expected = _booster_predictions(project, endpoint["version"])
    raw = _raw_test_rows(project)
    status, body, headers = post(url, raw.read_bytes())  # with the header row, which input_fn skips
    assert status == 200 and headers["Content-Type"] == "text/csv"
    served = np.array([float(line) for line in body.decode().splitlines()])
    assert len(served) == len(expected) > 100
    np.testing.assert_allclose(served, expected, rtol=1e-6, atol=1e-7)

    rows = pd.read_csv(raw, dtype=object).iloc[:20].replace({np.nan: None}).to_dict(orient="records")
    status, body, _ = post(url, json.dumps({"instances": rows}).encode(), "application/json", "application/json")
    assert status == 200
    np.testing.assert_allclose(json.loads(body)["predictions"], expected[:20], rtol=1e-6, atol=1e-7)


def test_boto3_sagemaker_runtime_client_works_unchanged(endpoint):
    import boto3
    from botocore.exceptions import ClientError

    project, url = endpoint["project"], endpoint["url"]
    config = project.config
    runtime = boto3.client("sagemaker-runtime", endpoint_url=url, region_name=config.aws_region,
                           aws_access_key_id="x", aws_secret_access_key="x")
    name = f"{config.project}-dev"
    row = _raw_test_rows(project).read_text().splitlines()[1]
    answer = runtime.invoke_endpoint(EndpointName=name, ContentType="text/csv", Accept="text/csv", Body=row)
    assert answer["ContentType"] == "text/csv" and answer["InvokedProductionVariant"] == "AllTraffic"
    assert valid_prediction(answer["Body"].read().decode(), config.problem_type)

    with pytest.raises(ClientError) as bad_row:
        runtime.invoke_endpoint(EndpointName=name, ContentType="text/csv", Body="1,2")
    error = bad_row.value.response
    assert error["Error"]["Code"] == "ModelError" and error["OriginalStatusCode"] == 400
    assert "each CSV row needs" in error["OriginalMessage"]
    with pytest.raises(runtime.exceptions.ValidationError, match="not found"):
        runtime.invoke_endpoint(EndpointName="no-such-endpoint", ContentType="text/csv", Body=row)


@pytest.mark.parametrize(("body", "content_type", "status", "reason"), [
    (b"1,2,3", "text/plain", 415, "unsupported content type 'text/plain'"),
    (b"1,2,3", None, 415, "unsupported content type"),
    (b"1,2,3", "text/csv", 400, "each CSV row needs"),
    (b"", "text/csv", 400, "empty request body"),
    (b"   \n", "text/csv", 400, "empty request body"),
    (b"x" * (6 * MB + 1), "text/csv", 413, "exceeds the 6 MB limit"),
    (b'{"instances": [{"a": 1}]}', "application/json", 400, "input lacks feature columns"),
    (b'{"instances": ', "application/json", 400, ""),
])
def test_each_bad_request_gets_its_4xx_and_the_server_keeps_serving(endpoint, body, content_type, status, reason):
    url = endpoint["url"]
    got, answer, _ = post(url, body, content_type)
    assert got == status, answer
    text = answer.decode()
    assert reason in text and text.count("\n") <= 1 and "Traceback" not in text
    assert ping(url) == 200


def test_a_non_numeric_value_where_a_number_is_expected_is_a_400(endpoint):
    project, url = endpoint["project"], endpoint["url"]
    header, row = _raw_test_rows(project).read_text().splitlines()[:2]
    first = header.split(",")[0].strip('"')
    cells = row.split(",")
    status, answer, _ = post(url, ",".join(["abc", *cells[1:]]).encode())
    assert status == 400 and f"feature '{first}' expects a number, got 'abc'" in answer.decode()
    assert ping(url) == 200


def test_concurrent_clients_lose_nothing_and_capture_records_every_request(endpoint):
    from capture_reading import read_capture

    project = endpoint["project"]
    rows = _raw_test_rows(project).read_text().splitlines()[1:201]
    drained = deploy_cli(project, "--delete")  # capture is written in batches: count what earlier tests sent
    assert drained.returncode == 0, drained.stderr
    capture_root = next(project.state.glob("s3/*/*/data-capture"))
    before = sum(1 for _ in read_capture(capture_root))
    started = deploy_cli(project)
    assert started.returncode == 0, started.stderr
    url = started.stdout.strip()

    def client(number: int) -> list[tuple[int, bytes]]:
        return [post(url, rows[i].encode())[:2] for i in range(200)]

    with ThreadPoolExecutor(8) as pool:
        results = [r for batch in pool.map(client, range(8)) for r in batch]
    assert len(results) == 1600 and {status for status, _ in results} == {200}
    assert all(len(body.decode().splitlines()) == 1 for _, body in results)

    stopped = deploy_cli(project, "--delete")  # a clean shutdown drains the capture queues
    assert stopped.returncode == 0, stopped.stderr
    records = list(read_capture(capture_root))
    assert len(records) - before == 1600
    assert len({r.event_id for r in records}) == len(records)
    for record in records:
        assert record.raw["eventVersion"] == "0" and record.raw["captureData"]["endpointInput"]["mode"] == "INPUT"
        problem_type = project.config.problem_type
        if record.output_type == "text/csv":
            assert all(valid_prediction(line, problem_type) for line in record.output_data.decode().splitlines())
        else:
            assert all(valid_prediction(p, problem_type) for p in json.loads(record.output_data)["predictions"])
    captured_rows = [r.input_data.decode() for r in records if r.input_type == "text/csv"]
    assert sorted(captured_rows[-1600:]) == sorted(rows[i] for _ in range(8) for i in range(200))
    restarted = deploy_cli(project)
    assert restarted.returncode == 0, restarted.stderr
    endpoint["url"] = restarted.stdout.strip()


def test_a_newer_approved_version_replaces_the_model_without_dropping_requests(endpoint):
    import threading

    project, url = endpoint["project"], endpoint["url"]
    # other data: a new model, version 2 (a champion tolerance: this test is about serving it, not the gate)
    run = project.run("--rows", "2600", "--param", "ChampionMargin=-1000000")
    assert run.code == 0, run.stderr
    assert project.registry_cli("approve", "latest", "--reason", "newer").returncode == 0
    row = _raw_test_rows(project).read_text().splitlines()[1].encode()
    results: list[tuple[int, str]] = []
    done = threading.Event()

    def client() -> None:
        while not done.is_set():
            status, _, headers = post(url, row)
            results.append((status, headers.get("X-ML-Factory-Model-Version", "")))

    threads = [threading.Thread(target=client) for _ in range(4)]
    for thread in threads:
        thread.start()
    replaced = deploy_cli(project)
    done.set()
    for thread in threads:
        thread.join()
    assert replaced.returncode == 0, replaced.stderr
    assert replaced.stdout.strip() == url and "now serving" in replaced.stderr
    assert {status for status, _ in results} == {200}
    assert {version for _, version in results} >= {"1"} and post(url, row)[2]["X-ML-Factory-Model-Version"] == "2"
    again = deploy_cli(project)
    assert again.returncode == 0 and "already serving" in again.stderr


def test_an_unapproved_package_is_refused_and_nothing_starts(first_run, tmp_path):
    source, _ = first_run
    project = Project(tmp_path / "project")
    shutil.copytree(source.folder, project.folder, ignore=shutil.ignore_patterns("summary-*.json"))
    refused = deploy_cli(project, "--stage", "staging")
    assert refused.returncode == 2
    assert refused.stderr.startswith("error: no Approved model") and refused.stderr.count("\n") == 1
    assert refused.stdout == "" and not (project.state / "endpoints" / "staging" / "endpoint.json").exists()
    [pending] = json.loads(project.registry_cli("list", "--json").stdout)
    named = deploy_cli(project, "--model-package-arn", pending["arn"])
    assert named.returncode == 2 and "is PendingManualApproval, not Approved" in named.stderr
