"""The cost tags every SageMaker resource our Python code creates must carry, and one check for them.

`assert_tagged(request)` takes the parameters of a create request (CreatePipeline, a step's job
request, CreateModel, CreateEndpointConfig, CreateEndpoint, CreateMonitoringSchedule, ...) and fails
naming what is missing. Deploy and monitoring tests call it on the requests they record.
"""

from __future__ import annotations

from typing import Any

REQUIRED_TAGS = ("Project", "Team", "Owner", "CostCenter", "Environment")
# Step types of a pipeline definition that create a billed or kept resource, and those that create none.
RESOURCE_STEPS = ("Processing", "QualityCheck", "ClarifyCheck", "Training", "Transform", "Tuning", "Model",
                  "CreateModel", "RegisterModel", "AutoML", "EMR", "Lambda")
STEPS_WITHOUT_RESOURCES = ("Condition", "Fail")


def tags_of(request: dict[str, Any]) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in request.get("Tags") or []}


def tag_problems(request: dict[str, Any], expected: dict[str, str] | None = None, what: str = "request") -> list[str]:
    """What `request` lacks: a missing or empty cost tag, or (given `expected`) a wrong value."""
    tags = tags_of(request)
    problems = [f"{what}: no {key} tag" for key in REQUIRED_TAGS if not tags.get(key)]
    if expected:
        problems += [f"{what}: {key}={tags[key]!r}, expected {expected[key]!r}" for key in REQUIRED_TAGS
                     if tags.get(key) and key in expected and tags[key] != expected[key]]
    return problems


def assert_tagged(request: dict[str, Any], expected: dict[str, str] | None = None, what: str = "request") -> None:
    problems = tag_problems(request, expected, what)
    assert not problems, "untagged resource:\n" + "\n".join(problems)


def walk_steps(steps: list[dict[str, Any]]) -> list[dict[str, Any]]:
    found = []
    for step in steps:
        found.append(step)
        arguments = step.get("Arguments", {})
        if isinstance(arguments, dict):
            found += walk_steps(arguments.get("IfSteps", []) + arguments.get("ElseSteps", []))
    return found


def definition_tag_problems(definition: dict[str, Any], expected: dict[str, str]) -> list[str]:
    """Every step that creates a resource carries the cost tags; an unknown step type is a problem too."""
    problems = []
    for step in walk_steps(definition["Steps"]):
        what = f"step {step['Name']} ({step['Type']})"
        if step["Type"] in RESOURCE_STEPS:
            problems += tag_problems(step.get("Arguments", {}), expected, what)
        elif step["Type"] not in STEPS_WITHOUT_RESOURCES:
            problems.append(f"{what}: a step type this check does not know; add it to tests/tagging.py")
    return problems
