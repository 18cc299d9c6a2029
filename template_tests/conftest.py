"""Fixtures for template-only tests: rendering team repos from this template."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

TEMPLATE_ROOT = Path(__file__).resolve().parent.parent
if str(TEMPLATE_ROOT / "tests") not in sys.path:
    sys.path.append(str(TEMPLATE_ROOT / "tests"))

from botocore_loader import share_botocore_loader  # noqa: E402

share_botocore_loader()  # the service models parsed once per test process, not once per session


def run_cookiecutter(output_dir: Path, *assignments: str) -> subprocess.CompletedProcess[str]:
    """Run the cookiecutter CLI the way a user does, without prompts."""
    return subprocess.run(
        [sys.executable, "-m", "cookiecutter", "--no-input", "-o", str(output_dir), str(TEMPLATE_ROOT), *assignments],
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def render(tmp_path: Path):
    """Render with key=value overrides; returns (completed process, output dir)."""

    def _render(**overrides: str) -> tuple[subprocess.CompletedProcess[str], Path]:
        out = tmp_path / "out"
        out.mkdir(exist_ok=True)
        result = run_cookiecutter(out, *(f"{k}={v}" for k, v in overrides.items()))
        return result, out

    return _render


@pytest.fixture(scope="session")
def matrix_renders(tmp_path_factory) -> dict[str, Path]:
    """Every row of the input matrix (input_matrix.py) rendered once: row label -> generated repo."""
    from input_matrix import matrix_rows

    renders = {}
    for row in matrix_rows():
        out = tmp_path_factory.mktemp("matrix")
        result = run_cookiecutter(out, *(f"{key}={value}" for key, value in row.inputs.items()))
        assert result.returncode == 0, f"{row.label}: cookiecutter failed:\n{result.stderr[-2000:]}"
        renders[row.label] = out / row.slug
    return renders
