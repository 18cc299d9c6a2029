"""The one contract between Terraform and Python, held together in both directions.

`pipelines/wiring.py` reads one SSM parameter per `WIRING_KEYS` entry under `ssm_prefix(project,
stage)`; `infra/modules/sagemaker-project/main.tf` writes one per key of `local.wiring` under
`local.ssm_prefix`. Template-only: generated repositories do not receive `infra/modules/`.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from infra.tools.terraform_config import config_blocks, fields  # noqa: E402
from pipelines.wiring import WIRING_KEYS, WRITER_MODULE, parameter_name, ssm_prefix  # noqa: E402

WRITER_DIR = REPO_ROOT / WRITER_MODULE


def _terraform_side() -> tuple[dict[str, Any], dict[str, Any]]:
    """(all locals, the wiring SSM parameter resource body) of the writer module."""
    blocks = config_blocks(WRITER_DIR)
    local_values = {k: v for b in blocks if b.kind == "locals" for k, v in fields(b.body).items()}
    [parameter] = [b for b in blocks if b.kind == "resource" and b.labels == ("aws_ssm_parameter", "wiring")]
    return local_values, parameter.body


def test_every_key_python_reads_is_written_by_terraform_and_vice_versa() -> None:
    local_values, _ = _terraform_side()
    written = set(fields(local_values["wiring"]))
    read = {spec.key for spec in WIRING_KEYS}
    assert not read - written, f"read by pipelines/wiring.py, not written by {WRITER_MODULE}: {sorted(read - written)}"
    assert not written - read, f"written by {WRITER_MODULE}, not read by pipelines/wiring.py: {sorted(written - read)}"
    string_lists = set(local_values["wiring_list_keys"])
    assert string_lists == {spec.key for spec in WIRING_KEYS if spec.is_list}, (
        f"StringList keys differ: Terraform local.wiring_list_keys {sorted(string_lists)}, "
        f"Python is_list {sorted(spec.key for spec in WIRING_KEYS if spec.is_list)}"
    )


def test_parameter_names_follow_the_same_prefix_on_both_sides() -> None:
    local_values, parameter = _terraform_side()
    placeholders = {"${var.project}": "PROJECT", "${var.stage}": "STAGE"}
    prefix = local_values["ssm_prefix"]
    for expression, value in placeholders.items():
        prefix = prefix.replace(expression, value)
    assert prefix == ssm_prefix("PROJECT", "STAGE"), f"local.ssm_prefix is {local_values['ssm_prefix']!r}"
    assert parameter["for_each"] == "${local.wiring}", "aws_ssm_parameter.wiring must iterate local.wiring"
    assert parameter["name"] == "${local.ssm_prefix}/${each.key}", f"parameter name is {parameter['name']!r}"
    assert "local.wiring_list_keys" in parameter["type"] and "StringList" in parameter["type"]
    for spec in WIRING_KEYS:
        assert parameter_name("PROJECT", "STAGE", spec.key) == f"{prefix}/{spec.key}"
