"""The template inputs the matrix renders: pairwise combinations of region, problem type, primary
metric, Spot, source provider and stage settings (as databricks/mlops-stacks tests its template).

Problem types and metrics come from the one catalog (seedcode/metrics.json through pipelines/rules.py),
so a problem type or metric added there is rendered and tested here without an edit. The metric is
paired with its problem type only: what it changes (the gate's section, direction and threshold) does
not depend on region, Spot or provider, and pairing it with them would triple the matrix for nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from pairwise import all_pairs

from pipelines.rules import DEFAULT_GATE, METRIC_SPECS, PROBLEM_TYPES, MetricSpec

REGIONS = ("eu-west-1", "us-east-1", "ap-southeast-2")  # the default; S3's odd one (no LocationConstraint); a long one
NAMES = ("Churn Model", "fraud_detector_2", "Customer Lifetime Value Forecast")  # the last: a 32-character slug
ACCOUNTS = {  # stage settings: one account per stage (the default), or every stage in one account
    "separate": {"dev_account_id": "111111111111", "staging_account_id": "222222222222",
                 "prod_account_id": "333333333333"},
    "shared": {"dev_account_id": "123456789012", "staging_account_id": "123456789012",
               "prod_account_id": "123456789012"},
}
INSTANCE_TYPES = ("ml.m5.xlarge", "ml.c5.2xlarge")


def reachable_threshold(spec: MetricSpec) -> str:
    """A threshold the rules accept for the metric: the scale-free default where there is one, else a
    non-default value inside the metric's range (an error metric takes any positive bound)."""
    default_metric, default_threshold = DEFAULT_GATE.get(spec.problem_type, (None, None))
    if spec.name == default_metric:
        return f"{default_threshold:g}"
    if spec.low is not None and spec.high is not None:
        return f"{spec.low + 0.6 * (spec.high - spec.low):g}"
    if spec.high is not None:
        return f"{spec.high - 0.85:g}"
    return "25"


@dataclass(frozen=True)
class MatrixRow:
    """One combination of template inputs."""

    inputs: dict[str, str]  # cookiecutter key=value overrides
    label: str  # a short test id

    @property
    def slug(self) -> str:
        return self.inputs["project_name"].strip().lower().replace(" ", "-").replace("_", "-")


def _row(choice: dict) -> MatrixRow:
    spec: MetricSpec = choice["metric"]
    inputs = {"project_name": choice["name"], "aws_region": choice["region"], "problem_type": choice["problem_type"],
              "primary_metric": spec.name, "metric_threshold": reachable_threshold(spec),
              "use_spot": choice["use_spot"], "source_provider": choice["provider"],
              "training_instance_type": choice["instance_type"], **ACCOUNTS[choice["accounts"]]}
    label = "-".join((choice["region"], spec.problem_type.split("_")[0], spec.name, f"spot_{choice['use_spot']}",
                      choice["provider"], choice["accounts"], choice["instance_type"].removeprefix("ml.")))
    return MatrixRow(inputs, label)


def _metric_fits(row: dict) -> bool:
    return "metric" not in row or "problem_type" not in row or row["metric"].problem_type == row["problem_type"]


@cache
def matrix_rows() -> tuple[MatrixRow, ...]:
    factors = {  # the order matters to the greedy generator: the metric after its problem type gives fewer rows
        "region": REGIONS,
        "name": NAMES,
        "problem_type": PROBLEM_TYPES,
        "metric": tuple(spec for by_name in METRIC_SPECS.values() for spec in by_name.values()),
        "use_spot": ("yes", "no"),
        "provider": ("github", "codecommit"),
        "accounts": tuple(ACCOUNTS),
        "instance_type": INSTANCE_TYPES,
    }
    uncoupled = frozenset(frozenset(("metric", other)) for other in factors if other not in ("metric", "problem_type"))
    return tuple(_row(choice) for choice in all_pairs(factors, _metric_fits, uncoupled))
