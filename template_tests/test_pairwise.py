"""The pairwise generator behind the input matrix: every allowed pair covered, in few rows, the same rows every run."""

from __future__ import annotations

from itertools import combinations, product

from pairwise import all_pairs, required_pairs


def covered(rows, factors, uncoupled=frozenset()):
    return {((a, row[a]), (b, row[b])) for row in rows for a, b in combinations(factors, 2)
            if frozenset((a, b)) not in uncoupled}


def test_every_pair_is_covered_in_far_fewer_rows_than_the_product():
    factors = {name: ("x", "y", "z") for name in "abcd"}
    rows = all_pairs(factors)
    assert set(required_pairs(factors, lambda row: True)) <= covered(rows, factors)
    assert 9 <= len(rows) <= 12 < len(list(product(*factors.values())))  # 9 is the known optimum for 3^4


def test_rows_respect_the_constraint_and_skip_disallowed_pairs():
    factors = {"problem": ("binary", "regression"), "metric": ("auc", "f1", "rmse"), "spot": ("yes", "no")}
    fits = {"auc": "binary", "f1": "binary", "rmse": "regression"}

    def allowed(row):
        return "metric" not in row or "problem" not in row or fits[row["metric"]] == row["problem"]

    rows = all_pairs(factors, allowed)
    assert all(allowed(row) for row in rows)
    assert {(r["problem"], r["metric"]) for r in rows} == {("binary", "auc"), ("binary", "f1"), ("regression", "rmse")}
    assert {(r["metric"], r["spot"]) for r in rows} == set(product(("auc", "f1", "rmse"), ("yes", "no")))


def test_uncoupled_factors_need_not_meet_but_every_value_still_appears():
    factors = {"region": ("r1", "r2", "r3"), "spot": ("yes", "no"), "metric": ("m1", "m2", "m3", "m4")}
    uncoupled = frozenset({frozenset(("region", "metric"))})
    rows = all_pairs(factors, uncoupled=uncoupled)
    assert set(required_pairs(factors, lambda row: True, uncoupled)) <= covered(rows, factors, uncoupled)
    assert {r["metric"] for r in rows} == set(factors["metric"])
    assert len(rows) < len(factors["region"]) * len(factors["metric"])  # what coupling region and metric would need


def test_the_same_rows_every_time():
    factors = {"a": (1, 2, 3), "b": ("p", "q"), "c": (True, False)}
    assert all_pairs(factors) == all_pairs(dict(factors))
