"""Rendering across a matrix of inputs: complete, self-contained, no leftover template syntax."""

from __future__ import annotations

import itertools
import re
import tomllib
from pathlib import Path

import pytest

from hooks.assemble import SHARED_PATHS

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

NAMES = [
    ("Churn Model", "churn-model"),
    ("fraud_detector_2", "fraud-detector-2"),
    ("LTV-forecast 3000", "ltv-forecast-3000"),
]
MATRIX = [
    pytest.param(name, slug, problem, spot, provider, id=f"{slug}-{problem}-spot_{spot}-{provider}")
    for (name, slug), (problem, spot, provider) in zip(
        itertools.cycle(NAMES),
        itertools.product(("binary_classification", "regression"), ("yes", "no"), ("github", "codecommit")),
    )
]


def text_files(root: Path):
    for path in sorted(root.rglob("*")):
        if path.is_file():
            try:
                yield path, path.read_text()
            except UnicodeDecodeError:
                continue


@pytest.mark.parametrize("name, slug, problem, spot, provider", MATRIX)
def test_render_matrix(cookies, name, slug, problem, spot, provider):
    result = cookies.bake(
        extra_context={"project_name": name, "problem_type": problem, "use_spot": spot, "source_provider": provider}
    )
    assert result.exit_code == 0, result.exception
    project = Path(result.project_path)
    assert project.name == slug

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

    config = tomllib.loads((project / "pyproject.toml").read_text())["tool"]["ml-factory"]
    assert config["project"] == slug
    assert config["problem_type"] == problem
    assert config["training"]["use_spot"] is (spot == "yes")
    assert config["source_provider"] == provider
    expected_gate = {"binary_classification": ("auc", 0.7), "regression": ("r2", 0.1)}[problem]
    assert (config["metric"]["name"], config["metric"]["threshold"]) == expected_gate, "scale-free default gate"


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
