"""Streaming, mergeable data-quality statistics in SageMaker Model Monitor's statistics.json shape.

Why our own and not a sketch library: the files must be Model Monitor's exactly, the container has
no KLL/t-digest library, and statistics computed per shard and merged must EQUAL those of one pass
over the whole data (issue 16). Randomised sketches (KLL) merge only approximately, so this module
is deterministic instead. What each column needs (``collect_statistics``):

  summary       ``StatsAccumulator``       value-type counts, count/min/max and the exact sum of the
                                           numbers, bounded counts of the text values
  distribution  ``ColumnDistribution``     on [min, max]: the exact sum of squared deviations (std_dev),
                                           the 10 buckets, a fine histogram of FINE_BINS equal-width bins
                                           with each bin's smallest and largest value (the quantile
                                           sketch comes from it), bounded counts of the distinct numbers

The distribution needs the min and max before the data: where the files state them (Parquet footers,
``Ranges``) both are built in ONE pass, and the stated range is kept only where the summary's own
min/max equal it; otherwise the distribution takes a second pass on the summary's merged min/max.
Deviations are taken about the middle of [min, max] (``Deviations``), the mean's offset from it
subtracted exactly; a rare third pass takes them about the mean where that would cancel too much.

Every part merges exactly: counts and histograms add, min/max take the min/max, and sums are exact
(``ExactSum``: an integer count of 2**-1074, the smallest double), so ``merge`` is associative and
the merged statistics are bit-for-bit those of one pass, whatever the chunking or sharding. Merge
shards in data order: features are listed in first-seen order.

Accuracy (documented in seedcode/README.md):
- sum, mean (correctly rounded), min, max, counts, the 10 buckets: exact. std_dev: exact for integers
  (within 2**26 of the centre), else within 4e-13 relative (``Deviations``; about the mean: ~1e-16).
- sketch: with at most SKETCH_ITEMS numbers, all of them; otherwise SKETCH_ITEMS items at evenly
  spaced ranks, each read off the fine histogram: exact when the bin holding that rank has one
  distinct value (integers over a range below FINE_BINS), else interpolated between the bin's
  smallest and largest value (error at most one bin width, (max - min) / FINE_BINS).
- text value counts: exact while a column has at most MAX_TRACKED_VALUES distinct values; beyond,
  the most frequent MAX_TRACKED_VALUES are kept (ties by value) and the rest pooled in ``other``, which
  makes the kept set depend on the chunking. Distinct numbers are tracked the same way, but dropped
  wholesale past the bound, and only in columns pass 1 found text in (only a String column reports
  its numbers as text values); a column whose range was taken from the footers and that turns out to
hold text takes the second pass for them.

Speed: no chunk is sorted. The distribution finds each number's fine bin and bucket by arithmetic on the
equal-width edges, checked against the edges (``bin_index``), so the counts are exactly those of a
sorted search.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Iterable, Iterator, Mapping
from fractions import Fraction
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
COUNTED_RANGE = 1 << 16  # a chunk of integers over a smaller range is counted per distinct value
COUNTED_MIN_ROWS = 1024


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

    def add(self, values: np.ndarray, extremes: tuple[float, float] | None = None) -> None:
        """Add the values; ``extremes``, their min and max when known, saves a pass."""
        rest = np.asarray(values, dtype="float64")
        if not len(rest):
            return
        guard = len(rest).bit_length() + 1  # 2**guard >= 2 (n + 1): the heads sum without rounding
        head = np.empty_like(rest)
        low, high = extremes if extremes is not None else (float(rest.min()), float(rest.max()))
        top = max(-low, high)
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

    __slots__ = ("rows", "numbers", "text", "_integral", "_sorted", "_extremes", "_counted")

    def __init__(self, rows: int, numbers: np.ndarray, text: dict[str, int]) -> None:
        self.rows = rows
        self.numbers = numbers
        self.text = text
        self._integral: int | None = None
        self._sorted: np.ndarray | None = None
        self._extremes: tuple[float, float] | None = None
        self._counted: tuple[np.ndarray, np.ndarray] | None | bool = False

    @property
    def extremes(self) -> tuple[float, float]:
        """The smallest and largest number (there is at least one)."""
        if self._extremes is None:
            self._extremes = float(self.numbers.min()), float(self.numbers.max())
        return self._extremes

    def counted(self) -> tuple[np.ndarray, np.ndarray] | None:
        """The distinct numbers (ascending) and how often each occurs, for a chunk of integers over a range
        below COUNTED_RANGE (counting them is one cheap pass; every statistic then costs per distinct
        value, not per row); None otherwise. Every use gives exactly what the numbers one by one give."""
        if self._counted is False:
            self._counted = None
            values = self.numbers
            if len(values) >= COUNTED_MIN_ROWS and self.integral == len(values):
                low, high = self.extremes
                if high - low < COUNTED_RANGE and max(-low, high) * len(values) < 2.0**62:
                    counts = np.bincount((values - low).astype(np.int64))
                    present = np.flatnonzero(counts)
                    self._counted = present + low, counts[present]
        return self._counted

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
    if pa.types.is_boolean(kind):
        return ParsedColumn(len(array), finite_numbers(array.cast(pa.float64()).to_numpy(zero_copy_only=False)), {})
    if pa.types.is_integer(kind) or pa.types.is_floating(kind):
        # numpy's conversion (nulls as NaN; no copy for float64 without nulls), not Arrow's checked cast
        numbers = finite_numbers(array.to_numpy(zero_copy_only=False).astype("float64", copy=False))
        parsed = ParsedColumn(len(array), numbers, {})
        if pa.types.is_integer(kind):
            parsed._integral = len(numbers)  # every one is whole
        return parsed
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
            low, high = column.extremes
            self.minimum = min(self.minimum, low)
            self.maximum = max(self.maximum, high)
            counted = column.counted()
            if counted is None:
                self.total.add(values, (low, high))
            else:  # whole numbers: an exact integer sum
                distinct, counts = counted
                self.total.units += int(np.dot(distinct.astype(np.int64), counts)) << _UNIT_EXPONENT
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
    order); DistributionAccumulator adds the distributions."""

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


# ---------------------------------------------------------------------------- distributions


MAX_CANCELLATION = 2048  # squares about the centre may sum to at most this times those about the mean
EXACT_SQUARES = 2.0**26  # integers this far apart have an exact square


def deviation_centre(low: float, high: float) -> float:
    """What deviations are taken about before the mean is known (one pass): the middle of [low, high] (without
    overflow), an integer when both ends are, so that integers' deviations and their squares are exact."""
    centre = low * 0.5 + high * 0.5
    if float(low).is_integer() and float(high).is_integer() and abs(centre) < 2**52:
        return float(math.floor(centre))
    return centre


class Deviations:
    """Squared deviations from a centre, scaled by 2**-2k so that they stay below 1 and cannot overflow.

    About the centre of [min, max] (deviation_centre, known before the data is read when the files' footers
    state it): sum (x - mean)**2 = sum (x - centre)**2 - (sum - n centre)**2 / n, the correction exact. Each
    rounded square is summed in fixed point (two int64 limbs per chunk, 2**-86: truncation below 2**-52 of the
    result, since the min and max alone make it at least 1/2), so the sum does not depend on the chunking. Each
    square is within 3 units of roundoff (none for integers within EXACT_SQUARES of the centre), so std_dev is
    exact or within 1.5 * 2**-53 * MAX_CANCELLATION (4e-13) relative; where the correction would cancel more,
    the squares are taken again about the mean (``about_mean``, a further pass; summed exactly, as before)."""

    __slots__ = ("centre", "scale_exponent", "scale", "overflowed", "squares", "fixed", "about_mean", "inexact")

    FRACTION_BITS = 40  # the low limb: bits of each scaled square below 1

    def __init__(self, centre: float, low: float, high: float, about_mean: bool = False) -> None:
        self.centre = centre
        spread = max(abs(high - centre), abs(low - centre))
        self.scale_exponent = math.frexp(spread)[1] if 0 < spread < math.inf else 0
        self.overflowed = not math.isfinite(spread)  # max - centre beyond the largest double
        self.inexact = not (centre.is_integer() and spread < EXACT_SQUARES)  # unless every value is an integer
        self.about_mean = about_mean
        # about the mean: squares < 1, summed exactly; else squares < 2**46, 65,536 of them sum within an int64
        self.scale = math.ldexp(1.0, -self.scale_exponent + (0 if about_mean else 23))
        self.squares = ExactSum()
        self.fixed = 0  # sum of the squares * 2**-46, in units of 2**-(46 + FRACTION_BITS)

    def add(self, column: ParsedColumn) -> None:
        values = column.numbers
        if not len(values):
            return
        if not self.inexact and column.integral != len(values):
            self.inexact = True
        counted = None if self.about_mean or not self.centre.is_integer() else column.counted()
        if counted is not None and 2 * self.scale_exponent <= 46 + self.FRACTION_BITS:
            distinct, counts = counted  # exact: (x - centre)**2 * 2**(46 - 2k), as the fixed point below has it
            offsets = distinct.astype(np.int64) - int(self.centre)
            squares = int(np.dot(offsets * offsets, counts))
            self.fixed += squares << (46 + self.FRACTION_BITS - 2 * self.scale_exponent)
            return
        with np.errstate(over="ignore", invalid="ignore"):
            deviation = np.subtract(values, self.centre)
            np.multiply(deviation, self.scale, out=deviation)
            np.multiply(deviation, deviation, out=deviation)
        if not np.isfinite(deviation.max()):
            self.overflowed = True
        elif self.about_mean:
            self.squares.add(deviation)
        else:
            for start in range(0, len(deviation), 1 << 16):
                self._add_fixed(deviation[start:start + (1 << 16)])

    def _add_fixed(self, squares: np.ndarray) -> None:
        """Add squares (this chunk's own array, overwritten) below 2**46: whole parts, then 40 bits of fraction."""
        with np.errstate(invalid="ignore"):  # a value outside a wrongly stated range: discarded by the check
            whole = np.floor(squares)
            np.subtract(squares, whole, out=squares)
            np.multiply(squares, 2.0**self.FRACTION_BITS, out=squares)
            high, low = whole.astype(np.int64).sum(), squares.astype(np.int64).sum()
        self.fixed += (int(high) << self.FRACTION_BITS) + int(low)

    def merge(self, other: Deviations) -> Deviations:
        self.squares.merge(other.squares)
        self.fixed += other.fixed
        self.overflowed = self.overflowed or other.overflowed
        self.inexact = self.inexact or other.inexact
        return self

    def std_dev(self, summary: ColumnSummary) -> float | None:
        """The standard deviation; None when these squares cannot give it to the stated accuracy (take them
        about the mean)."""
        n = summary.numbers
        if self.about_mean:
            if self.overflowed:
                return math.inf
            return math.ldexp(math.sqrt(self.squares.value(n)), self.scale_exponent)
        if self.overflowed or not n:
            return None
        scaled = Fraction(1, 1 << (_UNIT_EXPONENT + self.scale_exponent)) if self.scale_exponent >= 0 else Fraction(
            1 << -self.scale_exponent, 1 << _UNIT_EXPONENT)
        offset = (summary.total.units - n * _units(self.centre)) * scaled  # (sum - n centre) * 2**-k, exact
        squares = Fraction(self.fixed, 1 << (46 + self.FRACTION_BITS))
        if not squares:  # no square is above 0: every value is the centre (the min and max alone would be)
            return 0.0
        second_moment = squares - offset * offset / n
        if self.inexact and (second_moment <= 0 or squares > MAX_CANCELLATION * second_moment):
            return None
        return math.ldexp(math.sqrt(max(second_moment, 0) / n), self.scale_exponent)


class ColumnDistribution:
    """The distribution of one column's numbers on a known [low, high] (its min and max): squared deviations,
    the 10 buckets, the fine histogram (counts and each bin's smallest/largest value), a small sample, and,
    for a column with text values (String: it reports its numbers as text), the distinct numbers."""

    def __init__(self, low: float, high: float, track_distinct: bool) -> None:
        self.low, self.high = low, high
        self.grid = FineGrid(low, high)
        self.deviations = Deviations(deviation_centre(low, high), low, high)
        self.buckets = np.zeros(HISTOGRAM_BUCKETS, dtype="int64")
        self.fine = np.zeros(FINE_BINS, dtype="int64")
        self.fine_low = np.full(FINE_BINS, np.inf)
        self.fine_high = np.full(FINE_BINS, -np.inf)
        self.seen = 0
        self.sample: list[np.ndarray] | None = []  # every number while there are at most SKETCH_ITEMS
        self.distinct = NumberCounts()
        if not track_distinct:
            self.distinct.values = None

    def add(self, column: ParsedColumn) -> None:
        """One chunk, in any order: bins are found by arithmetic (checked against the edges), not by sorting."""
        values = column.numbers
        if not len(values):
            return
        self.deviations.add(column)
        self.seen += len(values)
        if self.sample is not None:
            self.sample = [*self.sample, values.copy()] if self.seen <= SKETCH_ITEMS else None
        counted = column.counted()
        if counted is not None:  # per distinct value: one bin each, its own smallest and largest
            distinct, repeats = counted
            fine, counts, buckets = self.grid.place(distinct, repeats)
            self.buckets += buckets
            self.fine += counts
            np.minimum.at(self.fine_low, fine, distinct)
            np.maximum.at(self.fine_high, fine, distinct)
            if self.distinct.values is not None:
                self.distinct.add_counted(distinct, repeats)
            return
        fine, counts, buckets = self.grid.place(values)
        self.buckets += buckets
        self.fine += counts
        if self.distinct.values is None:
            _extend_extremes(self.fine_low, self.fine_high, fine, values)
            return
        low, high = np.full(FINE_BINS, np.inf), np.full(FINE_BINS, -np.inf)
        np.minimum.at(low, fine, values)
        np.maximum.at(high, fine, values)
        np.minimum(self.fine_low, low, out=self.fine_low)
        np.maximum(self.fine_high, high, out=self.fine_high)
        filled = np.flatnonzero(counts)
        several = np.count_nonzero(low[filled] != high[filled])  # bins holding two or more numbers
        if not several:  # one distinct number per bin: the bins count them
            self.distinct.add_counted(low[filled], counts[filled])
        elif len(filled) + several > MAX_TRACKED_VALUES:  # at least that many distinct numbers
            self.distinct.values = None
        else:
            self.distinct.add(values)

    def merge(self, other: ColumnDistribution) -> ColumnDistribution:
        self.deviations.merge(other.deviations)
        self.buckets += other.buckets
        self.fine += other.fine
        np.minimum(self.fine_low, other.fine_low, out=self.fine_low)
        np.maximum(self.fine_high, other.fine_high, out=self.fine_high)
        self.seen += other.seen
        if self.sample is not None and other.sample is not None and self.seen <= SKETCH_ITEMS:
            self.sample = [*self.sample, *other.sample]
        else:
            self.sample = None
        self.distinct.merge(other.distinct)
        return self

    def __getstate__(self) -> dict[str, Any]:
        return {key: value for key, value in self.__dict__.items() if key != "grid"}  # rebuilt: less to send

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self.grid = FineGrid(self.low, self.high)

    def on_range(self, low: float, high: float) -> None:
        """Take the column's own min and max as the edges' ends: a footer's range may differ from them only in the
        sign of a zero (Parquet writes a zero minimum as -0.0), which no count depends on."""
        self.low, self.high = low, high
        self.grid = FineGrid(low, high)

    def sketch_items(self, n: int) -> list[float]:
        """SKETCH_ITEMS values at ranks (i + 0.5) n / SKETCH_ITEMS (all values when fewer)."""
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

    def bucket_list(self, n: int) -> list[dict[str, float]]:
        low, high = self.low, self.high
        if low == high:
            return [{"lower_bound": low, "upper_bound": high, "count": float(n)}]
        edges = self.grid.bucket_edges
        return [{"lower_bound": float(edges[i]), "upper_bound": float(edges[i + 1]), "count": float(self.buckets[i])}
                for i in range(HISTOGRAM_BUCKETS)]


class FineGrid:
    """The FINE_BINS equal-width bins and the 10 buckets of a column's [low, high], and placing a chunk's numbers
    in both: a number's fine bin by arithmetic, checked against the bin's edges (the few that rounding misplaced
    go to binary search; ``bin_index``); its bucket is its fine bin's, except in the (at most 9) fine bins that
    hold a bucket edge, whose numbers are compared with the edges one by one. So the counts are exactly those
    of a sorted search."""

    def __init__(self, low: float, high: float) -> None:
        self.bucket_edges = np.linspace(low, high, HISTOGRAM_BUCKETS + 1)
        self.fine_edges = np.linspace(low, high, FINE_BINS + 1)
        self.inner = self.bucket_edges[1:-1]
        holding = bin_index(self.inner, self.fine_edges)  # the fine bin holding each inner bucket edge
        # a range of a few ulps (edges share bins), or one beyond the largest double: bin_index alone
        self.simple = not (high > low and np.isfinite(self.fine_edges).all() and np.all(np.diff(holding) > 0))
        self.factor = FINE_BINS / (high - low) if not self.simple else 0.0
        self.lower = self.fine_edges[:-1].copy()
        self.upper = self.fine_edges[1:].copy()  # upper[i]: the end of bin i
        self.lower[0], self.upper[-1] = -np.inf, np.inf
        self.upper[holding] = -np.inf  # every number of these bins fails the check: compared one by one
        self.holds_edge = np.zeros(FINE_BINS, dtype=bool)
        self.holds_edge[holding] = True
        self.bucket_of_bin = np.searchsorted(self.inner, self.fine_edges[:-1], side="right")

    def place(self, values: np.ndarray, repeats: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Each number's fine bin, the chunk's count per fine bin, and its count per bucket (each number counted
        ``repeats`` times, else once)."""
        if self.simple:
            fine = bin_index(values, self.fine_edges)
            buckets = _counts(bin_index(values, self.bucket_edges), repeats, HISTOGRAM_BUCKETS)
            return fine, _counts(fine, repeats, FINE_BINS), buckets
        with np.errstate(over="ignore", invalid="ignore"):
            position = np.subtract(values, self.fine_edges[0])
            fine = np.multiply(position, self.factor, out=position).astype(np.int64)
        np.clip(fine, 0, FINE_BINS - 1, out=fine)
        checked = (values < self.lower.take(fine)) | (values >= self.upper.take(fine))  # take: cheaper than [fine]
        near_edges, near_repeats = np.zeros(0), None if repeats is None else np.zeros(0, dtype=np.int64)
        if checked.any():
            suspects = values[checked]
            placed = np.searchsorted(self.fine_edges[1:-1], suspects, side="right")
            fine[checked] = placed
            near = self.holds_edge[placed]
            near_edges = suspects[near]
            near_repeats = None if repeats is None else repeats[checked][near]
        counts = _counts(fine, repeats, FINE_BINS)
        elsewhere = np.where(self.holds_edge, 0, counts)
        buckets = np.bincount(self.bucket_of_bin, weights=elsewhere, minlength=HISTOGRAM_BUCKETS).astype(np.int64)
        buckets += _counts(np.searchsorted(self.inner, near_edges, side="right"), near_repeats, HISTOGRAM_BUCKETS)
        return fine, counts, buckets


def _extend_extremes(lows: np.ndarray, highs: np.ndarray, index: np.ndarray, values: np.ndarray) -> None:
    """np.minimum.at / np.maximum.at of ``values`` into their bins, given only the values at or beyond their
    bin's extreme so far (after the first chunks a few percent of them); the others change nothing."""
    lower = np.flatnonzero(values <= lows.take(index))  # ties kept: which zero (-0.0, 0.0) a bin keeps
    if len(lower):
        np.minimum.at(lows, index[lower], values[lower])
    higher = np.flatnonzero(values >= highs.take(index))
    if len(higher):
        np.maximum.at(highs, index[higher], values[higher])


def _counts(index: np.ndarray, repeats: np.ndarray | None, length: int) -> np.ndarray:
    """How often each of ``length`` indexes occurs, each occurrence counted ``repeats`` times (else once)."""
    if repeats is None:
        return np.bincount(index, minlength=length)
    return np.bincount(index, weights=repeats, minlength=length).astype(np.int64)  # exact below 2**53


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



class ColumnParts(dict):
    """Per-column parts of one pass (ColumnDistribution or Deviations by name), fed parsed chunks; merge adds."""

    def add_column(self, name: str, column: ParsedColumn) -> None:
        part = self.get(name)
        if part is not None:
            part.add(column)

    def update_chunk(self, chunk: Chunk) -> None:
        for name, column in parse_chunk(chunk):
            self.add_column(name, column)

    def merge(self, other: ColumnParts) -> ColumnParts:
        for name, part in other.items():
            self[name].merge(part)
        return self


class Ranges:
    """Each numeric column's [min, max] as the data's files state it (Parquet footers), merged over shards: where
    it holds, the distributions are built in the same pass as the summary."""

    def __init__(self, bounds: Mapping[str, tuple[float, float]] | None = None) -> None:
        self.bounds = dict(bounds or {})

    def merge(self, other: Ranges) -> Ranges:
        for name, (low, high) in other.bounds.items():
            mine = self.bounds.get(name)
            self.bounds[name] = (low, high) if mine is None else (min(mine[0], low), max(mine[1], high))
        return self


class DistributionAccumulator:
    """statistics.json of a dataset: the summary (pass 1: counts, min/max, exact sums, text) and each column's
    distribution, built in pass 1 for the columns with a stated range (``ranges``), else in pass 2."""

    def __init__(self, ranges: Mapping[str, tuple[float, float]] | None = None) -> None:
        self.summary = StatsAccumulator()
        self.ranges = dict(ranges or {})
        self.columns = ColumnParts(
            {name: ColumnDistribution(low, high, track_distinct=False) for name, (low, high) in self.ranges.items()})

    def update(self, chunk: Chunk, also: Iterable[ColumnSink] = ()) -> None:
        """Pass 1 over a chunk: the summary, the distributions of ranged columns, and the sinks in ``also``."""
        self.summary.update(chunk, also=[self.columns, *also])

    def merge(self, other: DistributionAccumulator) -> DistributionAccumulator:
        self.summary.merge(other.summary)
        self.columns.merge(other.columns)
        return self

    def second_pass(self) -> ColumnParts:
        """Pass 2's parts: the columns with numbers whose range was not stated, or was wrong, or that hold text
        (their distinct numbers are wanted); empty when pass 1 did it all."""
        parts = ColumnParts()
        for name, column in self.summary.columns.items():
            ranged = self.columns.get(name)
            if not column.numbers:
                continue
            if ranged is not None and not column.text.total() and self.ranges[name] == (column.minimum, column.maximum):
                ranged.on_range(column.minimum, column.maximum)
                continue
            parts[name] = ColumnDistribution(column.minimum, column.maximum, track_distinct=bool(column.text.total()))
        return parts

    def third_pass(self) -> ColumnParts:
        """Pass 3's parts (rare): deviations about the mean, where those about the midpoint cancel too much."""
        parts = ColumnParts()
        for name, distribution in self.columns.items():
            column = self.summary.columns.get(name)
            if column is not None and column.numbers and distribution.deviations.std_dev(column) is None:
                parts[name] = Deviations(column.mean(), column.minimum, column.maximum, about_mean=True)
        return parts

    def install(self, parts: ColumnParts) -> None:
        """Take a later pass's merged parts."""
        for name, part in parts.items():
            if isinstance(part, Deviations):
                self.columns[name].deviations = part
            else:
                self.columns[name] = part

    def text_counts(self, name: str) -> dict[str, int]:
        """Every tracked present value of a column as text -> count (numbers in their text form)."""
        counts = dict(self.summary.columns[name].text.counts)
        distribution = self.columns.get(name)
        if distribution is not None:
            for value, count in distribution.distinct.as_text().items():
                counts[value] = counts.get(value, 0) + count
        return counts

    def to_statistics(self) -> dict[str, Any]:
        return {
            "version": 0.0,
            "dataset": {"item_count": self.summary.item_count},
            "features": [self._feature(name) for name in self.summary.columns],
        }

    def _feature(self, name: str) -> dict[str, Any]:
        summary = self.summary.columns[name]
        present = summary.num_present
        common = {"num_present": present, "num_missing": self.summary.item_count - present}
        kind = summary.inferred_type
        if kind in NUMERIC_TYPES:
            column = self.columns[name]
            return {"name": name, "inferred_type": kind, "numerical_statistics": {
                "common": common, "mean": summary.mean(), "sum": summary.total.value(),
                "std_dev": column.deviations.std_dev(summary), "min": summary.minimum, "max": summary.maximum,
                "distribution": {"kll": {
                    "buckets": column.bucket_list(summary.numbers),
                    "sketch": {"parameters": {"c": 0.64, "k": float(SKETCH_ITEMS)},
                               "data": [column.sketch_items(summary.numbers)]},
                }},
            }}
        counts = self.text_counts(name) if kind == STRING else {}
        top = sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:MAX_CATEGORICAL_BUCKETS]
        return {"name": name, "inferred_type": kind, "string_statistics": {
            "common": common,
            "distinct_count": float(len(counts)),
            "distribution": {"categorical": {"buckets": [{"value": v, "count": float(c)} for v, c in top]}},
        }}


# ---------------------------------------------------------------------------- the passes


def collect_statistics(
    read: Callable[[], Iterable[Chunk]], sinks: Iterable[ColumnSink] = (),
    merge: Callable[[Any], Any] | None = None, ranges: Mapping[str, tuple[float, float]] | None = None,
) -> DistributionAccumulator:
    """The statistics of the chunks ``read()`` yields (a fresh iterator each call). One pass when ``ranges`` states
    every numeric column's [min, max] rightly (stats_reading.parquet_ranges): the summary and the distributions
    together; the stated ranges are only trusted where pass 1's own min/max equal them. Otherwise a second pass
    builds the other columns' distributions on pass 1's min/max, and a rare third takes deviations about the mean.
    Each parsed column of pass 1 also goes to ``sinks`` (e.g. a DriftAccumulator). On one shard of a sharded
    dataset, ``merge`` returns its argument merged over every shard (cluster.merged_over_hosts): the ranges
    before pass 1 and each pass's results after it, so every shard takes the same decisions and the result is
    the whole data's, bit for bit that of one pass over it."""
    share = merge or (lambda part: part)
    accumulated = DistributionAccumulator(share(Ranges(ranges)).bounds)
    for chunk in read():
        accumulated.update(chunk, sinks)
    accumulated = share(accumulated)
    for later in ("second_pass", "third_pass"):
        parts = getattr(accumulated, later)()  # decided on merged results: the same on every shard
        if not parts:
            continue
        for chunk in read():
            parts.update_chunk(chunk)
        accumulated.install(share(parts))
    return accumulated
