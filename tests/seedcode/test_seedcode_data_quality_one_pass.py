"""One pass over Parquet: where the footers state each numeric column's [min, max], the statistics take one
read of the data, the same as two passes bit for bit; a stated range that does not hold costs a second pass,
never a wrong result; std_dev stays within 1e-12 of the exact value on adversarial columns."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from stats_accumulators import collect_statistics
from stats_reading import FrameRanges, iter_chunks, parquet_ranges

ROWS = 20_000


def _adversarial(rows: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({
        "large_offset": 1e9 + rng.standard_normal(rows),  # catastrophic cancellation for sum(x**2) - n mean**2
        "narrow_offset": 1e12 + rng.random(rows) * 1e-3,
        "skewed": np.round(rng.exponential(5.0, rows) ** 2, 2),  # the mean far below the middle of the range
        "integers_far_away": 2**40 + rng.integers(0, 1000, rows),
        "with_missing": np.where(rng.random(rows) < 0.2, np.nan, rng.normal(-3.0, 0.1, rows)),
        "constant": np.full(rows, 0.1),
        "platform": rng.choice(["ios", "android", "web"], rows),
    })


class CountedReads:
    """``read()`` of a dataset for collect_statistics, counting the passes."""

    def __init__(self, path: Path) -> None:
        self.path, self.passes = path, 0

    def __call__(self) -> Iterator:
        self.passes += 1
        return iter_chunks(self.path, chunk_rows=3_000)


@pytest.fixture(scope="module")
def parquet(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("one_pass") / "data.parquet"
    _adversarial(ROWS, seed=1).to_parquet(path, index=False, row_group_size=4_000)
    return path


def _statistics(path: Path, ranges: dict | None) -> tuple[dict, int]:
    read = CountedReads(path)
    return collect_statistics(read, ranges=ranges).to_statistics(), read.passes


def _exact_std(values: np.ndarray) -> float:
    """sqrt(sum((x - mean)**2) / n) from exact integer arithmetic, correctly rounded before the square root."""
    ratios = [float(v).as_integer_ratio() for v in values.tolist()]
    unit = max(bottom for _, bottom in ratios)  # a power of two: every value is a whole number of 1 / unit
    units = [top * (unit // bottom) for top, bottom in ratios]
    n, total, squares = len(units), sum(units), sum(u * u for u in units)
    return math.sqrt(Fraction(n * squares - total * total, n * n * unit * unit))


def test_footer_ranges_give_one_read_and_the_two_pass_statistics_bit_for_bit(parquet: Path) -> None:
    ranges = parquet_ranges([parquet])
    one_pass, passes = _statistics(parquet, ranges)
    two_pass, two_passes = _statistics(parquet, None)

    assert set(ranges) == {"large_offset", "narrow_offset", "skewed", "integers_far_away", "with_missing", "constant"}
    assert (passes, two_passes) == (1, 2)
    assert json.dumps(one_pass) == json.dumps(two_pass)
    frame = pd.read_parquet(parquet)
    for feature in one_pass["features"][:6]:
        values = frame[feature["name"]].dropna().to_numpy()
        assert feature["numerical_statistics"]["std_dev"] == pytest.approx(_exact_std(values), rel=1e-12, abs=0)
    integers = one_pass["features"][3]["numerical_statistics"]
    assert integers["std_dev"] == _exact_std(frame["integers_far_away"].to_numpy())  # exact for integers


def test_the_statistics_do_not_depend_on_the_chunk_size(parquet: Path) -> None:
    """Each fine bin's smallest and largest value carry over from chunk to chunk (the quantiles depend on them)."""
    ranges = parquet_ranges([parquet])
    whole = collect_statistics(lambda: iter_chunks(parquet, chunk_rows=ROWS), ranges=ranges).to_statistics()
    small = collect_statistics(lambda: iter_chunks(parquet, chunk_rows=1_000), ranges=ranges).to_statistics()

    assert json.dumps(small) == json.dumps(whole)


def test_stated_ranges_that_do_not_hold_cost_a_second_pass_not_a_wrong_result(parquet: Path) -> None:
    stated = parquet_ranges([parquet])
    low, high = stated["skewed"]
    wrong = {**stated, "skewed": (low, high / 2), "large_offset": (0.0, 2e9), "platform": (0.0, 1.0)}

    statistics, passes = _statistics(parquet, wrong)

    assert passes == 2
    assert json.dumps(statistics) == json.dumps(_statistics(parquet, None)[0])


def test_a_centre_that_cancels_too_much_takes_a_pass_about_the_mean(tmp_path: Path) -> None:
    """One far outlier puts the mean at the bottom of the range, thousands of standard deviations from the
    middle: the deviations are taken again about the mean (a pass reading the data a second time)."""
    values = np.random.default_rng(2).standard_normal(ROWS)
    values[7] = 1e8
    path = tmp_path / "outlier.parquet"
    pd.DataFrame({"outlier": values}).to_parquet(path, index=False)

    statistics, passes = _statistics(path, parquet_ranges([path]))

    assert passes == 2
    std_dev = statistics["features"][0]["numerical_statistics"]["std_dev"]
    assert std_dev == pytest.approx(_exact_std(values), rel=1e-15, abs=0)
    assert json.dumps(statistics) == json.dumps(_statistics(path, None)[0])


def test_footers_state_only_finite_numeric_ranges(tmp_path: Path) -> None:
    path = tmp_path / "mixed.parquet"
    pd.DataFrame({
        "zero_min": [0.0, 2.5, np.nan, 1.0],  # NaN is left out; Parquet writes the zero minimum as -0.0
        "infinite": [1.0, np.inf, 2.0, 3.0],  # +-inf count as missing values, so the footer's max is no use
        "all_missing": [np.nan, np.nan, np.nan, np.nan],
        "text": ["a", "b", "c", "d"],
        "counts": pd.array([3, None, 1, 7], dtype="Int64"),
    }).to_parquet(path, index=False, row_group_size=2)

    ranges = parquet_ranges([path, tmp_path / "other.csv"])

    assert ranges == {"zero_min": (0.0, 2.5), "counts": (1.0, 7.0)}
    statistics, passes = _statistics(path, ranges)
    assert passes == 2  # infinite states no range: its numbers are binned in a second pass
    assert statistics["features"][0]["numerical_statistics"]["distribution"]["kll"]["buckets"][0]["lower_bound"] == 0.0
    assert json.dumps(statistics) == json.dumps(_statistics(path, None)[0])


def test_chunks_kept_in_memory_state_their_ranges_as_they_go_by() -> None:
    """The drift job's spool (DataFrame chunks parsed from capture) knows each numeric column's range before the
    statistics read it: one pass, the statistics of two; a column with text states none."""
    frame = _adversarial(ROWS, seed=3)
    frame.loc[5, "skewed"] = np.inf  # a missing value, left out of the range
    chunks = [frame.iloc[start:start + 3_000] for start in range(0, ROWS, 3_000)]
    ranges = FrameRanges()
    for chunk in chunks:
        ranges.add(chunk)
    ranges.add(pd.DataFrame({"large_offset": ["unknown"]}))
    passes = []

    def read() -> Iterator:
        passes.append(1)
        return iter(chunks)

    one_pass = collect_statistics(read, ranges=ranges.ranges).to_statistics()

    assert set(ranges.ranges) == {"narrow_offset", "skewed", "integers_far_away", "with_missing", "constant"}
    assert ranges.ranges["skewed"][1] == frame["skewed"].replace(np.inf, np.nan).max()
    assert len(passes) == 2  # large_offset, text in one chunk, takes the second pass
    passes.clear()
    assert json.dumps(collect_statistics(read, ranges={**ranges.ranges, "large_offset": (
        frame["large_offset"].min(), frame["large_offset"].max())}).to_statistics()) == json.dumps(one_pass)
    assert len(passes) == 1
    assert json.dumps(one_pass) == json.dumps(collect_statistics(lambda: iter(chunks)).to_statistics())
