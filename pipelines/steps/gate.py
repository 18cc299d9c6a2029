"""CheckMetric (Condition): register only when the primary metric clears its floor and the new
model beats the champion (the latest approved model) on the same test split by the margin;
otherwise MetricBelowThreshold (Fail) says which and by how much."""

from __future__ import annotations

from sagemaker.core.workflow.conditions import (
    ConditionEquals,
    ConditionGreaterThanOrEqualTo,
    ConditionLessThanOrEqualTo,
)
from sagemaker.core.workflow.functions import Join
from sagemaker.mlops.workflow import ConditionStep, FailStep, ModelStep, QualityCheckStep

from pipelines.definition import PARAM_THRESHOLD, STEP_FAIL, STEP_GATE
from pipelines.steps.context import StepContext
from pipelines.steps.evaluate import Evaluation


def build_gate(ctx: StepContext, evaluation: Evaluation, register: ModelStep,
               data_quality: QualityCheckStep) -> ConditionStep:
    metric = ctx.config.metric
    compare = ConditionGreaterThanOrEqualTo if metric.higher_is_better else ConditionLessThanOrEqualTo
    relation = "at least" if metric.higher_is_better else "at most"
    fail = FailStep(
        STEP_FAIL,
        error_message=Join(on="", values=[
            f"Primary metric {metric.name} = ", evaluation.metric_value,
            f" (must be {relation} {PARAM_THRESHOLD} = ", ctx.parameters.threshold, "); ",
            evaluation.champion_verdict, " The model was not registered.",
        ]),
    )
    return ConditionStep(
        STEP_GATE,
        conditions=[compare(left=evaluation.metric_value, right=ctx.parameters.threshold),
                    ConditionEquals(left=evaluation.beats_champion, right=1)],
        if_steps=[register],
        else_steps=[fail],
        depends_on=[data_quality],
    )
