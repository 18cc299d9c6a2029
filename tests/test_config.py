"""The team config: one typed object per stage, with clear errors that name the setting."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from pipelines.config import SETTINGS, ConfigError, SettingsReader, find_pyproject, load_config, parse_config
from pipelines.hyperparameters import known_names
from pipelines.rules import check, check_template_inputs

REPO_ROOT = Path(__file__).resolve().parent.parent


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
        (lambda t: t["training"].update(instance_typo="ml.m5.large"),
         "[tool.ml-factory.training] instance_typo: unknown setting (did you mean instance_type?)"),
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
    with pytest.raises(ConfigError, match="pass --config PATH"):
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


def error_of(table: dict, stage: str = "dev") -> str:
    with pytest.raises(ConfigError) as excinfo:
        parse_config(table, stage)
    return str(excinfo.value)


def test_metric_errors_name_the_keys_as_the_file_spells_them(team_table):
    team_table.update(problem_type="binary_classification", metric={"name": "auc", "threshold": 1.5})
    assert error_of(team_table).startswith("pyproject.toml [tool.ml-factory.metric] threshold: 1.5 must lie between")
    team_table["metric"] = {"name": "rmse", "threshold": 0.5}
    assert error_of(team_table).startswith("pyproject.toml [tool.ml-factory.metric] name: 'rmse' does not fit")


def test_a_bad_stage_override_is_reported_under_the_stage_table(team_table):
    team_table["stages"]["prod"]["training"] = {"num_round": 0}
    assert error_of(team_table, "prod").startswith(
        "pyproject.toml [tool.ml-factory.stages.prod.training] num_round: must be a positive integer, got 0")
    team_table["stages"]["prod"]["training"] = {"hyperparameters": {"max_depth": -3}}
    assert error_of(team_table, "prod").startswith(
        "pyproject.toml [tool.ml-factory.stages.prod.training] hyperparameters.max_depth: must be an integer in")
    team_table["stages"]["prod"] = {"account_id": "12"}
    assert error_of(team_table, "prod").startswith("pyproject.toml [tool.ml-factory.stages.prod] account_id: ")
    # the same key in the base table is reported there
    team_table["stages"]["prod"] = {"account_id": "333333333333"}
    team_table["training"]["num_round"] = 0
    assert "[tool.ml-factory.training] num_round" in error_of(team_table, "prod")


@pytest.mark.parametrize("mutate, message", [
    (lambda t: t["training"]["hyperparameters"].update(max_dept=4),
     "[tool.ml-factory.training] hyperparameters.max_dept: is not an xgboost parameter this pipeline supports; "
     "did you mean max_depth?"),
    (lambda t: t["training"]["hyperparameters"].update(max_depth=-3),
     "hyperparameters.max_depth: must be an integer in [0, inf), got -3"),
    (lambda t: t["training"]["hyperparameters"].update(subsample=0),
     "hyperparameters.subsample: must be a number in (0, 1], got 0"),
    (lambda t: t["training"]["hyperparameters"].update(max_depth=4.5),
     "hyperparameters.max_depth: expected an integer in [0, inf), got 4.5"),
    (lambda t: t["training"]["hyperparameters"].update(objective="binary:logistc"),
     "hyperparameters.objective: expected one of binary:logistic"),
    (lambda t: t["training"]["hyperparameters"].update(num_round=50),
     "hyperparameters.num_round: is set by the pipeline, not here: use [tool.ml-factory.training] num_round"),
    (lambda t: t["training"]["hyperparameters"].update(seed=7),
     "hyperparameters.seed: is set by the pipeline, not here: use [tool.ml-factory] seed"),
    (lambda t: t.update(num_round=50),
     "[tool.ml-factory] num_round: unknown setting here; it belongs in [tool.ml-factory.training]"),
    (lambda t: t["training"].update(threshold=0.8),
     "[tool.ml-factory.training] threshold: unknown setting here; it belongs in [tool.ml-factory.metric]"),
    (lambda t: t.update(targte_column="x"),
     "[tool.ml-factory] targte_column: unknown setting (did you mean target_column?); "
     "`python -m pipelines.config` lists every setting"),
])
def test_hyperparameters_and_misplaced_keys_are_refused_before_any_step(team_table, mutate, message):
    mutate(team_table)
    assert message in error_of(team_table)


def test_valid_hyperparameters_pass_through_sorted(team_table):
    team_table["training"]["hyperparameters"] = {"max_depth": 0, "eta": 1, "objective": "reg:tweedie",
                                                 "tweedie_variance_power": 1.5, "eval_train": True}
    assert list(parse_config(team_table, "dev").training.hyperparameters) == [
        "eta", "eval_train", "max_depth", "objective", "tweedie_variance_power"]


def test_the_settings_listing_is_every_key_the_parser_reads(team_table, monkeypatch):
    """`python -m pipelines.config`, which the unknown-key error points to, ships in every generated repo
    (pipelines/ is copied whole): it must list exactly the keys each table accepts."""
    read: dict[str, set[str]] = {}
    original = SettingsReader.reject_unknown

    def record(self, *args):
        read.setdefault(".".join(self.where.path), set()).update(self.used)
        return original(self, *args)

    monkeypatch.setattr(SettingsReader, "reject_unknown", record)
    parse_config(team_table, "dev")
    assert {table: set(keys) for table, keys in SETTINGS.items()} == read
    listing = subprocess.run([sys.executable, "-m", "pipelines.config"], capture_output=True, text=True, check=True,
                             cwd=REPO_ROOT).stdout
    for table, keys in SETTINGS.items():
        assert "[" + ".".join(filter(None, ("tool.ml-factory", table))) + "]" in listing
        assert all(f"  {key} " in listing for key in keys)
    assert all(f"  {name} " in listing for name in known_names())  # the hyperparameters, with their ranges


def test_data_is_a_local_path_and_input_data_uri_an_s3_one(team_table):
    team_table["data"] = {"path": "data/train.csv"}
    assert parse_config(team_table, "dev").data.path == "data/train.csv"
    team_table["data"] = {"path": "s3://bucket/train.csv"}
    assert "[tool.ml-factory.data] path: 's3://bucket/train.csv' is the local run's data" in error_of(team_table)


@pytest.mark.parametrize("target, valid", [("Churn Flag", True), ("churn flag 2", True), ("_y", True),
                                           (" churn", False), ("churn ", False), ("churn\tflag", False),
                                           ("churn,flag", False)])
def test_a_target_with_spaces_is_accepted_alike_by_pyproject_and_the_template(team_table, target, valid):
    team_table["target_column"] = target
    template_inputs = {**valid_template_inputs(), "target_column": target}
    assert (check("target_column", target) is None) == valid
    assert (not any(p.startswith("target_column") for p in check_template_inputs(template_inputs))) == valid
    if valid:
        assert parse_config(team_table, "dev").target_column == target
    else:
        assert "[tool.ml-factory] target_column: " in error_of(team_table)


def valid_template_inputs() -> dict:
    return {"project_name": "Churn Model", "project": "churn-model", "team": "ml", "owner_email": "a@b.co",
            "cost_center": "CC-1", "aws_region": "eu-west-1", "training_instance_type": "ml.m5.xlarge",
            "dev_account_id": "111111111111", "staging_account_id": "222222222222",
            "prod_account_id": "333333333333", "problem_type": "binary_classification", "use_spot": "yes",
            "source_provider": "codecommit", "primary_metric": "auc", "metric_threshold": 0.7}


def test_the_project_file_is_found_from_any_folder_inside_it(tmp_path, repo_root, monkeypatch):
    project = tmp_path / "team"
    (project / "notebooks" / "deep").mkdir(parents=True)
    (project / "pyproject.toml").write_text((repo_root / "pyproject.toml").read_text())
    (project / "notebooks" / "pyproject.toml").write_text('[project]\nname = "not-the-team-project"\n')
    assert find_pyproject(project / "notebooks" / "deep") == project / "pyproject.toml"
    monkeypatch.chdir(project / "notebooks" / "deep")
    assert load_config("dev").project == load_config("dev", repo_root / "pyproject.toml").project
    with pytest.raises(ConfigError, match=r"no pyproject.toml with a \[tool.ml-factory\] table in .* or any folder "
                                          r"above it: run inside an ML Factory project, or pass --config PATH"):
        find_pyproject(tmp_path)


@pytest.mark.parametrize("mutate, message, fix", [
    (lambda t: (t.setdefault("processing", {}).update(instance_count=8),
                t.setdefault("data", {}).update(baseline_max_rows=5)),
     "[tool.ml-factory.processing] instance_count: 8 data-quality instances need at least as many baseline rows",
     "lower instance_count or raise baseline_max_rows"),
    (lambda t: t["training"].update(instance_count=3, hyperparameters={"tree_method": "exact"}),
     "[tool.ml-factory.training] hyperparameters.tree_method: 'exact' cannot train on 3 instances",
     'set tree_method = "hist" or instance_count = 1'),
])
def test_scale_out_settings_that_cannot_work_are_refused_naming_the_fix(team_table, mutate, message, fix):
    mutate(team_table)
    error = error_of(team_table)
    assert message in error
    assert fix in error.split(message, 1)[1]


def test_several_training_and_data_quality_instances_are_accepted(team_table):
    team_table["training"].update(instance_count=4, hyperparameters={"tree_method": "hist"})
    team_table.setdefault("processing", {}).update(instance_count=2)
    config = parse_config(team_table, "dev")
    assert (config.training.instance_count, config.processing.instance_count) == (4, 2)


@pytest.mark.parametrize(("monitoring", "message"), [
    ({"mode": "model-monitor"}, "[tool.ml-factory.monitoring] mode: 'model-monitor' is not one of portable, native"),
    ({"schedule": "every hour"}, "schedule: 'every hour' is not hourly, daily or an AWS cron expression"),
    ({"feature_thresholds": {"age": 1.5}}, "feature_thresholds.age: must be a distance between 0 (exclusive) and 1"),
    ({"drift_threshold": 0}, "drift_threshold: must be a distance between 0 (exclusive) and 1, got 0"),
    ({"cool_down_hours": -1}, "cool_down_hours: must be at least 0, got -1"),
    ({"instance_count": 0}, "[tool.ml-factory.monitoring] instance_count: must be a positive integer, got 0"),
    ({"instance_count": 101}, "instance_count: 101 drift-check instances exceed the 100 a SageMaker processing job "
                              "can run on; set instance_count to at most 100"),
])
def test_monitoring_settings_are_checked_naming_the_key(team_table, monitoring, message):
    team_table.setdefault("monitoring", {}).update(monitoring)
    with pytest.raises(ConfigError) as excinfo:
        parse_config(team_table, "dev")
    assert message in str(excinfo.value)


def test_monitoring_settings_resolve_per_stage_with_model_monitors_schedules(team_table):
    team_table["monitoring"].update(feature_thresholds={"balance": 0.2})
    team_table["stages"]["prod"]["monitoring"] = {"mode": "native", "schedule": "cron(0 */6 ? * * *)"}
    dev, prod = parse_config(team_table, "dev").monitoring, parse_config(team_table, "prod").monitoring
    assert (dev.mode, dev.schedule_expression) == ("portable", "cron(0 * ? * * *)")
    assert (prod.mode, prod.schedule_expression) == ("native", "cron(0 */6 ? * * *)")
    assert prod.thresholds() == {"default": None, "features": {"balance": 0.2}}
