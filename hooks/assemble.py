"""Assemble a generated team repo from the template root: the one copy of the shared code.

`{{cookiecutter.project}}/` holds only what differs per team (README, pyproject config,
per-stage tfvars). Everything else is copied from the template root here, so no code is kept
twice. The team's Terraform root module is copied with its module sources pinned to this
template's version tag, so the generated repo no longer depends on the template checkout.
Standard library only: this runs before any dependency is installed.

`hooks/post_gen_project.py` runs this module as `python -m hooks.assemble PROJECT_DIR SOURCE` with
the template root as working directory. That makes the template root the first entry of
`sys.path` the ordinary way, so `hooks` and `infra.tools` import as packages, exactly as they do
under pytest (pythonpath = .), and no code edits `sys.path`. A subprocess rather than loading files
by path: cookiecutter runs the hook as a rendered copy in a temporary file, with the generated repo
as working directory, so only a fresh interpreter started in the template root sees our packages
by their names.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tomllib
from pathlib import Path

from infra.tools.module_sources import pin_module_sources

# Paths copied verbatim from the template root into every generated repo.
SHARED_PATHS = (
    ".ci",
    ".gitignore",
    "Makefile",
    "bench",
    "buildspec.yml",
    "container.mk",
    "pipelines",
    "pytest.ini",
    "requirements.in",
    "requirements.lock",
    "requirements-checkov.in",
    "requirements-checkov.lock",
    "requirements-container.in",
    "requirements-container.lock",
    "ruff.toml",
    "seedcode",
    "tests",
    "infra/tools",
    "infra/checkov.mk",
)
# Terraform root-module files whose `./modules/<name>` sources get pinned to a release tag.
INFRA_ROOT_GLOBS = ("*.tf",)
IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", ".pytest_cache", ".ruff_cache")


class AssemblyError(Exception):
    """The template checkout is incomplete; the message names what is missing."""


def template_version(repo_dir: Path) -> str:
    return tomllib.loads((repo_dir / "pyproject.toml").read_text())["project"]["version"]


def copy_shared(repo_dir: Path, project_dir: Path) -> list[str]:
    """Copy every shared path; fail naming the first one the template lacks."""
    copied = []
    for relative in SHARED_PATHS:
        source = repo_dir / relative
        target = project_dir / relative
        if not source.exists():
            raise AssemblyError(f"template checkout {repo_dir} lacks {relative}")
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, target, ignore=IGNORED, dirs_exist_ok=True)
        else:
            shutil.copy2(source, target)
        copied.append(relative)
    return copied


def copy_infra_root(repo_dir: Path, project_dir: Path, template_source: str) -> list[str]:
    """Copy the team root module with module sources pinned to `template_source` at our version."""
    version = template_version(repo_dir)
    written = []
    for pattern in INFRA_ROOT_GLOBS:
        for source in sorted((repo_dir / "infra").glob(pattern)):
            target = project_dir / "infra" / source.name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(pin_module_sources(source.read_text(), template_source, version))
            written.append(f"infra/{source.name}")
    if not written:
        raise AssemblyError(f"template checkout {repo_dir} has no infra/*.tf root module")
    return written


def assemble(repo_dir: Path, project_dir: Path, template_source: str) -> None:
    copy_shared(repo_dir, project_dir)
    copy_infra_root(repo_dir, project_dir, template_source)
    (project_dir / ".ci" / "run").chmod(0o755)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m hooks.assemble", description=__doc__.splitlines()[0])
    parser.add_argument("project_dir", type=Path, help="the freshly rendered team repo")
    parser.add_argument("template_source", help="git source the team's Terraform modules are pinned to")
    args = parser.parse_args(argv)
    try:
        assemble(Path(__file__).resolve().parent.parent, args.project_dir.resolve(), args.template_source)
    except AssemblyError as exc:
        sys.stderr.write(f"ERROR: {exc}. Re-clone the template and run cookiecutter again.\n")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
