"""A freshly rendered team repo is self-contained: its own `make test` passes inside it.

It reuses this checkout's virtual environments (same lock file, so the same packages) instead of
installing them again; everything else comes from the rendered repo alone.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

TEMPLATE_ROOT = Path(__file__).resolve().parent.parent


def test_generated_repo_passes_its_own_make_test(tmp_path):
    out = tmp_path / "render"
    rendered = subprocess.run(
        [sys.executable, "-m", "cookiecutter", "--no-input", "-o", str(out), str(TEMPLATE_ROOT),
         "project_name=Generated Check", "problem_type=binary_classification"],
        capture_output=True, text=True, timeout=120)
    assert rendered.returncode == 0, rendered.stderr
    project = out / "generated-check"
    venv = Path(os.environ.get("ML_FACTORY_VENV", Path(sys.executable).parent.parent))
    checkov_venv = Path(os.environ.get("CHECKOV_BIN", TEMPLATE_ROOT / ".venv-checkov/bin/checkov")).parent.parent
    container_venv = Path(os.environ.get("ML_FACTORY_CONTAINER_PYTHON",
                                         TEMPLATE_ROOT / ".venv-container/bin/python")).parent.parent
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PYTEST_", "CHECKOV_BIN", "ML_FACTORY_CONTAINER_PYTHON"))}
    result = subprocess.run(
        ["make", "--no-print-directory", "test", f"VENV={venv}", f"CHECKOV_VENV={checkov_venv}",
         f"CONTAINER_VENV={container_venv}"],
        cwd=project, capture_output=True, text=True, timeout=1500, env=env)
    tail = "\n".join((result.stdout + result.stderr).splitlines()[-40:])
    assert result.returncode == 0, f"make test failed inside the generated repo:\n{tail}"
    assert " passed" in result.stdout, tail
    assert " failed" not in result.stdout.splitlines()[-1], tail
