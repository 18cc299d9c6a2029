"""Deploy settings: `[tool.ml-factory.deploy]`, with per-stage overrides under
`[tool.ml-factory.stages.<stage>.deploy]` (merged by pipelines/config.py like every other table).

Defaults differ per stage where the platform has a standard: prod autoscales between 2 and 10
instances at 200 invocations per instance per minute; staging between 1 and 2; dev is one instance.
Capture samples every request in dev and staging and a fifth of them in prod.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pipelines.config import SettingsReader, SettingsTable

MODES = ("realtime", "serverless", "async")
TRAFFIC_SHIFTING = ("canary", "linear", "all_at_once")
SERVERLESS_MEMORY_MB = (1024, 2048, 3072, 4096, 5120, 6144)  # what ServerlessConfig.MemorySizeInMB takes
MAX_SERVERLESS_CONCURRENCY = 200
SNS_TOPIC = re.compile(r"^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}$")


@dataclass(frozen=True)
class AutoscalingSettings:
    """Target tracking on SageMakerVariantInvocationsPerInstance (invocations per instance per minute)."""

    min_instances: int = 1
    max_instances: int = 1
    target_invocations: int = 200


@dataclass(frozen=True)
class ServerlessSettings:
    memory_mb: int = 2048
    max_concurrency: int = 5


@dataclass(frozen=True)
class AsyncSettings:
    output_prefix: str = ""  # s3:// URI; "" = s3://<artifact-bucket>/<project>/async-output/<stage>/
    sns_topic_arn: str = ""  # success and error notifications; "" = none


@dataclass(frozen=True)
class DeploySettings:
    """How one stage serves: capacity, capture, traffic shifting and the smoke test's budget."""

    mode: str = "realtime"
    instance_type: str = "ml.m5.large"
    instance_count: int = 1
    capture_percentage: int = 100
    traffic_shifting: str = "canary"  # blue/green: 10% canary, linear 20% steps, or all at once
    wait_seconds: int = 300  # baking time per traffic step, watched by the rollback alarms
    autoscaling: AutoscalingSettings = field(default_factory=AutoscalingSettings)
    serverless: ServerlessSettings = field(default_factory=ServerlessSettings)
    async_inference: AsyncSettings = field(default_factory=AsyncSettings)
    smoke_test_rows: int = 50
    smoke_test_p95_ms: float = 500.0


STAGE_AUTOSCALING = {"dev": AutoscalingSettings(1, 1, 200), "staging": AutoscalingSettings(1, 2, 200),
                     "prod": AutoscalingSettings(2, 10, 200)}
STAGE_CAPTURE = {"dev": 100, "staging": 100, "prod": 20}


def default_deploy(stage: str) -> DeploySettings:
    autoscaling = STAGE_AUTOSCALING[stage]
    return DeploySettings(instance_count=autoscaling.min_instances, capture_percentage=STAGE_CAPTURE[stage],
                          autoscaling=autoscaling)


def _in_range(r: SettingsReader, key: str, default: int, low: int, high: int) -> int:
    value = r.get(key, int, default)
    if not low <= value <= high:
        raise r.fail(key, f"must be between {low} and {high}, got {value}")
    return value


def _autoscaling(r: SettingsReader, default: AutoscalingSettings) -> AutoscalingSettings:
    table = r.get("autoscaling", dict, {})
    a = type(r)(table, r.where.sub("autoscaling"))
    low = _in_range(a, "min", default.min_instances, 1, 1000)
    high = _in_range(a, "max", max(default.max_instances, low), 1, 1000)
    if high < low:
        raise a.fail("max", f"must be at least min ({low}), got {high}")
    target = _in_range(a, "target_invocations", default.target_invocations, 1, 100000)
    a.reject_unknown()
    return AutoscalingSettings(low, high, target)


def _serverless(r: SettingsReader, mode: str) -> ServerlessSettings:
    table = r.get("serverless", dict, {})
    if table and mode != "serverless":
        raise r.fail("serverless", f'applies to mode = "serverless" only (mode is "{mode}")')
    s = type(r)(table, r.where.sub("serverless"))
    memory = s.get("memory_mb", int, ServerlessSettings.memory_mb)
    if memory not in SERVERLESS_MEMORY_MB:
        raise s.fail("memory_mb", f"must be one of {', '.join(map(str, SERVERLESS_MEMORY_MB))}, got {memory}")
    concurrency = _in_range(s, "max_concurrency", ServerlessSettings.max_concurrency, 1, MAX_SERVERLESS_CONCURRENCY)
    s.reject_unknown()
    return ServerlessSettings(memory, concurrency)


def _async(r: SettingsReader, mode: str) -> AsyncSettings:
    table = r.get("async", dict, {})
    if table and mode != "async":
        raise r.fail("async", f'applies to mode = "async" only (mode is "{mode}")')
    a = type(r)(table, r.where.sub("async"))
    prefix = a.get("output_prefix", str, "")
    if prefix and not prefix.startswith("s3://"):
        raise a.fail("output_prefix", f"{prefix!r} must be an s3:// URI")
    topic = a.get("sns_topic_arn", str, "")
    if topic and not SNS_TOPIC.match(topic):
        raise a.fail("sns_topic_arn", f"{topic!r} is not an SNS topic ARN (arn:aws:sns:<region>:<account>:<name>)")
    a.reject_unknown()
    return AsyncSettings(prefix, topic)


def parse_deploy(r: SettingsReader, stage: str) -> DeploySettings:
    """Validate one stage's merged deploy table (read through config.py's `SettingsReader`, which names the key)."""
    default = default_deploy(stage)
    mode = r.choice("mode", MODES, default.mode)
    autoscaling = _autoscaling(r, default.autoscaling)
    count = _in_range(r, "instance_count", autoscaling.min_instances, 1, 1000)
    if not autoscaling.min_instances <= count <= autoscaling.max_instances:
        raise r.fail("instance_count", f"must lie within autoscaling min..max ({autoscaling.min_instances}.."
                                       f"{autoscaling.max_instances}), got {count}")
    p95 = r.get("smoke_test_p95_ms", (int, float), default.smoke_test_p95_ms)
    if not 0 < p95 <= 60000:
        raise r.fail("smoke_test_p95_ms", f"must be a positive number of milliseconds (at most 60000), got {p95}")
    settings = DeploySettings(
        mode=mode, instance_type=r.matching("instance_type", "instance_type", default.instance_type),
        instance_count=count, capture_percentage=_in_range(r, "capture_percentage", default.capture_percentage, 0, 100),
        traffic_shifting=r.choice("traffic_shifting", TRAFFIC_SHIFTING, default.traffic_shifting),
        wait_seconds=_in_range(r, "wait_seconds", default.wait_seconds, 0, 3600),
        autoscaling=autoscaling, serverless=_serverless(r, mode), async_inference=_async(r, mode),
        smoke_test_rows=_in_range(r, "smoke_test_rows", default.smoke_test_rows, 1, 10000),
        smoke_test_p95_ms=float(p95),
    )
    r.reject_unknown()
    return settings


def deploy_table_settings(table: dict[str, Any], where: SettingsTable, stage: str) -> DeploySettings:
    """`parse_deploy` over the raw merged table of one stage (called by pipelines/config.py)."""
    from pipelines.config import SettingsReader

    return parse_deploy(SettingsReader(table, where), stage)
