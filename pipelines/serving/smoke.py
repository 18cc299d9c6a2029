"""`--smoke-test`: the endpoint answers the package's own held-out rows, correctly and in time.

The rows are the raw test split of the run that made the package (RegisterModel records their URI
as `test_rows_uri`). Each row is sent as its own InvokeEndpoint request through boto3's
sagemaker-runtime client (the local endpoint answers the same API), then all rows at once. The
test passes when every request answers 200 with one prediction per row in the valid range
(probabilities in [0, 1] for binary models, finite numbers for regression) and the per-request p95
latency is within the stage's `smoke_test_p95_ms`.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any

from pipelines.aws import client_error_message

CONTENT_TYPE = "text/csv"


@dataclass(frozen=True)
class SmokeCase:
    """What to send and what to expect."""

    endpoint: str
    header: str  # the CSV header row (sent with the batch request, which input_fn skips)
    rows: list[str]  # raw CSV rows, no header
    problem_type: str
    p95_budget_ms: float


@dataclass(frozen=True)
class Verdict:
    passed: bool
    line: str


def percentile(values: list[float], share: float) -> float:
    """The nearest-rank percentile (share 0.95 = p95)."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def _predictions(body: bytes) -> list[float]:
    return [float(line) for line in body.decode().splitlines() if line.strip()]


def _valid(value: float, problem_type: str) -> bool:
    return math.isfinite(value) and (problem_type != "binary_classification" or 0.0 <= value <= 1.0)


def _invoke(runtime: Any, endpoint: str, body: str) -> tuple[list[float], float]:
    started = time.perf_counter()
    response = runtime.invoke_endpoint(EndpointName=endpoint, ContentType=CONTENT_TYPE, Accept=CONTENT_TYPE,
                                       Body=body.encode())
    payload = response["Body"].read()
    return _predictions(payload), (time.perf_counter() - started) * 1000


def run_smoke_test(runtime: Any, case: SmokeCase) -> Verdict:
    """Send the rows; the verdict names the first problem, or the figures when everything held."""
    from botocore.exceptions import BotoCoreError, ClientError

    if not case.rows:
        return Verdict(False, f"smoke test FAILED on {case.endpoint}: the package's held-out rows are empty")
    latencies = []
    try:
        for number, row in enumerate(case.rows, start=1):
            predictions, elapsed = _invoke(runtime, case.endpoint, row)
            latencies.append(elapsed)
            if len(predictions) != 1 or not _valid(predictions[0], case.problem_type):
                return Verdict(False, f"smoke test FAILED on {case.endpoint}: row {number} got {predictions!r}, "
                                      f"expected one valid {case.problem_type} prediction")
        batch, _ = _invoke(runtime, case.endpoint, "\n".join([case.header, *case.rows]))
    except (ClientError, BotoCoreError) as exc:
        return Verdict(False, f"smoke test FAILED on {case.endpoint}: {client_error_message(exc)}")
    if len(batch) != len(case.rows) or not all(_valid(v, case.problem_type) for v in batch):
        return Verdict(False, f"smoke test FAILED on {case.endpoint}: {len(case.rows)} rows in one request got "
                              f"{len(batch)} predictions (or some out of range)")
    p95 = percentile(latencies, 0.95)
    figures = f"{len(case.rows)} rows, p95 {p95:.1f} ms (budget {case.p95_budget_ms:g} ms)"
    if p95 > case.p95_budget_ms:
        return Verdict(False, f"smoke test FAILED on {case.endpoint}: too slow, {figures}")
    return Verdict(True, f"smoke test passed on {case.endpoint}: {figures}")


def smoke_case(endpoint: str, lines: list[str], problem_type: str, budget_ms: float) -> SmokeCase:
    """`lines`: the held-out CSV's first lines, header first."""
    if not lines:
        raise ValueError("the held-out rows file is empty")
    return SmokeCase(endpoint, lines[0], [line for line in lines[1:] if line.strip()], problem_type, budget_ms)
