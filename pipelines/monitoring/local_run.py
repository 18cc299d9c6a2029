"""A drift check on this machine: the monitoring pipeline's definition (the one the cloud runs) executed
by the local engine over the local endpoint's capture.

The CLI chooses what the schedule leaves to defaults in the cloud: the deployed package's baselines, model and
gate, the window end (now, unless --until) and a window start only when --since is given (else the step reads
the watermark it keeps in the store). Model quality always runs here (the ModelQuality step, whatever
`[tool.ml-factory.monitoring] model_quality` says for the cloud): it costs a process, not an instance. Metrics
are not published (the steps write cloudwatch_metrics.json). The steps' files are then linked into
<state>/monitoring/<stage>/runs/<UTC time>/.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from pipelines.errors import UserError
from pipelines.monitoring import names
from pipelines.monitoring.local import LocalStage
from pipelines.progress import Progress

SUMMARY_FILE = "drift_summary.json"  # seedcode/drift_check.py writes it on every run


@dataclass(frozen=True)
class LocalWindow:
    since: datetime | None  # None: since the watermark (or the beginning)
    until: datetime
    step_python: Path = Path(sys.executable)  # the step's `python3` (.venv-container/bin/python: the image's)
    ground_truth: Path | None = None  # the labels folder (default: the stage's ground-truth folder in the store)


@dataclass(frozen=True)
class DriftRun:
    """What a drift check found, from its drift_summary.json, and where its files are."""

    summary: dict[str, Any]
    folder: Path | None  # None for an empty window: nothing was written
    quality_failure: str = ""  # why the ModelQuality step failed (labelled rows it could not score), if it did

    @property
    def rows(self) -> int:
        return int(self.summary["rows"])

    @property
    def violations(self) -> list[dict[str, str]]:
        return list(self.summary["violations"])

    @property
    def distances(self) -> dict[str, float]:
        return {name: d["distance"] for name, d in self.summary["drift"].items()}

    @property
    def malformed(self) -> int:
        return int(self.summary["malformed"]["count"])

    @property
    def window(self) -> str:
        since, until = self.summary["window"]["since"], self.summary["window"]["until"]
        return f"{since or 'the beginning'} and {until}"

    @property
    def files(self) -> dict[str, Path]:
        return {name: self.folder / name for name in self.summary["files"]} if self.folder else {}


def _definition(stage: LocalStage, bundle: Any) -> dict[str, Any]:
    """The monitoring definition with its ModelQuality step, built with the SDK once per config and code
    (<state>/definitions/)."""
    import dataclasses
    import json

    from pipelines.engine.build import load_definition
    from pipelines.engine.state import StateDir
    from pipelines.monitoring.definition import build_monitoring_pipeline

    config = stage.config
    config = dataclasses.replace(config, monitoring=dataclasses.replace(config.monitoring, model_quality=True))
    text, _ = load_definition(config, stage.wiring, bundle, StateDir(stage.state_root).definitions,
                              build=build_monitoring_pipeline)
    return json.loads(text)


def parameter_values(stage: LocalStage, window: LocalWindow) -> dict[str, str]:
    from pipelines.monitoring.ground_truth import local_quality_parameters

    served = stage.served()
    return {names.PARAM_WINDOW_START: window.since.isoformat() if window.since else "",
            names.PARAM_WINDOW_END: window.until.isoformat(),
            names.PARAM_BASELINE_STATISTICS: served.statistics_uri,
            names.PARAM_BASELINE_CONSTRAINTS: served.constraints_uri,
            names.PARAM_PACKAGE: served.package_arn, names.PARAM_PUBLISH_METRICS: "false",
            **local_quality_parameters(stage, window.ground_truth)}


def run_drift_check(stage: LocalStage, window: LocalWindow, now: datetime) -> DriftRun:
    """Run the monitoring pipeline locally; the step's failure (bad capture, bad baselines) is a UserError."""
    from pipelines.code_bundle import bundle_seedcode
    from pipelines.engine.cache import StepCache
    from pipelines.engine.engine import LocalEngine
    from pipelines.engine.execution import Execution
    from pipelines.engine.graph import PipelineGraph
    from pipelines.engine.inputs import stage_code
    from pipelines.engine.registry import LocalRegistry
    from pipelines.engine.state import StateDir
    from pipelines.engine.step_job import EngineSettings
    from pipelines.parameters import effective_values

    values = parameter_values(stage, window)  # a package without baselines stops here, before any build
    state, store, bundle = StateDir(stage.state_root).create(), stage.store(), bundle_seedcode()
    stage_code(store, bundle, stage.wiring.artifact_bucket, stage.config.project)
    definition = _definition(stage, bundle)
    execution = Execution.new(definition_name(stage), stage.config.aws_region, stage.config.account_id)
    engine = LocalEngine(store, LocalRegistry(state.registry, region=stage.config.aws_region,
                                              account_id=stage.config.account_id),
                         StepCache(state.cache), EngineSettings(max_workers=1, step_python=window.step_python),
                         Progress())
    result = engine.run(PipelineGraph.from_definition(definition), effective_values(definition, values), execution,
                        stage.folder / "executions" / execution.execution_id)
    if result.failed_step and result.failed_step != names.STEP_MODEL_QUALITY:  # the drift check's files still count
        raise UserError(result.failure_reason or f"the {result.failed_step} step failed")
    quality_failure = (result.failure_reason or "the step failed") if result.failed_step else ""
    outputs = result.properties[names.STEP_DRIFT]["ProcessingOutputConfig"]["Outputs"]
    output = str(outputs[0]["S3Output"]["S3Uri"]).rstrip("/")
    summary = store.read_json(f"{output}/{SUMMARY_FILE}")
    if not summary["rows"]:
        return DriftRun(summary, None)
    folder = stage.run_folder(now)
    store.get_tree(output, folder)  # hard links: the run folder costs no copy
    return DriftRun(summary, folder, quality_failure)


def definition_name(stage: LocalStage) -> str:
    return names.monitor_pipeline_name(stage.config.project, stage.stage)
