"""Team settings: `[tool.ml-factory]` in pyproject.toml, read once into one typed object.

Per-stage overrides live under `[tool.ml-factory.stages.<stage>]` and are deep-merged over
the base table. Nothing else in `pipelines/` reads pyproject.toml or the environment for
settings: callers pass the `Config` down.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipelines.errors import UserError
from pipelines.rules import METRICS, PROBLEM_TYPES, SOURCE_PROVIDERS, check, check_metric
from pipelines.serving.settings import DeploySettings, default_deploy, deploy_table_settings
from pipelines.wiring import STAGES


class ConfigError(UserError):
    """The team configuration is invalid; the message names the setting and the fix."""


@dataclass(frozen=True)
class TrainingConfig:
    instance_type: str = "ml.m5.xlarge"
    instance_count: int = 1
    use_spot: bool = True
    max_runtime_seconds: int = 3600
    max_wait_seconds: int = 7200
    num_round: int = 100
    checkpoint_every_rounds: int = 10
    framework_version: str = "3.2-0"
    hyperparameters: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ProcessingConfig:
    instance_type: str = "ml.m5.large"
    instance_count: int = 1
    volume_size_gb: int = 30


@dataclass(frozen=True)
class MetricConfig:
    name: str
    threshold: float  # the floor (ceiling for error metrics) a new model must clear
    champion_margin: float = 0.0  # how much a new model must beat the approved champion by, in metric units

    @property
    def higher_is_better(self) -> bool:
        return METRICS[self.name][1]


@dataclass(frozen=True)
class Config:
    """Everything the pipeline needs to know about a team project at one stage."""

    project: str
    project_name: str
    team: str
    owner_email: str
    cost_center: str
    aws_region: str
    stage: str
    account_id: str
    problem_type: str
    target_column: str
    source_provider: str
    metric: MetricConfig
    training: TrainingConfig
    processing: ProcessingConfig
    input_data_uri: str  # default InputDataUri; "" means s3://<data-bucket>/input/
    seed: int = 42
    deploy: DeploySettings = field(default_factory=lambda: default_deploy("dev"))  # [tool.ml-factory.deploy]

    @property
    def pipeline_name(self) -> str:
        return f"{self.project}-{self.stage}"

    @property
    def tags(self) -> dict[str, str]:
        """The cost tags every AWS resource we create carries."""
        return {
            "Project": self.project,
            "Team": self.team,
            "Owner": self.owner_email,
            "CostCenter": self.cost_center,
            "Environment": self.stage,
            "ManagedBy": "ml-factory",
        }


def _deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


class _Reader:
    """Typed getters over one TOML table that name the exact setting on error."""

    def __init__(self, table: dict[str, Any], where: str):
        self.table = table
        self.where = where
        self.used: set[str] = set()

    def fail(self, key: str, problem: str) -> ConfigError:
        return ConfigError(f"{self.where} {key}: {problem}")

    def get(self, key: str, kind: type | tuple[type, ...], default: Any = ...) -> Any:
        self.used.add(key)
        if key not in self.table:
            if default is ...:
                raise self.fail(key, "is required but missing")
            return default
        value = self.table[key]
        kinds = kind if isinstance(kind, tuple) else (kind,)
        if isinstance(value, bool) and bool not in kinds:
            raise self.fail(key, f"expected {_kind_name(kinds)}, got {value!r}")
        if not isinstance(value, kinds):
            raise self.fail(key, f"expected {_kind_name(kinds)}, got {value!r}")
        return value

    def matching(self, key: str, rule: str, default: Any = ...) -> str:
        """A string that fits the shared validation rule `rule` (see pipelines/rules.py)."""
        value = self.get(key, str, default)
        problem = check(key, value, rule)
        if problem:
            raise self.fail(key, problem.split(": ", 1)[1])
        return value

    def choice(self, key: str, choices: tuple[str, ...], default: Any = ...) -> str:
        value = self.get(key, str, default)
        if value not in choices:
            raise self.fail(key, f"{value!r} is not one of {', '.join(choices)}")
        return value

    def positive_int(self, key: str, default: int) -> int:
        value = self.get(key, int, default)
        if value <= 0:
            raise self.fail(key, f"must be a positive integer, got {value}")
        return value

    def reject_unknown(self, allowed_extra: tuple[str, ...] = ()) -> None:
        unknown = sorted(set(self.table) - self.used - set(allowed_extra))
        if unknown:
            raise ConfigError(
                f"{self.where}: unknown setting(s) {', '.join(unknown)}; check the spelling "
                "against README.md's configuration table"
            )


def _kind_name(kinds: tuple[type, ...]) -> str:
    names = {int: "an integer", float: "a number", str: "a string", bool: "true or false",
             dict: "a table", list: "a list"}
    return " or ".join(names.get(k, k.__name__) for k in kinds)


def _parse_training(table: dict[str, Any], where: str) -> TrainingConfig:
    r = _Reader(table, where)
    defaults = TrainingConfig()
    instance_type = r.matching("instance_type", "instance_type", defaults.instance_type)
    max_runtime = r.positive_int("max_runtime_seconds", defaults.max_runtime_seconds)
    use_spot = r.get("use_spot", bool, defaults.use_spot)
    max_wait = r.positive_int("max_wait_seconds", max(defaults.max_wait_seconds, max_runtime * 2))
    if use_spot and max_wait <= max_runtime:
        raise r.fail("max_wait_seconds", f"must exceed max_runtime_seconds ({max_runtime}) when "
                     f"use_spot is true (SageMaker requires MaxWaitTimeInSeconds > MaxRuntimeInSeconds), "
                     f"got {max_wait}")
    num_round = r.positive_int("num_round", defaults.num_round)
    every = r.positive_int("checkpoint_every_rounds", defaults.checkpoint_every_rounds)
    hyperparameters = r.get("hyperparameters", dict, {})
    for name, value in hyperparameters.items():
        if not isinstance(value, (int, float, str)) or isinstance(value, bool):
            raise ConfigError(f"{where}.hyperparameters {name}: expected a number or string, got {value!r}")
    training = TrainingConfig(
        instance_type=instance_type,
        instance_count=r.positive_int("instance_count", defaults.instance_count),
        use_spot=use_spot,
        max_runtime_seconds=max_runtime,
        max_wait_seconds=max_wait,
        num_round=num_round,
        checkpoint_every_rounds=every,
        framework_version=r.get("framework_version", str, defaults.framework_version),
        hyperparameters=dict(sorted(hyperparameters.items())),
    )
    r.reject_unknown()
    return training


def _parse_processing(table: dict[str, Any], where: str) -> ProcessingConfig:
    r = _Reader(table, where)
    defaults = ProcessingConfig()
    processing = ProcessingConfig(
        instance_type=r.matching("instance_type", "instance_type", defaults.instance_type),
        instance_count=r.positive_int("instance_count", defaults.instance_count),
        volume_size_gb=r.positive_int("volume_size_gb", defaults.volume_size_gb),
    )
    r.reject_unknown()
    return processing


def parse_config(table: dict[str, Any], stage: str, source: str = "pyproject.toml") -> Config:
    """Validate the `[tool.ml-factory]` table and resolve it for one stage."""
    if stage not in STAGES:
        raise ConfigError(f"stage {stage!r} is not one of {', '.join(STAGES)}")
    stages = table.get("stages", {})
    if not isinstance(stages, dict):
        raise ConfigError(f"{source} [tool.ml-factory.stages]: expected a table per stage")
    unknown_stages = sorted(set(stages) - set(STAGES))
    if unknown_stages:
        raise ConfigError(f"{source} [tool.ml-factory.stages]: unknown stage(s) {', '.join(unknown_stages)}; "
                          f"use {', '.join(STAGES)}")
    stage_table = stages.get(stage, {})
    merged = _deep_merge({k: v for k, v in table.items() if k != "stages"}, stage_table)
    where = f"{source} [tool.ml-factory]" + (f" (stage {stage})" if stage_table else "")
    r = _Reader(merged, where)

    project = r.matching("project", "project")
    problem_type = r.choice("problem_type", PROBLEM_TYPES)
    metric_table = r.get("metric", dict)
    mr = _Reader(metric_table, f"{source} [tool.ml-factory.metric]")
    metric_name = mr.choice("name", tuple(METRICS))
    threshold = float(mr.get("threshold", (int, float)))
    problems = check_metric(problem_type, metric_name, threshold)
    if problems:
        raise ConfigError(f"{mr.where} " + "; ".join(problems))
    margin = float(mr.get("champion_margin", (int, float), 0.0))
    if margin != margin or abs(margin) == float("inf"):
        raise mr.fail("champion_margin", f"must be a finite number (how much a new model must beat the approved "
                                         f"one by, in {metric_name} units; negative tolerates a small loss), got "
                                         f"{margin}")
    mr.reject_unknown()

    config = Config(
        project=project,
        project_name=r.get("project_name", str, project),
        team=r.matching("team", "team"),
        owner_email=r.matching("owner_email", "owner_email"),
        cost_center=r.matching("cost_center", "cost_center"),
        aws_region=r.matching("aws_region", "aws_region"),
        stage=stage,
        account_id=r.matching("account_id", "account_id"),
        problem_type=problem_type,
        target_column=r.matching("target_column", "target_column"),
        source_provider=r.choice("source_provider", SOURCE_PROVIDERS, "github"),
        metric=MetricConfig(metric_name, threshold, margin),
        training=_parse_training(r.get("training", dict, {}), f"{source} [tool.ml-factory.training]"),
        processing=_parse_processing(r.get("processing", dict, {}), f"{source} [tool.ml-factory.processing]"),
        input_data_uri=r.get("input_data_uri", str, ""),
        seed=r.get("seed", int, 42),
        deploy=deploy_table_settings(r.get("deploy", dict, {}), f"{source} [tool.ml-factory.deploy]", stage),
    )
    if config.input_data_uri and not config.input_data_uri.startswith("s3://"):
        raise r.fail("input_data_uri", f"{config.input_data_uri!r} must be an s3:// URI")
    r.reject_unknown()
    return config


def load_config(stage: str = "dev", pyproject: Path | str = "pyproject.toml") -> Config:
    """Read `[tool.ml-factory]` from a pyproject.toml and resolve it for `stage`."""
    path = Path(pyproject)
    try:
        data = tomllib.loads(path.read_text())
    except FileNotFoundError:
        raise ConfigError(f"{path} not found: run from the project root or pass --config PATH") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}") from None
    table = data.get("tool", {}).get("ml-factory")
    if not isinstance(table, dict):
        raise ConfigError(f"{path} has no [tool.ml-factory] table: this is not an ML Factory project")
    return parse_config(table, stage, source=str(path.name))
