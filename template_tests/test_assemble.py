"""`python -m hooks.assemble`, as hooks/post_gen_project.py runs it in the template root."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


def test_incomplete_template_checkout_stops_with_one_line(tmp_path):
    template = tmp_path / "template"
    for relative in ("hooks", "infra/tools"):
        shutil.copytree(REPO_ROOT / relative, template / relative)
    shutil.copy2(REPO_ROOT / "pyproject.toml", template / "pyproject.toml")
    project = tmp_path / "project"
    project.mkdir()
    result = subprocess.run([sys.executable, "-m", "hooks.assemble", str(project), "git::https://x/t.git"],
                            cwd=template, capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert result.stderr == (f"ERROR: template checkout {template.resolve()} lacks .ci. "
                             "Re-clone the template and run cookiecutter again.\n")
    assert list(project.iterdir()) == []
