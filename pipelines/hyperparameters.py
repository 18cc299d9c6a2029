"""The xgboost parameters `[tool.ml-factory.training] hyperparameters` may set, with their types and ranges.

Checked when the config is read, so a typo (`max_dept`) or an impossible value (`max_depth = -3`) is
refused before any step runs (in the cloud: before a billed Spot job), not by xgboost inside Train.
The table follows xgboost 3.2's parameter reference (https://xgboost.readthedocs.io/en/release_3.2.0/
parameter.html); tests/test_hyperparameters.py trains one round with every name here to prove xgboost
uses it. Keys the pipeline itself sets from other settings are refused here with the setting to use
instead; seedcode/train.py's own keys (`eval_train`) pass through. This module is the one table:
seedcode/ cannot import it (it runs in the container without pipelines/), and needs not: by the time
train.py runs, the values have been checked here.
"""

from __future__ import annotations

import difflib
import math
from dataclasses import dataclass
from typing import Any

INF = math.inf


@dataclass(frozen=True)
class Param:
    """One parameter: its kind ("int", "float", "bool", "str" or "choice") and its allowed values."""

    kind: str
    low: float = -INF
    high: float = INF
    low_open: bool = False  # the low bound itself is excluded, e.g. subsample (0, 1]
    high_open: bool = False
    choices: tuple[str, ...] = ()

    def describe(self) -> str:
        if self.kind == "choice":
            return "one of " + ", ".join(self.choices)
        if self.kind in ("bool", "str"):
            return {"bool": "true or false", "str": "a string"}[self.kind]
        noun = "an integer" if self.kind == "int" else "a number"
        if self.low == -INF and self.high == INF:
            return noun
        left, right = "(" if self.low_open else "[", ")" if self.high_open or self.high == INF else "]"
        high = "inf" if self.high == INF else f"{self.high:g}"
        return f"{noun} in {left}{self.low:g}, {high}{right}"

    def problem(self, value: Any) -> str | None:
        """None when `value` fits, else what is wrong with it."""
        if self.kind == "bool":
            return None if isinstance(value, bool) or value in (0, 1) else f"expected {self.describe()}, got {value!r}"
        if self.kind in ("str", "choice"):
            if not isinstance(value, str) or (self.choices and value not in self.choices):
                return f"expected {self.describe()}, got {value!r}"
            return None
        numeric = isinstance(value, int) if self.kind == "int" else isinstance(value, (int, float))
        if isinstance(value, bool) or not numeric or (isinstance(value, float) and not math.isfinite(value)):
            return f"expected {self.describe()}, got {value!r}"
        too_low = value < self.low or (self.low_open and value == self.low)
        too_high = value > self.high or (self.high_open and value == self.high)
        return f"must be {self.describe()}, got {value!r}" if too_low or too_high else None


def _ratio() -> Param:
    return Param("float", 0, 1, low_open=True)


def _non_negative(kind: str = "float") -> Param:
    return Param(kind, 0)


OBJECTIVES = ("binary:logistic", "binary:logitraw", "binary:hinge", "reg:squarederror", "reg:squaredlogerror",
              "reg:logistic", "reg:pseudohubererror", "reg:absoluteerror", "reg:quantileerror", "reg:gamma",
              "reg:tweedie", "count:poisson", "multi:softmax", "multi:softprob")

XGBOOST_PARAMS: dict[str, Param] = {
    # general
    "booster": Param("choice", choices=("gbtree", "gblinear", "dart")),
    "verbosity": Param("int", 0, 3),
    "nthread": Param("int", 0),  # 0: every core
    "disable_default_eval_metric": Param("bool"),
    # tree booster
    "eta": Param("float", 0, 1), "learning_rate": Param("float", 0, 1),
    "gamma": _non_negative(), "min_split_loss": _non_negative(),
    "max_depth": _non_negative("int"),
    "min_child_weight": _non_negative(),
    "max_delta_step": _non_negative(),
    "subsample": _ratio(),
    "sampling_method": Param("choice", choices=("uniform", "gradient_based")),
    "colsample_bytree": _ratio(), "colsample_bylevel": _ratio(), "colsample_bynode": _ratio(),
    "lambda": _non_negative(), "reg_lambda": _non_negative(),
    "alpha": _non_negative(), "reg_alpha": _non_negative(),
    "tree_method": Param("choice", choices=("auto", "exact", "approx", "hist")),
    "scale_pos_weight": _non_negative(),
    "grow_policy": Param("choice", choices=("depthwise", "lossguide")),
    "max_leaves": _non_negative("int"),
    "max_bin": Param("int", 2),
    "num_parallel_tree": Param("int", 1),
    "monotone_constraints": Param("str"),
    "interaction_constraints": Param("str"),
    "max_cat_to_onehot": Param("int", 1),
    "max_cat_threshold": Param("int", 1),
    # dart booster
    "sample_type": Param("choice", choices=("uniform", "weighted")),
    "normalize_type": Param("choice", choices=("tree", "forest")),
    "rate_drop": Param("float", 0, 1), "skip_drop": Param("float", 0, 1), "one_drop": Param("bool"),
    # linear booster
    "updater": Param("str"),
    "feature_selector": Param("choice", choices=("cyclic", "shuffle", "random", "greedy", "thrifty")),
    "top_k": _non_negative("int"),
    # learning task
    "objective": Param("choice", choices=OBJECTIVES),
    "base_score": Param("float"),
    "eval_metric": Param("str"),
    "seed_per_iteration": Param("bool"),
    "tweedie_variance_power": Param("float", 1, 2, high_open=True),
    "huber_slope": Param("float", 0, low_open=True),
    "quantile_alpha": Param("float", 0, 1, low_open=True, high_open=True),
    "num_class": Param("int", 2),
}
# seedcode/train.py's own hyperparameters (not xgboost's), passed through to the script
SCRIPT_PARAMS: dict[str, Param] = {"eval_train": Param("bool")}
# keys the pipeline sets from other settings: where to set them instead
RESERVED = {
    "num_round": "[tool.ml-factory.training] num_round",
    "checkpoint_every": "[tool.ml-factory.training] checkpoint_every_rounds",
    "checkpoint_every_rounds": "[tool.ml-factory.training] checkpoint_every_rounds",
    "seed": "[tool.ml-factory] seed",
    "random_state": "[tool.ml-factory] seed",
}
RESERVED_PREFIXES = ("sagemaker_", "_")


def known_names() -> list[str]:
    return sorted({**XGBOOST_PARAMS, **SCRIPT_PARAMS})


def parameter(name: str) -> Param:
    return XGBOOST_PARAMS.get(name) or SCRIPT_PARAMS[name]


def hyperparameter_problem(name: str, value: Any) -> str | None:
    """None when `name = value` may go into hyperparameters, else what is wrong and the fix."""
    if name in RESERVED:
        return f"is set by the pipeline, not here: use {RESERVED[name]}"
    if name.startswith(RESERVED_PREFIXES):
        return "names starting with sagemaker_ or _ are reserved for the SageMaker training toolkit"
    param = XGBOOST_PARAMS.get(name) or SCRIPT_PARAMS.get(name)
    if param is None:
        close = difflib.get_close_matches(name, [*known_names(), *RESERVED], n=1, cutoff=0.6)
        hint = f"did you mean {close[0]}? " if close else ""
        return (f"is not an xgboost parameter this pipeline supports; {hint}"
                "run `python -m pipelines.config` for the list")
    return param.problem(value)
