"""Evaluate (Processing): the challenger's metrics on the held-out test split, and the champion's
(the latest approved model) on the same split, into evaluation.json (a PropertyFile)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sagemaker.core.workflow.functions import Join, JsonGet
from sagemaker.core.workflow.properties import PropertyFile
from sagemaker.mlops.workflow import ProcessingStep, TrainingStep

from pipelines.definition import CHAMPION_JSON_PATH, STEP_EVALUATE, metric_json_path
from pipelines.steps.context import PROCESSING_ROOT, StepContext


@dataclass(frozen=True)
class Evaluation:
    """The Evaluate step and the values later steps read from its evaluation.json."""

    step: ProcessingStep
    report: PropertyFile
    uri: Any  # s3 URI of evaluation.json
    metric_value: Any  # the primary metric of the new model
    beats_champion: Any  # 1 when there is no champion or the new model beats it by the margin, else 0
    champion_verdict: Any  # one sentence on the comparison, for the Fail message



def build_evaluate(ctx: StepContext, preprocess: ProcessingStep, train: TrainingStep) -> Evaluation:
    config, parameters = ctx.config, ctx.parameters
    split = preprocess.properties.ProcessingOutputConfig.Outputs
    report = PropertyFile(name="EvaluationReport", output_name="evaluation", path="evaluation.json")
    step = ProcessingStep(
        STEP_EVALUATE,
        step_args=ctx.processor("evaluate.py").run(
            inputs=[ctx.s3_input("model", train.properties.ModelArtifacts.S3ModelArtifacts,
                                 f"{PROCESSING_ROOT}/model"),
                    ctx.s3_input("test", split["test"].S3Output.S3Uri, f"{PROCESSING_ROOT}/test"),
                    ctx.s3_input("champion", parameters.champion_model, f"{PROCESSING_ROOT}/champion"),
                    ctx.code_input("evaluate.py")],
            outputs=[ctx.s3_output(STEP_EVALUATE, "evaluation", f"{PROCESSING_ROOT}/evaluation")],
            arguments=["--target-column", config.target_column, "--problem-type", config.problem_type,
                       "--primary-metric", config.metric.name, "--threshold", str(config.decision_threshold),
                       "--champion-margin", parameters.champion_margin.to_string()],
        ),
        property_files=[report],
        cache_config=ctx.cache(),
    )
    uri = Join(on="/", values=[step.properties.ProcessingOutputConfig.Outputs["evaluation"].S3Output.S3Uri,
                               "evaluation.json"])

    def get(path: str) -> JsonGet:
        return JsonGet(step_name=step.name, property_file=report, json_path=path)

    return Evaluation(step=step, report=report, uri=uri, metric_value=get(metric_json_path(config)),
                      beats_champion=get(f"{CHAMPION_JSON_PATH}.beats_champion"),
                      champion_verdict=get(f"{CHAMPION_JSON_PATH}.verdict"))
