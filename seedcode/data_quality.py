"""Data-quality statistics, constraints and drift checks in SageMaker Model Monitor's file formats.

The one drift computation of the product: the local engine runs it in place of Model Monitor's
analyzer container for the pipeline's QualityCheck step, and endpoint drift monitoring reuses it.

  statistics.json            per feature: inferred type, counts, mean/sum/std/min/max, a 10-bucket
                             histogram and a quantile sketch (numbers) or value counts (text)
  constraints.json           per feature: type, completeness, is_non_negative, small text domains;
                             plus monitoring_config (thresholds, comparison method)
  constraint_violations.json only with a baseline: data_type_check, completeness_check,
                             missing_column_check, extra_column_check, categorical_values_check,
                             baseline_drift_check

Types follow Model Monitor: each present value is Integral, Fractional or String; a column is String
if any value is text, else Fractional if any value has a fraction, else Integral (booleans count as
0/1 integers; datetimes as text; +-inf as missing).

Drift (baseline_drift_check): numbers -- the L-infinity distance between the baseline CDF (from its
sketch: items weighted 2**level as in a KLL sketch, else its buckets) and the current empirical CDF,
evaluated at the baseline bucket edges and sketch items; text -- the L-infinity distance between the
category frequency vectors. A violation when the distance exceeds comparison_threshold (or
categorical_comparison_threshold); with comparison_method "Robust" the distance must also exceed the
two-sample Kolmogorov-Smirnov critical value at 5% (1.36 * sqrt((n+m)/(n*m))), so small samples do
not raise false alarms. Completeness under "Robust" allows 3 binomial standard errors.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

import step_report
from step_report import DataError, log, run_step

INTEGRAL, FRACTIONAL, STRING, UNKNOWN = "Integral", "Fractional", "String", "Unknown"
NUMERIC_TYPES = (INTEGRAL, FRACTIONAL)
HISTOGRAM_BUCKETS = 10
SKETCH_ITEMS = 2048
MAX_CATEGORICAL_BUCKETS = 1000
MAX_DOMAIN_VALUES = 100
KS_CRITICAL_5_PERCENT = 1.36
SUFFIXES = (".csv", ".csv.gz", ".parquet")
EXIT_VIOLATIONS = 3
_NOT_NUMBERS = ("nan", "+nan", "-nan", "inf", "+inf", "-inf", "infinity", "+infinity", "-infinity")

DEFAULT_MONITORING_CONFIG: dict[str, Any] = {
    "evaluate_constraints": "Enabled",
    "emit_metrics": "Enabled",
    "datatype_check_threshold": 1.0,
    "domain_content_threshold": 1.0,
    "distribution_constraints": {
        "perform_comparison": "Enabled",
        "comparison_threshold": 0.1,
        "comparison_method": "Robust",
        "categorical_comparison_threshold": 0.1,
        "categorical_drift_method": "LInfinity",
    },
}


# ---------------------------------------------------------------------------- reading


def dataset_files(path: Path) -> list[Path]:
    """A data file, or every .csv/.csv.gz/.parquet file under a directory in a stable order."""
    path = Path(path)
    if path.is_file():
        return [path]
    if not path.is_dir():
        raise DataError(f"dataset {path} does not exist; pass a CSV/Parquet file or a directory of them")
    files = sorted(
        (p for p in path.rglob("*") if p.is_file() and p.name.lower().endswith(SUFFIXES) and p.name[0] != "."),
        key=lambda p: p.relative_to(path).as_posix(),
    )
    if not files:
        raise DataError(f"no .csv, .csv.gz or .parquet files under {path}")
    return files


def read_dataset(path: Path, header: bool = True, names: list[str] | None = None) -> pd.DataFrame:
    """All rows of a dataset file or directory. Headerless CSV columns get ``names`` or _c0, _c1, ..."""
    frames = []
    for file in dataset_files(path):
        try:
            if file.name.lower().endswith(".parquet"):
                frame = pd.read_parquet(file)
            elif header:
                frame = pd.read_csv(file, low_memory=False)
            else:
                frame = pd.read_csv(file, header=None, low_memory=False)
                width = frame.shape[1]
                frame.columns = list(names) if names and len(names) == width else [f"_c{i}" for i in range(width)]
        except pd.errors.EmptyDataError as err:
            raise DataError(f"dataset file {file} is empty; remove it or replace it with data") from err
        except (ValueError, OSError, pd.errors.ParserError) as err:
            first = (str(err).splitlines() or [type(err).__name__])[0]
            raise DataError(f"cannot read dataset file {file}: {first}") from err
        frame.columns = [str(c) for c in frame.columns]
        frames.append(frame)
    data = frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True, sort=False)
    if data.shape[1] == 0:
        raise DataError(f"dataset {path} has no columns")
    return data


# ---------------------------------------------------------------------------- profiling


class ColumnProfile:
    """One column reduced to what statistics and checks need: value-type counts, sorted numbers
    (when the column is numeric) and value counts (when it is text)."""

    def __init__(self, series: pd.Series) -> None:
        self.name = str(series.name)
        self.item_count = int(len(series))
        self.type_counts = {INTEGRAL: 0, FRACTIONAL: 0, STRING: 0}
        self.numbers: np.ndarray | None = None  # sorted present numbers, when every present value is a number
        self._text: pd.Series | None = None  # value -> count, text form
        self._series = series
        dtype = series.dtype
        if pd.api.types.is_bool_dtype(dtype):
            self._set_numbers(series.astype("float64").to_numpy(dtype="float64", na_value=np.nan))
        elif pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_complex_dtype(dtype):
            self._set_numbers(series.to_numpy(dtype="float64", na_value=np.nan))
        elif pd.api.types.is_datetime64_any_dtype(dtype):
            present = series.dropna()
            self._text = present.astype(str).value_counts()
            self.type_counts[STRING] = int(len(present))
        else:
            self._profile_values(series)

    def _set_numbers(self, values: np.ndarray) -> None:
        values = values[np.isfinite(values)]
        whole = values == np.floor(values)
        self.type_counts[INTEGRAL] = int(whole.sum())
        self.type_counts[FRACTIONAL] = int(len(values) - self.type_counts[INTEGRAL])
        self.numbers = np.sort(values)

    def _profile_values(self, series: pd.Series) -> None:
        """Object/text/category columns: classify each distinct value once, count by codes."""
        codes, uniques = pd.factorize(series)
        codes = np.asarray(codes)
        counts = np.bincount(codes[codes >= 0], minlength=len(uniques)) if len(uniques) else np.zeros(0, "int64")
        kinds, parsed = [], np.full(len(uniques), np.nan)
        for i, value in enumerate(uniques):
            number = _as_number(value)
            if number is None:
                kinds.append(STRING)
            else:
                parsed[i] = number
                kinds.append(INTEGRAL if number == math.floor(number) else FRACTIONAL)
        kinds_array = np.array(kinds, dtype=object)
        for kind in self.type_counts:
            self.type_counts[kind] = int(counts[kinds_array == kind].sum()) if len(kinds) else 0
        if self.type_counts[STRING] or not len(uniques):
            self._text = pd.Series(counts, index=[str(u) for u in uniques], dtype="int64")
            self._text = self._text[self._text > 0]
        else:
            present = codes[codes >= 0]
            self.numbers = np.sort(parsed[present])

    @property
    def num_present(self) -> int:
        return sum(self.type_counts.values())

    @property
    def inferred_type(self) -> str:
        if self.type_counts[STRING]:
            return STRING
        if self.type_counts[FRACTIONAL]:
            return FRACTIONAL
        if self.type_counts[INTEGRAL]:
            return INTEGRAL
        return UNKNOWN

    def text_counts(self) -> pd.Series:
        """Value -> count of the present values as text (numbers as their shortest text form)."""
        if self._text is None:
            values, counts = np.unique(self.numbers, return_counts=True)
            self._text = pd.Series(counts, index=[_number_text(v) for v in values], dtype="int64")
        return self._text


def _as_number(value: Any) -> float | None:
    """A finite number from a number (booleans as 0/1) or numeric text; None for anything else."""
    if isinstance(value, (bool, np.bool_, int, float, np.integer, np.floating)):
        number = float(value)
    else:
        text = str(value).strip()
        if not text or text.lower() in _NOT_NUMBERS:
            return None
        try:
            number = float(text)
        except ValueError:
            return None
    return number if math.isfinite(number) else None


def _number_text(value: float) -> str:
    return str(int(value)) if float(value).is_integer() and abs(value) < 2**53 else repr(float(value))


def profile(data: pd.DataFrame) -> dict[str, ColumnProfile]:
    return {str(name): ColumnProfile(data[name]) for name in data.columns}


# ---------------------------------------------------------------------------- statistics


def _sketch_items(numbers: np.ndarray) -> list[float]:
    """Up to SKETCH_ITEMS evenly spaced order statistics (all values when fewer)."""
    n = len(numbers)
    if n <= SKETCH_ITEMS:
        return numbers.tolist()
    ranks = ((np.arange(SKETCH_ITEMS) + 0.5) * n / SKETCH_ITEMS).astype("int64")
    return numbers[ranks].tolist()


def _buckets(numbers: np.ndarray) -> list[dict[str, float]]:
    low, high = float(numbers[0]), float(numbers[-1])
    if low == high:
        return [{"lower_bound": low, "upper_bound": high, "count": float(len(numbers))}]
    edges = np.linspace(low, high, HISTOGRAM_BUCKETS + 1)
    positions = np.searchsorted(numbers, edges, side="left")
    positions[-1] = len(numbers)  # the last bucket includes the maximum
    counts = np.diff(positions)
    return [
        {"lower_bound": float(edges[i]), "upper_bound": float(edges[i + 1]), "count": float(counts[i])}
        for i in range(HISTOGRAM_BUCKETS)
    ]


def feature_statistics(column: ColumnProfile) -> dict[str, Any]:
    common = {"num_present": column.num_present, "num_missing": column.item_count - column.num_present}
    kind = column.inferred_type
    if kind in NUMERIC_TYPES:
        numbers = column.numbers
        total = float(numbers.sum())
        return {
            "name": column.name,
            "inferred_type": kind,
            "numerical_statistics": {
                "common": common,
                "mean": total / len(numbers),
                "sum": total,
                "std_dev": float(numbers.std()),
                "min": float(numbers[0]),
                "max": float(numbers[-1]),
                "distribution": {
                    "kll": {
                        "buckets": _buckets(numbers),
                        "sketch": {
                            "parameters": {"c": 0.64, "k": float(SKETCH_ITEMS)},
                            "data": [_sketch_items(numbers)],
                        },
                    }
                },
            },
        }
    counts = column.text_counts() if kind == STRING else pd.Series([], dtype="int64")
    top = sorted(counts.items(), key=lambda item: (-int(item[1]), item[0]))[:MAX_CATEGORICAL_BUCKETS]
    return {
        "name": column.name,
        "inferred_type": kind,
        "string_statistics": {
            "common": common,
            "distinct_count": float(len(counts)),
            "distribution": {"categorical": {"buckets": [{"value": v, "count": float(c)} for v, c in top]}},
        },
    }


def compute_statistics(data: pd.DataFrame, profiles: dict[str, ColumnProfile] | None = None) -> dict[str, Any]:
    """statistics.json content for a dataset."""
    profiles = profiles or profile(data)
    return {
        "version": 0.0,
        "dataset": {"item_count": int(len(data))},
        "features": [feature_statistics(column) for column in profiles.values()],
    }


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


def _baseline_cdf(numeric: dict[str, Any], points: np.ndarray) -> np.ndarray:
    """P(X <= point) for the baseline, from its sketch (weights 2**level) or else its buckets."""
    kll = numeric.get("distribution", {}).get("kll", {})
    levels = kll.get("sketch", {}).get("data") or []
    items, weights = [], []
    for level, values in enumerate(levels):
        if values:
            items.append(np.asarray(values, dtype="float64"))
            weights.append(np.full(len(values), 2.0**level))
    if items:
        values = np.concatenate(items)
        order = np.argsort(values, kind="mergesort")
        values, cumulative = values[order], np.cumsum(np.concatenate(weights)[order])
        index = np.searchsorted(values, points, side="right")
        return np.where(index > 0, cumulative[np.maximum(index - 1, 0)], 0.0) / cumulative[-1]
    buckets = kll.get("buckets") or []
    if not buckets:
        return np.zeros(len(points))
    uppers = np.array([b["upper_bound"] for b in buckets], dtype="float64")
    cumulative = np.cumsum([b["count"] for b in buckets]).astype("float64")
    index = np.searchsorted(uppers, points, side="left")  # buckets wholly at or below the point
    full = np.where(index > 0, cumulative[np.maximum(index - 1, 0)], 0.0)
    at_or_above_max = points >= uppers[-1]
    return np.where(at_or_above_max, cumulative[-1], full) / cumulative[-1]


def _evaluation_points(numeric: dict[str, Any]) -> np.ndarray:
    kll = numeric.get("distribution", {}).get("kll", {})
    points = [b["lower_bound"] for b in kll.get("buckets", [])] + [b["upper_bound"] for b in kll.get("buckets", [])]
    for values in kll.get("sketch", {}).get("data") or []:
        points.extend(values)
    return np.unique(np.asarray(points, dtype="float64"))


def numeric_distance(numeric: dict[str, Any], current: np.ndarray) -> float:
    """L-infinity distance between the baseline CDF and the current (sorted) values' CDF."""
    points = _evaluation_points(numeric)
    if not len(points) or not len(current):
        return 0.0
    current_cdf = np.searchsorted(current, points, side="right") / len(current)
    return float(np.max(np.abs(current_cdf - _baseline_cdf(numeric, points))))


def categorical_distance(string_stats: dict[str, Any], current: pd.Series) -> float:
    """L-infinity distance between baseline and current category frequencies (over present values)."""
    buckets = string_stats["distribution"]["categorical"]["buckets"]
    base_total = float(string_stats["common"]["num_present"]) or 1.0
    baseline = {b["value"]: b["count"] / base_total for b in buckets}
    current_total = float(current.sum()) or 1.0
    now = {str(k): v / current_total for k, v in current.items()}
    return max((abs(baseline.get(k, 0.0) - now.get(k, 0.0)) for k in set(baseline) | set(now)), default=0.0)


def _violation(name: str, check: str, description: str) -> dict[str, str]:
    return {"feature_name": name, "constraint_check_type": check, "description": description}


def _type_match(baseline_type: str, column: ColumnProfile) -> float:
    present = column.num_present
    if not present or baseline_type in (STRING, UNKNOWN):
        return 1.0
    matching = column.type_counts[INTEGRAL]
    if baseline_type == FRACTIONAL:
        matching += column.type_counts[FRACTIONAL]
    return matching / present


def check_constraints(
    data: pd.DataFrame,
    baseline_statistics: dict[str, Any],
    baseline_constraints: dict[str, Any],
    profiles: dict[str, ColumnProfile] | None = None,
) -> list[dict[str, str]]:
    """Violations of the baseline constraints and drift from the baseline statistics by ``data``."""
    profiles = profiles or profile(data)
    config = baseline_constraints.get("monitoring_config") or DEFAULT_MONITORING_CONFIG
    if config.get("evaluate_constraints", "Enabled") != "Enabled":
        return []
    distribution = config.get("distribution_constraints", {})
    robust = distribution.get("comparison_method", "Robust") == "Robust"
    compare = distribution.get("perform_comparison", "Enabled") == "Enabled"
    numeric_threshold = float(distribution.get("comparison_threshold", 0.1))
    categorical_threshold = float(distribution.get("categorical_comparison_threshold", numeric_threshold))
    type_threshold = float(config.get("datatype_check_threshold", 1.0))
    domain_threshold = float(config.get("domain_content_threshold", 1.0))
    stats_by_name = {f["name"]: f for f in baseline_statistics.get("features", [])}
    constraints = baseline_constraints.get("features", [])
    known = {c["name"] for c in constraints} | set(stats_by_name)
    violations = []

    for constraint in constraints:
        name, base_type = constraint["name"], constraint.get("inferred_type", UNKNOWN)
        column = profiles.get(name)
        if column is None:
            violations.append(_violation(name, "missing_column_check", f"Column {name} is in the baseline but missing "
                                         "from the current dataset."))
            continue
        present = column.num_present
        match = _type_match(base_type, column)
        if match < type_threshold - 1e-12:
            violations.append(_violation(name, "data_type_check", (
                f"Data type match requirement is not met. Expected data type: {base_type}, expected match: "
                f"{type_threshold:.1%}. Observed: only {match:.1%} of the present values are {base_type}.")))
        if "completeness" in constraint and column.item_count:
            expected = float(constraint["completeness"])
            observed = present / column.item_count
            allowance = 3 * math.sqrt(expected * (1 - expected) / column.item_count) if robust else 0.0
            if observed < expected - allowance - 1e-12:
                violations.append(_violation(name, "completeness_check", (
                    f"Data completeness requirement is not met. Expected completeness: {expected:.2%}, "
                    f"observed: {observed:.2%}.")))
        domains = constraint.get("string_constraints", {}).get("domains")
        if domains and present:
            counts = column.text_counts()
            outside = counts[~counts.index.isin([str(d) for d in domains])]
            inside_share = 1 - float(outside.sum()) / present
            if inside_share < domain_threshold - 1e-12:
                shown = ", ".join(repr(v) for v in list(outside.sort_values(ascending=False).index[:5]))
                violations.append(_violation(name, "categorical_values_check", (
                    f"Values outside the baseline domain: {shown}; {inside_share:.2%} of the present values are in "
                    f"the domain, expected at least {domain_threshold:.0%}.")))
        stats = stats_by_name.get(name)
        if not (compare and stats and present):
            continue
        if "numerical_statistics" in stats and column.numbers is not None:
            distance = numeric_distance(stats["numerical_statistics"], column.numbers)
            base_present = stats["numerical_statistics"]["common"]["num_present"]
            threshold = numeric_threshold
        elif "string_statistics" in stats and base_type == STRING:
            distance = categorical_distance(stats["string_statistics"], column.text_counts())
            base_present = stats["string_statistics"]["common"]["num_present"]
            threshold = categorical_threshold
        else:
            continue
        critical = KS_CRITICAL_5_PERCENT * math.sqrt((base_present + present) / (base_present * present)) if (
            robust and base_present) else 0.0
        if distance > threshold and distance > critical:
            violations.append(_violation(name, "baseline_drift_check", (
                f"Baseline drift distance {distance:.4f} exceeds threshold {threshold}"
                + (f" (and the sampling allowance {critical:.4f})" if robust else "") + ".")))

    for name in profiles:
        if name not in known:
            violations.append(_violation(name, "extra_column_check", f"Column {name} is in the current dataset but "
                                         "not in the baseline."))
    return violations


# ---------------------------------------------------------------------------- CLI


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
    data = read_dataset(Path(dataset), header=header, names=names)
    profiles = profile(data)
    statistics = compute_statistics(data, profiles)
    output = Path(output)
    output.mkdir(parents=True, exist_ok=True)
    _write_json(output / "statistics.json", statistics, compact=True)  # sketches make it long
    _write_json(output / "constraints.json", suggest_constraints(statistics))
    log(f"profiled {len(data)} rows x {data.shape[1]} columns of {dataset}; wrote statistics.json, constraints.json")
    violations: list[dict[str, str]] = []
    if base_stats is not None and base_constraints is not None:
        violations = check_constraints(data, base_stats, base_constraints, profiles)
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
