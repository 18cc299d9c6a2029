"""Record every AWS request our code makes, through botocore's `provide-client-params` event.

`recording()` hooks every botocore client created while it is active and keeps the requests made
from our own modules (a test's own setup and assertions are left out), each with the module that
started it: the outermost `pipelines.*` frame, which names the CLI (`pipelines.run`,
`pipelines.registry`, ...). As a pytest plugin (`-p contract_recorder`) it records a whole test
run into `$CONTRACT_RECORD_FILE`; `recorded_cli_calls()` runs the CLI tests that way, once.
"""

from __future__ import annotations

import datetime
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import botocore.session

REPO_ROOT = Path(__file__).resolve().parents[2]
CONTRACTS_DIR = Path(__file__).resolve().parent
WRAPPERS = ("pipelines.errors",)  # run_cli wraps every CLI's main: not an entry of its own
# Code of ours outside `pipelines`: Lambda handlers, imported by their module name (infra/modules/*/lambda).
LAMBDA_MODULES = ("lifecycle_cleanup", "continuous_training")
# The tests that drive our CLIs against moto or the Stubber: their requests are the CLIs' requests.
# Chosen so that together they make every request each CLI can make; a renamed test fails the run.
CLI_TESTS = (
    "tests/test_run_cloud.py::test_run_reads_wiring_uploads_code_upserts_and_starts",
    "tests/test_run_cloud.py::test_with_an_approved_model_the_drift_check_runs",
    "tests/test_registry_cloud.py",
    "tests/test_cloud_wait.py",
    "tests/finops/test_estimate.py::test_a_cloud_run_within_budget_starts",
    "tests/finops/test_savings.py::test_a_waited_cloud_run_shows_and_writes_the_saving",
    "tests/finops/test_costs.py::test_the_month_is_reported_as_a_table_csv_and_chart",
    "tests/finops/test_prices.py::test_refresh_replaces_the_region_with_the_price_list_apis_on_demand_prices",
    # a cloud run logged to MLflow: its S3, SageMaker and tracking-server (REST) requests
    "tests/engine/test_engine_tracking.py::test_a_cloud_run_is_logged_after_it_succeeds_and_linked_to_its_package",
)


@dataclass(frozen=True)
class Call:
    entry: str  # the outermost pipelines module on the stack, e.g. pipelines.run
    service: str  # botocore service name, e.g. sagemaker
    operation: str  # e.g. CreatePipeline
    params: dict[str, Any]


def _entry_module() -> str | None:
    frame, entry = sys._getframe(), None
    while frame is not None:
        module = frame.f_globals.get("__name__", "")
        if (module.startswith("pipelines.") and module not in WRAPPERS) or module in LAMBDA_MODULES:
            entry = module
        frame = frame.f_back
    return entry


def _plain(value: Any) -> Any:
    """JSON-safe request values: a body becomes a short string (its content does not matter here)."""
    if isinstance(value, bytes | bytearray) or hasattr(value, "read"):
        return "<body>"
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()  # botocore takes ISO 8601 text for a timestamp member
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


MLFLOW_SERVICE = "sagemaker-mlflow"  # a tracking server's IAM service: its actions are the MLflow API's names
MLFLOW_API = re.compile(r"/api/[0-9.]+/mlflow/")


@cache
def _mlflow_operations() -> tuple[tuple[re.Pattern[str], str, str], ...]:
    """(path pattern, HTTP method, operation) of every MLflow REST endpoint, from MLflow's own service table."""
    from mlflow.protos.service_pb2 import MlflowService
    from mlflow.utils.rest_utils import _REST_API_PATH_PREFIX, extract_api_info_for_service

    table = []
    for message, (path, method) in extract_api_info_for_service(MlflowService, _REST_API_PATH_PREFIX).items():
        pattern = re.sub(r"\\\{[^}]*\\\}", "[^/]+", re.escape(path))
        table.append((re.compile(pattern + "$"), method, message.__name__))
    return tuple(table)


def mlflow_operation(method: str, url: str) -> str | None:
    """The MLflow API operation (CreateRun, LogBatch, ...) of a REST request, None for other requests."""
    path = urlsplit(url).path
    found = MLFLOW_API.search(path)
    if not found:
        return None
    path = path[found.start():]
    return next((name for pattern, verb, name in _mlflow_operations() if verb == method.upper()
                 and pattern.match(path)), f"unknown MLflow endpoint {method} {path}")


@contextmanager
def _recording_mlflow(calls: list[Call]) -> Iterator[None]:
    """MLflow's REST calls (a tracking server, through the sagemaker-mlflow plugin in the cloud) as Calls of
    service sagemaker-mlflow: they go through `requests`, not botocore."""
    import requests

    original = requests.Session.request

    def request(self: Any, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
        operation, entry = mlflow_operation(method, str(url)), _entry_module()
        if operation and entry:
            calls.append(Call(entry, MLFLOW_SERVICE, operation, {}))
        return original(self, method, url, *args, **kwargs)

    requests.Session.request = request  # type: ignore[method-assign]
    try:
        yield
    finally:
        requests.Session.request = original  # type: ignore[method-assign]


@contextmanager
def recording() -> Iterator[list[Call]]:
    calls: list[Call] = []

    def record(params: dict[str, Any], model: Any, **_: Any) -> None:
        entry = _entry_module()
        if entry:
            calls.append(Call(entry, model.service_model.service_name, model.name, _plain(params)))

    original = botocore.session.Session.create_client

    def create_client(self: Any, *args: Any, **kwargs: Any) -> Any:
        client = original(self, *args, **kwargs)
        client.meta.events.register("provide-client-params.*.*", record)
        return client

    botocore.session.Session.create_client = create_client  # type: ignore[method-assign]
    try:
        with _recording_mlflow(calls):
            yield calls
    finally:
        botocore.session.Session.create_client = original  # type: ignore[method-assign]


# pytest plugin: `python -m pytest -p contract_recorder ...` with CONTRACT_RECORD_FILE set
_plugin_state: dict[str, Any] = {}


def pytest_sessionstart(session: Any) -> None:
    _plugin_state["context"] = recording()
    _plugin_state["calls"] = _plugin_state["context"].__enter__()


def pytest_sessionfinish(session: Any, exitstatus: int) -> None:
    _plugin_state["context"].__exit__(None, None, None)
    calls = [asdict(c) for c in _plugin_state["calls"]]
    Path(os.environ["CONTRACT_RECORD_FILE"]).write_text(json.dumps(calls))


@cache
def recorded_cli_calls(record_file: Path | None = None, tests: tuple[str, ...] = CLI_TESTS) -> tuple[Call, ...]:
    """Run the CLI tests (or other `tests`, e.g. a Lambda's) once with the recorder; their requests, or a
    failure naming the failing run."""
    target = record_file or Path(os.environ.get("TMPDIR", "/tmp")) / f"contract-calls-{os.getpid()}-{len(tests)}.json"
    env = {**os.environ, "CONTRACT_RECORD_FILE": str(target),
           "PYTHONPATH": os.pathsep.join([str(CONTRACTS_DIR), str(REPO_ROOT), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "contract_recorder", "-p", "no:cacheprovider", *tests],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=600,
    )
    if done.returncode != 0 or not target.is_file():
        raise AssertionError(f"the CLI tests failed while recording their requests:\n{done.stdout[-3000:]}")
    calls = tuple(Call(**c) for c in json.loads(target.read_text()))
    target.unlink()
    return calls
