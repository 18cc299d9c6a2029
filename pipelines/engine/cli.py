"""`python -m pipelines.run --local`: run the pipeline definition on this machine.

`run_local(config, request)` checks the inputs, builds (or reuses) the same definition JSON the
cloud run upserts, stages the code and data in the local object store, applies the baseline
bootstrap rule, runs the engine and reports: progress on stderr, a summary on stdout,
`<state-dir>/runs/<execution-id>/summary.json` and `report.html`.
"""

from __future__ import annotations

import dataclasses
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipelines.config import Config
from pipelines.errors import UserError
from pipelines.progress import Progress

if TYPE_CHECKING:
    from pipelines.code_bundle import CodeBundle
    from pipelines.engine.engine import ExecutionResult
    from pipelines.engine.execution import Execution
    from pipelines.engine.graph import PipelineGraph
    from pipelines.engine.state import StateDir
    from pipelines.engine.store import ObjectStore
    from pipelines.wiring import Wiring


@dataclass(frozen=True)
class LocalRunRequest:
    """What the user asked of a local run (everything but the team config)."""

    state_root: Path  # the state folder: object store, registry, step cache, runs
    params: tuple[str, ...] = ()  # --param Name=Value
    data: Path | None = None  # a local CSV or Parquet file, or a folder of them, instead of generated sample data
    target: str | None = None  # the target column of `data`
    rows: int = 20000  # rows of generated sample data
    simulate_spot_interruption: int | None = None  # stop training at this round, then resume
    simulate_host_failure: int | None = None  # kill training's last host after this round (a lost instance)
    retry: str | None = None  # an execution id (or "last"): run that failed execution again, as RetryPipelineExecution
    summary_path: Path | None = None  # a copy of summary.json
    wiring_file: Path | None = None  # cloud only: refused here
    step_python: Path = Path(sys.executable)  # the interpreter that runs step code (e.g. .venv-container's)
    demo: bool = False  # the demo's own state folder and model package group
    project_dir: Path = Path(".")  # the team repo (its git commit goes into the lineage)
    trigger: str = "manual"  # why the run happened (manual, merge, drift): an MLflow tag


@dataclass(frozen=True)
class LocalSetup:
    """What every phase of a local run reads: settings, local wiring, step code, state and progress."""

    config: Config
    wiring: Wiring
    bundle: CodeBundle
    state: StateDir
    store: ObjectStore
    progress: Progress


@dataclass(frozen=True)
class LocalInputs:
    """The checked inputs of a run: --param overrides, the data file, and where the data was staged."""

    overrides: dict[str, str]
    data_file: Path | None
    input_uri: str = ""


@dataclass(frozen=True)
class LoadedDefinition:
    text: str
    graph: PipelineGraph
    reused: bool  # came from the definition cache instead of the SDK


@dataclass(frozen=True)
class PlannedExecution:
    """An execution ready to run: its definition, identity, parameter values and inputs."""

    definition: LoadedDefinition
    execution: Execution
    values: dict[str, Any]
    inputs: LocalInputs


def run_local(config: Config, request: LocalRunRequest) -> int:
    from pipelines.code_bundle import bundle_seedcode
    from pipelines.engine.build import local_wiring
    from pipelines.engine.registry import demo_group
    from pipelines.engine.retry import planned_retry
    from pipelines.engine.state import StateDir
    from pipelines.engine.store import ObjectStore

    progress = Progress()
    inputs = check_request(request)  # everything the user can get wrong is checked before the first step runs
    if request.target:
        config = dataclasses.replace(config, target_column=request.target)  # the target is in the step arguments
    state = StateDir(request.state_root).create()
    wiring = local_wiring(config)
    if request.demo:
        wiring = dataclasses.replace(wiring, model_package_group=demo_group(config.project))
    setup = LocalSetup(config, wiring, bundle_seedcode(), state, ObjectStore(state.store), progress)
    if request.retry:
        stage_step_code(setup)
        return run_execution(setup, planned_retry(setup, request.retry), request)
    definition = load_local_definition(setup, inputs.overrides)
    inputs = dataclasses.replace(inputs, input_uri=stage_inputs(setup, request, inputs))
    return execute(setup, definition, inputs, request)


def load_local_definition(setup: LocalSetup, overrides: dict[str, str]) -> LoadedDefinition:
    """The cached or freshly built definition, its graph, with the --param overrides checked against it."""
    from pipelines.engine.build import load_definition
    from pipelines.engine.graph import PipelineGraph
    from pipelines.parameters import resolve_parameters

    config = setup.config
    text, reused = load_definition(config, setup.wiring, setup.bundle, setup.state.definitions)
    setup.progress.note(f"pipeline {config.pipeline_name}: definition "
                        + ("reused (unchanged config and code)" if reused else "built with the SageMaker SDK"))
    definition = json.loads(text)
    graph = PipelineGraph.from_definition(definition)  # unsupported steps: refused before anything runs
    resolve_parameters(definition, overrides)
    return LoadedDefinition(text, graph, reused)


def check_request(request: LocalRunRequest) -> LocalInputs:
    from pipelines.definition import PARAM_INPUT
    from pipelines.engine.inputs import check_data_file
    from pipelines.parameters import parse_assignments

    data_file = check_data_file(request.data) if request.data else None
    overrides = parse_assignments(list(request.params))
    if request.rows < 1:
        raise UserError(f"--rows must be at least 1, got {request.rows}")
    for flag, value in (("--simulate-spot-interruption", request.simulate_spot_interruption),
                        ("--simulate-host-failure", request.simulate_host_failure)):
        if value is not None and value < 1:
            raise UserError(f"{flag} takes a boosting round of at least 1, got {value}")
    if request.wiring_file:
        raise UserError("--wiring is for cloud runs; --local uses local buckets, role and registry")
    if data_file and PARAM_INPUT in overrides:
        raise UserError(f"pass either --data or --param {PARAM_INPUT}=..., not both")
    if not (request.step_python.is_file() and os.access(request.step_python, os.X_OK)):
        raise UserError(f"--step-python {request.step_python} is not an executable file; give a Python interpreter, "
                        "e.g. .venv-container/bin/python (make container-venv)")
    return LocalInputs(overrides, data_file)


def stage_inputs(setup: LocalSetup, request: LocalRunRequest, inputs: LocalInputs) -> str:
    """Put the step code and the input data into the local store; returns InputDataUri."""
    from pipelines.definition import PARAM_INPUT
    from pipelines.engine.inputs import DigestMemo, stage_data, stage_sample_data

    config, wiring, store, progress = setup.config, setup.wiring, setup.store, setup.progress
    stage_step_code(setup)
    if inputs.data_file:
        input_uri = stage_data(store, DigestMemo(setup.state.cache), inputs.data_file, wiring.data_bucket,
                               config.project)
        progress.note(f"input data {inputs.data_file} -> {input_uri}")
    elif PARAM_INPUT in inputs.overrides:
        input_uri = inputs.overrides[PARAM_INPUT]
        if not store.exists(input_uri):
            raise UserError(f"{PARAM_INPUT} {input_uri} is not in the local object store ({setup.state.store}); "
                            "use --data FILE to bring a local file")
    else:
        input_uri, generated = stage_sample_data(store, wiring.data_bucket, config, request.rows)
        progress.note(f"sample data: {request.rows} rows (seed {config.seed}) "
                      + ("generated" if generated else "reused") + f" at {input_uri}")
    return input_uri


def stage_step_code(setup: LocalSetup) -> None:
    """The step code in the local store, under its digest (nothing to do when it is there already)."""
    from pipelines.engine.inputs import stage_code as put_code

    written = put_code(setup.store, setup.bundle, setup.wiring.artifact_bucket, setup.config.project)
    if written:
        setup.progress.note(f"step code {setup.bundle.digest}: {written} objects put in the local store")


def execute(setup: LocalSetup, definition: LoadedDefinition, inputs: LocalInputs, request: LocalRunRequest) -> int:
    """Apply the baseline bootstrap rule to a new execution and run it."""
    from pipelines.definition import PARAM_INPUT
    from pipelines.engine.execution import Execution
    from pipelines.engine.registry import LocalRegistry
    from pipelines.parameters import effective_values
    from pipelines.registry_model import approved_model_parameters

    config = setup.config
    registry = LocalRegistry(setup.state.registry, region=config.aws_region, account_id=config.account_id)
    from_approved, why = approved_model_parameters(registry, setup.wiring.model_package_group)
    setup.progress.note(why)
    values = effective_values(json.loads(definition.text),
                              {**from_approved, PARAM_INPUT: inputs.input_uri, **inputs.overrides})
    execution = Execution.new(config.pipeline_name, config.aws_region, config.account_id)
    return run_execution(setup, PlannedExecution(definition, execution, values, inputs), request)


def run_execution(setup: LocalSetup, planned: PlannedExecution, request: LocalRunRequest) -> int:
    """Run the engine, write summary.json and report.html, track the run, print the summary."""
    from pipelines.definition import PARAM_THRESHOLD, STEP_PREPROCESS
    from pipelines.engine.cache import StepCache
    from pipelines.engine.charts import load_chart_data
    from pipelines.engine.engine import LocalEngine
    from pipelines.engine.inputs import DigestMemo
    from pipelines.engine.registry import LocalRegistry
    from pipelines.engine.report import write_report
    from pipelines.engine.step_job import EngineSettings
    from pipelines.engine.summary import build_summary, human_summary, input_data, write_summary
    from pipelines.lineage import Lineage, config_hash, data_files, data_hash, git_commit
    from pipelines.tracking.local_run import TrackedRun, track_local_run

    config, state, progress = setup.config, setup.state, setup.progress
    definition, execution, values, inputs = planned.definition, planned.execution, planned.values, planned.inputs
    registry = LocalRegistry(state.registry, region=config.aws_region, account_id=config.account_id)
    run_dir = state.run_dir(execution.execution_id)
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "definition.json").write_text(definition.text)
    lineage = Lineage(execution_id=execution.execution_id, data_uri=inputs.input_uri,
                      data_hash=data_hash(data_files(setup.store.path(inputs.input_uri)),
                                          DigestMemo(state.cache).digest),
                      target=config.target_column, config_hash=config_hash(config), code_digest=setup.bundle.digest,
                      git_commit=git_commit(request.project_dir))
    settings = EngineSettings(
        max_workers=max(2, min(4, os.cpu_count() or 2)),
        spot_interruption_round=request.simulate_spot_interruption,
        host_failure_round=request.simulate_host_failure,
        analyzer_code_uri=setup.bundle.for_step("data_quality.py").files_uri(setup.wiring.artifact_bucket,
                                                                             config.project),
        step_python=request.step_python.absolute(),  # steps run in their sandbox: a relative path would not resolve
        lineage=lineage,
    )
    progress.note(f"execution {execution.execution_id} {'retried' if request.retry else 'started'} "
                  f"(state in {state.root})")
    result = LocalEngine(setup.store, registry, StepCache(state.cache), settings, progress).run(
        definition.graph, values, execution, run_dir)
    if inputs.data_file:
        name_user_data(result, inputs, setup.store)

    summary_path, report_path = run_dir / "summary.json", run_dir / "report.html"
    summary = build_summary(
        result, run_dir=run_dir, primary_metric=config.metric.name, threshold_parameter=PARAM_THRESHOLD,
        data=input_data(result, setup.store, STEP_PREPROCESS),
        extra={"stage": config.stage, "code_digest": setup.bundle.digest, "input_data_uri": inputs.input_uri,
               "definition_reused": definition.reused, "state_dir": str(state.root),
               "summary_path": str(summary_path), "report_path": str(report_path)})
    summary["cost"] = would_have_cost(json.loads(definition.text), summary["steps"], config.aws_region)
    write_summary(summary, summary_path, request.summary_path)
    write_report(summary, report_path, load_chart_data(result, setup.store, summary["metrics_source"]))
    summary["tracking"] = track_local_run(setup, result, summary, registry, TrackedRun(request.trigger, lineage))
    write_summary(summary, summary_path, request.summary_path)
    print(human_summary(summary))
    if result.failed_step:
        print(f"error: pipeline failed at step {result.failed_step}: {result.failure_reason}", file=sys.stderr)
        return 1
    return 0


def name_user_data(result: ExecutionResult, inputs: LocalInputs, store: ObjectStore) -> None:
    """Failure reasons that name the staged copy of --data name the user's own file instead."""
    from pipelines.engine.inputs import name_user_files

    assert inputs.data_file is not None
    for step in result.steps:
        if step.failure_reason:
            step.failure_reason = name_user_files(step.failure_reason, inputs.data_file, inputs.input_uri, store)
    if result.failure_reason:
        result.failure_reason = name_user_files(result.failure_reason, inputs.data_file, inputs.input_uri, store)


def would_have_cost(definition: dict[str, Any], steps: list[dict[str, Any]], region: str) -> dict[str, Any] | None:
    """What the run would have cost in the cloud (pipelines/finops/savings.py); None without a price table."""
    from pipelines.finops.prices import load_prices
    from pipelines.finops.savings import local_run_cost

    try:
        return local_run_cost(definition, steps, region, load_prices())
    except UserError as exc:
        print(f"warning: no cost figure: {exc}", file=sys.stderr)
        return None


def summary_of(state_dir: Path, execution_id: str) -> dict[str, Any]:
    """The summary.json of an earlier local execution."""
    return json.loads((Path(state_dir) / "runs" / execution_id / "summary.json").read_text())
