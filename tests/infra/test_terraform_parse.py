"""Every HCL file under infra/ parses (python-hcl2 stands in for `terraform init` + `validate` syntax)."""

from __future__ import annotations

from pathlib import Path

import pytest

from infra.tools.terraform_config import HCL_SUFFIXES, INFRA_DIR, hcl_files, load

FILES = hcl_files(INFRA_DIR)


def test_infra_has_terraform_files() -> None:
    assert any(p.suffix == ".tf" for p in FILES), f"no .tf files under {INFRA_DIR}"


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(INFRA_DIR)))
def test_file_parses(path: Path) -> None:
    try:
        load(path)
    except Exception as error:  # python-hcl2 raises lark errors carrying line and column
        pytest.fail(f"{path} does not parse as HCL ({', '.join(HCL_SUFFIXES)}): {error}", pytrace=False)


def test_a_syntax_error_is_reported(tmp_path: Path) -> None:
    broken = tmp_path / "broken.tf"
    broken.write_text('resource "aws_s3_bucket" "this" {\n  bucket = "x"\n')
    with pytest.raises(Exception):  # noqa: B017 - python-hcl2 raises several lark error types
        load(broken)
