"""`LocalEngine.run(graph, parameters, execution)`: one pipeline execution on this machine.

Scheduling follows the service: a step starts when every step it depends on succeeded;
independent steps run at the same time (a small thread pool, each step a child process); a
ConditionStep's outcome activates its IfSteps or ElseSteps and skips the others; after the first
failure no new step starts, running ones finish, and the execution fails with that step's reason.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
import threading
import time
import traceback
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipelines.engine.cache import StepCache, cache_key
from pipelines.engine.execution import Execution
from pipelines.engine.expressions import (
    ExpressionError,
    describe_condition,
    evaluate,
    evaluate_condition,
    walk_path,
    with_parameters,
)
from pipelines.engine.graph import PipelineGraph, StepNode, step_body
from pipelines.engine.processing import run_processing
from pipelines.engine.quality_check import plan_check, run_quality_check
from pipelines.engine.register import run_register
from pipelines.engine.registry import LocalRegistry
from pipelines.engine.step_job import EngineSettings, StepFailed, StepJob, StepResult
from pipelines.engine.store import ObjectStore, StoreError
from pipelines.engine.training import run_training
from pipelines.progress import Progress

RUNNERS = {"Processing": run_processing, "Training": run_training, "QualityCheck": run_quality_check,
           "RegisterModel": run_register}
KEY_EXCLUDED = ("CacheConfig", "RetryPolicies")


@dataclass
class StepRecord:
    """One step's outcome in an execution."""

    name: str
    type: str
    status: str = "NotStarted"  # Executing, Succeeded, Failed, Skipped (branch not taken), NotStarted
    started: float | None = None
    seconds: float | None = None
    cache_hit_from: str | None = None
    cache_key: str | None = None
    failure_reason: str | None = None
    facts: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "type": self.type, "status": self.status,
                "duration_seconds": None if self.seconds is None else round(self.seconds, 3),
                "cache": {"hit": self.cache_hit_from is not None, "source_execution_id": self.cache_hit_from},
                "failure_reason": self.failure_reason,
                **{k: v for k, v in self.facts.items() if k in ("job_name", "logs", "model", "outcome", "conditions",
                                                              "peak_memory_mb")}}


@dataclass
class ExecutionResult:
    execution: Execution
    parameters: dict[str, Any]
    steps: list[StepRecord]
    properties: dict[str, dict[str, Any]]
    property_files: dict[str, dict[str, Any]]
    seconds: float
    failed_step: str | None = None
    failure_reason: str | None = None

    @property
    def status(self) -> str:
        return "Failed" if self.failed_step else "Succeeded"

    def step(self, name: str) -> StepRecord | None:
        return next((s for s in self.steps if s.name == name), None)


class RunScope:
    """What expressions see during one execution (see expressions.Scope)."""

    def __init__(self, graph: PipelineGraph, parameters: dict[str, Any], execution: Execution, store: ObjectStore):
        self.graph = graph
        self.parameters = parameters
        self.execution = execution
        self.store = store
        self.properties: dict[str, dict[str, Any]] = {}
        self._files: dict[tuple[str, str], Any] = {}

    def parameter(self, name: str) -> Any:
        if name not in self.parameters:
            raise ExpressionError(f"unknown parameter {name!r}; the pipeline declares {', '.join(self.parameters)}")
        return self.parameters[name]

    def execution_variable(self, name: str) -> Any:
        return self.execution.variable(name)

    def step_properties(self, step: str) -> dict[str, Any]:
        if step not in self.properties:
            raise ExpressionError(f"step {step!r} has no properties: it has not succeeded in this execution")
        return self.properties[step]

    def property_file(self, step: str, name: str) -> Any:
        if (step, name) in self._files:
            return self._files[(step, name)]
        node = self.graph.nodes.get(step)
        specs = [p for p in (node.spec.get("PropertyFiles") or []) if p.get("PropertyFileName") == name] if node else []
        if not specs:
            raise ExpressionError(f"step {step!r} declares no property file {name!r}")
        spec = specs[0]
        output = walk_path(self.step_properties(step),
                           ["ProcessingOutputConfig", "Outputs", spec["OutputName"], "S3Output", "S3Uri"],
                           f"output {spec['OutputName']!r} of step {step}")
        document = self.read_json(f"{str(output).rstrip('/')}/{spec['FilePath'].lstrip('/')}")
        self._files[(step, name)] = document
        return document

    def read_json(self, uri: str) -> Any:
        try:
            return self.store.read_json(uri)
        except StoreError as exc:
            raise ExpressionError(str(exc)) from None

    def loaded_property_files(self) -> dict[str, dict[str, Any]]:
        files: dict[str, dict[str, Any]] = {}
        for node in self.graph.nodes.values():
            if node.name not in self.properties:
                continue
            for spec in node.spec.get("PropertyFiles") or []:
                with contextlib.suppress(ExpressionError):
                    document = self.property_file(node.name, spec["PropertyFileName"])
                    files.setdefault(node.name, {})[spec["PropertyFileName"]] = document
        return files


class StepProgress:
    """Thread-safe step lines on stderr through pipelines.progress.Progress."""

    def __init__(self, progress: Progress):
        self.progress = progress
        self._lock = threading.Lock()

    def started(self, name: str) -> None:
        with self._lock:
            self.progress.step(name, "Executing")

    def detail(self, name: str, text: str, important: bool = False) -> None:
        if important or self.progress.tty:
            with self._lock:
                self.progress.step(name, "Executing", detail=text)

    def finished(self, record: StepRecord) -> None:
        detail = ""
        if record.cache_hit_from:
            detail = f"cache hit from {record.cache_hit_from}"
        elif record.failure_reason:
            detail = record.failure_reason
        elif "outcome" in record.facts:
            detail = f"{'; '.join(record.facts.get('conditions', []))}: {record.facts['outcome']}"
        with self._lock:
            self.progress.step(record.name, record.status, record.seconds, detail)


def _folder_name(step: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", step) or "step"


class LocalEngine:
    """Runs pipeline graphs against one object store, registry and step cache."""

    def __init__(self, store: ObjectStore, registry: LocalRegistry, cache: StepCache, settings: EngineSettings,
                 progress: Progress | None = None):
        self.store = store
        self.registry = registry
        self.cache = cache
        self.settings = settings
        self.progress = StepProgress(progress or Progress())

    def run(self, graph: PipelineGraph, parameters: dict[str, Any], execution: Execution,
            run_dir: Path) -> ExecutionResult:
        return _ExecutionRun(self, graph, parameters, execution, run_dir).run()


class _ExecutionRun:
    """The bookkeeping of one execution: step states, properties, cache keys, the first failure."""

    def __init__(self, engine: LocalEngine, graph: PipelineGraph, parameters: dict[str, Any], execution: Execution,
                 run_dir: Path):
        self.engine = engine
        self.graph = graph
        self.parameters = parameters
        self.execution = execution
        self.run_dir = run_dir
        self.scope = RunScope(graph, parameters, execution, engine.store)
        self.records = {name: StepRecord(name, node.type) for name, node in graph.nodes.items()}
        self.state = dict.fromkeys(graph.nodes, "Pending")
        self.outcomes: dict[str, bool] = {}  # condition step -> outcome
        self.keys: dict[str, str] = {}  # step -> cache key
        self.running: dict[Future[StepResult], tuple[str, str | None]] = {}
        self.failure: tuple[str, str] | None = None

    def run(self) -> ExecutionResult:
        started = time.monotonic()
        order = self.graph.order()
        workers = max(1, self.engine.settings.max_workers)
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="step") as pool:
            while True:
                self._start_ready(order, pool)
                if not self.running:
                    break
                done, _ = wait(list(self.running), return_when=FIRST_COMPLETED)
                for future in done:
                    name, key = self.running.pop(future)
                    self._collect(future, name, key)
        failed_step, reason = self.failure or (None, None)
        return ExecutionResult(execution=self.execution, parameters=self.parameters,
                               steps=[self.records[n] for n in self.graph.nodes], properties=self.scope.properties,
                               property_files=self.scope.loaded_property_files(),
                               seconds=time.monotonic() - started, failed_step=failed_step, failure_reason=reason)

    def _start_ready(self, order: list[str], pool: ThreadPoolExecutor) -> None:
        """Start (or skip) every step whose turn has come; after a failure nothing new starts."""
        changed = True
        while changed and not self.failure:
            changed = False
            for name in order:
                if self.state[name] != "Pending" or self.failure:
                    continue
                node = self.graph.nodes[name]
                dependencies = [self.state[d] for d in node.depends_on]
                not_taken = (node.branch_of is not None and self.state[node.branch_of] == "Succeeded"
                             and self.outcomes.get(node.branch_of) != node.branch)
                if not_taken or "Skipped" in dependencies:
                    self.state[name] = self.records[name].status = "Skipped"
                    changed = True
                elif all(s == "Succeeded" for s in dependencies):
                    self._start(node, pool)
                    changed = True

    def _finish(self, name: str, status: str, reason: str | None = None, facts: dict[str, Any] | None = None) -> None:
        record = self.records[name]
        self.state[name] = record.status = status
        record.seconds = time.monotonic() - (record.started or time.monotonic())
        record.failure_reason = reason
        record.facts.update(facts or {})
        if status == "Failed" and self.failure is None:
            self.failure = (name, reason or "failed")
        self.engine.progress.finished(record)

    def _resolve(self, value: Any) -> Any:
        return evaluate(value, self.scope)

    def _start(self, node: StepNode, pool: ThreadPoolExecutor) -> None:
        engine, record = self.engine, self.records[node.name]
        record.started = time.monotonic()
        self.state[node.name] = record.status = "Executing"
        try:
            if node.type == "Condition":
                conditions = node.arguments.get("Conditions") or []
                outcome = all(evaluate_condition(c, self._resolve) for c in conditions)
                self.outcomes[node.name] = outcome
                self.scope.properties[node.name] = {"Outcome": outcome}
                self._finish(node.name, "Succeeded", facts={
                    "outcome": outcome, "conditions": [describe_condition(c, self._resolve) for c in conditions]})
                return
            if node.type == "Fail":
                message = self._resolve(node.arguments.get("ErrorMessage", ""))
                self._finish(node.name, "Failed", str(message) or "the pipeline reached a Fail step",
                             facts={"error_message": message})
                return
            arguments = self._resolve(node.arguments)
            prepared: dict[str, Any] = {}
            if node.type == "QualityCheck":
                prepared["quality_check"] = plan_check(node, self._resolve, engine.registry)
            key = None
            if node.cache_enabled:
                key = record.cache_key = self.keys[node.name] = self._cache_key(node, prepared)
                simulating = node.type == "Training" and (engine.settings.spot_interruption_round is not None
                                                          or engine.settings.host_failure_round is not None)
                hit = None if simulating else engine.cache.lookup(key, node.expire_after, engine.store.exists)
                if hit is not None:
                    self.scope.properties[node.name] = hit.properties
                    record.cache_hit_from = hit.execution_id
                    self._finish(node.name, "Succeeded", facts=hit.facts)
                    return
        except (ExpressionError, ValueError) as exc:
            self._finish(node.name, "Failed", str(exc))
            return
        engine.progress.started(node.name)
        job = StepJob(node=node, arguments=arguments, execution=self.execution, store=engine.store,
                      step_dir=self._step_dir(node.name), registry=engine.registry,
                      settings=engine.settings, prepared=prepared,
                      notify=lambda text, important=False, n=node.name: engine.progress.detail(n, text, important))
        self.running[pool.submit(RUNNERS[node.type], job)] = (node.name, key)

    def _step_dir(self, name: str) -> Path:
        """The step's folder; on a retried execution a new one (`<step>-retry1`, ...): the retry is a new job,
        and the failed job keeps its logs."""
        folder, retry = self.run_dir / _folder_name(name), 0
        while folder.exists():
            retry += 1
            folder = self.run_dir / f"{_folder_name(name)}-retry{retry}"
        return folder

    def _collect(self, future: Future[StepResult], name: str, key: str | None) -> None:
        try:
            result = future.result()
        except StepFailed as exc:
            self._finish(name, "Failed", exc.reason, exc.facts)
            return
        except Exception as exc:  # a bug in the engine: the step fails, the trace is kept for the bug report
            folder = self.run_dir / _folder_name(name)
            folder.mkdir(parents=True, exist_ok=True)
            (folder / "engine-error.txt").write_text(traceback.format_exc())
            self._finish(name, "Failed", f"local engine error: {type(exc).__name__}: {exc} (see {folder})")
            return
        self.scope.properties[name] = result.properties
        if key is not None:
            self.engine.cache.record(key, result, pipeline=self.execution.pipeline_name, step=name,
                                     step_type=self.graph.nodes[name].type, execution_id=self.execution.execution_id)
        self._finish(name, "Succeeded", facts=result.facts)

    def _cache_key(self, node: StepNode, prepared: dict[str, Any]) -> str:
        """Type and arguments with parameters resolved (properties and execution variables symbolic), plus the
        keys of the steps it reads from."""
        body = {k: v for k, v in step_body(node.spec).items() if k not in KEY_EXCLUDED}
        upstream = {}
        for reference in sorted(self.graph.data_references(node.name)):
            if reference in self.keys:
                upstream[reference] = self.keys[reference]
            else:  # not cacheable: identified by what it produced
                text = json.dumps(self.scope.properties.get(reference, {}), sort_keys=True, default=str)
                upstream[reference] = hashlib.sha256(text.encode()).hexdigest()
        material: dict[str, Any] = {"pipeline": self.execution.pipeline_name, "step": node.name,
                                    "body": with_parameters(body, self.parameters), "upstream": upstream,
                                    "python": str(self.engine.settings.step_python)}  # another runtime reruns
        if node.type == "QualityCheck":
            material["quality_check"] = prepared.get("quality_check")
            material["analyzer"] = self.engine.settings.analyzer_code_uri
        return cache_key(material)
