"""pin_module_sources: the rewrite the post-generation hook applies to a team repo's infra/*.tf."""

from __future__ import annotations

import pytest

from infra.tools.module_sources import pin_module_sources
from infra.tools.terraform_config import INFRA_DIR

TEMPLATE = "git::https://github.com/acme/ml-factory-template.git"

ROOT = """module "kms" {
  source = "./modules/kms"

  project = var.project
}

module "data_perimeter" {
  source = "./modules/data-perimeter" # the buckets
}

module "other" {
  source  = "terraform-aws-modules/vpc/aws"
  version = "6.0.0"
}
"""


def test_pins_each_local_module_source_to_the_release_tag() -> None:
    pinned = pin_module_sources(ROOT, TEMPLATE, "1.4.0")
    assert f'  source = "{TEMPLATE}//infra/modules/kms?ref=v1.4.0"\n' in pinned
    assert f'  source = "{TEMPLATE}//infra/modules/data-perimeter?ref=v1.4.0" # the buckets\n' in pinned
    assert '  source  = "terraform-aws-modules/vpc/aws"' in pinned  # registry modules stay as they are
    assert "./modules/" not in pinned
    assert pinned.count("  #checkov:skip=CKV_TF_1:Pinned to the template release tag v1.4.0") == 2
    assert pinned.count("\n") == ROOT.count("\n") + 2  # one skip line added per pinned source


def test_accepts_a_leading_v_and_prerelease() -> None:
    assert "?ref=v2.0.0-rc.1" in pin_module_sources(ROOT, TEMPLATE, "v2.0.0-rc.1")


def test_is_idempotent_on_pinned_text() -> None:
    pinned = pin_module_sources(ROOT, TEMPLATE, "1.4.0")
    assert pin_module_sources(pinned, TEMPLATE, "1.4.0") == pinned


@pytest.mark.parametrize("version", ["", "latest", "1.4", "main"])
def test_rejects_a_malformed_version(version: str) -> None:
    with pytest.raises(ValueError, match="release version"):
        pin_module_sources(ROOT, TEMPLATE, version)


@pytest.mark.parametrize("source", ["", "has space", f"{TEMPLATE}?ref=x", f"{TEMPLATE}/"])
def test_rejects_a_malformed_template_source(source: str) -> None:
    with pytest.raises(ValueError, match="template_source"):
        pin_module_sources(ROOT, source, "1.0.0")


def test_rejects_a_local_source_in_another_form() -> None:
    with pytest.raises(ValueError, match="not in the form"):
        pin_module_sources('module "x" {\n  source = "../modules/kms"\n}\n', TEMPLATE, "1.0.0")


def test_every_root_module_source_is_in_the_pinnable_form() -> None:
    """The template's own root module keeps the exact one-line form the hook rewrites."""
    for path in sorted(INFRA_DIR.glob("*.tf")):
        pin_module_sources(path.read_text(encoding="utf-8"), TEMPLATE, "1.0.0")  # raises on a stray form
