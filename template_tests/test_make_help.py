"""`make help` lists each target once, with the text that is true where it runs (team repo or template root)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

TEMPLATE_ROOT = Path(__file__).resolve().parent.parent


def make(folder: Path, *args: str) -> str:
    result = subprocess.run(["make", "--no-print-directory", *args], cwd=folder, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout


def help_entries(folder: Path) -> list[tuple[str, str]]:
    lines = make(folder, "help").splitlines()
    entries = [re.match(r"^  make (\S+) +(.+)$", line) for line in lines]
    assert all(entries), lines
    return [(m.group(1), m.group(2)) for m in entries if m]


def phony_targets(folder: Path) -> set[str]:
    database = subprocess.run(["make", "-pRrq", ":"], cwd=folder, capture_output=True, text=True, timeout=60).stdout
    return {t for line in database.splitlines() if line.startswith(".PHONY:") for t in line.split()[1:]}


def test_generated_repo_help_lists_each_of_its_targets_once_with_its_own_text(render):
    result, out = render(project_name="Help Check")
    assert result.returncode == 0, result.stderr
    project = out / "help-check"
    entries = help_entries(project)
    names = [name for name, _ in entries]
    assert len(names) == len(set(names)), f"listed twice: {sorted({n for n in names if names.count(n) > 1})}"
    assert set(names) == phony_targets(project)
    text = dict(entries)
    assert "render" not in text["demo"] and "on this machine" in text["demo"]
    # update and check-template are a team repo's own targets (they take in template releases); nothing may speak of
    # rendering team repos, which only the template root does
    assert not [name for name, line in entries if "render" in line or "team repo" in line], \
        "template-only text in a team repo"
    assert {"update", "check-template"} <= set(names)
    assert "$(" not in "".join(text.values()), "an unexpanded make variable in the help text"


def test_template_root_help_shows_its_own_demo():
    text = dict(help_entries(TEMPLATE_ROOT))
    assert "render a team repo" in text["demo"]
    assert set(text) == phony_targets(TEMPLATE_ROOT)
