"""The Studio launch template: generated from cookiecutter.json and pipelines/rules.py, valid for cfn-lint and
checkov, and its parameters reject what cookiecutter rejects."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from test_invalid_inputs import CASES

from hooks.studio_template import (
    CHECKED_IN,
    launch_template,
    parameter_accepts,
    render_launch_template,
    stack_parameter_names,
)
from pipelines.rules import METRIC_SPECS

TEMPLATE_ROOT = Path(__file__).resolve().parent.parent
TEMPLATE_FILE = TEMPLATE_ROOT / CHECKED_IN
COOKIECUTTER = json.loads((TEMPLATE_ROOT / "cookiecutter.json").read_text())


def test_checked_in_template_is_current() -> None:
    assert TEMPLATE_FILE.read_text() == render_launch_template(), (
        f"{CHECKED_IN} is stale: run `python -m hooks.studio_template`")


def test_every_cookiecutter_input_is_a_stack_parameter_with_its_prompt() -> None:
    template = launch_template(TEMPLATE_ROOT)
    names = stack_parameter_names()
    assert set(names) == {k for k in COOKIECUTTER if not k.startswith("_")}
    for field, parameter in names.items():
        assert parameter in template["Parameters"], field
        assert COOKIECUTTER["__prompts__"][field] in template["Parameters"][parameter]["Description"]
    assert set(template["Resources"]["Vending"]["Properties"]["TemplateInputs"]) == set(names)


def test_cfn_lint_passes() -> None:
    binary = Path(sys.executable).parent / "cfn-lint"
    assert binary.is_file(), f"cfn-lint is missing at {binary}; requirements.lock pins it (make venv)"
    done = subprocess.run([str(binary), "--format", "parseable", str(TEMPLATE_FILE)], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_checkov_passes_on_the_cloudformation_template() -> None:
    binary = Path(os.environ.get("CHECKOV_BIN") or TEMPLATE_ROOT / ".venv-checkov" / "bin" / "checkov")
    assert binary.is_file(), f"checkov is missing at {binary}: run make test (it builds .venv-checkov)"
    done = subprocess.run([str(binary), "-f", str(TEMPLATE_FILE), "--framework", "cloudformation",
                           "--skip-download", "--compact", "--output", "json"], capture_output=True, text=True,
                          env={**os.environ, "CKV_SKIP_PACKAGE_UPDATE_CHECK": "true"}, timeout=300)
    report = json.loads(done.stdout)
    summary = report.get("summary", report)
    assert summary["parsing_errors"] == 0 and summary["failed"] == 0, done.stdout[-3000:]


def _rules_reject(template: dict, values: dict[str, str]) -> bool:
    """Evaluate the template's metric rules (Fn::Equals condition, Fn::Contains assertion) on `values`."""
    by_parameter = {stack_parameter_names()[k]: v for k, v in values.items()}
    for rule in template["Rules"].values():
        left, right = rule["RuleCondition"]["Fn::Equals"]
        if by_parameter.get(left["Ref"]) != right:
            continue
        for assertion in rule["Assertions"]:
            allowed, ref = assertion["Assert"]["Fn::Contains"]
            if by_parameter.get(ref["Ref"], "") not in allowed:
                return True
    return False


# Inputs whose valid range depends on another input: CloudFormation cannot compare numbers, so the vending
# job's check_template_inputs (test_studio_vend.py runs every case through it) is what rejects them.
RANGE_CASES = {("metric_threshold", "1.5")}


@pytest.mark.parametrize("field, value, message", CASES, ids=[f"{c[0]}={c[1]}" for c in CASES])
def test_stack_parameters_reject_what_cookiecutter_rejects(field: str, value: str, message: str) -> None:
    template = launch_template(TEMPLATE_ROOT)
    spec = template["Parameters"][stack_parameter_names()[field]]
    values = {"problem_type": "binary_classification", field: value}
    rejected = not parameter_accepts(spec, value) or _rules_reject(template, values)
    assert rejected != ((field, value) in RANGE_CASES), f"{field}={value!r} against {spec}"


def test_defaults_and_good_values_are_accepted() -> None:
    template = launch_template(TEMPLATE_ROOT)
    for name, spec in template["Parameters"].items():
        if "Default" in spec:
            assert parameter_accepts(spec, spec["Default"]), name
    for field, value in (("project", "churn-model"), ("target_column", "Churn Flag"), ("metric_threshold", "0.75"),
                         ("github_repository", "acme/churn-model"), ("aws_region", "us-gov-west-1")):
        assert parameter_accepts(template["Parameters"][stack_parameter_names()[field]], value), field
    for problem_type, metric in ((kind, name) for kind, specs in METRIC_SPECS.items() for name in specs):
        assert not _rules_reject(template, {"problem_type": problem_type, "primary_metric": metric})


def test_patterns_are_portable_to_cloudformation() -> None:
    """AllowedPattern is a Java regex: no Python-only syntax (named groups, \\Z, inline flags)."""
    template = yaml.safe_load(TEMPLATE_FILE.read_text())
    for name, spec in template["Parameters"].items():
        pattern = spec.get("AllowedPattern", "")
        assert not re.search(r"\(\?P|\\Z|\(\?[aiLmsux]", pattern), name


def test_the_function_arn_parameter_is_the_one_the_module_writes() -> None:
    from hooks.studio_template import FUNCTION_ARN_PARAMETER

    main_tf = (TEMPLATE_ROOT / "infra/modules/studio-launch/main.tf").read_text()
    assert f'function_arn_parameter   = "{FUNCTION_ARN_PARAMETER}"' in main_tf
    parameter = launch_template(TEMPLATE_ROOT)["Parameters"]["VendingFunctionArn"]
    assert parameter["Default"] == FUNCTION_ARN_PARAMETER
