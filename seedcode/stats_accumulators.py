"""Streaming, mergeable data-quality statistics in SageMaker Model Monitor's statistics.json shape.

Why our own and not a sketch library: the files must be Model Monitor's exactly, the container has
no KLL/t-digest library, and statistics computed per shard and merged must EQUAL those of one pass
over the whole data (issue 16). Randomised sketches (KLL) merge only approximately, so this module
is deterministic instead, in two passes over the data:

  pass 1  ``StatsAccumulator``         per column: value-type counts, count/min/max and the exact sum
                                       of the numbers, bounded counts of the text values
  pass 2  ``DistributionAccumulator``  given pass 1's merged min/max/mean: the exact sum of squared
                                       deviations (std_dev), the 10 buckets on [min, max], a fine
                                       histogram of FINE_BINS equal-width bins with each bin's
                                       smallest and largest value (the quantile sketch comes from
                                       it), bounded counts of the distinct numbers

Every part merges exactly: counts and histograms add, min/max take the min/max, and sums are exact
(``ExactSum``: an integer count of 2**-1074, the smallest double), so ``merge`` is associative and
the merged statistics are bit-for-bit those of one pass, whatever the chunking or sharding. Merge
shards in data order: features are listed in first-seen order.

Accuracy (documented in seedcode/README.md):
- sum, mean (correctly rounded), min, max, counts, the 10 buckets: exact. std_dev: the exact sum of
  the per-value rounded squares of (x - mean) scaled by a power of two so that they cannot overflow,
  so a relative error of a few 1e-16.
- sketch: with at most SKETCH_ITEMS numbers, all of them; otherwise SKETCH_ITEMS items at evenly
  spaced ranks, each read off the fine histogram: exact when the bin holding that rank has one
  distinct value (integers over a range below FINE_BINS), else interpolated between the bin's
  smallest and largest value (error at most one bin width, (max - min) / FINE_BINS).
- text value counts: exact while a column has at most MAX_TRACKED_VALUES distinct values; beyond,
  the most frequent MAX_TRACKED_VALUES are kept (ties by value) and the rest pooled in ``other``, which
  makes the kept set depend on the chunking. Distinct numbers are tracked the same way, but dropped
  wholesale past the bound, and only in columns pass 1 found text in (only a String column reports
  its numbers as text values).

Speed: no chunk is sorted. Pass 2 finds each number's fine bin and bucket by arithmetic on the equal-width
edges, checked against the edges (``bin_index``), so the counts are exactly those of a sorted search.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Iterable, Iterator
from typing import Any, Protocol

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

INTEGRAL, FRACTIONAL, STRING, UNKNOWN = "Integral", "Fractional", "String", "Unknown"
NUMERIC_TYPES = (INTEGRAL, FRACTIONAL)
HISTOGRAM_BUCKETS = 10
SKETCH_ITEMS = 2048
FINE_BINS = 8192
MAX_TRACKED_VALUES = 10_000
MAX_CATEGORICAL_BUCKETS = 1000
_NOT_NUMBERS = ("nan", "+nan", "-nan", "inf", "+inf", "-inf", "infinity", "+infinity", "-infinity")
_UNIT_EXPONENT = 1074  # every double is an integer multiple of 2**-1074


# ---------------------------------------------------------------------------- exact sums


def _units(value: float) -> int:
    """A double as an exact integer count of 2**-1074."""
    numerator, denominator = value.as_integer_ratio()
    return numerator << (_UNIT_EXPONENT - (denominator.bit_length() - 1))


class ExactSum:
    """The exact sum of finite doubles, kept as an integer count of 2**-1074; merging adds integers.

    ``add`` splits the values against a power of two sigma (Rump, Ogita and Oishi's error-free
    extraction): q = (sigma + x) - sigma is exact, the q's sum exactly in floating point, and the
    remainders x - q are summed the same way until they are all zero; two or three vectorised
    rounds for typical data.
    """

    __slots__ = ("units",)

    def __init__(self, units: int = 0) -> None:
        self.units = units

    def add(self, values: np.ndarray) -> None:
        rest = np.asarray(values, dtype="float64")
        if not len(rest):
            return
        guard = len(rest).bit_length() + 1  # 2**guard >= 2 (n + 1): the heads sum without rounding
        head = np.empty_like(rest)
        top = max(-float(rest.min()), float(rest.max()))
        owned = False  # ``rest`` is the caller's array until the first remainder is written
        while top != 0.0:
            if not math.isfinite(top):
                raise ValueError("ExactSum adds finite values only")
            exponent = math.frexp(top)[1]
            if exponent + guard > 1023:  # sigma would overflow: sum these few huge values one by one
                self.units += sum(_units(float(v)) for v in rest)
                return
            sigma = math.ldexp(1.0, exponent + guard)
            np.add(rest, sigma, out=head)
            np.subtract(head, sigma, out=head)
            self.units += _units(float(head.sum()))
            rest = np.subtract(rest, head, out=rest if owned else None)
            owned = True
            top = max(-float(rest.min()), float(rest.max()))
            if top != 0.0 and len(rest) > 4096 and np.count_nonzero(rest) < len(rest) // 4:
                rest = rest[rest != 0.0]
                head = np.empty_like(rest)

    def merge(self, other: ExactSum) -> None:
        self.units += other.units

    def value(self, divisor: int = 1) -> float:
        """The sum (divided by ``divisor``), correctly rounded to a double."""
        try:
            return self.units / (divisor << _UNIT_EXPONENT)
        except OverflowError:
            return math.copysign(math.inf, self.units)


# ---------------------------------------------------------------------------- parsing a chunk


@functools.lru_cache(maxsize=65_536)
def _text_number(text: str) -> float | None:
    text = text.strip()
    if not text or text.lower() in _NOT_NUMBERS:
        return None
    try:
        number = float(text)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def as_number(value: Any) -> float | None:
    """A finite number from a number (booleans as 0/1) or numeric text; None for anything else."""
    if isinstance(value, (bool, np.bool_, int, float, np.integer, np.floating)):
        number = float(value)
        return number if math.isfinite(number) else None
    return _text_number(str(value))


def number_text(value: float) -> str:
    """A number's text form in value counts: integers without a fraction, else the shortest repr."""
    return str(int(value)) if float(value).is_integer() and abs(value) < 2**53 else repr(float(value))


class ParsedColumn:
    """One chunk of one column as the accumulators need it: the present finite numbers (booleans as
    0/1, numeric text parsed) and the counts of the other present values as text. Type inference
    follows Model Monitor: each present value is Integral, Fractional or String; datetimes are
    text; NaN, None and +-inf are missing."""

    __slots__ = ("rows", "numbers", "text", "_integral", "_sorted")

    def __init__(self, rows: int, numbers: np.ndarray, text: dict[str, int]) -> None:
        self.rows = rows
        self.numbers = numbers
        self.text = text
        self._integral: int | None = None
        self._sorted: np.ndarray | None = None

    @property
    def integral(self) -> int:
        """How many of the numbers are whole (Integral); the rest are Fractional."""
        if self._integral is None:
            self._integral = int(np.count_nonzero(self.numbers == np.floor(self.numbers)))
        return self._integral

    def sorted_numbers(self) -> np.ndarray:
        if self._sorted is None:
            self._sorted = np.sort(self.numbers)
        return self._sorted


def _from_distinct(rows: int, uniques: Iterable[Any], counts: np.ndarray) -> ParsedColumn:
    """A column from its distinct present values and their counts (each distinct value parsed once)."""
    numbers, repeats, text = [], [], {}
    for value, count in zip(uniques, counts.tolist(), strict=True):
        if not count:
            continue
        number = as_number(value)
        if number is None:
            text[str(value)] = text.get(str(value), 0) + count
        else:
            numbers.append(number)
            repeats.append(count)
    values = np.repeat(np.asarray(numbers, dtype="float64"), np.asarray(repeats, dtype="int64"))
    return ParsedColumn(rows, values, text)


def finite_numbers(values: np.ndarray) -> np.ndarray:
    """The finite values (missing values arrive as NaN). A finite sum means all are: one pass, mostly."""
    with np.errstate(invalid="ignore", over="ignore"):
        if math.isfinite(float(values.sum())):
            return values
    return values[np.isfinite(values)]


def parse_column(series: pd.Series) -> ParsedColumn:
    rows = int(len(series))
    dtype = series.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        codes = series.cat.codes.to_numpy()
        counts = np.bincount(codes[codes >= 0], minlength=len(dtype.categories))
        return _from_distinct(rows, dtype.categories, counts)
    if pd.api.types.is_bool_dtype(dtype) or (
            pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_complex_dtype(dtype)):
        return ParsedColumn(rows, finite_numbers(series.to_numpy(dtype="float64", na_value=np.nan)), {})
    if pd.api.types.is_datetime64_any_dtype(dtype):
        present = series.dropna().astype(str).value_counts()
        return ParsedColumn(rows, np.zeros(0), {str(k): int(v) for k, v in present.items()})
    codes, uniques = pd.factorize(series)
    codes = np.asarray(codes)
    counts = np.bincount(codes[codes >= 0], minlength=len(uniques)) if len(uniques) else np.zeros(0, "int64")
    return _from_distinct(rows, uniques, counts)


def parse_arrow(array: pa.Array) -> ParsedColumn:
    """``parse_column`` for an Arrow column, without a pandas conversion: numbers and booleans as
    float64 (nulls as NaN), dictionary-encoded text counted by index; other types through pandas."""
    kind = array.type
    if pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_boolean(kind):
        return ParsedColumn(len(array), finite_numbers(array.cast(pa.float64()).to_numpy(zero_copy_only=False)), {})
    if pa.types.is_dictionary(kind) and (pa.types.is_string(kind.value_type) or pa.types.is_large_string(
            kind.value_type)):
        codes = pc.fill_null(array.indices, -1).to_numpy(zero_copy_only=False)
        counts = np.bincount(codes[codes >= 0], minlength=len(array.dictionary))
        return _from_distinct(len(array), array.dictionary.to_pylist(), counts)
    return parse_column(array.to_pandas())


Chunk = pd.DataFrame | pa.RecordBatch


def parse_chunk(chunk: Chunk) -> Iterator[tuple[str, ParsedColumn]]:
    """Each column of a DataFrame or an Arrow record batch, parsed."""
    if isinstance(chunk, pa.RecordBatch):
        for name, array in zip(chunk.schema.names, chunk.columns, strict=True):
            yield str(name), parse_arrow(array)
        return
    for name, series in chunk.items():
        yield str(name), parse_column(series)


class ColumnSink(Protocol):
    """Anything fed parsed columns in a streaming pass (DistributionAccumulator, DriftAccumulator)."""

    def add_column(self, name: str, column: ParsedColumn) -> None: ...


# ---------------------------------------------------------------------------- bounded value counts


class ValueCounts:
    """Counts of text values: exact up to MAX_TRACKED_VALUES distinct values; beyond, the most
    frequent are kept and the rest pooled in ``other`` (then approximate: it depends on the chunking)."""

    __slots__ = ("counts", "other")

    def __init__(self) -> None:
        self.counts: dict[str, int] = {}
        self.other = 0

    def add(self, counts: dict[str, int]) -> None:
        mine = self.counts
        for value, count in counts.items():
            mine[value] = mine.get(value, 0) + count
        if len(mine) > MAX_TRACKED_VALUES:
            ranked = sorted(mine.items(), key=lambda item: (-item[1], item[0]))
            self.counts = dict(ranked[:MAX_TRACKED_VALUES])
            self.other += sum(count for _, count in ranked[MAX_TRACKED_VALUES:])

    def merge(self, other: ValueCounts) -> None:
        self.other += other.other
        self.add(other.counts)

    @property
    def truncated(self) -> bool:
        return self.other > 0

    def total(self) -> int:
        return sum(self.counts.values()) + self.other


class NumberCounts:
    """Counts of the distinct numbers while there are at most MAX_TRACKED_VALUES of them; past that
    bound dropped wholesale (``values`` None), which is order-independent: it happens iff the union
    has more distinct numbers than the bound."""

    __slots__ = ("values", "counts")

    def __init__(self) -> None:
        self.values: np.ndarray | None = np.zeros(0)
        self.counts = np.zeros(0, dtype="int64")

    def add_counted(self, distinct: np.ndarray, counts: np.ndarray) -> None:
        """Add a chunk's distinct numbers (ascending) and how often each occurs."""
        if self.values is not None and len(distinct):
            self._combine(distinct, counts)

    def add(self, numbers: np.ndarray) -> None:
        if self.values is not None and len(numbers):
            self._combine(*np.unique(numbers, return_counts=True))

    def merge(self, other: NumberCounts) -> None:
        if other.values is None:
            self.values = None
        elif self.values is not None:
            self._combine(other.values, other.counts)

    def _combine(self, values: np.ndarray, counts: np.ndarray) -> None:
        if len(values) > MAX_TRACKED_VALUES:
            self.values = None
            return
        merged, inverse = np.unique(np.concatenate((self.values, values)), return_inverse=True)
        if len(merged) > MAX_TRACKED_VALUES:
            self.values = None
            return
        self.values = merged
        self.counts = np.bincount(inverse, weights=np.concatenate((self.counts, counts)),
                                  minlength=len(merged)).astype("int64")

    def as_text(self) -> dict[str, int]:
        if self.values is None:
            return {}
        return {number_text(v): int(c) for v, c in zip(self.values.tolist(), self.counts.tolist(), strict=True)}


# ---------------------------------------------------------------------------- pass 1


class ColumnSummary:
    """Pass 1 of one column: value-type counts, count/min/max/exact sum of the numbers, text counts."""

    __slots__ = ("numbers", "integral", "minimum", "maximum", "total", "text")

    def __init__(self) -> None:
        self.numbers = 0
        self.integral = 0
        self.minimum = math.inf
        self.maximum = -math.inf
        self.total = ExactSum()
        self.text = ValueCounts()

    def add(self, column: ParsedColumn) -> None:
        values = column.numbers
        if len(values):
            self.numbers += len(values)
            self.integral += column.integral
            self.minimum = min(self.minimum, float(values.min()))
            self.maximum = max(self.maximum, float(values.max()))
            self.total.add(values)
        if column.text:
            self.text.add(column.text)

    def merge(self, other: ColumnSummary) -> None:
        self.numbers += other.numbers
        self.integral += other.integral
        self.minimum = min(self.minimum, other.minimum)
        self.maximum = max(self.maximum, other.maximum)
        self.total.merge(other.total)
        self.text.merge(other.text)

    @property
    def type_counts(self) -> dict[str, int]:
        return {INTEGRAL: self.integral, FRACTIONAL: self.numbers - self.integral, STRING: self.text.total()}

    @property
    def num_present(self) -> int:
        return self.numbers + self.text.total()

    @property
    def inferred_type(self) -> str:
        counts = self.type_counts
        return next((kind for kind in (STRING, FRACTIONAL, INTEGRAL) if counts[kind]), UNKNOWN)

    def mean(self) -> float:
        return self.total.value(self.numbers) if self.numbers else math.nan


class StatsAccumulator:
    """Pass 1 over a dataset: ``update(chunk)`` per DataFrame chunk, ``merge(other)`` per shard (in data
    order), then ``second_pass()`` for pass 2 over the same data."""

    def __init__(self) -> None:
        self.item_count = 0
        self.columns: dict[str, ColumnSummary] = {}

    def update(self, chunk: Chunk, also: Iterable[ColumnSink] = ()) -> None:
        """Add a chunk; each parsed column also goes to the sinks in ``also`` (e.g. a DriftAccumulator)."""
        self.item_count += int(chunk.num_rows if isinstance(chunk, pa.RecordBatch) else len(chunk))
        sinks = list(also)
        for name, column in parse_chunk(chunk):
            self.columns.setdefault(name, ColumnSummary()).add(column)
            for sink in sinks:
                sink.add_column(name, column)

    def merge(self, other: StatsAccumulator) -> StatsAccumulator:
        self.item_count += other.item_count
        for name, column in other.columns.items():
            self.columns.setdefault(name, ColumnSummary()).merge(column)
        return self

    def second_pass(self) -> DistributionAccumulator:
        return DistributionAccumulator(self)


# ---------------------------------------------------------------------------- pass 2


class ColumnDistribution:
    """Pass 2 of one column, on pass 1's merged min/max/mean: squared deviations, the 10 buckets, the
    fine histogram (counts and each bin's smallest/largest value), a small sample, distinct numbers."""

    def __init__(self, summary: ColumnSummary) -> None:
        self.summary = summary
        self.mean = summary.mean()
        low, high = (summary.minimum, summary.maximum) if summary.numbers else (0.0, 0.0)
        self.bucket_edges = np.linspace(low, high, HISTOGRAM_BUCKETS + 1)
        self.fine_edges = np.linspace(low, high, FINE_BINS + 1)
        self.deviations = ExactSum()
        # deviations are scaled by a power of two (exact) so that their squares stay below 1
        spread = max(abs(high - self.mean), abs(low - self.mean)) if summary.numbers else 0.0
        self.scale_exponent = math.frexp(spread)[1] if 0 < spread < math.inf else 0
        self.scale = math.ldexp(1.0, -self.scale_exponent)
        self.overflowed = not math.isfinite(spread)  # max - mean beyond the largest double: std_dev is inf
        self.buckets = np.zeros(HISTOGRAM_BUCKETS, dtype="int64")
        self.fine = np.zeros(FINE_BINS, dtype="int64")
        self.fine_low = np.full(FINE_BINS, np.inf)
        self.fine_high = np.full(FINE_BINS, -np.inf)
        self.sample: list[np.ndarray] | None = [] if summary.numbers <= SKETCH_ITEMS else None
        self.distinct = NumberCounts()  # only a column with text values (String) reports its numbers as text
        if not summary.text.total():
            self.distinct.values = None

    def add(self, column: ParsedColumn) -> None:
        """One chunk, in any order: bins are found by arithmetic (checked against the edges), not by sorting."""
        values = column.numbers
        if not len(values):
            return
        with np.errstate(over="ignore", invalid="ignore"):
            deviation = (values - self.mean) * self.scale
            squares = deviation * deviation
        if np.isfinite(squares.max()):
            self.deviations.add(squares)
        else:
            self.overflowed = True
        fine = bin_index(values, self.fine_edges)
        counts = np.bincount(fine, minlength=FINE_BINS)
        self.buckets += self._bucket_counts(values, fine, counts)
        low, high = np.full(FINE_BINS, np.inf), np.full(FINE_BINS, -np.inf)
        np.minimum.at(low, fine, values)
        np.maximum.at(high, fine, values)
        self.fine += counts
        np.minimum(self.fine_low, low, out=self.fine_low)
        np.maximum(self.fine_high, high, out=self.fine_high)
        if self.sample is not None:
            self.sample.append(values.copy())
        if self.distinct.values is not None:
            filled = np.flatnonzero(counts)
            several = np.count_nonzero(low[filled] != high[filled])  # bins holding two or more numbers
            if not several:  # one distinct number per bin: the bins count them
                self.distinct.add_counted(low[filled], counts[filled])
            elif len(filled) + several > MAX_TRACKED_VALUES:  # at least that many distinct numbers
                self.distinct.values = None
            else:
                self.distinct.add(values)

    def _bucket_counts(self, values: np.ndarray, fine: np.ndarray, counts: np.ndarray) -> np.ndarray:
        """The 10 buckets from the fine bins: a fine bin lies wholly inside one bucket unless it holds a bucket
        edge (at most 9 of them), and only the values of those few bins are compared with the edge."""
        inner = self.bucket_edges[1:-1]
        straddling = bin_index(inner, self.fine_edges)  # the fine bin holding each inner bucket edge
        if np.any(np.diff(straddling) == 0):  # a range of a few ulps: edges share bins, so place every value
            return np.bincount(bin_index(values, self.bucket_edges), minlength=HISTOGRAM_BUCKETS)
        below = np.concatenate(([0], np.cumsum(counts)))[straddling]  # values in the fine bins before it
        edge_in = np.full(FINE_BINS, -1)
        edge_in[straddling] = np.arange(len(inner))
        edge = edge_in[fine]
        near = np.flatnonzero(edge >= 0)  # the values sharing a fine bin with a bucket edge
        edge = edge[near]
        below += np.bincount(edge[values[near] < inner[edge]], minlength=len(inner))
        return np.diff(np.concatenate(([0], below, [len(values)])))

    def merge(self, other: ColumnDistribution) -> None:
        self.deviations.merge(other.deviations)
        self.overflowed = self.overflowed or other.overflowed
        self.buckets += other.buckets
        self.fine += other.fine
        np.minimum(self.fine_low, other.fine_low, out=self.fine_low)
        np.maximum(self.fine_high, other.fine_high, out=self.fine_high)
        if self.sample is not None and other.sample is not None:
            self.sample.extend(other.sample)
        self.distinct.merge(other.distinct)

    def std_dev(self) -> float:
        if self.overflowed:
            return math.inf
        return math.ldexp(math.sqrt(self.deviations.value(self.summary.numbers)), self.scale_exponent)

    def sketch_items(self) -> list[float]:
        """SKETCH_ITEMS values at ranks (i + 0.5) n / SKETCH_ITEMS (all values when fewer)."""
        n = self.summary.numbers
        if self.sample is not None:
            return np.sort(np.concatenate(self.sample or [np.zeros(0)])).tolist()
        ranks = ((np.arange(SKETCH_ITEMS) + 0.5) * n / SKETCH_ITEMS).astype("int64")
        cumulative = np.cumsum(self.fine)
        bins = np.searchsorted(cumulative, ranks, side="right")
        count = self.fine[bins]
        within = ranks - (cumulative[bins] - count)
        low, high = self.fine_low[bins], self.fine_high[bins]
        share = np.where(count > 1, within / np.maximum(count - 1, 1), 0.0)
        return (low + (high - low) * share).tolist()

    def bucket_list(self) -> list[dict[str, float]]:
        low, high = self.summary.minimum, self.summary.maximum
        if low == high:
            return [{"lower_bound": low, "upper_bound": high, "count": float(self.summary.numbers)}]
        edges = self.bucket_edges
        return [{"lower_bound": float(edges[i]), "upper_bound": float(edges[i + 1]), "count": float(self.buckets[i])}
                for i in range(HISTOGRAM_BUCKETS)]


def bin_index(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Each value's bin among equal-width ``edges`` (from np.linspace): bin i is [edge_i, edge_i+1), the last
    also holds the top edge; i.e. the number of inner edges at or below the value. The bin is computed,
    then checked against the edges themselves; the few values rounding put in a neighbouring bin (and
    every value of a degenerate range) are placed by binary search, so the result is exact."""
    bins = len(edges) - 1
    low, high = float(edges[0]), float(edges[-1])
    if not np.isfinite(edges).all():  # max - min overflowed: np.linspace made no usable grid
        return np.searchsorted(edges[1:-1], values, side="right")
    if not high > low:  # the column's one value: the edges all coincide, every value is in the last bin
        return np.full(len(values), bins - 1, dtype=np.int64)
    with np.errstate(over="ignore", invalid="ignore"):
        index = ((values - low) * (bins / (high - low))).astype(np.int64)
    np.clip(index, 0, bins - 1, out=index)
    lower, upper = edges.copy(), edges.copy()
    lower[0], upper[-1] = -np.inf, np.inf
    wrong = (values < lower[index]) | (values >= upper[index + 1])
    if wrong.any():
        index[wrong] = np.searchsorted(edges[1:-1], values[wrong], side="right")
    return index


class DistributionAccumulator:
    """Pass 2 over the same data as a merged ``StatsAccumulator``; ``to_statistics()`` gives statistics.json."""

    def __init__(self, summary: StatsAccumulator) -> None:
        self.summary = summary
        self.columns = {name: ColumnDistribution(column) for name, column in summary.columns.items()}

    def update(self, chunk: Chunk) -> None:
        for name, column in parse_chunk(chunk):
            self.add_column(name, column)

    def add_column(self, name: str, column: ParsedColumn) -> None:
        if name in self.columns:
            self.columns[name].add(column)

    def merge(self, other: DistributionAccumulator) -> DistributionAccumulator:
        for name, column in other.columns.items():
            if name in self.columns:
                self.columns[name].merge(column)
        return self

    def text_counts(self, name: str) -> dict[str, int]:
        """Every tracked present value of a column as text -> count (numbers in their text form)."""
        column = self.columns[name]
        counts = dict(column.summary.text.counts)
        for value, count in column.distinct.as_text().items():
            counts[value] = counts.get(value, 0) + count
        return counts

    def to_statistics(self) -> dict[str, Any]:
        return {
            "version": 0.0,
            "dataset": {"item_count": self.summary.item_count},
            "features": [self._feature(name) for name in self.columns],
        }

    def _feature(self, name: str) -> dict[str, Any]:
        column = self.columns[name]
        summary = column.summary
        present = summary.num_present
        common = {"num_present": present, "num_missing": self.summary.item_count - present}
        kind = summary.inferred_type
        if kind in NUMERIC_TYPES:
            return {"name": name, "inferred_type": kind, "numerical_statistics": {
                "common": common, "mean": summary.mean(), "sum": summary.total.value(),
                "std_dev": column.std_dev(), "min": summary.minimum, "max": summary.maximum,
                "distribution": {"kll": {
                    "buckets": column.bucket_list(),
                    "sketch": {"parameters": {"c": 0.64, "k": float(SKETCH_ITEMS)}, "data": [column.sketch_items()]},
                }},
            }}
        counts = self.text_counts(name) if kind == STRING else {}
        top = sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:MAX_CATEGORICAL_BUCKETS]
        return {"name": name, "inferred_type": kind, "string_statistics": {
            "common": common,
            "distinct_count": float(len(counts)),
            "distribution": {"categorical": {"buckets": [{"value": v, "count": float(c)} for v, c in top]}},
        }}


# ---------------------------------------------------------------------------- both passes


def collect_statistics(
    read: Callable[[], Iterable[Chunk]], second_pass_sinks: Iterable[ColumnSink] = (),
    merge_first: Callable[[StatsAccumulator], StatsAccumulator] | None = None,
) -> DistributionAccumulator:
    """Both passes over ``read()`` (called twice, each time a fresh iterator of chunks). Each parsed
    column of pass 2 is also fed to ``second_pass_sinks`` (e.g. a DriftAccumulator), so a drift check
    shares the parse and the sort. On one shard of a sharded dataset, ``merge_first`` returns pass 1
    merged over every shard (pass 2 needs the whole data's min/max/mean); merge the pass-2 results after."""
    first = StatsAccumulator()
    for chunk in read():
        first.update(chunk)
    if merge_first is not None:
        first = merge_first(first)
    second = first.second_pass()
    sinks = [second, *second_pass_sinks]
    for chunk in read():
        for name, column in parse_chunk(chunk):
            for sink in sinks:
                sink.add_column(name, column)
    return second
