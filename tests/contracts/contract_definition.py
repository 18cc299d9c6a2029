"""The service requests a pipeline definition makes, with its expressions replaced by typed stand-ins.

Each step's Arguments become the request the pipeline service sends when it runs the step. Where
the definition holds an expression (a parameter, an execution variable, another step's property,
`Std:Join`, `Std:JsonGet`), the request gets a stand-in of the type the member's shape wants:
the parameter's default, a realistic execution id, an S3 URI of the length our layout produces.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from botocore.model import Shape
from contract_shapes import operation_model

# The API the pipeline service calls for each step type that makes one (Condition and Fail make none).
STEP_OPERATIONS: dict[str, tuple[str, str]] = {
    "Processing": ("sagemaker", "CreateProcessingJob"),
    "QualityCheck": ("sagemaker", "CreateProcessingJob"),  # the SDK emits a processing-job request
    "Training": ("sagemaker", "CreateTrainingJob"),
    "RegisterModel": ("sagemaker", "CreateModelPackage"),
}
STEPS_WITHOUT_REQUESTS = ("Condition", "Fail")
# The job name member the service fills in: "pipelines-<execution id>-<step name>-<10 random>".
SERVICE_JOB_NAMES = {"CreateProcessingJob": "ProcessingJobName", "CreateTrainingJob": "TrainingJobName"}
EXECUTION_ID = "a1b2c3d4e5f6"  # the service's 12-character execution ids
S3_PROPERTIES = ("S3Uri", "S3ModelArtifacts", "CalculatedBaselineStatistics", "CalculatedBaselineConstraints",
                 "BaselineUsedForDriftCheckStatistics", "BaselineUsedForDriftCheckConstraints")
JSON_GET_STAND_IN = 0.8765432101234567  # a metric read from a property file: the longest float repr


@dataclass(frozen=True)
class StepRequest:
    step: str
    service: str
    operation: str
    params: dict[str, Any]


def walk_steps(steps: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for step in steps:
        yield step
        arguments = step.get("Arguments", {})
        yield from walk_steps(arguments.get("IfSteps", []) + arguments.get("ElseSteps", []))


class StandIns:
    """Typed stand-ins for the expressions of one definition."""

    def __init__(self, definition: dict[str, Any], pipeline_name: str, artifact_uri_prefix: str):
        self.parameters = {p["Name"]: p.get("DefaultValue") for p in definition.get("Parameters", [])}
        self.pipeline_name = pipeline_name
        self.artifact_uri_prefix = artifact_uri_prefix  # s3://<bucket>/<project>/pipelines/<pipeline>

    def resolve(self, value: Any, shape: Shape | None) -> Any:
        """`value` with every expression replaced, typed for `shape` (None: keep the natural type)."""
        if isinstance(value, dict) and len(value) == 1 and next(iter(value)) in ("Get", "Std:Join", "Std:JsonGet"):
            return _typed(self._expression(value), shape)
        if isinstance(value, dict):
            return {k: self.resolve(v, _child(shape, k)) for k, v in value.items() if v is not None}
        if isinstance(value, list):
            item_shape = shape.member if shape is not None and shape.type_name == "list" else None
            return [self.resolve(v, item_shape) for v in value]
        return value

    def _expression(self, expression: dict[str, Any]) -> Any:
        (kind, body), = expression.items()
        if kind == "Std:Join":
            return body["On"].join(str(self.resolve(v, None)) for v in body["Values"])
        if kind == "Std:JsonGet":
            return JSON_GET_STAND_IN
        return self._get(body)

    def _get(self, path: str) -> Any:
        if path.startswith("Parameters."):
            return self.parameters[path.removeprefix("Parameters.")]
        if path == "Execution.PipelineExecutionId":
            return EXECUTION_ID
        if path == "Execution.PipelineName":
            return self.pipeline_name
        if path.startswith("Steps.") and path.rsplit(".", 1)[-1] in S3_PROPERTIES:
            step = path.split(".")[1]
            return f"{self.artifact_uri_prefix}/runs/{EXECUTION_ID}/{step}/output-name/object-name.json"
        raise AssertionError(f"no stand-in for the expression Get {path!r}: add one to StandIns")


def _child(shape: Shape | None, key: str) -> Shape | None:
    if shape is None:
        return None
    if shape.type_name == "structure":
        return shape.members.get(key)
    if shape.type_name == "map":
        return shape.value
    return None


def _typed(value: Any, shape: Shape | None) -> Any:
    if shape is None:
        return value
    kind = shape.type_name
    if kind == "string":
        return value if isinstance(value, str) else str(value).lower() if isinstance(value, bool) else str(value)
    if kind == "boolean":
        return value if isinstance(value, bool) else str(value).lower() == "true"
    if kind in ("integer", "long"):
        return int(value)
    if kind in ("float", "double"):
        return float(value)
    return value


def step_requests(definition: dict[str, Any], stand_ins: StandIns) -> list[StepRequest]:
    """The request of every step that calls an API, expressions resolved, service-filled names added."""
    requests = []
    for step in walk_steps(definition["Steps"]):
        if step["Type"] in STEPS_WITHOUT_REQUESTS:
            continue
        assert step["Type"] in STEP_OPERATIONS, f"step {step['Name']}: no API known for type {step['Type']}"
        service, operation = STEP_OPERATIONS[step["Type"]]
        input_shape = operation_model(service, operation).input_shape
        params = stand_ins.resolve(step["Arguments"], input_shape)
        if operation in SERVICE_JOB_NAMES:
            params[SERVICE_JOB_NAMES[operation]] = service_job_name(step["Name"])
        requests.append(StepRequest(step["Name"], service, operation, params))
    return requests


def service_job_name(step_name: str) -> str:
    """The name SageMaker Pipelines gives a step's job."""
    return f"pipelines-{EXECUTION_ID}-{step_name}-AbCdEfGhIj"
