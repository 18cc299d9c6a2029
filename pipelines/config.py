"""Team settings: `[tool.ml-factory]` in pyproject.toml, read once into one typed object.

Per-stage overrides live under `[tool.ml-factory.stages.<stage>]` and are deep-merged over
the base table. Nothing else in `pipelines/` reads pyproject.toml or the environment for
settings: callers pass the `Config` down.
"""

from __future__ import annotations

import difflib
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipelines.errors import UserError
from pipelines.hyperparameters import hyperparameter_problem, known_names, parameter
from pipelines.monitoring.settings import MonitoringSettings, monitoring_table_settings
from pipelines.rules import HIGHER_IS_BETTER, METRIC_NAMES, PROBLEM_TYPES, SOURCE_PROVIDERS, check, check_metric
from pipelines.serving.settings import DeploySettings, default_deploy, deploy_table_settings
from pipelines.tracking.settings import EXPERIMENT_NAME_CHARS, TrackingConfig
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
class DataConfig:
    """`[tool.ml-factory.data]`: how Preprocess reads the team's table."""

    path: str = ""  # the local run's default --data, relative to the pyproject.toml ("" = generated sample data)
    max_dropped_fraction: float = 0.1  # rows without a target beyond this share fail the run
    categorical_columns: tuple[str, ...] = ()  # features that are categories even when they look like numbers
    baseline_max_rows: int = 100_000  # training rows in the data-quality baseline (a seeded sample beyond)


@dataclass(frozen=True)
class MetricConfig:
    name: str
    threshold: float  # the floor (ceiling for error metrics) a new model must clear
    champion_margin: float = 0.0  # how much a new model must beat the approved champion by, in metric units

    @property
    def higher_is_better(self) -> bool:
        return HIGHER_IS_BETTER[self.name]


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
    data: DataConfig = field(default_factory=DataConfig)
    positive_class: str | None = None  # binary: the label that becomes class 1 (None: 1 of 0/1, yes of yes/no)
    decision_threshold: float = 0.5  # binary: probability at or above which a row is the positive class
    tracking: TrackingConfig = field(default_factory=TrackingConfig)  # where runs are logged (MLflow)
    deploy: DeploySettings = field(default_factory=lambda: default_deploy("dev"))  # [tool.ml-factory.deploy]
    monitoring: MonitoringSettings = field(default_factory=MonitoringSettings)  # [tool.ml-factory.monitoring]

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


# Every key of [tool.ml-factory], by table ("" is the top level), with its meaning and default: what
# `python -m pipelines.config` lists and where an unknown key's right table is found. tests/test_config.py
# holds it equal to the keys the parser reads.
SETTINGS: dict[str, dict[str, str]] = {
    "": {
        "project": "slug naming AWS resources and SSM paths (required)",
        "project_name": "human name (default: project)",
        "team": "cost tag Team (required)",
        "owner_email": "cost tag Owner (required)",
        "cost_center": "cost tag CostCenter (required)",
        "aws_region": "region of the stage (required)",
        "account_id": "12-digit AWS account id, usually per stage (required)",
        "problem_type": f"one of {', '.join(PROBLEM_TYPES)} (required)",
        "target_column": "label column of the data; letters, digits, spaces, _ . - (required)",
        "source_provider": f"one of {', '.join(SOURCE_PROVIDERS)} (default: github)",
        "input_data_uri": "the cloud run's default InputDataUri, s3://... (default: s3://<data-bucket>/<project>/input/)",
        "data": "table: the team's data and how Preprocess reads it",
        "tracking": "table: where runs are logged (MLflow)",
        "deploy": "table: how `python -m pipelines.deploy` serves an approved model (per stage)",
        "monitoring": "table: drift monitoring of the deployed endpoint (per stage)",
        "seed": "seed of the split and of xgboost (default: 42)",
        "positive_class": "binary only: the label that becomes class 1 (default: 1 of 0/1, yes of no/yes, ...)",
        "decision_threshold": "binary only: probability at or above which a row is the positive class "
                              "(default: 0.5)",
        "metric": "table: the registration gate",
        "training": "table: the training job and xgboost",
        "processing": "table: the processing jobs",
    },
    "metric": {
        "name": f"primary metric, one of {', '.join(METRIC_NAMES)} (required)",
        "threshold": "floor the metric must clear (a ceiling for error metrics) (required)",
        "champion_margin": "how much a new model must beat the approved champion by, in metric units (default: 0.0)",
    },
    "training": {
        "instance_type": "training instance (default: ml.m5.xlarge)",
        "instance_count": "training instances (default: 1)",
        "use_spot": "managed Spot training with checkpoint resume (default: true)",
        "max_runtime_seconds": "training time limit (default: 3600)",
        "max_wait_seconds": "Spot wait limit; must exceed max_runtime_seconds (default: 7200)",
        "num_round": "xgboost boosting rounds (default: 100)",
        "checkpoint_every_rounds": "rounds between Spot checkpoints (default: 10)",
        "framework_version": "SageMaker XGBoost image version (default: 3.2-0)",
        "hyperparameters": "xgboost parameters, checked by name and range (listed below), "
                           "e.g. { max_depth = 5, eta = 0.2 }",
    },
    "data": {
        "path": "the local run's data (--local without --data): a CSV or Parquet file or a folder of them, relative "
                "to pyproject.toml (default: generated sample data)",
        "max_dropped_fraction": "largest share of rows without a target Preprocess may drop (default: 0.1)",
        "categorical_columns": "features that are categories even when they look like numbers (default: [])",
        "baseline_max_rows": "training rows the data-quality baseline profiles, a seeded sample beyond "
                             "(default: 100000)",
    },
    "tracking": {
        "uri": "MLflow tracking URI; \"none\" turns tracking off (default: the embedded store in .ml-factory, or "
               "the stage's SageMaker managed server in the cloud)",
        "experiment": "MLflow experiment name (default: the project)",
    },
    "deploy": {
        "mode": "realtime, serverless or async (default: realtime)",
        "instance_type": "endpoint instance (default: ml.m5.large)",
        "instance_count": "initial instances, within autoscaling min..max (default: autoscaling min)",
        "capture_percentage": "share of requests captured for drift checks, 0-100 (default: 100; prod 20)",
        "traffic_shifting": "blue/green update: canary, linear or all_at_once (default: canary)",
        "wait_seconds": "blue/green bake time before the rest of the traffic moves (default: 300)",
        "autoscaling": "table: min, max, target_invocations (default: prod 2/10/200, staging 1/2/200, dev 1/1/200)",
        "serverless": "table: memory_mb, max_concurrency (mode = serverless)",
        "async": "table: output_prefix, sns_topic_arn (mode = async)",
        "smoke_test_rows": "held-out rows the smoke test sends (default: 50)",
        "smoke_test_p95_ms": "smoke test p95 latency budget in milliseconds (default: 500)",
    },
    "deploy.autoscaling": {
        "min": "fewest instances", "max": "most instances",
        "target_invocations": "invocations per instance per minute the scaling policy tracks",
    },
    "deploy.serverless": {"memory_mb": "serverless memory (default: 2048)",
                          "max_concurrency": "serverless max concurrency (default: 5)"},
    "deploy.async": {"output_prefix": "s3:// prefix for async results (default: the stage's artifact bucket)",
                     "sns_topic_arn": "SNS topic told when a result is ready (optional)"},
    "monitoring": {
        "on_deploy": "a cloud deploy also sets monitoring up for its stage in `mode`, so the baselines follow the "
                     "deployed package (default: false; else run `python -m pipelines.monitor publish|schedule`)",
        "mode": "portable (our drift job as the <project>-monitor-<stage> pipeline) or native (a Model Monitor "
                "DataQuality schedule) (default: portable)",
        "schedule": "hourly, daily or an AWS cron expression with six fields (default: hourly)",
        "drift_threshold": "L-infinity distance above which a feature drifts, 0-1 (default: the baseline's 0.1)",
        "feature_thresholds": "per-feature drift thresholds, e.g. { balance = 0.2 } (default: {})",
        "cool_down_hours": "least time between two retrainings started by drift (default: 24)",
        "model_quality": "the cloud monitoring pipeline also scores the window against ground truth under "
                         "s3://<artifact bucket>/<project>/ground-truth/<endpoint>/ (default: false; `monitor run "
                         "--local` always does)",
        "instance_count": "drift-check instances, 1-100, each reading its share of the window's capture, the "
                          "statistics merged before the checks (default: 1)",
    },
    "processing": {
        "instance_type": "processing instance (default: ml.m5.large)",
        "instance_count": "data-quality check instances, each profiling 1/N of the baseline; Preprocess and "
                          "Evaluate run on one (default: 1)",
        "volume_size_gb": "processing volume size (default: 30)",
    },
}


def _deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


@dataclass(frozen=True)
class SettingsTable:
    """Where a table's keys are written: the base table, or the stage's override of it."""

    source: str  # the file name, e.g. pyproject.toml
    path: tuple[str, ...] = ()  # sub-table under [tool.ml-factory], e.g. ("training",)
    stage: str = ""
    overrides: dict[str, Any] = field(default_factory=dict)  # the stage's override of this table

    def table(self, key: str = "") -> str:
        """The table `key` is written in, as the file names it: `[tool.ml-factory.stages.prod.training]`."""
        staged = ("stages", self.stage) if key and self._overridden(key) else ()
        return "[" + ".".join(("tool.ml-factory", *staged, *self.path)) + "]"

    def _overridden(self, key: str) -> bool:
        table: Any = self.overrides
        for part in key.split("."):
            if not isinstance(table, dict) or part not in table:
                return False
            table = table[part]
        return True

    def of(self, key: str) -> str:
        return f"{self.source} {self.table(key)} {key}"

    def sub(self, name: str) -> SettingsTable:
        overrides = self.overrides.get(name)
        return SettingsTable(self.source, (*self.path, name), self.stage,
                             overrides if isinstance(overrides, dict) else {})


class SettingsReader:
    """Typed getters over one TOML table that name the exact setting on error."""

    def __init__(self, table: dict[str, Any], where: SettingsTable):
        self.table = table
        self.where = where
        self.used: set[str] = set()

    def fail(self, key: str, problem: str) -> ConfigError:
        return ConfigError(f"{self.where.of(key)}: {problem}")

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
            raise self.fail(unknown[0], unknown_key_hint(unknown[0], self.where.path, self.used))


def unknown_key_hint(key: str, path: tuple[str, ...], valid: set[str]) -> str:
    """Why `key` is refused in the table at `path`: the table it belongs in, or the nearest valid key."""
    homes = [table for table, keys in SETTINGS.items() if key in keys and table != ".".join(path)]
    if homes:
        return f"unknown setting here; it belongs in [{'.'.join(filter(None, ('tool.ml-factory', homes[0])))}]"
    close = difflib.get_close_matches(key, sorted(valid), n=1, cutoff=0.6)
    hint = f" (did you mean {close[0]}?)" if close else ""
    return f"unknown setting{hint}; `python -m pipelines.config` lists every setting"


def _kind_name(kinds: tuple[type, ...]) -> str:
    names = {int: "an integer", float: "a number", str: "a string", bool: "true or false",
             dict: "a table", list: "a list"}
    return " or ".join(names.get(k, k.__name__) for k in kinds)


def _parse_hyperparameters(r: SettingsReader) -> dict[str, Any]:
    """`hyperparameters` checked against xgboost's parameters and ranges (pipelines/hyperparameters.py)."""
    hyperparameters = r.get("hyperparameters", dict, {})
    for name, value in sorted(hyperparameters.items()):
        problem = hyperparameter_problem(name, value)
        if problem:
            raise r.fail(f"hyperparameters.{name}", problem)
    return dict(sorted(hyperparameters.items()))


def _parse_training(table: dict[str, Any], where: SettingsTable) -> TrainingConfig:
    r = SettingsReader(table, where)
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
    training = TrainingConfig(
        instance_type=instance_type,
        instance_count=r.positive_int("instance_count", defaults.instance_count),
        use_spot=use_spot,
        max_runtime_seconds=max_runtime,
        max_wait_seconds=max_wait,
        num_round=num_round,
        checkpoint_every_rounds=every,
        framework_version=r.get("framework_version", str, defaults.framework_version),
        hyperparameters=_parse_hyperparameters(r),
    )
    _check_distributed(r, training)
    r.reject_unknown()
    return training


def _check_distributed(r: SettingsReader, training: TrainingConfig) -> None:
    """Multi-instance training is XGBoost's collective over ShardedByS3Key shards: refuse what it cannot run."""
    if training.instance_count > 1 and training.hyperparameters.get("tree_method") == "exact":
        raise r.fail("hyperparameters.tree_method", f"'exact' cannot train on {training.instance_count} instances "
                     "(XGBoost's distributed training supports 'hist' and 'approx'); set tree_method = \"hist\" "
                     "or instance_count = 1")


def _parse_processing(table: dict[str, Any], where: SettingsTable) -> ProcessingConfig:
    r = SettingsReader(table, where)
    defaults = ProcessingConfig()
    processing = ProcessingConfig(
        instance_type=r.matching("instance_type", "instance_type", defaults.instance_type),
        instance_count=r.positive_int("instance_count", defaults.instance_count),
        volume_size_gb=r.positive_int("volume_size_gb", defaults.volume_size_gb),
    )
    r.reject_unknown()
    return processing


def _parse_tracking(table: dict[str, Any], where: SettingsTable) -> TrackingConfig:
    r = SettingsReader(table, where)
    tracking = TrackingConfig(uri=r.get("uri", str, "").strip(), experiment=r.get("experiment", str, "").strip())
    if len(tracking.experiment) > EXPERIMENT_NAME_CHARS:
        raise r.fail("experiment", f"at most {EXPERIMENT_NAME_CHARS} characters, got {len(tracking.experiment)}")
    r.reject_unknown()
    return tracking


def _parse_labels(r: SettingsReader, problem_type: str) -> dict[str, Any]:
    """positive_class and decision_threshold, which only binary classification has."""
    positive = r.get("positive_class", (str, int), None)
    threshold = r.get("decision_threshold", (int, float), 0.5)
    if problem_type != "binary_classification":
        for key in ("positive_class", "decision_threshold"):
            if key in r.table:
                raise r.fail(key, f"applies to binary_classification only, and problem_type is {problem_type}; "
                                  "remove it")
    if positive is not None and not str(positive).strip():
        raise r.fail("positive_class", "is empty; set it to the label the model should detect (e.g. \"fraud\")")
    if not 0 < threshold < 1:
        raise r.fail("decision_threshold", f"must lie strictly between 0 and 1 (the probability at or above which a "
                                           f"row counts as the positive class), got {threshold}")
    return {"positive_class": None if positive is None else str(positive), "decision_threshold": float(threshold)}


def _parse_data(table: dict[str, Any], where: SettingsTable) -> DataConfig:
    r = SettingsReader(table, where)
    fraction = float(r.get("max_dropped_fraction", (int, float), DataConfig.max_dropped_fraction))
    if not 0 <= fraction < 1:
        raise r.fail("max_dropped_fraction", f"must be at least 0 and below 1 (a share of the rows), got {fraction}")
    columns = r.get("categorical_columns", list, [])
    if not all(isinstance(name, str) and name for name in columns):
        raise r.fail("categorical_columns", f"expected a list of column names, got {columns!r}")
    path = r.get("path", str, "")
    if path.startswith("s3://"):
        raise r.fail("path", f"{path!r} is the local run's data (a path relative to pyproject.toml); an S3 "
                             "location goes in input_data_uri")
    baseline_rows = r.positive_int("baseline_max_rows", DataConfig.baseline_max_rows)
    r.reject_unknown()
    return DataConfig(path=path, max_dropped_fraction=fraction, categorical_columns=tuple(columns),
                      baseline_max_rows=baseline_rows)


# check_metric (shared with the template inputs) names the cookiecutter inputs; the file names them so.
METRIC_KEYS_IN_FILE = {"primary_metric": "name", "metric_threshold": "threshold"}


def _metric_problem(mr: SettingsReader, problem: str) -> ConfigError:
    field_name, _, text = problem.partition(": ")
    return mr.fail(METRIC_KEYS_IN_FILE.get(field_name, field_name), text)


def _stage_table(table: dict[str, Any], stage: str, source: str) -> dict[str, Any]:
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
    if not isinstance(stage_table, dict):
        raise ConfigError(f"{source} [tool.ml-factory.stages] {stage}: expected a table")
    return stage_table


def parse_config(table: dict[str, Any], stage: str, source: str = "pyproject.toml") -> Config:
    """Validate the `[tool.ml-factory]` table and resolve it for one stage."""
    stage_table = _stage_table(table, stage, source)
    merged = _deep_merge({k: v for k, v in table.items() if k != "stages"}, stage_table)
    where = SettingsTable(source, (), stage, stage_table)
    r = SettingsReader(merged, where)

    project = r.matching("project", "project")
    problem_type = r.choice("problem_type", PROBLEM_TYPES)
    metric_table = r.get("metric", dict)
    mr = SettingsReader(metric_table, where.sub("metric"))
    metric_name = mr.choice("name", METRIC_NAMES)
    threshold = float(mr.get("threshold", (int, float)))
    problems = check_metric(problem_type, metric_name, threshold)
    if problems:
        raise _metric_problem(mr, problems[0])
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
        training=_parse_training(r.get("training", dict, {}), where.sub("training")),
        processing=_parse_processing(r.get("processing", dict, {}), where.sub("processing")),
        input_data_uri=r.get("input_data_uri", str, ""),
        seed=r.get("seed", int, 42),
        data=_parse_data(r.get("data", dict, {}), where.sub("data")),
        **_parse_labels(r, problem_type),
        tracking=_parse_tracking(r.get("tracking", dict, {}), where.sub("tracking")),
        deploy=deploy_table_settings(r.get("deploy", dict, {}), where.sub("deploy"), stage),
        monitoring=monitoring_table_settings(r.get("monitoring", dict, {}), where.sub("monitoring")),
    )
    if config.input_data_uri and not config.input_data_uri.startswith("s3://"):
        raise r.fail("input_data_uri", f"{config.input_data_uri!r} must be an s3:// URI")
    if config.processing.instance_count > config.data.baseline_max_rows:
        raise SettingsReader({}, where.sub("processing")).fail(
            "instance_count", f"{config.processing.instance_count} data-quality instances need at least as many "
            f"baseline rows (one CSV part each), but [tool.ml-factory.data] baseline_max_rows is "
            f"{config.data.baseline_max_rows}; lower instance_count or raise baseline_max_rows")
    r.reject_unknown()
    return config


PYPROJECT = "pyproject.toml"


def _holds_team_table(path: Path) -> bool:
    text = path.read_text()
    try:
        return isinstance(tomllib.loads(text).get("tool", {}).get("ml-factory"), dict)
    except tomllib.TOMLDecodeError:
        return "[tool.ml-factory" in text  # load_config reports the syntax error


def find_pyproject(start: Path | None = None) -> Path:
    """The nearest pyproject.toml holding `[tool.ml-factory]`, from `start` (default: here) upward, so the
    commands work from any folder inside the project."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        candidate = folder / PYPROJECT
        if candidate.is_file() and _holds_team_table(candidate):
            return candidate
    raise ConfigError(f"no {PYPROJECT} with a [tool.ml-factory] table in {here} or any folder above it: run "
                      "inside an ML Factory project, or pass --config PATH")


def load_config(stage: str = "dev", pyproject: Path | str | None = None) -> Config:
    """Read `[tool.ml-factory]` from a pyproject.toml (default: the nearest one upward) and resolve it for
    `stage`."""
    path = Path(pyproject) if pyproject is not None else find_pyproject()
    try:
        data = tomllib.loads(path.read_text())
    except FileNotFoundError:
        raise ConfigError(f"{path} not found: pass --config PATH to the project's pyproject.toml") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}") from None
    table = data.get("tool", {}).get("ml-factory")
    if not isinstance(table, dict):
        raise ConfigError(f"{path} has no [tool.ml-factory] table: this is not an ML Factory project")
    return parse_config(table, stage, source=str(path.name))


def format_settings() -> str:
    """Every setting, by the table it is written in: what `python -m pipelines.config` prints."""
    lines = []
    for table, keys in SETTINGS.items():
        lines.append("[" + ".".join(filter(None, ("tool.ml-factory", table))) + "]")
        width = max(len(key) for key in keys)
        lines += [f"  {key:<{width}}  {meaning}" for key, meaning in keys.items()]
        lines.append("")
    lines.append("[tool.ml-factory.training] hyperparameters: name and allowed values")
    width = max(len(name) for name in known_names())
    lines += [f"  {name:<{width}}  {parameter(name).describe()}" for name in known_names()]
    lines.append("")
    lines.append("[tool.ml-factory.stages.<dev|staging|prod>]\n  any key above, overriding it for that stage "
                 "(e.g. account_id, or training = { instance_type = \"ml.m5.2xlarge\" })")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m pipelines.config",
                                     description="List the settings of [tool.ml-factory], or check a project's.")
    parser.add_argument("--check", action="store_true", help="validate the project's settings for every stage")
    parser.add_argument("--config", type=Path, help="team pyproject.toml (default: the nearest one upward)")
    args = parser.parse_args(argv)
    if not args.check:
        print(format_settings())
        return 0
    path = args.config or find_pyproject()
    for stage in STAGES:
        load_config(stage, path)
    print(f"{path}: [tool.ml-factory] is valid for {', '.join(STAGES)}")
    return 0


if __name__ == "__main__":
    import sys

    from pipelines.errors import run_cli

    sys.exit(run_cli(main))
