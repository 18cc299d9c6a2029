"""The hyperparameter table (pipelines/hyperparameters.py) against xgboost itself: every name in it is a
parameter xgboost uses, and a value xgboost refuses at training time is refused when the config is read."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import xgboost as xgb

from pipelines.hyperparameters import SCRIPT_PARAMS, XGBOOST_PARAMS, hyperparameter_problem

# The setting a parameter only acts in (xgboost warns "not used" otherwise).
CONTEXT = {
    **dict.fromkeys(("sample_type", "normalize_type", "rate_drop", "skip_drop", "one_drop"), {"booster": "dart"}),
    "updater": {"booster": "gblinear"},
    "feature_selector": {"booster": "gblinear", "updater": "coord_descent"},
    "top_k": {"booster": "gblinear", "updater": "coord_descent", "feature_selector": "greedy"},
    "tweedie_variance_power": {"objective": "reg:tweedie"},
    "huber_slope": {"objective": "reg:pseudohubererror"},
    "quantile_alpha": {"objective": "reg:quantileerror"},
    "num_class": {"objective": "multi:softprob"},
}
SAMPLES = {"updater": "shotgun", "monotone_constraints": "(1,0,0)", "interaction_constraints": "[[0, 1], [2]]",
           "eval_metric": "logloss", "objective": "binary:logistic", "feature_selector": "cyclic"}


def sample_value(name: str):
    """A value inside the parameter's range."""
    if name in SAMPLES:
        return SAMPLES[name]
    param = XGBOOST_PARAMS[name]
    if param.kind == "choice":
        return param.choices[0]
    if param.kind == "bool":
        return True
    low = param.low if param.low != -np.inf else 0.5
    value = low + (0.5 if param.low_open or param.high_open else 0)
    return int(round(value)) if param.kind == "int" else value


@pytest.fixture(scope="module")
def data() -> xgb.DMatrix:
    rng = np.random.default_rng(0)
    features = rng.normal(size=(60, 3))
    return xgb.DMatrix(features, label=(features[:, 0] > 0).astype(int))


def train_one_round(params: dict, data: xgb.DMatrix) -> list[str]:
    """The warnings xgboost gives while training one round with `params`."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        xgb.train({"objective": "binary:logistic", "verbosity": 1, **params}, data, num_boost_round=1)
    return [str(w.message) for w in caught]


@pytest.mark.parametrize("name", sorted(XGBOOST_PARAMS))
def test_every_name_in_the_table_is_a_parameter_xgboost_uses(name, data):
    value = sample_value(name)
    assert hyperparameter_problem(name, value) is None
    params = {**CONTEXT.get(name, {}), name: value}
    assert not [w for w in train_one_round(params, data) if "not used" in w], params


def test_a_misspelled_name_is_one_xgboost_would_ignore_and_we_refuse_with_the_nearest(data):
    assert any('"max_dept"' in w and "not used" in w for w in train_one_round({"max_dept": 3}, data))
    assert "did you mean max_depth?" in hyperparameter_problem("max_dept", 3)
    assert "did you mean colsample_bytree?" in hyperparameter_problem("colsample_by_tree", 0.5)


@pytest.mark.parametrize("name, value", [
    ("max_depth", -3), ("max_bin", 1), ("num_parallel_tree", 0), ("colsample_bytree", 1.5), ("gamma", -1),
    ("min_child_weight", -1), ("scale_pos_weight", -1), ("max_leaves", -1), ("lambda", -1), ("alpha", -1),
    ("max_delta_step", -1), ("verbosity", 4), ("max_cat_to_onehot", 0), ("max_cat_threshold", 0),
])
def test_a_value_xgboost_refuses_at_training_is_refused_up_front(name, value, data):
    with pytest.raises(xgb.core.XGBoostError):
        xgb.train({"objective": "binary:logistic", name: value}, data, num_boost_round=1)
    assert hyperparameter_problem(name, value).startswith("must be ")


@pytest.mark.parametrize("name, value, problem", [
    ("subsample", 0, "must be a number in (0, 1], got 0"),  # xgboost's docs: (0, 1]; it would train on nothing
    ("eta", 1.5, "must be a number in [0, 1], got 1.5"),
    ("max_depth", "5", "expected an integer in [0, inf), got '5'"),
    ("eta", True, "expected a number in [0, 1], got True"),
    ("booster", "gbtre", "expected one of gbtree, gblinear, dart, got 'gbtre'"),
    ("eval_train", "yes", "expected true or false, got 'yes'"),
    ("sagemaker_program", "x.py", "names starting with sagemaker_ or _ are reserved"),
    ("checkpoint_every", 5, "use [tool.ml-factory.training] checkpoint_every_rounds"),
])
def test_types_documented_ranges_and_reserved_names(name, value, problem):
    assert problem in hyperparameter_problem(name, value)


def test_the_training_script_keys_pass_through():
    assert set(SCRIPT_PARAMS) == {"eval_train"}
    assert hyperparameter_problem("eval_train", True) is None
