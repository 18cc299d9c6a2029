"""All-pairs (pairwise) combinations: every pair of values of two factors appears together in some row.

Most input bugs show up with one value, or with two values together; covering every pair takes a few
rows where the full product takes hundreds. Written here rather than taken from a library (allpairspy,
pict) because none is in the lock and this is 50 lines: greedy and deterministic (the same rows on every
run). Each new row starts from the first uncovered pair and takes, factor by factor, the allowed value
that covers most still-uncovered pairs; ties go to the value listed first.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from itertools import combinations
from typing import Any

Pair = tuple[tuple[str, Any], tuple[str, Any]]
Row = dict[str, Any]


def _pairs_of(row: Row, names: Sequence[str], uncoupled: frozenset[frozenset[str]]) -> set[Pair]:
    present = [name for name in names if name in row]
    return {((a, row[a]), (b, row[b])) for a, b in combinations(present, 2) if frozenset((a, b)) not in uncoupled}


def required_pairs(factors: Mapping[str, Sequence[Any]], allowed: Callable[[Row], bool],
                   uncoupled: frozenset[frozenset[str]] = frozenset()) -> dict[Pair, None]:
    """Every pair a covering set must hold, in factor order (a dict as an ordered set)."""
    return {((a, va), (b, vb)): None
            for a, b in combinations(factors, 2) if frozenset((a, b)) not in uncoupled
            for va in factors[a] for vb in factors[b] if allowed({a: va, b: vb})}


def all_pairs(factors: Mapping[str, Sequence[Any]], allowed: Callable[[Row], bool] = lambda row: True,
              uncoupled: frozenset[frozenset[str]] = frozenset()) -> list[Row]:
    """Rows (one value per factor, in factor order) that together hold every allowed pair of values.

    `allowed(row)` gets partial rows too and says whether they can still be part of a valid row.
    `uncoupled` names factor pairs whose value pairs need not appear together; each value of a factor
    still appears in some row as long as it pairs with some other factor.
    """
    names = list(factors)
    uncovered = required_pairs(factors, allowed, uncoupled)
    rows: list[Row] = []
    while uncovered:
        (a, va), (b, vb) = next(iter(uncovered))
        row: Row = {a: va, b: vb}
        for name in names:
            if name in row:
                continue
            choices = [v for v in factors[name] if allowed({**row, name: v})]
            if not choices:
                raise ValueError(f"no value of {name} is allowed with {row}")
            row[name] = max(choices, key=lambda v, n=name: len(_pairs_of({**row, n: v}, names, uncoupled)
                                                               & uncovered.keys()))
        ordered = {name: row[name] for name in names}
        for pair in _pairs_of(ordered, names, uncoupled):
            uncovered.pop(pair, None)
        rows.append(ordered)
    return rows
