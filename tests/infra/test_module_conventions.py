"""terraform-aws-modules conventions: every module has main/variables/outputs/versions (and a
README whose Inputs/Outputs tables are current); variables are typed and described, validations
explain themselves in a sentence, outputs are described, versions pin Terraform and the provider."""

from __future__ import annotations

import re
from pathlib import Path

from infra.tools.module_docs import current_section, module_dirs, render_tables
from infra.tools.terraform_config import INFRA_DIR, config_blocks, fields

MODULE_FILES = ("main.tf", "variables.tf", "outputs.tf", "versions.tf")


def variable_problems(body: dict[str, object]) -> list[str]:
    """What one variable block lacks: a type, a plain-text description, validations that explain themselves."""
    problems = [] if "type" in body else ["no type"]
    description = str(body.get("description", ""))
    if not description.strip():
        problems.append("no description")
    elif "${" in description:  # terraform init: "Variables may not be used here"
        problems.append("the description interpolates ${...}; write it as plain text")
    for rule in body.get("validation", []):
        message = str(rule.get("error_message", ""))
        if "condition" not in rule or not re.match(r"^[A-Z].*[.?]$", message, flags=re.DOTALL):
            problems.append("a validation needs a condition and an error_message sentence")
    return problems


def convention_problems(directory: Path, *, readme_required: bool) -> list[str]:
    """Everything one module directory does not follow."""
    problems = [f"{directory}: no {name}" for name in MODULE_FILES if not (directory / name).is_file()]
    blocks = config_blocks(directory)
    for block in blocks:
        body = fields(block.body)
        if block.kind == "variable":
            problems += [f"{block.where}: {problem}" for problem in variable_problems(body)]
        elif block.kind == "output" and not str(body.get("description", "")).strip():
            problems.append(f"{block.where}: no description")
    versions = [b.body for b in blocks if b.kind == "terraform" and "required_version" in b.body]
    if not versions:
        problems.append(f"{directory}: versions.tf sets no required_version")
    elif not any("aws" in provider for v in versions for provider in v.get("required_providers", [])):
        problems.append(f"{directory}: versions.tf does not require hashicorp/aws")
    readme = directory / "README.md"
    if readme.is_file():
        if current_section(readme) != render_tables(directory):
            problems.append(f"{readme}: Inputs/Outputs tables are stale; run `python -m infra.tools.module_docs`")
    elif readme_required:
        problems.append(f"{directory}: no README.md")
    return problems


def test_modules_follow_the_conventions() -> None:
    problems = [
        problem
        for directory in module_dirs(INFRA_DIR)
        for problem in convention_problems(directory, readme_required=directory != INFRA_DIR)
    ]
    assert not problems, "\n".join(problems)


def test_the_convention_check_can_fail(tmp_path: Path) -> None:
    (tmp_path / "variables.tf").write_text(
        'variable "name" {\n  validation {\n    condition     = true\n    error_message = "bad"\n  }\n}\n'
        'variable "path" {\n  type        = string\n  description = "e.g. ${path.module}/lambda"\n}\n'
    )
    (tmp_path / "outputs.tf").write_text('output "id" {\n  value = "x"\n}\n')
    (tmp_path / "README.md").write_text("# x\n\n<!-- BEGIN_TF_DOCS -->\n<!-- END_TF_DOCS -->\n")
    problems = "\n".join(convention_problems(tmp_path, readme_required=True))
    for expected in (
        "no main.tf",
        "no versions.tf",
        "variable.name: no type",
        "variable.name: no description",
        "error_message sentence",
        "output.id: no description",
        "sets no required_version",
        "tables are stale",
        "variable.path: the description interpolates",
    ):
        assert expected in problems
