"""`python -m pipelines.run --local`: run the pipeline definition on this machine.

`run_local(config, args)` checks the inputs, builds (or reuses) the same definition JSON the
cloud run upserts, stages the code and data in the local object store, applies the baseline
bootstrap rule, runs the engine and reports: progress on stderr, a summary on stdout,
`<state-dir>/runs/<execution-id>/summary.json` and `report.html`.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipelines.config import Config
from pipelines.errors import UserError
from pipelines.progress import Progress

if TYPE_CHECKING:
    from pipelines.code_bundle import CodeBundle
    from pipelines.engine.graph import PipelineGraph
    from pipelines.engine.state import StateDir
    from pipelines.engine.store import ObjectStore
    from pipelines.wiring import Wiring


def run_local(config: Config, args: argparse.Namespace) -> int:
    from pipelines.code_bundle import bundle_seedcode
    from pipelines.engine.build import load_definition, local_wiring
    from pipelines.engine.graph import PipelineGraph
    from pipelines.engine.inputs import check_data_file
    from pipelines.engine.registry import demo_group
    from pipelines.engine.state import StateDir
    from pipelines.engine.store import ObjectStore
    from pipelines.parameters import parse_assignments, resolve_parameters

    progress = Progress()
    # everything the user can get wrong is checked before the first step runs
    data_file = check_data_file(args.data) if args.data else None
    overrides = parse_assignments(args.param)
    check_arguments(args, overrides, data_file)
    if args.target:
        config = dataclasses.replace(config, target_column=args.target)  # the target is in the step arguments

    state = StateDir(state_root(args)).create()
    wiring = local_wiring(config)
    if args.demo:
        wiring = dataclasses.replace(wiring, model_package_group=demo_group(config.project))
    bundle = bundle_seedcode()
    definition_text, reused = load_definition(config, wiring, bundle, state.definitions)
    progress.note(f"pipeline {config.pipeline_name}: definition "
                  + ("reused (unchanged config and code)" if reused else "built with the SageMaker SDK"))
    definition = json.loads(definition_text)
    graph = PipelineGraph.from_definition(definition)  # unsupported steps: refused before anything runs
    resolve_parameters(definition, overrides)

    store = ObjectStore(state.store)
    input_uri = stage_inputs(store, state, config, wiring, bundle, args, overrides, data_file, progress)
    return execute(config, wiring, bundle, state, store, definition_text, graph, input_uri, overrides, args,
                   progress, {"definition_reused": reused})


def check_arguments(args: argparse.Namespace, overrides: dict[str, str], data_file: Path | None) -> None:
    from pipelines.definition import PARAM_INPUT

    if args.rows < 1:
        raise UserError(f"--rows must be at least 1, got {args.rows}")
    if args.simulate_spot_interruption is not None and args.simulate_spot_interruption < 1:
        raise UserError(f"--simulate-spot-interruption takes a boosting round of at least 1, "
                        f"got {args.simulate_spot_interruption}")
    if getattr(args, "wiring", None):
        raise UserError("--wiring is for cloud runs; --local uses local buckets, role and registry")
    if data_file and PARAM_INPUT in overrides:
        raise UserError(f"pass either --data or --param {PARAM_INPUT}=..., not both")


def stage_inputs(store: ObjectStore, state: StateDir, config: Config, wiring: Wiring, bundle: CodeBundle,
                 args: argparse.Namespace,
                 overrides: dict[str, str], data_file: Path | None, progress: Progress) -> str:
    """Put the step code and the input data into the local store; returns InputDataUri."""
    from pipelines.definition import PARAM_INPUT
    from pipelines.engine.inputs import DigestMemo, stage_code, stage_data_file, stage_sample_data

    written = stage_code(store, bundle, wiring.artifact_bucket, config.project)
    if written:
        progress.note(f"step code {bundle.digest}: {written} objects put in the local store")
    if data_file:
        input_uri = stage_data_file(store, DigestMemo(state.cache), data_file, wiring.data_bucket, config.project)
        progress.note(f"input data {data_file} -> {input_uri}")
    elif PARAM_INPUT in overrides:
        input_uri = overrides[PARAM_INPUT]
        if not store.exists(input_uri):
            raise UserError(f"{PARAM_INPUT} {input_uri} is not in the local object store ({state.store}); "
                            "use --data FILE to bring a local file")
    else:
        input_uri, generated = stage_sample_data(store, wiring.data_bucket, config.project, args.rows, config.seed,
                                                 config.problem_type, config.target_column)
        progress.note(f"sample data: {args.rows} rows (seed {config.seed}) "
                      + ("generated" if generated else "reused") + f" at {input_uri}")
    return input_uri


def execute(config: Config, wiring: Wiring, bundle: CodeBundle, state: StateDir, store: ObjectStore,
            definition_text: str, graph: PipelineGraph, input_uri: str, overrides: dict[str, str],
            args: argparse.Namespace, progress: Progress, extra: dict[str, Any]) -> int:
    """Apply the baseline bootstrap rule, run the engine, write summary.json and report.html, print the summary."""
    from pipelines.definition import PARAM_INPUT, PARAM_THRESHOLD
    from pipelines.engine.cache import StepCache
    from pipelines.engine.engine import LocalEngine
    from pipelines.engine.execution import Execution
    from pipelines.engine.inputs import DigestMemo
    from pipelines.engine.registry import LocalRegistry
    from pipelines.engine.report import write_report
    from pipelines.engine.step_job import EngineSettings
    from pipelines.engine.summary import build_summary, human_summary, write_summary
    from pipelines.lineage import Lineage, config_hash, data_files, data_hash, git_commit
    from pipelines.parameters import effective_values
    from pipelines.registry_model import baseline_parameters

    registry = LocalRegistry(state.registry, region=config.aws_region, account_id=config.account_id)
    baseline, why = baseline_parameters(registry, wiring.model_package_group)
    progress.note(why)
    definition = json.loads(definition_text)
    values = effective_values(definition, {**baseline, PARAM_INPUT: input_uri, **overrides})

    execution = Execution.new(config.pipeline_name, config.aws_region, config.account_id)
    run_dir = state.run_dir(execution.execution_id)
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "definition.json").write_text(definition_text)
    lineage = Lineage(execution_id=execution.execution_id, data_uri=input_uri,
                      data_hash=data_hash(data_files(store.path(input_uri)), DigestMemo(state.cache).digest),
                      target=config.target_column, config_hash=config_hash(config), code_digest=bundle.digest,
                      git_commit=git_commit(Path(args.config).resolve().parent))
    settings = EngineSettings(
        max_workers=max(2, min(4, os.cpu_count() or 2)),
        spot_interruption_round=args.simulate_spot_interruption,
        analyzer_code_uri=bundle.files_uri(wiring.artifact_bucket, config.project),
        lineage=lineage,
    )
    progress.note(f"execution {execution.execution_id} started (state in {state.root})")
    result = LocalEngine(store, registry, StepCache(state.cache), settings, progress).run(
        graph, values, execution, run_dir)

    summary_path, report_path = run_dir / "summary.json", run_dir / "report.html"
    summary = build_summary(
        result, run_dir=run_dir, primary_metric=config.metric.name, threshold_parameter=PARAM_THRESHOLD,
        extra={"stage": config.stage, "code_digest": bundle.digest, "input_data_uri": input_uri, **extra,
               "state_dir": str(state.root), "summary_path": str(summary_path), "report_path": str(report_path)})
    write_summary(summary, summary_path, args.summary)
    write_report(summary, report_path)
    print(human_summary(summary))
    if result.failed_step:
        print(f"error: pipeline failed at step {result.failed_step}: {result.failure_reason}", file=sys.stderr)
        return 1
    return 0


def state_root(args: argparse.Namespace) -> Path:
    """--state-dir; its default `.ml-factory` sits beside --config, where `pipelines.registry --local` looks."""
    from pipelines.engine.registry import DEMO_STATE_DIR
    from pipelines.engine.state import DEFAULT_STATE_DIR

    if args.demo:
        if args.state_dir is not None:
            raise UserError("--demo has its own state folder (.ml-factory/demo): drop --state-dir")
        return Path(args.config).resolve().parent / DEMO_STATE_DIR
    if args.state_dir is None or Path(args.state_dir) == DEFAULT_STATE_DIR:
        return Path(args.config).resolve().parent / DEFAULT_STATE_DIR
    return Path(args.state_dir)


def summary_of(state_dir: Path, execution_id: str) -> dict[str, Any]:
    """The summary.json of an earlier local execution."""
    return json.loads((Path(state_dir) / "runs" / execution_id / "summary.json").read_text())
