"""The CloudFormation template a SageMaker project launches: `python -m hooks.studio_template` rewrites
studio/launch-template.yaml (a test fails while the checked-in copy is stale).

Its parameters are generated from cookiecutter.json (the inputs, their defaults and prompts) and from the
rules in pipelines/rules.py (AllowedPattern, AllowedValues, ConstraintDescription, and `Rules` tying the
primary metric to the problem type), so Studio's form and cookiecutter cannot drift apart. A default that
cookiecutter derives from other inputs (target column, metric, threshold, GitHub repository) is an empty
parameter: the vending job lets cookiecutter derive it. The project slug is SageMaker's own
`SageMakerProjectName`. The one resource is a custom resource served by the studio-launch module's
function: it starts the vending CodeBuild job, which validates the inputs again with the same rules,
renders, creates and seeds the repo, applies the dev stage's Terraform, and answers the stack: a failure
shows its reason in Studio and the stack rolls back.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

import yaml

from pipelines.rules import METRIC_NAMES, METRIC_SPECS, PROBLEM_TYPES, RULES, SOURCE_PROVIDERS

TEMPLATE_ROOT = Path(__file__).resolve().parent.parent
CHECKED_IN = Path("studio") / "launch-template.yaml"
PROJECT_NAME_PARAMETER = "SageMakerProjectName"  # SageMaker fills it with the project's name: our slug
FUNCTION_ARN_PARAMETER = "/ml-factory/studio/vending-function-arn"  # written by infra/modules/studio-launch
# input -> the pipelines.rules rule it is checked with (its name when absent)
RULE_OF = {"training_instance_type": "instance_type", "dev_account_id": "account_id",
           "staging_account_id": "account_id", "prod_account_id": "account_id"}
CHOICES: dict[str, tuple[str, ...]] = {"problem_type": PROBLEM_TYPES, "use_spot": ("yes", "no"),
                                       "source_provider": SOURCE_PROVIDERS, "primary_metric": METRIC_NAMES}
NUMBER = r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?"  # what float() reads; the range is the vending job's
# Inputs whose empty value means "this stack's own region / account" rather than cookiecutter's placeholder.
STACK_DEFAULTS = {"aws_region": "AWS::Region", "dev_account_id": "AWS::AccountId"}


def parameter_name(field: str) -> str:
    return "".join(part.capitalize() for part in field.split("_"))


def template_inputs(root: Path) -> tuple[dict[str, str], dict[str, str]]:
    """(input -> cookiecutter default, input -> prompt) for every user-facing cookiecutter input."""
    context = json.loads((root / "cookiecutter.json").read_text())
    prompts = context.get("__prompts__", {})
    inputs = {k: v for k, v in context.items() if not k.startswith("_") and k != "project"}
    return inputs, prompts


def _bare(pattern: str) -> str:
    return pattern.removeprefix("^").removesuffix("$")


def parameter(field: str, default: str, prompt: str) -> dict[str, Any]:
    """One stack parameter: the input's prompt, default and the pattern or choices its rule allows."""
    derived = "{{" in default
    spec: dict[str, Any] = {"Type": "String", "Description": prompt}
    spec["Default"] = "" if derived or field in STACK_DEFAULTS else default
    optional = derived or field in STACK_DEFAULTS
    if field in CHOICES:
        spec["AllowedValues"] = ([""] if optional else []) + list(CHOICES[field])
        return spec
    rule = RULES.get(RULE_OF.get(field, field))
    body, form = (_bare(rule.pattern.pattern), rule.form) if rule else (NUMBER, "a number")
    spec["AllowedPattern"] = f"^(?:{body})?$" if optional else f"^{body}$"
    spec["ConstraintDescription"] = f"must be {form}" + (" (or empty for the default)" if optional else "")
    if derived:
        spec["Description"] = f"{prompt} (empty: the template's default)"
    elif field in STACK_DEFAULTS:
        spec["Description"] = f"{prompt} (empty: this stack's)"
    return spec


def metric_rules() -> dict[str, Any]:
    """One CloudFormation rule per problem type: the primary metric must be one of that type's (or empty)."""
    rules = {}
    for problem_type in PROBLEM_TYPES:
        fitting = list(METRIC_SPECS[problem_type])
        rules[f"PrimaryMetricFits{parameter_name(problem_type)}"] = {
            "RuleCondition": {"Fn::Equals": [{"Ref": "ProblemType"}, problem_type]},
            "Assertions": [{"Assert": {"Fn::Contains": [[""] + fitting, {"Ref": "PrimaryMetric"}]},
                            "AssertDescription": f"primary_metric must be one of {', '.join(fitting)} "
                                                 f"for problem_type {problem_type}"}],
        }
    return rules


def _input_value(field: str) -> Any:
    if field in STACK_DEFAULTS:
        return {"Fn::If": [f"{parameter_name(field)}Given", {"Ref": parameter_name(field)},
                           {"Ref": STACK_DEFAULTS[field]}]}
    return {"Ref": parameter_name(field)}


def launch_template(root: Path) -> dict[str, Any]:
    inputs, prompts = template_inputs(root)
    project_rule = RULES["project"]
    parameters: dict[str, Any] = {
        PROJECT_NAME_PARAMETER: {"Type": "String", "AllowedPattern": project_rule.pattern.pattern,
                                 "ConstraintDescription": f"must be {project_rule.form}",
                                 "Description": prompts.get("project", "Project slug")},
        "SageMakerProjectId": {"Type": "String", "Description": "Service generated Id of the project."},
    }
    parameters |= {parameter_name(f): parameter(f, str(d), prompts.get(f, f)) for f, d in inputs.items()}
    parameters["VendingFunctionArn"] = {
        "Type": "AWS::SSM::Parameter::Value<String>", "Default": FUNCTION_ARN_PARAMETER,
        "Description": "SSM parameter holding the vending function's ARN (platform setting; keep the default)"}
    conditions = {f"{parameter_name(f)}Given": {"Fn::Not": [{"Fn::Equals": [{"Ref": parameter_name(f)}, ""]}]}
                  for f in STACK_DEFAULTS}
    template_inputs_value = {"project": {"Ref": PROJECT_NAME_PARAMETER}} | {f: _input_value(f) for f in inputs}
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": "ML Factory team project: a source repo rendered from the template, its dev infrastructure "
                       "and first pipeline run (generated by hooks/studio_template.py; do not edit)",
        "Parameters": parameters,
        "Rules": metric_rules(),
        "Conditions": conditions,
        "Resources": {"Vending": {
            "Type": "Custom::MlFactoryVending",
            "Properties": {"ServiceToken": {"Ref": "VendingFunctionArn"}, "ServiceTimeout": 3600,
                           "SageMakerProjectId": {"Ref": "SageMakerProjectId"},
                           "TemplateInputs": template_inputs_value},
        }},
        "Outputs": {
            "RepositoryUrl": {"Description": "The team's source repository",
                              "Value": {"Fn::GetAtt": ["Vending", "RepositoryUrl"]}},
            "BuildLogUrl": {"Description": "The vending build's log",
                            "Value": {"Fn::GetAtt": ["Vending", "BuildLogUrl"]}},
        },
    }


def render_launch_template(root: Path = TEMPLATE_ROOT) -> str:
    return yaml.safe_dump(launch_template(root), sort_keys=False, width=120, allow_unicode=True)


def stack_parameter_names(root: Path = TEMPLATE_ROOT) -> dict[str, str]:
    """input -> its stack parameter (the slug is SageMakerProjectName)."""
    inputs, _ = template_inputs(root)
    return {"project": PROJECT_NAME_PARAMETER} | {f: parameter_name(f) for f in inputs}


def parameter_accepts(spec: dict[str, Any], value: str) -> bool:
    """Whether CloudFormation would accept `value` for a parameter (its AllowedValues / AllowedPattern)."""
    if "AllowedValues" in spec:
        return value in spec["AllowedValues"]
    return "AllowedPattern" not in spec or re.fullmatch(spec["AllowedPattern"], value) is not None


def main() -> int:
    target = TEMPLATE_ROOT / CHECKED_IN
    target.parent.mkdir(exist_ok=True)
    target.write_text(render_launch_template())
    print(target)
    return 0


if __name__ == "__main__":
    sys.exit(main())
