"""`make demo` in a team repo runs apart from the team's own local runs: its own state folder and
model package group, so an approved real model never turns the demo's drift check on."""

from __future__ import annotations

import shlex
import subprocess

from local_project import REPO_ROOT, ROWS

from pipelines.registry_model import APPROVED, PENDING


def demo_arguments() -> list[str]:
    """The `pipelines.run` arguments of `make demo` as a generated repo's Makefile runs it."""
    dry = subprocess.run(["make", "-n", "--no-print-directory", "demo", "IS_TEMPLATE="], cwd=REPO_ROOT,
                         capture_output=True, text=True, timeout=60, check=True)
    line = next(line for line in dry.stdout.splitlines() if "-m pipelines.run " in line)
    arguments = shlex.split(line.split("-m pipelines.run ", 1)[1])
    rows = arguments.index("--rows")
    return [*arguments[:rows], "--rows", ROWS, *arguments[rows + 2:]]  # small data, as every engine test


def test_demo_ignores_an_approved_real_model(project):
    assert project.registry_cli("approve", "1", "--reason", "real model").returncode == 0
    arguments = demo_arguments()
    assert "--local" in arguments and "--state-dir" not in arguments

    demo = project.run(*[a for a in arguments if a != "--local"])
    assert demo.code == 0, demo.stderr
    assert demo.summary["state_dir"] == str(project.state / "demo")
    assert demo.summary["drift"]["status"] == "skipped"  # no approved model in the demo's registry
    registered = demo.summary["registered"]
    assert (registered["group"], registered["version"], registered["status"]) == (
        f"{project.config.project}-demo", 1, PENDING)
    assert [(v.group, v.version, v.status) for v in project.versions()] == [
        (f"{project.config.project}-dev", 1, APPROVED)]  # the team's registry is untouched

    listing = project.registry_cli("list", "--demo")
    assert listing.returncode == 0, listing.stderr
    assert [line.split()[:2] for line in listing.stdout.splitlines()[1:]] == [["1", PENDING]]
