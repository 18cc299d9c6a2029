"""`[tool.ml-factory.data]`: how Preprocess reads the team's table, from pyproject.toml to the step's arguments."""

from __future__ import annotations

import pytest
from test_definition import WIRING, steps_by_name

from pipelines.code_bundle import bundle_seedcode
from pipelines.config import ConfigError, DataConfig, parse_config
from pipelines.definition import STEP_PREPROCESS, build_pipeline


def preprocess_arguments(team_table: dict, stage: str = "dev") -> list[str]:
    definition = build_pipeline(parse_config(team_table, stage), WIRING, bundle_seedcode()).definition_dict
    return steps_by_name(definition)[STEP_PREPROCESS]["Arguments"]["AppSpecification"]["ContainerArguments"]


def test_declared_columns_and_share_reach_the_preprocess_step(team_table):
    assert parse_config(team_table, "dev").data == DataConfig(max_dropped_fraction=0.1, categorical_columns=())
    team_table["data"] = {"max_dropped_fraction": 0.25, "categorical_columns": ["zip code", "-store"]}
    team_table.setdefault("stages", {}).setdefault("prod", {})["data"] = {"max_dropped_fraction": 0}

    arguments = preprocess_arguments(team_table)

    assert arguments[arguments.index("--max-dropped-fraction"):] == [
        "--max-dropped-fraction", "0.25", "--categorical-column=zip code", "--categorical-column=-store"]
    expected = DataConfig(max_dropped_fraction=0.0, categorical_columns=("zip code", "-store"))
    assert parse_config(team_table, "prod").data == expected  # a stage is stricter


@pytest.mark.parametrize("table, message", [
    ({"max_dropped_fraction": 1.5}, "max_dropped_fraction: must be at least 0 and below 1"),
    ({"categorical_columns": "zip"}, "categorical_columns: expected a list, got 'zip'"),
    ({"categorical_columns": ["zip", 3]}, "categorical_columns: expected a list of column names"),
    ({"max_dropped": 0.2}, "max_dropped: unknown setting (did you mean max_dropped_fraction?)"),
])
def test_bad_data_settings_name_the_key(team_table, table, message):
    team_table["data"] = table
    with pytest.raises(ConfigError, match=r"\[tool.ml-factory.data\]") as raised:
        parse_config(team_table, "dev")
    assert message in str(raised.value)
