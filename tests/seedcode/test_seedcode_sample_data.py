"""pipelines/sample_data.py: deterministic, realistic, learnable, drift-able synthetic churn data."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xgboost as xgb
from sklearn.metrics import f1_score, roc_auc_score

from pipelines.sample_data import BASE_FEATURES, make_churn_dataset, shift_dataset, write_dataset

CATEGORICAL = ("platform", "country", "acquisition_channel", "subscription_tier")


def test_deterministic_by_seed() -> None:
    pd.testing.assert_frame_equal(make_churn_dataset(500, seed=3), make_churn_dataset(500, seed=3))
    assert not make_churn_dataset(500, seed=3).equals(make_churn_dataset(500, seed=4))
    # the features do not depend on the problem type or the number of extra columns
    pd.testing.assert_frame_equal(
        make_churn_dataset(300, seed=3)[list(BASE_FEATURES)],
        make_churn_dataset(300, seed=3, problem_type="regression", extra_features=4)[list(BASE_FEATURES)],
    )


def test_realistic_columns_with_missing_values() -> None:
    frame = make_churn_dataset(3000, seed=1)

    assert list(frame.columns) == [*BASE_FEATURES, "churned"]
    missing = frame.isna().mean()
    assert {name for name, share in missing.items() if share > 0} == {
        "avg_session_minutes", "friends_count", "win_rate", "country", "acquisition_channel"}
    assert missing.max() < 0.1
    assert set(frame["subscription_tier"]) == {"free", "basic", "premium"}
    assert (frame.select_dtypes("number").min() >= 0).all()


def test_binary_target_is_learnable_but_not_trivial() -> None:
    frame = make_churn_dataset(6000, seed=2)
    target = frame.pop("churned")
    assert set(target.unique()) == {0, 1} and 0.15 < target.mean() < 0.5
    for name in CATEGORICAL:
        frame[name] = frame[name].astype("category").cat.codes
    params = {"objective": "binary:logistic", "max_depth": 4, "eta": 0.2, "nthread": 2}
    booster = xgb.train(params, xgb.DMatrix(frame.iloc[:4000], target.iloc[:4000]), 60)
    auc = roc_auc_score(target.iloc[4000:], booster.predict(xgb.DMatrix(frame.iloc[4000:])))
    assert 0.78 < auc < 0.95


def test_multiclass_target_clears_the_default_gate_with_room() -> None:
    frame = make_churn_dataset(6000, seed=2, problem_type="multiclass_classification", target_column="status")
    status = frame.pop("status")
    shares = status.value_counts(normalize=True)
    assert set(shares.index) == {"churned", "stayed", "upgraded"} and shares.min() > 0.15
    for name in CATEGORICAL:
        frame[name] = frame[name].astype("category").cat.codes
    codes = status.map({"churned": 0, "stayed": 1, "upgraded": 2})
    params = {"objective": "multi:softprob", "num_class": 3, "max_depth": 4, "eta": 0.2, "nthread": 2}
    booster = xgb.train(params, xgb.DMatrix(frame.iloc[:4000], codes.iloc[:4000]), 60)
    predicted = booster.predict(xgb.DMatrix(frame.iloc[4000:])).argmax(axis=1)
    assert 0.58 < f1_score(codes.iloc[4000:], predicted, average="macro") < 0.85  # the gate's floor is 0.5


def test_regression_target_and_requested_width() -> None:
    frame = make_churn_dataset(1000, seed=5, problem_type="regression", target_column="next_30d_spend",
                               extra_features=16)
    assert frame.shape == (1000, 31)  # 30 features + target
    assert frame.columns[-1] == "next_30d_spend"
    assert frame["next_30d_spend"].dtype == np.float64 and (frame["next_30d_spend"] >= 0).all()
    assert frame["next_30d_spend"].nunique() > 500
    assert [c for c in frame.columns if c.startswith("extra_")] == [f"extra_{i:02d}" for i in range(16)]
    with pytest.raises(ValueError, match="problem_type"):
        make_churn_dataset(10, problem_type="multiclass")  # the full name is multiclass_classification


def test_shift_dataset_moves_distributions_but_keeps_shape() -> None:
    frame = make_churn_dataset(3000, seed=6)
    shifted = shift_dataset(frame, seed=1)

    assert list(shifted.dtypes) == list(frame.dtypes)
    pd.testing.assert_series_equal(shifted["churned"], frame["churned"])
    pd.testing.assert_frame_equal(shifted.isna(), frame.isna())
    assert shifted["sessions_last_7d"].mean() > frame["sessions_last_7d"].mean() * 1.3
    assert shifted["platform"].value_counts().index[0] == frame["platform"].value_counts().index[-1]
    assert shift_dataset(frame, seed=1).equals(shifted)


@pytest.mark.parametrize("name", ["data.csv", "data.csv.gz", "nested/data.parquet"])
def test_write_dataset_by_suffix(tmp_path: Path, name: str) -> None:
    frame = make_churn_dataset(50, seed=7)
    path = write_dataset(frame, tmp_path / name)
    back = pd.read_parquet(path) if name.endswith(".parquet") else pd.read_csv(path)
    assert back.shape == frame.shape
    np.testing.assert_allclose(back["spend_30d"], frame["spend_30d"])
    with pytest.raises(ValueError, match="suffix"):
        write_dataset(frame, tmp_path / "data.json")
