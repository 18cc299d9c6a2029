"""The team config: one typed object per stage, with clear errors that name the setting."""

from __future__ import annotations

import pytest

from pipelines.config import ConfigError, load_config, parse_config


def test_this_repos_config_loads_for_every_stage(repo_root):
    for stage in ("dev", "staging", "prod"):
        config = load_config(stage, repo_root / "pyproject.toml")
        assert config.stage == stage
        assert config.pipeline_name == f"{config.project}-{stage}"
        assert len(config.account_id) == 12


def test_stage_overrides_are_deep_merged(team_table):
    team_table["stages"]["prod"] = {"account_id": "999999999999", "training": {"instance_type": "ml.c5.4xlarge"}}
    prod = parse_config(team_table, "prod")
    dev = parse_config(team_table, "dev")
    assert prod.training.instance_type == "ml.c5.4xlarge"
    assert prod.training.num_round == dev.training.num_round  # untouched keys survive the merge
    assert prod.account_id == "999999999999"


def test_cost_tags_carry_stage_and_owner(team_table):
    config = parse_config(team_table, "staging")
    assert config.tags["Environment"] == "staging"
    assert set(config.tags) == {"Project", "Team", "Owner", "CostCenter", "Environment", "ManagedBy"}


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda t: t.pop("target_column"), "target_column: is required but missing"),
        (lambda t: t.update(aws_region="moon-1"), "aws_region: 'moon-1' is not an AWS region code"),
        (lambda t: t["training"].update(use_spot="yes"), "use_spot: expected true or false, got 'yes'"),
        (lambda t: t["training"].update(num_round=0), "num_round: must be a positive integer, got 0"),
        (lambda t: t["training"].update(max_wait_seconds=100, max_runtime_seconds=3600, use_spot=True),
         "max_wait_seconds: must exceed max_runtime_seconds (3600)"),
        (lambda t: t["training"].update(instance_typo="ml.m5.large"), "unknown setting(s) instance_typo"),
        (lambda t: t["metric"].update(threshold="0.7"), "threshold: expected an integer or a number"),
        (lambda t: t.update(problem_type="clustering"), "problem_type: 'clustering' is not one of"),
        (lambda t: t["stages"].update(qa={}), "unknown stage(s) qa"),
    ],
)
def test_invalid_settings_name_the_setting(team_table, mutate, message):
    mutate(team_table)
    with pytest.raises(ConfigError, match=None) as excinfo:
        parse_config(team_table, "dev")
    assert message in str(excinfo.value)


def test_metric_must_fit_problem_type(team_table):
    team_table["problem_type"] = "regression"
    team_table["metric"] = {"name": "auc", "threshold": 0.8}
    with pytest.raises(ConfigError, match="'auc' does not fit problem_type 'regression'"):
        parse_config(team_table, "dev")


def test_missing_pyproject_says_what_to_do(tmp_path):
    with pytest.raises(ConfigError, match="run from the project root or pass --config"):
        load_config("dev", tmp_path / "pyproject.toml")


def test_pyproject_without_table_is_not_a_project(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n')
    with pytest.raises(ConfigError, match=r"no \[tool.ml-factory\] table"):
        load_config("dev", tmp_path / "pyproject.toml")


def test_every_character_a_tag_input_accepts_is_a_valid_aws_tag_character():
    """Inputs that become tags (Project, Team, Owner, CostCenter) can never produce a value SageMaker's
    tag pattern [\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]* refuses, whatever the input rule lets through."""
    import botocore.session
    import regex

    from pipelines.rules import RULES, check_tag_value

    shape = botocore.session.get_session().get_service_model("sagemaker").shape_for("TagValue")
    service_pattern = regex.compile(f"^{shape.metadata['pattern']}$")
    printable = [chr(c) for c in range(32, 127)] + ["é", "ß", "\u00a0", "%", "&", "#", "!", "*"]
    tag_rules = [name for name, rule in RULES.items() if rule.tag]
    assert set(tag_rules) == {"project", "team", "owner_email", "cost_center"}
    for character in printable:
        ours = check_tag_value("field", f"a{character}b") is None
        assert ours == bool(service_pattern.match(f"a{character}b")), repr(character)


@pytest.mark.parametrize("field, value", [("owner_email", "data%science@example.com"), ("team", "R&D")])
def test_a_value_aws_would_refuse_as_a_tag_is_a_config_error(team_table, field, value):
    team_table[field] = value
    with pytest.raises(ConfigError, match=f"{field}: "):
        parse_config(team_table, "dev")


def test_champion_margin_is_read_and_must_be_finite(team_table):
    team_table["metric"]["champion_margin"] = 0.01
    assert parse_config(team_table, "dev").metric.champion_margin == 0.01
    team_table["metric"]["champion_margin"] = float("nan")
    with pytest.raises(ConfigError, match=r"\[tool.ml-factory.metric\] champion_margin: must be a finite number"):
        parse_config(team_table, "dev")
