"""Data-quality statistics, constraints and drift checks in SageMaker Model Monitor's file formats.

The one drift computation of the product: the local engine runs it in place of Model Monitor's
analyzer container for the pipeline's QualityCheck step, and endpoint drift monitoring reuses it.

  statistics.json            per feature: inferred type, counts, mean/sum/std/min/max, a 10-bucket
                             histogram and a quantile sketch (numbers) or value counts (text)
  constraints.json           per feature: type, completeness, is_non_negative, small text domains;
                             plus monitoring_config (thresholds, comparison method, false-alarm control)
  constraint_violations.json only with a baseline: data_type_check, completeness_check,
                             missing_column_check, extra_column_check, categorical_values_check,
                             baseline_drift_check

The data is read in chunks and never held whole (stats_reading.iter_chunks). Statistics come from
stats_accumulators (one pass when the Parquet footers state each numeric column's range, else two;
mergeable: per-shard results merged equal one pass; its docstring states the accuracy) and drift from
stats_drift (counts at the baseline's points, in the first pass).

Types follow Model Monitor: each present value is Integral, Fractional or String; a column is String
if any value is text, else Fractional if any value has a fraction, else Integral (booleans count as
0/1 integers; datetimes as text; +-inf as missing).

Checks: baseline_drift_check when the L-infinity CDF distance (numbers) or category-frequency
distance (text) exceeds comparison_threshold / categorical_comparison_threshold (0.1). With
comparison_method "Robust" (the default) small windows do not raise false alarms across many
features: a drift or completeness violation also needs its per-feature test (Kolmogorov-Smirnov,
chi-square, or a one-sided binomial test for completeness) to reject after a correction over all
tests of the window: monitoring_config "multiple_testing" ("holm", the default; "bonferroni";
"none") at "false_alarm_rate" (0.05), the chance that traffic from the baseline's distribution
raises any of these violations. Other comparison methods use the thresholds alone.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

import allocator
import cluster
import step_report
from stats_accumulators import (
    FRACTIONAL,
    INTEGRAL,
    NUMERIC_TYPES,
    STRING,
    UNKNOWN,
    ColumnSummary,
    DistributionAccumulator,
    StatsAccumulator,
    collect_statistics,
)
from stats_drift import DriftAccumulator, FeatureDrift, categorical_distance, numeric_distance, rejected
from stats_reading import dataset_files, iter_chunks, parquet_ranges
from step_report import DataError, log, run_step

__all__ = [
    "DEFAULT_MONITORING_CONFIG", "analyze", "categorical_distance", "check_constraints", "check_frame",
    "compute_statistics", "dataset_files", "main", "numeric_distance", "suggest_constraints",
]

MAX_DOMAIN_VALUES = 100
EXIT_VIOLATIONS = 3

DEFAULT_MONITORING_CONFIG: dict[str, Any] = {
    "evaluate_constraints": "Enabled",
    "emit_metrics": "Enabled",
    "datatype_check_threshold": 1.0,
    "domain_content_threshold": 1.0,
    "false_alarm_rate": 0.05,
    "multiple_testing": "holm",
    "distribution_constraints": {
        "perform_comparison": "Enabled",
        "comparison_threshold": 0.1,
        "comparison_method": "Robust",
        "categorical_comparison_threshold": 0.1,
        "categorical_drift_method": "LInfinity",
    },
}


# ---------------------------------------------------------------------------- statistics


def _frame_chunks(frames: Iterable[pd.DataFrame]) -> list[pd.DataFrame]:
    return [frame.rename(columns=str) for frame in frames]


def compute_statistics(data: pd.DataFrame) -> dict[str, Any]:
    """statistics.json content for a DataFrame: the streaming accumulators over one chunk."""
    chunks = _frame_chunks([data])
    return collect_statistics(lambda: chunks).to_statistics()


def suggest_constraints(statistics: dict[str, Any]) -> dict[str, Any]:
    """constraints.json content suggested from statistics (the baseline's own values)."""
    items = statistics["dataset"]["item_count"]
    features = []
    for feature in statistics["features"]:
        kind = feature["inferred_type"]
        block = feature.get("numerical_statistics") or feature.get("string_statistics")
        present = block["common"]["num_present"]
        constraint: dict[str, Any] = {
            "name": feature["name"],
            "inferred_type": kind,
            "completeness": float(present / items) if items else 0.0,
        }
        if kind in NUMERIC_TYPES:
            constraint["num_constraints"] = {"is_non_negative": bool(block["min"] >= 0)}
        elif kind == STRING:
            buckets = block["distribution"]["categorical"]["buckets"]
            if block["distinct_count"] <= MAX_DOMAIN_VALUES and len(buckets) == block["distinct_count"]:
                constraint["string_constraints"] = {"domains": sorted(b["value"] for b in buckets)}
        features.append(constraint)
    config = json.loads(json.dumps(DEFAULT_MONITORING_CONFIG))  # a deep copy
    return {"version": 0.0, "features": features, "monitoring_config": config}


# ---------------------------------------------------------------------------- checks


@dataclass(frozen=True)
class CheckSettings:
    """The monitoring_config of a constraints.json, with Model Monitor's defaults."""

    enabled: bool
    compare: bool
    robust: bool
    numeric_threshold: float
    categorical_threshold: float
    type_threshold: float
    domain_threshold: float
    false_alarm_rate: float
    multiple_testing: str
    feature_thresholds: dict[str, float] = field(default_factory=dict)  # our extension: per-feature drift

    @classmethod
    def from_constraints(cls, constraints: dict[str, Any]) -> CheckSettings:
        config = constraints.get("monitoring_config") or DEFAULT_MONITORING_CONFIG
        distribution = config.get("distribution_constraints", {})
        numeric = float(distribution.get("comparison_threshold", 0.1))
        method = str(config.get("multiple_testing", "holm")).lower()
        if method not in ("holm", "bonferroni", "none"):
            raise DataError(f"monitoring_config multiple_testing {method!r} is not supported; use holm, bonferroni "
                            "or none")
        return cls(
            enabled=config.get("evaluate_constraints", "Enabled") == "Enabled",
            compare=distribution.get("perform_comparison", "Enabled") == "Enabled",
            robust=distribution.get("comparison_method", "Robust") == "Robust",
            numeric_threshold=numeric,
            categorical_threshold=float(distribution.get("categorical_comparison_threshold", numeric)),
            type_threshold=float(config.get("datatype_check_threshold", 1.0)),
            domain_threshold=float(config.get("domain_content_threshold", 1.0)),
            false_alarm_rate=float(config.get("false_alarm_rate", 0.05)),
            multiple_testing=method,
            feature_thresholds={str(k): float(v) for k, v in (config.get("feature_thresholds") or {}).items()},
        )

    def drift(self, drift: DriftAccumulator) -> dict[str, FeatureDrift]:
        """Each compared feature's drift against its threshold: its own where feature_thresholds names one."""
        found = drift.drift(self.numeric_threshold, self.categorical_threshold)
        for name, result in found.items():
            result.threshold = self.feature_thresholds.get(name, result.threshold)
        return found


def _violation(name: str, check: str, description: str) -> dict[str, str]:
    return {"feature_name": name, "constraint_check_type": check, "description": description}


def _type_violation(name: str, base_type: str, column: ColumnSummary, threshold: float) -> dict[str, str] | None:
    present = column.num_present
    if not present or base_type in (STRING, UNKNOWN):
        return None
    counts = column.type_counts
    matching = counts[INTEGRAL] + (counts[FRACTIONAL] if base_type == FRACTIONAL else 0)
    match = matching / present
    if match >= threshold - 1e-12:
        return None
    return _violation(name, "data_type_check", (
        f"Data type match requirement is not met. Expected data type: {base_type}, expected match: "
        f"{threshold:.1%}. Observed: only {match:.1%} of the present values are {base_type}."))


def _completeness_p_value(present: int, items: int, expected: float) -> float:
    """One-sided binomial p-value of seeing at most ``present`` of ``items`` at rate ``expected``."""
    from scipy.special import bdtr  # binom.cdf

    return float(bdtr(present, items, min(max(expected, 0.0), 1.0)))


def _domain_violation(name: str, domains: list[Any], counts: dict[str, int], present: int,
                      threshold: float) -> dict[str, str] | None:
    allowed = {str(d) for d in domains}
    outside = {value: count for value, count in counts.items() if value not in allowed}
    inside_share = 1 - sum(outside.values()) / present
    if inside_share >= threshold - 1e-12:
        return None
    shown = ", ".join(repr(v) for v, _ in sorted(outside.items(), key=lambda item: (-item[1], item[0]))[:5])
    return _violation(name, "categorical_values_check", (
        f"Values outside the baseline domain: {shown}; {inside_share:.2%} of the present values are in "
        f"the domain, expected at least {threshold:.0%}."))


@dataclass
class _Candidates:
    """Violations found per feature, and the sampling tests that must confirm some of them."""

    found: dict[str, list[dict[str, str]]]
    p_values: dict[tuple[str, str], float]


def _feature_candidates(constraint: dict[str, Any], summary: StatsAccumulator, drift: DriftAccumulator,
                        settings: CheckSettings, candidates: _Candidates) -> None:
    name, base_type = constraint["name"], constraint.get("inferred_type", UNKNOWN)
    found = candidates.found.setdefault(name, [])
    column = summary.columns.get(name)
    if column is None:
        found.append(_violation(name, "missing_column_check",
                                f"Column {name} is in the baseline but missing from the current dataset."))
        return
    present, items = column.num_present, summary.item_count
    problem = _type_violation(name, base_type, column, settings.type_threshold)
    if problem:
        found.append(problem)
    if "completeness" in constraint and items:
        expected = float(constraint["completeness"])
        candidates.p_values[("completeness_check", name)] = _completeness_p_value(present, items, expected)
        if present / items < expected - 1e-12:
            found.append(_violation(name, "completeness_check", (
                f"Data completeness requirement is not met. Expected completeness: {expected:.2%}, "
                f"observed: {present / items:.2%}.")))
    domains = constraint.get("string_constraints", {}).get("domains")
    if domains and present:
        counts = drift.category_counts(name) if name in drift.categorical else column.text.counts
        problem = _domain_violation(name, domains, counts, present, settings.domain_threshold)
        if problem:
            found.append(problem)


def _drift_candidates(drift: DriftAccumulator, summary: StatsAccumulator, settings: CheckSettings,
                      candidates: _Candidates) -> None:
    if not settings.compare:
        return
    for name, result in settings.drift(drift).items():
        if name not in candidates.found or name not in summary.columns:
            continue
        candidates.p_values[("baseline_drift_check", name)] = result.p_value
        if result.distance > result.threshold:
            candidates.found[name].append(_violation(name, "baseline_drift_check", (
                f"Baseline drift distance {result.distance:.4f} exceeds threshold {result.threshold}"
                + (f" (test p-value {result.p_value:.3g})" if settings.robust else "") + ".")))


def check_constraints(summary: StatsAccumulator, drift: DriftAccumulator,
                      baseline_constraints: dict[str, Any]) -> list[dict[str, str]]:
    """Violations of the baseline constraints by the current data (its pass-1 summary) and drift
    from the baseline statistics (``drift``, fed the same data)."""
    settings = CheckSettings.from_constraints(baseline_constraints)
    if not settings.enabled:
        return []
    constraints = baseline_constraints.get("features", [])
    candidates = _Candidates({}, {})
    for constraint in constraints:
        _feature_candidates(constraint, summary, drift, settings, candidates)
    _drift_candidates(drift, summary, settings, candidates)
    confirmed = (rejected(candidates.p_values, settings.false_alarm_rate, settings.multiple_testing)
                 if settings.robust else set(candidates.p_values))
    violations = [v for found in candidates.found.values() for v in found
                  if (v["constraint_check_type"], v["feature_name"]) not in candidates.p_values
                  or (v["constraint_check_type"], v["feature_name"]) in confirmed]
    known = {c["name"] for c in constraints} | set(drift.baseline)
    violations += [_violation(name, "extra_column_check", f"Column {name} is in the current dataset but not in "
                              "the baseline.") for name in summary.columns if name not in known]
    return violations


def check_frame(data: pd.DataFrame, baseline_statistics: dict[str, Any],
                baseline_constraints: dict[str, Any]) -> list[dict[str, str]]:
    """``check_constraints`` for a DataFrame held in memory (one chunk)."""
    chunks = _frame_chunks([data])
    summary, drift = StatsAccumulator(), DriftAccumulator(baseline_statistics)
    for chunk in chunks:
        summary.update(chunk, also=[drift])
    return check_constraints(summary, drift, baseline_constraints)


def profile(
    read: Any, baseline_statistics: dict[str, Any] | None, merge: Callable[[Any], Any] | None = None,
    ranges: dict[str, tuple[float, float]] | None = None,
) -> tuple[DistributionAccumulator, DriftAccumulator | None]:
    """The statistics of the chunks ``read()`` yields (called once when ``ranges``, the data's stated column
    ranges, hold; else twice) and, with a baseline, the drift counts (riding along the first pass); with
    ``merge`` (cluster.merged_over_hosts on one host's share), both merged over every host: the whole data's."""
    drift = DriftAccumulator(baseline_statistics) if baseline_statistics is not None else None
    statistics = collect_statistics(read, [drift] if drift else [], merge, ranges)
    if merge is not None and drift is not None:
        drift = merge(drift)
    return statistics, drift


def profile_and_check(
    read: Any, baseline_statistics: dict[str, Any] | None, baseline_constraints: dict[str, Any] | None,
    merge: Callable[[Any], Any] | None = None, ranges: dict[str, tuple[float, float]] | None = None,
) -> tuple[DistributionAccumulator, list[dict[str, str]] | None]:
    """Statistics of the chunks ``read()`` yields (``profile``) and, with a baseline, the violations. On one
    shard of a sharded dataset, ``merge`` returns an accumulator merged over every shard
    (cluster.merged_over_hosts): the result is the whole data's."""
    statistics, drift = profile(read, baseline_statistics, merge, ranges)
    if drift is None or baseline_constraints is None:
        return statistics, None
    return statistics, check_constraints(statistics.summary, drift, baseline_constraints)


# ---------------------------------------------------------------------------- CLI


def _holds_files(path: Path) -> bool:
    """False for a host whose share of a sharded dataset holds no file (more instances than objects)."""
    return path.exists() and not (path.is_dir() and not any(p.is_file() for p in path.rglob("*")))


def shard_chunks(path: Path, header: bool = True, names: list[str] | None = None) -> Iterable[Any]:
    """``iter_chunks`` of one host's share of a sharded dataset; a host whose share holds no file profiles
    nothing and still joins the merge."""
    if not _holds_files(path):
        return iter(())
    return iter_chunks(path, header=header, names=names)


def _profile_on_hosts(
    hosts: cluster.Cluster, dataset: Path, baseline: tuple[dict[str, Any] | None, dict[str, Any] | None],
    read: Callable[[Callable[..., Iterable[Any]]], Iterable[Any]],
) -> tuple[DistributionAccumulator, list[dict[str, str]] | None]:
    """``profile_and_check`` of the dataset (``read(iter_chunks)``) on one host; on several, of each host's
    share (``read(shard_chunks)``), merged over XGBoost's collective after each pass: the whole data's."""
    if not hosts.distributed:
        return profile_and_check(lambda: read(iter_chunks), *baseline, ranges=parquet_ranges(dataset_files(dataset)))
    share = dataset_files(dataset) if _holds_files(dataset) else []
    with cluster.joined_or_lost(hosts, "statistics", "run the job again", DataError):
        accumulated, found = profile_and_check(lambda: read(shard_chunks), *baseline, cluster.merged_over_hosts,
                                               parquet_ranges(share))
    if not accumulated.summary.columns:
        raise DataError(f"dataset {dataset} has no columns on any of the {len(hosts.hosts)} hosts")
    return accumulated, found


def _load_json(path: Path, what: str) -> dict[str, Any]:
    try:
        return json.loads(Path(path).read_text())
    except OSError as err:
        raise DataError(f"cannot read the {what} file {path}: {err.strerror}") from err
    except ValueError as err:
        raise DataError(f"the {what} file {path} is not valid JSON: {err}") from err


def _write_json(path: Path, content: dict[str, Any], compact: bool = False) -> None:
    text = json.dumps(content, separators=(",", ":"), allow_nan=False) if compact else json.dumps(
        content, indent=2, allow_nan=False
    )
    path.write_text(text + "\n")


def analyze(
    dataset: Path,
    output: Path,
    baseline_statistics: Path | None = None,
    baseline_constraints: Path | None = None,
    header: bool = True,
) -> list[dict[str, str]]:
    """Write statistics.json and constraints.json (and constraint_violations.json with a baseline)."""
    started = time.perf_counter()
    if (baseline_statistics is None) != (baseline_constraints is None):
        raise DataError("pass both --baseline-statistics and --baseline-constraints, or neither")
    base_stats = _load_json(baseline_statistics, "baseline statistics") if baseline_statistics else None
    base_constraints = _load_json(baseline_constraints, "baseline constraints") if baseline_constraints else None
    names = [f["name"] for f in base_stats.get("features", [])] if base_stats else None
    hosts = cluster.current_cluster()
    accumulated, found = _profile_on_hosts(hosts, Path(dataset), (base_stats, base_constraints),
                                           lambda chunks: chunks(Path(dataset), header=header, names=names))
    if hosts.rank > 0:
        log(f"host {hosts.current_host} (rank {hosts.rank}) profiled its share of {dataset}; the first host writes "
            "the files")
        return []
    statistics = accumulated.to_statistics()
    output = Path(output)
    output.mkdir(parents=True, exist_ok=True)
    _write_json(output / "statistics.json", statistics, compact=True)  # sketches make it long
    _write_json(output / "constraints.json", suggest_constraints(statistics))
    log(f"profiled {statistics['dataset']['item_count']} rows x {len(statistics['features'])} columns of "
        f"{dataset}; wrote statistics.json, constraints.json")
    violations: list[dict[str, str]] = found or []
    if found is not None:
        _write_json(output / "constraint_violations.json", {"violations": violations})
        for v in violations:
            log(f"violation {v['constraint_check_type']} {v['feature_name']}: {v['description']}")
        log(f"{len(violations)} violation(s); wrote constraint_violations.json")
    log(f"data quality done in {time.perf_counter() - started:.2f} s")
    return violations


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Profile a dataset into Model Monitor statistics.json/constraints.json and, given a baseline, "
        "check it into constraint_violations.json. Exit 0 even with violations unless --fail-on-violations.",
    )
    parser.add_argument("--dataset", required=True, type=Path, help="a CSV/Parquet file or a directory of them")
    parser.add_argument("--output", required=True, type=Path, help="directory for the JSON files")
    parser.add_argument("--baseline-statistics", type=Path, help="statistics.json of the baseline")
    parser.add_argument("--baseline-constraints", type=Path, help="constraints.json of the baseline")
    parser.add_argument("--no-header", action="store_true",
                        help="CSV files have no header row (columns named as in the baseline, else _c0, _c1, ...)")
    parser.add_argument("--fail-on-violations", action="store_true",
                        help=f"exit {EXIT_VIOLATIONS} (and write the failure file) when there are violations")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    allocator.keep_freed_memory()
    found: list[dict[str, str]] = []

    def step() -> None:
        found.extend(analyze(args.dataset, args.output, args.baseline_statistics, args.baseline_constraints,
                             header=not args.no_header))

    code = run_step(step, "processing")
    if code == 0 and found and args.fail_on_violations:
        checks = sorted({v["constraint_check_type"] for v in found})
        message = f"{len(found)} data-quality violation(s) ({', '.join(checks)}); see constraint_violations.json"
        print(f"error: {message}", file=sys.stderr, flush=True)
        step_report.write_failure(message, "processing")
        return EXIT_VIOLATIONS
    return code


if __name__ == "__main__":
    sys.exit(main())
