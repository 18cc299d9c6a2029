"""Rendering across a matrix of inputs: complete, self-contained, no leftover template syntax."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from input_matrix import matrix_rows

from hooks.assemble import SHARED_PATHS
from pipelines.rules import DEFAULT_GATE

TEMPLATE_ROOT = Path(__file__).resolve().parent.parent
LEFTOVERS = ("{{", "{%", "cookiecutter.")
EXPECTED_FILES = (
    "README.md",
    "pyproject.toml",
    "Makefile",
    ".ci/run",
    "buildspec.yml",
    "requirements.lock",
    "pipelines/config.py",
    "pipelines/wiring.py",
    "seedcode/train.py",
    "tests",
    "infra/main.tf",
    "infra/envs/dev.tfvars",
    "infra/envs/staging.tfvars",
    "infra/envs/prod.tfvars",
)

def text_files(root: Path):
    for path in sorted(root.rglob("*")):
        if path.is_file():
            try:
                yield path, path.read_text()
            except UnicodeDecodeError:
                continue


@pytest.mark.parametrize("row", matrix_rows(), ids=lambda row: row.label)
def test_render_matrix(matrix_renders, row):
    """Each row of the input matrix (input_matrix.py): complete, self-contained, its inputs in the config."""
    project = matrix_renders[row.label]
    assert project.is_dir(), f"{row.slug} missing"

    for relative in EXPECTED_FILES:
        assert (project / relative).exists(), f"{relative} missing from the rendered repo"
    for relative in SHARED_PATHS:
        assert (project / relative).exists(), f"shared path {relative} was not copied"

    leftovers = [
        f"{path.relative_to(project)}: {marker!r}"
        for path, text in text_files(project)
        for marker in LEFTOVERS
        if marker in text
    ]
    assert not leftovers, "leftover template syntax:\n" + "\n".join(leftovers)

    inputs = row.inputs
    config = tomllib.loads((project / "pyproject.toml").read_text())["tool"]["ml-factory"]
    assert config["project"] == row.slug
    assert config["aws_region"] == inputs["aws_region"]
    assert config["problem_type"] == inputs["problem_type"]
    assert config["training"]["use_spot"] is (inputs["use_spot"] == "yes")
    assert config["training"]["instance_type"] == inputs["training_instance_type"]
    assert config["source_provider"] == inputs["source_provider"]
    assert (config["metric"]["name"], config["metric"]["threshold"]) == (inputs["primary_metric"],
                                                                         float(inputs["metric_threshold"]))
    assert {stage: config["stages"][stage]["account_id"] for stage in ("dev", "staging", "prod")} == {
        stage: inputs[f"{stage}_account_id"] for stage in ("dev", "staging", "prod")}


def test_default_render_gets_the_scale_free_gate(cookies):
    for problem_type, gate in DEFAULT_GATE.items():
        result = cookies.bake(extra_context={"problem_type": problem_type})
        assert result.exit_code == 0, result.exception
        config = tomllib.loads((Path(result.project_path) / "pyproject.toml").read_text())["tool"]["ml-factory"]
        assert (config["metric"]["name"], config["metric"]["threshold"]) == gate, problem_type


def test_rendered_config_loads_for_every_stage(cookies):
    """The generated pyproject passes the same validation the pipeline applies at run time."""
    from pipelines.config import load_config

    result = cookies.bake(extra_context={"dev_account_id": "123456789012", "prod_account_id": "210987654321"})
    assert result.exit_code == 0, result.exception
    pyproject = Path(result.project_path) / "pyproject.toml"
    accounts = {stage: load_config(stage, pyproject).account_id for stage in ("dev", "staging", "prod")}
    assert accounts == {"dev": "123456789012", "staging": "222222222222", "prod": "210987654321"}


def test_shared_code_is_copied_not_forked(cookies):
    """Generated repos get the root's code byte for byte: one source of truth."""
    result = cookies.bake()
    assert result.exit_code == 0, result.exception
    project = Path(result.project_path)
    for relative in ("pipelines/config.py", "pipelines/wiring.py", "Makefile", "requirements.lock"):
        assert (project / relative).read_bytes() == (TEMPLATE_ROOT / relative).read_bytes(), relative
    assert not (project / "template_tests").exists()
    assert not (project / "hooks").exists()
    assert not (project / "cookiecutter.json").exists()


def test_a_relative_template_path_renders_like_an_absolute_one(tmp_path):
    """`cookiecutter .` in the template checkout, as a platform engineer tries a change: the hook that copies
    the shared code runs in the new repo, and must still find the template."""
    done = subprocess.run([sys.executable, "-m", "cookiecutter", "--no-input", "-o", str(tmp_path), "."],
                          cwd=TEMPLATE_ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    [project] = tmp_path.iterdir()
    for relative in ("pipelines/config.py", "seedcode/train.py", "Makefile"):
        assert (project / relative).read_bytes() == (TEMPLATE_ROOT / relative).read_bytes(), relative


def test_team_infra_pins_module_sources_to_template_version(cookies):
    result = cookies.bake()
    assert result.exit_code == 0, result.exception
    project = Path(result.project_path)
    version = tomllib.loads((TEMPLATE_ROOT / "pyproject.toml").read_text())["project"]["version"]
    main_tf = (project / "infra" / "main.tf").read_text()
    sources = re.findall(r'^\s*source\s*=\s*"([^"]+)"', main_tf, flags=re.MULTILINE)
    assert len(sources) >= 6, sources
    for source in sources:
        assert source.startswith("git::") and source.endswith(f"?ref=v{version}"), source
    assert not (project / "infra" / "modules").exists()
