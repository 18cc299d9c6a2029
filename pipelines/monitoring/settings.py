"""Monitoring settings: `[tool.ml-factory.monitoring]`, with per-stage overrides under
`[tool.ml-factory.stages.<stage>.monitoring]` (merged by pipelines/config.py like every other table).

  on_deploy           a cloud deploy also sets monitoring up for its stage in `mode` (publishes the monitoring
                      pipeline, or the native schedule), so the baselines follow the package deployed
  mode                "portable" (our drift job as the <project>-monitor-<stage> pipeline, started by the
                      Terraform monitoring module's EventBridge Scheduler) or "native" (a Model Monitor
                      DataQuality schedule, for accounts that still have Model Monitor)
  schedule            "hourly", "daily" or an AWS cron expression (six fields): the native schedule's
                      ScheduleExpression; the Terraform module takes the portable pipeline's from its variable
  drift_threshold     the L-infinity distance above which a feature drifts (default: the baseline's 0.1)
  feature_thresholds  per feature, e.g. { balance = 0.2 }
  cool_down_hours     least time between two retrainings started by drift (default 24)
  model_quality       the cloud monitoring pipeline also scores each window's predictions against the team's
                      ground truth (labels under the stage's ground-truth prefix, names.PARAM_GROUND_TRUTH)
                      in a ModelQuality step; `monitor run --local` always does
  instance_count      hosts of the drift step (portable) or of Model Monitor's job (native), default 1: each
                      reads its share of the window's capture files (by key, as ShardedByS3Key deals them) and
                      the statistics are merged over XGBoost's collective before the checks
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pipelines.config import SettingsReader, SettingsTable

MODES = ("portable", "native")
SCHEDULES = {"hourly": "cron(0 * ? * * *)", "daily": "cron(0 0 ? * * *)"}  # Model Monitor's hourly and daily
CRON = re.compile(r"^cron\(\S+( \S+){5}\)$")
MAX_INSTANCES = 100  # a processing job's (and a monitoring job's) InstanceCount, per the SageMaker API


@dataclass(frozen=True)
class MonitoringSettings:
    on_deploy: bool = False
    mode: str = "portable"
    schedule: str = "hourly"
    drift_threshold: float | None = None  # None: the baseline constraints' comparison_threshold
    feature_thresholds: dict[str, float] = field(default_factory=dict)
    cool_down_hours: float = 24.0
    instance_count: int = 1
    model_quality: bool = False

    @property
    def schedule_expression(self) -> str:
        return SCHEDULES.get(self.schedule, self.schedule)

    def thresholds(self) -> dict[str, Any]:
        """The step's --drift-thresholds: a default (when set) and the per-feature ones."""
        return {"default": self.drift_threshold, "features": dict(sorted(self.feature_thresholds.items()))}


def _threshold(r: SettingsReader, key: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= 1:
        raise r.fail(key, f"must be a distance between 0 (exclusive) and 1, got {value!r}")
    return float(value)


def _instance_count(r: SettingsReader) -> int:
    count = r.positive_int("instance_count", MonitoringSettings.instance_count)
    if count > MAX_INSTANCES:
        raise r.fail("instance_count", f"{count} drift-check instances exceed the {MAX_INSTANCES} a SageMaker "
                                       f"processing job can run on; set instance_count to at most {MAX_INSTANCES} "
                                       "(one instance reads millions of captured rows a minute)")
    return count


def parse_monitoring(r: SettingsReader) -> MonitoringSettings:
    """Validate one stage's merged monitoring table (read through config.py's `SettingsReader`)."""
    schedule = r.get("schedule", str, MonitoringSettings.schedule)
    if schedule not in SCHEDULES and not CRON.match(schedule):
        raise r.fail("schedule", f"{schedule!r} is not hourly, daily or an AWS cron expression with six fields, "
                                 "e.g. \"cron(0 */6 ? * * *)\"")
    default = r.get("drift_threshold", (int, float), None)
    features = r.get("feature_thresholds", dict, {})
    cool_down = r.get("cool_down_hours", (int, float), MonitoringSettings.cool_down_hours)
    if cool_down < 0:
        raise r.fail("cool_down_hours", f"must be at least 0, got {cool_down}")
    settings = MonitoringSettings(
        on_deploy=r.get("on_deploy", bool, False), mode=r.choice("mode", MODES, MonitoringSettings.mode),
        schedule=schedule, drift_threshold=None if default is None else _threshold(r, "drift_threshold", default),
        feature_thresholds={str(name): _threshold(r, f"feature_thresholds.{name}", value)
                            for name, value in sorted(features.items())},
        cool_down_hours=float(cool_down), instance_count=_instance_count(r),
        model_quality=r.get("model_quality", bool, False))
    r.reject_unknown()
    return settings


def monitoring_table_settings(table: dict[str, Any], where: SettingsTable) -> MonitoringSettings:
    """`parse_monitoring` over the raw merged table of one stage (called by pipelines/config.py)."""
    from pipelines.config import SettingsReader

    return parse_monitoring(SettingsReader(table, where))
