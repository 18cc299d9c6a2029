"""Shared fixtures of the infrastructure checks (no Terraform binary needed).

In the template these run over `infra/` including `infra/modules/`; in a generated team
repository they run over that repository's `infra/` root module.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
if str(REPO_ROOT) not in sys.path:  # `infra.tools` is imported from the repository root
    sys.path.insert(0, str(REPO_ROOT))

INFRA_DIR = REPO_ROOT / "infra"
CHECKOV_VENV = REPO_ROOT / ".venv-checkov"
_checkov_summary: dict[str, Any] = {}


@pytest.fixture(scope="session")
def infra_dir() -> Path:
    assert INFRA_DIR.is_dir(), f"{INFRA_DIR} is missing"
    return INFRA_DIR


def checkov_binary() -> Path:
    """`$CHECKOV_BIN`, else `<repo>/.venv-checkov/bin/checkov` (created by `make test`)."""
    return Path(os.environ.get("CHECKOV_BIN") or CHECKOV_VENV / "bin" / "checkov")


@pytest.fixture(scope="session")
def checkov_report(infra_dir: Path) -> dict[str, Any]:
    """Run checkov once over infra/ and return its JSON report (`results` and `summary`)."""
    binary = checkov_binary()
    if not binary.is_file():
        pytest.fail(
            f"checkov not found at {binary}. Run `make test`, which creates {CHECKOV_VENV.name} from "
            "requirements-checkov.lock (or point CHECKOV_BIN at a checkov executable).",
            pytrace=False,
        )
    command = [
        str(binary), "--directory", str(infra_dir), "--framework", "terraform",
        "--skip-download", "--output", "json", "--compact",
    ]  # fmt: skip
    env = {**os.environ, "CKV_SKIP_PACKAGE_UPDATE_CHECK": "true"}
    done = subprocess.run(command, capture_output=True, text=True, env=env, cwd=REPO_ROOT, timeout=600)
    try:
        report = json.loads(done.stdout)
    except json.JSONDecodeError:
        pytest.fail(f"checkov printed no JSON report (exit {done.returncode}):\n{done.stderr[-3000:]}", pytrace=False)
    reports = report if isinstance(report, list) else [report]
    terraform = next((r for r in reports if r.get("check_type") == "terraform"), None)
    if terraform is None:  # nothing to scan: checkov prints a bare summary
        terraform = {"results": {}, "summary": reports[0] if "passed" in reports[0] else reports[0].get("summary", {})}
    summary = terraform["summary"]
    _checkov_summary.update(summary)
    print(
        f"checkov {summary.get('checkov_version', '?')}: passed {summary.get('passed')}, "
        f"failed {summary.get('failed')}, skipped {summary.get('skipped')}, "
        f"parsing errors {summary.get('parsing_errors')}, resources {summary.get('resource_count')}"
    )
    return terraform


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Show checkov's figures at the end of the run, whatever the outcome."""
    if _checkov_summary:
        s = _checkov_summary
        terminalreporter.write_line(
            f"checkov over infra/: passed {s.get('passed')}, failed {s.get('failed')}, skipped {s.get('skipped')}, "
            f"parsing errors {s.get('parsing_errors')}"
        )
