"""Every request our code makes, checked against botocore's service model at the longest names.

ParamValidator checks types and required members; `contract_shapes.limit_problems` adds the
length, pattern, enum and range limits that only the service would otherwise enforce. Requests
come from the pipeline definition (each step's API request, expressions replaced by typed
stand-ins) and from our CLIs, recorded while they run against moto or botocore's Stubber.
"""

from __future__ import annotations

import json

import contract_longest
import pytest
from contract_definition import SERVICE_JOB_NAMES, STEP_OPERATIONS, walk_steps
from contract_recorder import MLFLOW_SERVICE, recorded_cli_calls
from contract_shapes import member_shape, request_problems


@pytest.fixture(scope="module")
def longest_pipeline():
    return contract_longest.longest_pipeline()


@pytest.fixture(scope="module")
def longest_requests():
    return list(contract_longest.longest_step_requests())


def test_every_step_that_calls_an_api_is_checked(longest_pipeline, longest_requests):
    _, _, built = longest_pipeline
    calling = [s["Name"] for s in walk_steps(built.definition_dict["Steps"]) if s["Type"] in STEP_OPERATIONS]
    assert [r.step for r in longest_requests] == calling
    assert {r.operation for r in longest_requests} == {"CreateProcessingJob", "CreateTrainingJob",
                                                        "CreateModelPackage"}


def test_step_requests_are_valid_at_the_longest_project_and_stage(longest_requests):
    problems = [p for r in longest_requests for p in request_problems(r.service, r.operation, r.params)]
    assert not problems, "\n".join(problems)


def test_create_pipeline_request_is_valid_at_the_longest_names(longest_pipeline):
    config, wiring, built = longest_pipeline
    params = {"PipelineName": config.pipeline_name, "PipelineDefinition": built.definition,
              "RoleArn": wiring.role_arn, "PipelineDescription": f"{config.project_name} ({config.stage})",
              "Tags": [{"Key": k, "Value": v} for k, v in config.tags.items()]}
    assert not request_problems("sagemaker", "CreatePipeline", params)
    limit = member_shape("sagemaker", "CreatePipeline", "PipelineDefinition").metadata["max"]
    assert len(built.definition.encode()) < limit / 4, "the definition uses over a quarter of its size limit"


def test_job_name_bases_fit_whole_with_the_sdk_timestamp(longest_pipeline):
    from sagemaker.core.common_utils import name_from_base

    config, _, built = longest_pipeline
    bases = [s.step_args.func_args[0].base_job_name for s in built.pipeline.steps if getattr(s, "step_args", None)]
    bases += [s.check_job_config.base_job_name for s in built.pipeline.steps if hasattr(s, "check_job_config")]
    assert len(bases) == 4 and all(b.startswith(config.project) for b in bases)
    for base in bases:
        name = name_from_base(base)
        assert not request_problems("sagemaker", "CreateProcessingJob", _with_name(name)), name
        assert name.startswith(base + "-"), f"the SDK cut {base!r} to fit the 63-character job name: {name}"


def _with_name(name: str) -> dict:
    """A minimal valid CreateProcessingJob request carrying `name`, to check the name alone."""
    return {"ProcessingJobName": name, "RoleArn": "arn:aws:iam::222222222222:role/r",
            "AppSpecification": {"ImageUri": "img"},
            "ProcessingResources": {"ClusterConfig": {"InstanceCount": 1, "InstanceType": "ml.m5.large",
                                                      "VolumeSizeInGB": 30}}}


def test_service_job_names_fit_for_every_step(longest_requests):
    for request in longest_requests:
        if request.operation in SERVICE_JOB_NAMES:
            name = request.params[SERVICE_JOB_NAMES[request.operation]]
            assert not request_problems(request.service, request.operation, request.params), name


def test_cli_requests_are_valid_at_the_longest_names():
    calls = contract_longest.longest_cli_calls()
    operations = {c.operation for c in calls}
    assert {"GetParameters", "HeadObject", "PutObject", "CreatePipeline", "UpdatePipeline",
            "StartPipelineExecution", "ListModelPackages"} <= operations
    problems = [p for c in calls for p in request_problems(c.service, c.operation, c.params)]
    assert not problems, "\n".join(problems)


def test_cli_requests_recorded_from_the_cli_tests_are_valid():
    calls = recorded_cli_calls()
    assert {"pipelines.run", "pipelines.registry", "pipelines.cloud"} <= {c.entry for c in calls}
    # botocore requests only: MLflow's REST calls (service sagemaker-mlflow) have no botocore model
    problems = [p for c in calls if c.service != MLFLOW_SERVICE for p in request_problems(c.service, c.operation,
                                                                                          c.params)]
    assert not problems, "\n".join(problems)


def test_the_walker_catches_what_param_validator_lets_through(longest_requests):
    train = next(r for r in longest_requests if r.operation == "CreateTrainingJob")
    too_long = {**train.params, "TrainingJobName": "x" * 64}
    bad_pattern = {**train.params, "TrainingJobName": "bad_name!"}
    bad_enum = json.loads(json.dumps(train.params))
    bad_enum["ResourceConfig"]["InstanceType"] = "ml.nothing.huge"
    out_of_range = json.loads(json.dumps(train.params))
    out_of_range["ResourceConfig"]["KeepAlivePeriodInSeconds"] = 21601
    from botocore.validate import ParamValidator
    from contract_shapes import operation_model

    shape = operation_model("sagemaker", "CreateTrainingJob").input_shape
    for bad, expected in ((too_long, "exceeds the maximum 63"), (bad_pattern, "does not match the pattern"),
                          (bad_enum, "is not one of"), (out_of_range, "exceeds the maximum 21600")):
        assert not ParamValidator().validate(bad, shape).has_errors()  # botocore alone lets it through
        problems = request_problems("sagemaker", "CreateTrainingJob", bad)
        assert any(expected in p for p in problems), problems


def test_a_pattern_with_unicode_classes_is_read():
    # Tag values use \p{L}\p{Z}\p{N}: a Python `re` would reject the pattern itself
    def tagged(value: str) -> list[str]:
        return request_problems("sagemaker", "AddTags", {
            "ResourceArn": "arn:aws:sagemaker:eu-west-1:222222222222:pipeline/p",
            "Tags": [{"Key": "Team", "Value": value}]})

    assert not tagged("Équipe 1")
    problems = tagged("a|b")
    assert len(problems) == 1 and "pattern" in problems[0], problems
