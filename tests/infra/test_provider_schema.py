"""Resource, data source and provider blocks match the AWS provider schema; module calls and
references resolve. Together with parsing, this stands in for `terraform validate`."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from infra.tools.provider_schema import check_block, load_schema
from infra.tools.terraform_config import (
    INFRA_DIR,
    blocks,
    config_blocks,
    hcl_files,
    module_call_problems,
    moved_problems,
    reference_problems,
)

TF_FILES = hcl_files(INFRA_DIR, (".tf",))
MODULE_DIRS = sorted({path.parent for path in TF_FILES})


def _problems(path: Path) -> list[str]:
    return [problem for block in blocks(path) for problem in check_block(block)]


def test_schema_is_the_pinned_provider_major() -> None:
    schema = load_schema()
    assert schema["provider_version"].startswith("6."), schema["provider_version"]
    assert len(schema["resource"]) > 1000 and len(schema["data"]) > 400
    constraints = [
        block.body["required_providers"][0]["aws"]["version"]
        for path in TF_FILES
        for block in blocks(path)
        if block.kind == "terraform" and "required_providers" in block.body
    ]
    assert constraints, "no required_providers block declares hashicorp/aws"
    for constraint in constraints:
        major = re.search(r"(\d+)\.", constraint)
        assert major and major.group(1) == "6", f"aws provider constraint {constraint!r} is not the schema's major 6"


@pytest.mark.parametrize("path", TF_FILES, ids=lambda p: str(p.relative_to(INFRA_DIR)))
def test_blocks_match_provider_schema(path: Path) -> None:
    problems = _problems(path)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("directory", MODULE_DIRS, ids=lambda p: str(p.relative_to(INFRA_DIR.parent)))
def test_references_and_module_calls_resolve(directory: Path) -> None:
    problems = reference_problems(directory) + moved_problems(directory)
    problems += [p for block in config_blocks(directory) if block.kind == "module" for p in module_call_problems(block)]
    assert not problems, "\n".join(problems)


# The checks must be able to fail: feed them small broken configurations.


def _check_snippet(tmp_path: Path, text: str) -> list[str]:
    path = tmp_path / "snippet.tf"
    path.write_text(text)
    return _problems(path)


def test_catches_a_misspelled_argument(tmp_path: Path) -> None:
    problems = _check_snippet(tmp_path, 'resource "aws_s3_bucket" "this" {\n  buckett = "x"\n}\n')
    assert any("unsupported argument 'buckett'" in p and "did you mean 'bucket'" in p for p in problems), problems


def test_catches_a_missing_required_argument(tmp_path: Path) -> None:
    problems = _check_snippet(tmp_path, 'resource "aws_ssm_parameter" "this" {\n  name = "/x"\n  value = "y"\n}\n')
    where = f"{tmp_path / 'snippet.tf'}:1 resource.aws_ssm_parameter.this"
    assert problems == [f"{where}: missing required argument 'type'"]


def test_catches_nested_block_mistakes(tmp_path: Path) -> None:
    text = """
resource "aws_s3_bucket_versioning" "this" {
  bucket = "x"
}

resource "aws_s3_bucket_lifecycle_configuration" "this" {
  bucket = "x"

  rule {
    id     = "r"
    status = "Enabled"

    noncurrent_version_expiration {
      noncurrent_dayz = 30
    }
  }
}

data "aws_iam_policy_document" "this" {
  dynamic "statement" {
    for_each = [1]

    content {
      actionz = ["s3:GetObject"]
    }
  }
}
"""
    problems = "\n".join(_check_snippet(tmp_path, text))
    assert "aws_s3_bucket_versioning.this: missing required block 'versioning_configuration'" in problems
    assert "noncurrent_version_expiration: unsupported argument 'noncurrent_dayz'" in problems
    assert "noncurrent_version_expiration: missing required argument 'noncurrent_days'" in problems
    assert "dynamic 'statement': unsupported argument 'actionz'" in problems


def test_catches_an_unknown_resource_type(tmp_path: Path) -> None:
    problems = _check_snippet(tmp_path, 'resource "aws_s3_buckets" "this" {\n  bucket = "x"\n}\n')
    assert any("unknown resource type 'aws_s3_buckets'" in p for p in problems), problems


def test_accepts_meta_arguments_and_lifecycle(tmp_path: Path) -> None:
    text = """
resource "aws_s3_bucket" "this" {
  for_each   = toset(["a"])
  provider   = aws.other
  depends_on = [aws_s3_bucket.that]
  bucket     = each.key

  lifecycle {
    prevent_destroy = true
  }
}
"""
    assert _check_snippet(tmp_path, text) == []


def test_catches_unresolved_references_and_module_arguments(tmp_path: Path) -> None:
    module = tmp_path / "modules" / "thing"
    module.mkdir(parents=True)
    (module / "variables.tf").write_text('variable "name" {\n  type = string\n}\n')
    (module / "outputs.tf").write_text('output "arn" {\n  value = "x"\n}\n')
    (tmp_path / "main.tf").write_text(
        'module "thing" {\n  source = "./modules/thing"\n  nme    = var.missing\n}\n\n'
        'output "x" {\n  value = module.thing.id\n}\n'
    )
    problems = reference_problems(tmp_path)
    problems += [p for b in config_blocks(tmp_path) if b.kind == "module" for p in module_call_problems(b)]
    text = "\n".join(problems)
    assert "reference to undeclared var.missing" in text
    assert "module.thing has no output 'id'" in text
    assert "module has no variable 'nme'" in text
    assert "missing required variable 'name'" in text


def test_catches_moved_blocks_that_point_nowhere(tmp_path: Path) -> None:
    """A resource moved into a module call must land on a resource that module declares, and leave its old address."""
    module = tmp_path / "modules" / "role"
    module.mkdir(parents=True)
    (module / "main.tf").write_text('resource "aws_iam_role" "this" {\n  name = "r"\n}\n')
    (tmp_path / "main.tf").write_text(
        'module "role" {\n  source = "./modules/role"\n}\n\n'
        'resource "aws_iam_role" "kept" {\n  name = "k"\n}\n\n'
        'moved {\n  from = aws_iam_role.this["a"]\n  to   = module.role.aws_iam_role.this\n}\n\n'
        'moved {\n  from = aws_iam_role.kept\n  to   = module.role.aws_iam_role.that\n}\n\n'
        'moved {\n  from = aws_iam_role.gone\n  to   = module.other.aws_iam_role.this\n}\n'
    )
    problems = "\n".join(moved_problems(tmp_path))
    assert "moved from aws_iam_role.kept, which is still declared" in problems
    assert "moved to aws_iam_role.that, which" in problems and "does not declare" in problems
    assert "moved to module.other, not a local module call" in problems
    assert "aws_iam_role.this[" not in problems and problems.count("\n") == 2  # the first block is sound
    assert not reference_problems(tmp_path)  # a moved block's gone `from` is no dangling reference
