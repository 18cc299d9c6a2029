"""The train/validation/test split as a function of a row's position, with exact split sizes and no table.

Every labelled row i (0-based, in input order) gets a seeded 64-bit hash (splitmix64, a bijection, so
no two rows tie). The test split is the ``n_test`` rows with the smallest hashes, validation the next
``n_validation``, training the rest: the same sizes as a seeded permutation would give
(``round(rows * fraction)``), decided row by row while streaming. The thresholds come from two
arithmetic sweeps over the positions alone (a histogram of the hashes' top bits, then the few hashes
in the boundary bins), so memory stays bounded whatever the row count.

A second, independent hash picks the baseline sample among the training rows the same way.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from step_report import DataError

SWEEP_ROWS = 1 << 22  # positions hashed at a time while looking for the thresholds
TOP_BITS = 16  # histogram bins: 65,536
SPLIT_STREAM, BASELINE_STREAM = 1, 2
_U64 = np.uint64


def row_hashes(start: int, stop: int, seed: int, stream: int) -> np.ndarray:
    """splitmix64 of each position in [start, stop), keyed by the seed and the stream."""
    key = np.uint64((seed * 0x9E3779B97F4A7C15 + stream * 0xD1B54A32D192ED03) % (1 << 64))
    z = np.arange(start, stop, dtype=_U64) ^ key
    with np.errstate(over="ignore"):
        z = z + _U64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> _U64(30))) * _U64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> _U64(27))) * _U64(0x94D049BB133111EB)
    return z ^ (z >> _U64(31))


def smallest_thresholds(rows: int, counts: list[int], hashes: Callable[[int, int], np.ndarray]) -> list[int]:
    """For each k in ``counts`` (1 <= k <= the hashes' number), the value t with exactly k hashes <= t.
    ``hashes(start, stop)`` gives the (possibly filtered) hashes of positions [start, stop)."""
    histogram = np.zeros(1 << TOP_BITS, dtype=np.int64)
    for start in range(0, rows, SWEEP_ROWS):
        top = hashes(start, min(rows, start + SWEEP_ROWS)) >> _U64(64 - TOP_BITS)
        histogram += np.bincount(top.astype(np.int64), minlength=1 << TOP_BITS)
    below = np.cumsum(histogram)
    bins = [int(np.searchsorted(below, k)) for k in counts]  # the bin holding the k-th smallest hash
    wanted = np.array(sorted(set(bins)), dtype=_U64)
    boundary: list[np.ndarray] = []
    for start in range(0, rows, SWEEP_ROWS):
        values = hashes(start, min(rows, start + SWEEP_ROWS))
        boundary.append(values[np.isin(values >> _U64(64 - TOP_BITS), wanted)])
    candidates = np.sort(np.concatenate(boundary))
    thresholds = []
    for k, b in zip(counts, bins, strict=True):
        before = int(below[b - 1]) if b else 0
        in_bin = candidates[(candidates >> _U64(64 - TOP_BITS)) == _U64(b)]
        thresholds.append(int(in_bin[k - before - 1]))
    return thresholds


@dataclass(frozen=True)
class SplitPlan:
    """Which labelled row goes where: test if hash <= test_max, validation up to validation_max, else train;
    a training row is in the baseline if its baseline hash <= baseline_max (None: every training row)."""

    seed: int
    sizes: dict[str, int]
    test_max: int
    validation_max: int
    baseline_max: int | None

    def assign(self, start: int, stop: int) -> tuple[np.ndarray, np.ndarray]:
        """For labelled positions [start, stop): split codes (0 train, 1 validation, 2 test) and the
        baseline mask."""
        hashes = row_hashes(start, stop, self.seed, SPLIT_STREAM)
        codes = np.where(hashes <= _U64(self.test_max), 2, np.where(hashes <= _U64(self.validation_max), 1, 0))
        in_baseline = codes == 0
        if self.baseline_max is not None:
            in_baseline &= row_hashes(start, stop, self.seed, BASELINE_STREAM) <= _U64(self.baseline_max)
        return codes.astype(np.int8), in_baseline

    def is_training(self, hashes: np.ndarray) -> np.ndarray:
        return hashes > _U64(self.validation_max)


def split_sizes(rows: int, validation_fraction: float, test_fraction: float) -> dict[str, int]:
    """The row count of each split; too few rows for all three is a DataError."""
    n_test = int(round(rows * test_fraction))
    n_validation = int(round(rows * validation_fraction))
    n_train = rows - n_test - n_validation
    if min(n_test, n_validation, n_train) < 1:
        raise DataError(
            f"only {rows} labelled rows: too few to split into train/validation/test with fractions "
            f"validation={validation_fraction}, test={test_fraction}; provide more data"
        )
    return {"train": n_train, "validation": n_validation, "test": n_test}


def plan_split(rows: int, seed: int, fractions: tuple[float, float], baseline_max_rows: int) -> SplitPlan:
    """The split of ``rows`` labelled rows (``fractions``: validation, test) and the baseline sample."""
    sizes = split_sizes(rows, *fractions)
    test_max, validation_max = smallest_thresholds(
        rows, [sizes["test"], sizes["test"] + sizes["validation"]],
        lambda start, stop: row_hashes(start, stop, seed, SPLIT_STREAM))
    baseline_max = None
    if sizes["train"] > baseline_max_rows:
        def training_hashes(start: int, stop: int) -> np.ndarray:
            chosen = row_hashes(start, stop, seed, SPLIT_STREAM) > _U64(validation_max)
            return row_hashes(start, stop, seed, BASELINE_STREAM)[chosen]
        (baseline_max,) = smallest_thresholds(rows, [baseline_max_rows], training_hashes)
    return SplitPlan(seed, sizes, test_max, validation_max, baseline_max)
