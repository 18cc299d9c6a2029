"""Preprocess (Processing): validate, encode, split deterministically (Parquet between steps)."""

from __future__ import annotations

from sagemaker.mlops.workflow import ProcessingStep

from pipelines.config import Config, DataConfig
from pipelines.definition import STEP_PREPROCESS
from pipelines.steps.context import PROCESSING_ROOT, StepContext

SPLITS = ("train", "validation", "test", "baseline")


def build_preprocess(ctx: StepContext) -> ProcessingStep:
    config = ctx.config
    return ProcessingStep(
        STEP_PREPROCESS,
        step_args=ctx.processor("preprocess.py").run(
            inputs=[ctx.s3_input("data", ctx.parameters.input_uri, f"{PROCESSING_ROOT}/input/data"),
                    ctx.code_input("preprocess.py")],
            outputs=[ctx.s3_output(STEP_PREPROCESS, name, f"{PROCESSING_ROOT}/output/{name}") for name in SPLITS],
            arguments=["--target-column", config.target_column, "--problem-type", config.problem_type,
                       "--seed", str(config.seed), *data_arguments(config.data), *shard_arguments(config),
                       *(["--positive-class", config.positive_class] if config.positive_class is not None else [])],
        ),
        cache_config=ctx.cache(),
    )


def data_arguments(data: DataConfig) -> list[str]:
    """`[tool.ml-factory.data]` as preprocess.py arguments."""
    declared = [f"--categorical-column={name}" for name in data.categorical_columns]  # `=`: a name may start with -
    default = DataConfig().baseline_max_rows  # only a changed value: the default keeps the definition as it was
    rows = ["--baseline-max-rows", str(data.baseline_max_rows)] if data.baseline_max_rows != default else []
    return ["--max-dropped-fraction", str(data.max_dropped_fraction), *rows, *declared]


def shard_arguments(config: Config) -> list[str]:
    """One training shard per training instance (their ShardedByS3Key channel) and one baseline part per
    data-quality instance; none for one instance."""
    training, quality = config.training.instance_count, config.processing.instance_count
    return [*(["--train-shards", str(training)] if training > 1 else []),
            *(["--baseline-parts", str(quality)] if quality > 1 else [])]
