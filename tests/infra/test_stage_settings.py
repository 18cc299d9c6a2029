"""Each stage's settings (infra/envs/<stage>.tfvars) fit the root module: they set every required
variable, nothing it does not declare, and the stage the file is named after."""

from __future__ import annotations

from pathlib import Path

from infra.tools.terraform_config import INFRA_DIR, config_blocks, fields, load

STAGES = ("dev", "staging", "prod")


def stage_settings_problems(infra_dir: Path) -> list[str]:
    """What the tfvars files under `<infra_dir>/envs/` get wrong about the root module's variables."""
    variables = {b.labels[0]: b.body for b in config_blocks(infra_dir) if b.kind == "variable"}
    required = {name for name, body in variables.items() if "default" not in body}
    files = sorted((infra_dir / "envs").glob("*.tfvars"))
    if not files:
        return [f"{infra_dir / 'envs'}: no <stage>.tfvars files"]
    problems = []
    for path in files:
        values = fields(load(path))
        problems += [f"{path}: sets undeclared variable '{name}'" for name in sorted(set(values) - set(variables))]
        problems += [f"{path}: does not set required variable '{name}'" for name in sorted(required - set(values))]
        if path.stem in STAGES and values.get("stage") != path.stem:
            problems.append(f"{path}: stage is {values.get('stage')!r}, expected {path.stem!r}")
    return problems


def test_stage_settings_fit_the_root_module() -> None:
    problems = stage_settings_problems(INFRA_DIR)
    assert not problems, "\n".join(problems)


def test_the_stage_settings_check_can_fail(tmp_path: Path) -> None:
    (tmp_path / "variables.tf").write_text(
        'variable "stage" {\n  type = string\n}\n\nvariable "vpc_id" {\n  type = string\n}\n'
    )
    (tmp_path / "envs").mkdir()
    (tmp_path / "envs" / "prod.tfvars").write_text('stage  = "dev"\nvpc_ig = "vpc-1"\n')
    problems = "\n".join(stage_settings_problems(tmp_path))
    assert "sets undeclared variable 'vpc_ig'" in problems
    assert "does not set required variable 'vpc_id'" in problems
    assert "stage is 'dev', expected 'prod'" in problems
