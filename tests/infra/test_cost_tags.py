"""A resource without the cost tags is not allowed: every taggable resource sets `tags` (merging
the module's `var.tags`), and the root provider's default_tags carry all six cost tags."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from infra.tools.provider_schema import supports_tags
from infra.tools.terraform_config import INFRA_DIR, Block, config_blocks, fields, is_block

COST_TAGS = ("Project", "Team", "Owner", "CostCenter", "Environment", "ManagedBy")
MODULE_DIRS = sorted({path.parent for path in INFRA_DIR.rglob("*.tf") if ".terraform" not in path.parts})


def untagged_resources(directory: Path) -> list[str]:
    """Taggable resources of one module that do not set `tags` from the module's `var.tags`."""
    module_blocks = config_blocks(directory)
    has_tags_variable = any(b.kind == "variable" and b.labels == ("tags",) for b in module_blocks)
    problems = []
    for block in module_blocks:
        if block.kind != "resource" or not supports_tags(block.labels[0]):
            continue
        tags = block.body.get("tags")
        if tags is None:
            problems.append(f"{block.where}: sets no tags")
        elif has_tags_variable and "var.tags" not in str(tags):
            problems.append(f"{block.where}: tags do not merge var.tags")
    return problems


def _resolve(value: Any, root_blocks: list[Block]) -> Any:
    """Follow a `${local.name}` reference to its value in the root module's locals."""
    if isinstance(value, str) and value.startswith("${local.") and value.endswith("}"):
        name = value[len("${local.") : -1]
        for block in root_blocks:
            if block.kind == "locals" and name in block.body:
                return block.body[name]
    return value


def default_tag_problems(root: Path) -> list[str]:
    """What the root module's aws provider lacks for its default_tags to carry every cost tag."""
    root_blocks = config_blocks(root)
    providers = [b for b in root_blocks if b.kind == "provider" and b.labels == ("aws",)]
    if not providers:
        return [f'{root}: no provider "aws" block']
    problems = []
    for provider in providers:
        default_tags = provider.body.get("default_tags")
        if not is_block(default_tags):
            problems.append(f"{provider.where}: no default_tags block")
            continue
        tags = _resolve(default_tags[0].get("tags"), root_blocks)
        if not isinstance(tags, dict):
            problems.append(f"{provider.where}: default_tags.tags is not a map literal or a local holding one")
            continue
        missing = [key for key in COST_TAGS if key not in fields(tags)]
        if missing:
            problems.append(f"{provider.where}: default_tags lack {', '.join(missing)}")
    return problems


def test_every_taggable_resource_sets_tags() -> None:
    problems = [p for directory in MODULE_DIRS for p in untagged_resources(directory)]
    assert not problems, "\n".join(problems)


def test_root_provider_default_tags_carry_every_cost_tag() -> None:
    assert default_tag_problems(INFRA_DIR) == []


def test_the_tag_checks_can_fail(tmp_path: Path) -> None:
    (tmp_path / "variables.tf").write_text('variable "tags" {\n  type = map(string)\n}\n')
    (tmp_path / "main.tf").write_text(
        'resource "aws_s3_bucket" "bare" {\n  bucket = "x"\n}\n\n'
        'resource "aws_kms_key" "fixed" {\n  tags = { Project = "x" }\n}\n\n'
        'resource "aws_kms_alias" "untaggable" {\n  name          = "alias/x"\n  target_key_id = "k"\n}\n\n'
        'locals {\n  cost_tags = { Project = "p", Team = "t" }\n}\n\n'
        'provider "aws" {\n  default_tags {\n    tags = local.cost_tags\n  }\n}\n'
    )
    problems = untagged_resources(tmp_path)
    assert len(problems) == 2
    assert "aws_s3_bucket.bare: sets no tags" in problems[0] + problems[1]
    assert "aws_kms_key.fixed: tags do not merge var.tags" in problems[0] + problems[1]
    [problem] = default_tag_problems(tmp_path)
    assert problem.endswith("default_tags lack Owner, CostCenter, Environment, ManagedBy")
