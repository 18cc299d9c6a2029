"""Drift of current data from a baseline statistics.json in one streaming pass, and the per-feature
tests that keep false alarms rare when a window has many features.

``DriftAccumulator(baseline_statistics)`` keeps, per numeric baseline feature, the number of current
values at or below each of the baseline's evaluation points (its bucket edges and sketch items) and,
per text baseline feature, the current category counts. Both are exact and merge by adding, so a
window (or a shard of it) is read chunk by chunk and never loaded whole.

Distances are Model Monitor's: numbers, the L-infinity distance between the baseline CDF (from its
sketch, items weighted 2**level as in a KLL sketch, else its buckets) and the current CDF at those
points; text, the L-infinity distance between the category frequency vectors.

Tests, for the "Robust" comparison method: a distance above the threshold is a violation only when
the feature's test also rejects "same distribution", after a Holm (or Bonferroni) correction over
every test of the window at ``false_alarm_rate``. Numbers: the two-sample Kolmogorov-Smirnov test,
p = kstwo.sf(D, round(n m / (n + m))) as scipy's ks_2samp computes it for large samples, n the
baseline's num_present and m the current count. Text: Pearson's chi-square test of homogeneity of
the baseline and current counts, categories expected fewer than 5 times in either row pooled.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from stats_accumulators import STRING, Chunk, ParsedColumn, ValueCounts, number_text, parse_chunk

MIN_EXPECTED = 5.0
MULTIPLE_TESTING = ("holm", "bonferroni", "none")


# ---------------------------------------------------------------------------- baseline CDF


def baseline_cdf(numeric: dict[str, Any], points: np.ndarray) -> np.ndarray:
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


def evaluation_points(numeric: dict[str, Any]) -> np.ndarray:
    """The baseline's bucket edges and sketch items, sorted and distinct."""
    kll = numeric.get("distribution", {}).get("kll", {})
    points = [b["lower_bound"] for b in kll.get("buckets", [])] + [b["upper_bound"] for b in kll.get("buckets", [])]
    for values in kll.get("sketch", {}).get("data") or []:
        points.extend(values)
    return np.unique(np.asarray(points, dtype="float64"))


def numeric_distance(numeric: dict[str, Any], current: np.ndarray) -> float:
    """L-infinity distance between the baseline CDF and the CDF of the current (sorted) values."""
    points = evaluation_points(numeric)
    if not len(points) or not len(current):
        return 0.0
    current_cdf = np.searchsorted(current, points, side="right") / len(current)
    return float(np.max(np.abs(current_cdf - baseline_cdf(numeric, points))))


def _baseline_categories(string_stats: dict[str, Any]) -> dict[str, float]:
    return {b["value"]: float(b["count"]) for b in string_stats["distribution"]["categorical"]["buckets"]}


def categorical_distance(string_stats: dict[str, Any], current: Mapping[str, float]) -> float:
    """L-infinity distance between baseline and current category frequencies (over present values)."""
    base_total = float(string_stats["common"]["num_present"]) or 1.0
    baseline = {k: v / base_total for k, v in _baseline_categories(string_stats).items()}
    current_total = float(sum(current.values())) or 1.0
    now = {str(k): v / current_total for k, v in current.items()}
    return max((abs(baseline.get(k, 0.0) - now.get(k, 0.0)) for k in set(baseline) | set(now)), default=0.0)


# ---------------------------------------------------------------------------- tests


def ks_p_values(distances: np.ndarray, baseline_n: np.ndarray, current_n: np.ndarray) -> np.ndarray:
    """Two-sample Kolmogorov-Smirnov p-values of CDF distances, as scipy's ks_2samp (asymptotic): the
    distribution of the one-sample statistic for the effective size n m / (n + m). Vectorised: one
    scipy call per window."""
    from scipy.stats import kstwo  # imported on use: scipy.stats takes a while to load

    distances, baseline_n, current_n = (np.asarray(a, dtype="float64") for a in (distances, baseline_n, current_n))
    if not len(distances):
        return np.zeros(0)
    total = np.maximum(baseline_n + current_n, 1.0)
    effective = np.round(baseline_n * current_n / total)
    p_values = np.ones(len(distances))
    usable = effective >= 1
    if usable.any():
        p_values[usable] = np.minimum(1.0, kstwo.sf(distances[usable], effective[usable]))
    return p_values


def chi_square_p_value(baseline: Mapping[str, float], current: Mapping[str, float]) -> float:
    """Pearson's chi-square test that two count vectors come from one distribution; categories
    expected fewer than MIN_EXPECTED times in either row are pooled into one."""
    from scipy.special import chdtrc  # chi2.sf

    names = sorted(set(baseline) | set(current))
    table = np.array([[baseline.get(k, 0.0) for k in names], [current.get(k, 0.0) for k in names]], dtype="float64")
    rows = table.sum(axis=1, keepdims=True)
    if not len(names) or np.any(rows == 0):
        return 1.0
    expected = rows * table.sum(axis=0) / rows.sum()
    rare = expected.min(axis=0) < MIN_EXPECTED
    if rare.any():
        table = np.column_stack((table[:, ~rare], table[:, rare].sum(axis=1)))
        expected = rows * table.sum(axis=0) / rows.sum()
    if table.shape[1] < 2:
        return 1.0
    statistic = float(np.sum((table - expected) ** 2 / expected))
    return float(chdtrc(table.shape[1] - 1, statistic))


def rejected(p_values: Mapping[Any, float], alpha: float, method: str = "holm") -> set[Any]:
    """Keys whose null hypothesis is rejected with family-wise error rate ``alpha``."""
    if method not in MULTIPLE_TESTING:
        raise ValueError(f"multiple_testing must be one of {', '.join(MULTIPLE_TESTING)}, not {method!r}")
    m = len(p_values)
    if method == "none":
        return {k for k, p in p_values.items() if p <= alpha}
    if method == "bonferroni":
        return {k for k, p in p_values.items() if p <= alpha / m}
    out = set()
    for rank, (key, p) in enumerate(sorted(p_values.items(), key=lambda item: item[1])):
        if p > alpha / (m - rank):
            break
        out.add(key)
    return out


# ---------------------------------------------------------------------------- the accumulator


@dataclass
class FeatureDrift:
    """One feature's drift: the distance, its threshold and the test's p-value."""

    name: str
    kind: str  # "numeric" or "categorical"
    distance: float
    threshold: float
    p_value: float
    baseline_count: float
    current_count: int


class _PointGrid:
    """Finds, for many values at once, how many of a feature's sorted baseline points lie below each value,
    without sorting the values: an equal-width grid of CELLS_PER_POINT cells per point remembers how many
    points lie in the cells before each cell and the one point a cell may hold, and a value is compared with
    that point only. Exact, like np.searchsorted(points, values, "left"), with no check afterwards: the cell
    of a number is computed by the same rounded arithmetic for points and values, which never decreases as
    the number grows, so a point in an earlier cell is below the value and one in a later cell is not. The
    few values in a cell with several points are placed by binary search."""

    __slots__ = ("low", "factor", "last", "below", "inside", "crowded", "points")

    CELLS_PER_POINT = 16
    MAX_CELLS = 1 << 18

    def __init__(self, points: np.ndarray, low: float, factor: float, cells: int) -> None:
        self.low, self.factor, self.last, self.points = low, factor, float(cells - 1), points
        of_points = self.cells(points)
        self.below = np.searchsorted(of_points, np.arange(cells), side="left")  # points in earlier cells
        held = np.diff(np.append(self.below, len(points)))
        self.inside = np.full(cells, np.inf)  # the cell's one point (+inf: none, nothing is past it)
        self.inside[of_points] = np.where(held[of_points] == 1, points, np.nan)  # NaN: several points
        self.crowded = bool((held > 1).any())

    @classmethod
    def build(cls, points: np.ndarray, max_crowded: float = 0.2) -> _PointGrid | None:
        """A grid of CELLS_PER_POINT cells per point, or finer where more than ``max_crowded`` of the points
        share their cell (a heavy tail squeezes the body into few cells); None when even MAX_CELLS cells
        crowd them: then sorting each chunk is cheaper."""
        if len(points) < 2:
            return None
        cells = cls.CELLS_PER_POINT * len(points)
        while cells <= max(cls.MAX_CELLS, cls.CELLS_PER_POINT * len(points)):
            factor = cells / (float(points[-1]) - float(points[0]))
            if not math.isfinite(factor):
                return None
            grid = cls(points, float(points[0]), factor, cells)
            held = np.diff(np.append(grid.below, len(points)))
            if held[held > 1].sum() <= max_crowded * len(points):
                return grid
            cells *= 4
        return None

    def cells(self, values: np.ndarray) -> np.ndarray:
        """Each number's cell: rounded arithmetic, clipped as a float (so never wrapped), then truncated."""
        with np.errstate(over="ignore", invalid="ignore"):
            position = np.subtract(values, self.low)
            np.multiply(position, self.factor, out=position)
        np.clip(position, 0.0, self.last, out=position)
        return position.astype(np.int64)

    def count_below(self, values: np.ndarray) -> np.ndarray:
        cell = self.cells(values)
        below = self.below.take(cell)  # take: cheaper than [cell]
        inside = self.inside.take(cell)
        below += inside < values
        if self.crowded:
            crowded = np.isnan(inside)
            if crowded.any():
                below[crowded] = np.searchsorted(self.points, values[crowded], side="left")
        return below


class _NumericCounts:
    __slots__ = ("points", "baseline_cdf", "at_or_below", "count", "grid")

    def __init__(self, numeric: dict[str, Any]) -> None:
        self.points = evaluation_points(numeric)
        self.baseline_cdf = baseline_cdf(numeric, self.points)
        self.at_or_below = np.zeros(len(self.points), dtype="int64")
        self.count = 0
        self.grid = _PointGrid.build(self.points)

    def add(self, column: ParsedColumn) -> None:
        """Count the chunk's values at or below each point."""
        values = column.numbers
        if not len(values) or not len(self.points):
            self.count += len(values)
            return
        self.count += len(values)
        counted = column.counted()  # integers over a small range: each distinct value once, with its count
        if self.grid is None and counted is None:
            self.at_or_below += np.searchsorted(column.sorted_numbers(), self.points, side="right")
        elif self.grid is None:
            distinct, repeats = counted
            cumulative = np.concatenate(([0], np.cumsum(repeats)))
            self.at_or_below += cumulative[np.searchsorted(distinct, self.points, side="right")]
        else:  # a value counts at every point from the first one not below it
            distinct, repeats = counted if counted is not None else (values, None)
            places = self.grid.count_below(distinct)
            below = (np.bincount(places, minlength=len(self.points) + 1) if repeats is None else
                     np.bincount(places, weights=repeats, minlength=len(self.points) + 1).astype(np.int64))
            self.at_or_below += np.cumsum(below[:-1])


class DriftAccumulator:
    """The current data's CDF at the baseline's points (numbers) and category counts (text), per chunk.

    ``update(chunk)`` or ``add_column(name, parsed)`` (to share a parse), ``merge(other)`` per shard,
    then ``drift(thresholds)`` gives each compared feature's distance and p-value.
    """

    def __init__(self, baseline_statistics: dict[str, Any]) -> None:
        self.baseline = {f["name"]: f for f in baseline_statistics.get("features", [])}
        self.numeric: dict[str, _NumericCounts] = {}
        self.categorical: dict[str, ValueCounts] = {}
        for name, feature in self.baseline.items():
            if "numerical_statistics" in feature:
                self.numeric[name] = _NumericCounts(feature["numerical_statistics"])
            elif "string_statistics" in feature and feature.get("inferred_type") == STRING:
                self.categorical[name] = ValueCounts()

    def update(self, chunk: Chunk) -> None:
        for name, column in parse_chunk(chunk):
            self.add_column(name, column)

    def add_column(self, name: str, column: ParsedColumn) -> None:
        if name in self.numeric:
            self.numeric[name].add(column)
        elif name in self.categorical:
            self.categorical[name].add(_all_as_text(column))

    def merge(self, other: DriftAccumulator) -> DriftAccumulator:
        for name, counts in other.numeric.items():
            self.numeric[name].at_or_below += counts.at_or_below
            self.numeric[name].count += counts.count
        for name, values in other.categorical.items():
            self.categorical[name].merge(values)
        return self

    def category_counts(self, name: str) -> dict[str, int]:
        return self.categorical[name].counts

    def drift(self, numeric_threshold: float, categorical_threshold: float) -> dict[str, FeatureDrift]:
        """Distance and p-value of every baseline feature that has current values."""
        found = {}
        for name, counts in self.numeric.items():
            if not counts.count or not len(counts.points):
                continue
            distance = float(np.max(np.abs(counts.at_or_below / counts.count - counts.baseline_cdf)))
            base_n = float(self.baseline[name]["numerical_statistics"]["common"]["num_present"])
            found[name] = FeatureDrift(name, "numeric", distance, numeric_threshold, 1.0, base_n, counts.count)
        numeric = list(found.values())
        p_values = ks_p_values(np.array([d.distance for d in numeric]), np.array([d.baseline_count for d in numeric]),
                               np.array([d.current_count for d in numeric]))
        for result, p_value in zip(numeric, p_values.tolist(), strict=True):
            result.p_value = p_value
        for name, values in self.categorical.items():
            if not values.total():
                continue
            text = self.baseline[name]["string_statistics"]
            current = dict(values.counts)
            found[name] = FeatureDrift(name, "categorical", categorical_distance(text, current), categorical_threshold,
                                       chi_square_p_value(_baseline_categories(text), current),
                                       float(text["common"]["num_present"]), values.total())
        return found


def _all_as_text(column: ParsedColumn) -> dict[str, int]:
    counts = dict(column.text)
    values = column.sorted_numbers()
    if len(values):
        distinct, repeats = np.unique(values, return_counts=True)
        for value, count in zip(distinct.tolist(), repeats.tolist(), strict=True):
            key = number_text(value)
            counts[key] = counts.get(key, 0) + count
    return counts
