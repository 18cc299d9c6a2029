"""Validation rules for team inputs, shared by the cookiecutter hook, the Studio launch path
and the config loader, so a value accepted at generation time is accepted at run time.

This module imports only the standard library: the pre-generation hook loads it before any
dependency is installed.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

SOURCE_PROVIDERS = ("github", "codecommit")
METRIC_CATALOG_FILE = Path(__file__).resolve().parent.parent / "seedcode" / "metrics.json"


@dataclass(frozen=True)
class MetricSpec:
    """One evaluation metric, as seedcode/metrics.json (the one catalog) describes it."""

    name: str
    problem_type: str
    section: str  # evaluation.json section holding it
    higher_is_better: bool
    low: float | None  # the metric's own range; a gate threshold outside it can never pass
    high: float | None


def _load_metric_catalog(path: Path = METRIC_CATALOG_FILE) -> dict[str, dict[str, MetricSpec]]:
    """problem type -> metric name -> spec. A name shared by problem types (accuracy) must keep one
    direction, so the gate's comparison can follow the name alone."""
    catalog = json.loads(path.read_text())
    specs = {problem_type: {name: MetricSpec(name, problem_type, entry["section"], spec["better"] == "higher",
                                             spec["min"], spec["max"])
                            for name, spec in entry["metrics"].items()}
             for problem_type, entry in catalog.items() if not problem_type.startswith("_")}
    directions: dict[str, bool] = {}
    for spec in (s for by_name in specs.values() for s in by_name.values()):
        if directions.setdefault(spec.name, spec.higher_is_better) != spec.higher_is_better:
            raise ValueError(f"{path}: metric {spec.name} is better higher in one problem type and lower in another")
    return specs


METRIC_SPECS: dict[str, dict[str, MetricSpec]] = _load_metric_catalog()
PROBLEM_TYPES = tuple(METRIC_SPECS)
CLASSIFICATION_TYPES = ("binary_classification", "multiclass_classification")
# metric name -> higher is better (one direction per name, whatever the problem type)
HIGHER_IS_BETTER: dict[str, bool] = {name: spec.higher_is_better
                                     for by_name in METRIC_SPECS.values() for name, spec in by_name.items()}
METRIC_NAMES = tuple(HIGHER_IS_BETTER)
# The scale-free default gate per problem type: a floor on a unitless metric (macro-F1 by chance is about 1/classes).
DEFAULT_GATE = {"binary_classification": ("auc", 0.7), "multiclass_classification": ("macro_f1", 0.5),
                "regression": ("r2", 0.1)}


def metric_spec(problem_type: str, metric: str) -> MetricSpec:
    """The catalog entry of `metric` for `problem_type` (KeyError when it is not one of its metrics)."""
    return METRIC_SPECS[problem_type][metric]


# SageMaker's tag-value pattern ([\p{L}\p{Z}\p{N}_.:/=+\-@]*, at most 256): every input that becomes a tag
# must fit it, or every job and the model package of the project is refused.
TAG_VALUE_PUNCTUATION = frozenset("_.:/=+-@")
TAG_VALUE_MAX = 256


@dataclass(frozen=True)
class Rule:
    pattern: re.Pattern[str]
    form: str  # the expected form, as the error message shows it
    tag: bool = False  # the value becomes an AWS tag value (see check_tag_value)


RULES: dict[str, Rule] = {
    "project": Rule(
        re.compile(r"^[a-z][a-z0-9-]{1,30}[a-z0-9]$"),
        "a slug of 3-32 lowercase letters, digits and hyphens, starting with a letter and "
        "not ending with a hyphen (e.g. churn-model)",
        tag=True,
    ),
    "project_name": Rule(
        re.compile(r"^[A-Za-z][A-Za-z0-9 _-]{1,62}[A-Za-z0-9]$"),
        "3-64 letters, digits, spaces, hyphens or underscores, starting with a letter",
    ),
    "team": Rule(
        re.compile(r"^[A-Za-z0-9][A-Za-z0-9 _.-]{0,63}$"),
        "1-64 letters, digits, spaces, dots, hyphens or underscores",
        tag=True,
    ),
    "owner_email": Rule(
        re.compile(r"^[A-Za-z0-9._+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$"),
        "an e-mail address like jane.doe@example.com",
        tag=True,
    ),
    "cost_center": Rule(
        re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$"),
        "a cost-center code of letters, digits, hyphens or underscores (e.g. CC-1234)",
        tag=True,
    ),
    "aws_region": Rule(
        re.compile(r"^(us|eu|ap|ca|sa|me|af|il|mx)(-gov)?-(north|south|east|west|central|northeast|"
                   r"southeast|northwest|southwest)-[1-9]$"),
        "an AWS region code like eu-west-1",
    ),
    "account_id": Rule(re.compile(r"^\d{12}$"), "a 12-digit AWS account id"),
    # Spaces are allowed (e.g. "Churn Flag"): the name travels as one ContainerArguments item and one argv
    # element, never through a shell; it may not start or end with one (a CSV header would not keep them).
    "target_column": Rule(
        re.compile(r"^[A-Za-z_](?:[A-Za-z0-9_. -]{0,126}[A-Za-z0-9_.-])?$"),
        "a column name of 1-128 letters, digits, spaces, underscores, dots or hyphens, starting with a letter or "
        "underscore and not ending with a space",
    ),
    "instance_type": Rule(
        re.compile(r"^ml\.[a-z][a-z0-9]*\.[a-z0-9]+$"),
        "a SageMaker instance type like ml.m5.xlarge",
    ),
    "github_repository": Rule(
        re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$"),
        "owner/name of the GitHub repository (e.g. acme/churn-model)",
    ),
}


def check(field: str, value: object, rule: str | None = None) -> str | None:
    """None when `value` fits the rule for `field`, otherwise what is wrong."""
    spec = RULES[rule or field]
    if not isinstance(value, str) or not spec.pattern.match(value):
        return f"{field}: {value!r} is not {spec.form}"
    return check_tag_value(field, value) if spec.tag else None


def check_tag_value(field: str, value: object) -> str | None:
    """None when `value` can be an AWS tag value (SageMaker's pattern and length), else what is wrong."""
    if not isinstance(value, str):
        return None  # the field's own rule reports the type
    bad = sorted({c for c in value if c not in TAG_VALUE_PUNCTUATION
                  and unicodedata.category(c)[0] not in ("L", "N", "Z")})
    if bad:
        shown = " ".join(repr(c) for c in bad)
        return (f"{field}: {value!r} becomes an AWS tag value, which cannot hold {shown}; use letters, digits, "
                "spaces and _ . : / = + - @ only")
    if len(value) > TAG_VALUE_MAX:
        return f"{field}: {value!r} becomes an AWS tag value, which holds at most {TAG_VALUE_MAX} characters"
    return None


def check_choice(field: str, value: object, choices: tuple[str, ...]) -> str | None:
    if value not in choices:
        return f"{field}: {value!r} is not one of {', '.join(choices)}"
    return None


def check_metric(problem_type: str, metric: object, threshold: object) -> list[str]:
    """The primary metric must fit the problem type and its threshold must be reachable."""
    problems = []
    if metric not in HIGHER_IS_BETTER:
        return [f"primary_metric: {metric!r} is not one of {', '.join(METRIC_NAMES)}"]
    fitting = METRIC_SPECS[problem_type]
    if metric not in fitting:
        problems.append(f"primary_metric: {metric!r} does not fit problem_type {problem_type!r}; "
                        f"use one of {', '.join(fitting)}")
    try:
        value = float(threshold)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return problems + [f"metric_threshold: {threshold!r} is not a number"]
    spec = fitting.get(str(metric)) or next(s[str(metric)] for s in METRIC_SPECS.values() if str(metric) in s)
    if value != value or value in (float("inf"), float("-inf")):
        problems.append(f"metric_threshold: {threshold!r} is not a finite number")
    elif spec.low is not None and spec.high is not None and not spec.low <= value <= spec.high:
        problems.append(f"metric_threshold: {threshold!r} must lie between {spec.low:g} and {spec.high:g} for {metric}")
    elif spec.low is not None and spec.high is None and value <= spec.low:
        problems.append(f"metric_threshold: {threshold!r} must be positive for {metric} (an upper bound)")
    elif spec.high is not None and spec.low is None and value > spec.high:
        problems.append(f"metric_threshold: {threshold!r} must be at most {spec.high:g} for {metric}")
    return problems


def check_template_inputs(values: dict[str, object]) -> list[str]:
    """Every problem with a set of template inputs, one line each (empty when all are valid)."""
    problems: list[str] = []
    for field in ("project_name", "project", "team", "owner_email", "cost_center", "aws_region",
                  "target_column", "training_instance_type"):
        rule = "instance_type" if field == "training_instance_type" else field
        problems.append(check(field, values.get(field), rule))  # type: ignore[arg-type]
    for stage in ("dev", "staging", "prod"):
        problems.append(check(f"{stage}_account_id", values.get(f"{stage}_account_id"), "account_id"))
    problems.append(check_choice("problem_type", values.get("problem_type"), PROBLEM_TYPES))
    problems.append(check_choice("use_spot", values.get("use_spot"), ("yes", "no")))
    problems.append(check_choice("source_provider", values.get("source_provider"), SOURCE_PROVIDERS))
    if values.get("source_provider") == "github":
        problems.append(check("github_repository", values.get("github_repository")))
    found = [p for p in problems if p]
    if values.get("problem_type") in PROBLEM_TYPES:
        found += check_metric(str(values["problem_type"]), values.get("primary_metric"),
                              values.get("metric_threshold"))
    return found
