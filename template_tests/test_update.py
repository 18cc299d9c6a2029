"""Generated repos take in later template versions with cruft (`make update`, `make check-template`).

Offline: the template is a temporary git copy of this checkout (hooks.bundle's file list), and cruft
clones it by path. The scenario of issue 14: render at one commit, edit a team file and a platform file,
change the template and commit, update.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from hooks.bundle import template_files
from pipelines.template_update import (
    TemplateUpdateError,
    UpdateRequest,
    check,
    cruft_script,
    owner_of,
    update,
)

TEMPLATE_ROOT = Path(__file__).resolve().parent.parent
GIT_ID = ("-c", "user.name=Test", "-c", "user.email=test@example.com")
MAKEFILE_LINE = "help: ## list the targets"


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *GIT_ID, *args], cwd=repo, check=True, capture_output=True, text=True).stdout


def commit_all(repo: Path, message: str) -> None:
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{path} no longer holds {old!r}: pick another line for this test"
    path.write_text(text.replace(old, new, 1))


def cruft(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(cruft_script()), *args], cwd=cwd, capture_output=True, text=True, timeout=300)


@pytest.fixture
def template_repo(tmp_path: Path) -> Path:
    repo = tmp_path / "template"
    for name, source in template_files(TEMPLATE_ROOT).items():
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, repo / name)
    git(repo, "init", "-q", "-b", "main")
    commit_all(repo, "template v1")
    return repo


@pytest.fixture
def team_repo(template_repo: Path, tmp_path: Path) -> Path:
    """`cruft create` from the template copy, committed as the team's first commit."""
    assert cruft_script().is_file(), f"cruft is not installed ({cruft_script()}); requirements.lock pins it"
    out = tmp_path / "out"
    done = cruft("create", str(template_repo), "--no-input", "--output-dir", str(out), cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    project = out / "churn-model"
    git(project, "init", "-q", "-b", "main")
    commit_all(project, "generated")
    return project


def test_cruft_create_records_the_template_and_runs_the_hooks(team_repo: Path, template_repo: Path) -> None:
    state = json.loads((team_repo / ".cruft.json").read_text())
    assert state["template"] == str(template_repo)
    assert state["commit"] == git(template_repo, "rev-parse", "HEAD").strip()
    assert state["context"]["cookiecutter"]["project"] == "churn-model"
    assert (team_repo / "pipelines" / "run.py").is_file(), "the post-generation hook copied the shared code"
    assert (team_repo / "infra" / "main.tf").is_file()


def test_cruft_create_rejects_a_bad_input_cleanly(template_repo: Path, tmp_path: Path) -> None:
    out = tmp_path / "bad"
    done = cruft("create", str(template_repo), "--no-input", "--output-dir", str(out),
                 "--extra-context", '{"aws_region": "mars-1"}', cwd=tmp_path)
    assert done.returncode != 0
    assert "aws_region: 'mars-1' is not an AWS region code" in done.stderr
    assert not (out / "churn-model").exists()


def test_update_takes_platform_changes_keeps_team_edits_and_names_conflicts(team_repo: Path,
                                                                             template_repo: Path) -> None:
    edit(team_repo / "seedcode" / "train.py", '"""', '"""Team note: tuned for our churn data.\n', )
    edit(team_repo / "Makefile", MAKEFILE_LINE, "help: ## list the targets (team wording)")
    commit_all(team_repo, "team edits")
    edit(template_repo / "pipelines" / "errors.py", '"""', '"""Template v2 note.\n')
    edit(template_repo / "Makefile", MAKEFILE_LINE, "help: ## list every target")
    commit_all(template_repo, "template v2")

    with pytest.raises(TemplateUpdateError) as failure:
        update(UpdateRequest(team_repo, cruft_script()))

    message = str(failure.value)
    assert "conflicts with local edits in 1 file(s): Makefile (platform)" in message
    assert "git checkout --theirs" in message
    assert "Template v2 note." in (team_repo / "pipelines" / "errors.py").read_text(), "platform change arrived"
    assert "Team note: tuned for our churn data." in (team_repo / "seedcode" / "train.py").read_text()
    makefile = (team_repo / "Makefile").read_text()
    assert "<<<<<<<" in makefile and "(team wording)" in makefile and "list every target" in makefile


def test_a_clean_update_reports_the_change_and_check_warns_until_then(team_repo: Path,
                                                                      template_repo: Path) -> None:
    request = UpdateRequest(team_repo, cruft_script())
    assert check(request) == "the repo is on the template's newest commit"
    edit(template_repo / "pipelines" / "errors.py", '"""', '"""Template v2 note.\n')
    commit_all(template_repo, "template v2")
    assert check(request).startswith("warning: the template has a newer commit")

    summary = update(request)

    assert summary.startswith("took in the template's newest commit")
    assert "Template v2 note." in (team_repo / "pipelines" / "errors.py").read_text()
    state = json.loads((team_repo / ".cruft.json").read_text())
    assert state["commit"] == git(template_repo, "rev-parse", "HEAD").strip()


def test_update_refuses_uncommitted_work_and_an_unlinked_repo(team_repo: Path, tmp_path: Path) -> None:
    (team_repo / "seedcode" / "train.py").write_text("# half-done\n")
    with pytest.raises(TemplateUpdateError, match="uncommitted changes; commit or stash"):
        update(UpdateRequest(team_repo, cruft_script()))
    bare = tmp_path / "unlinked"
    bare.mkdir()
    done = subprocess.run([sys.executable, "-m", "pipelines.template_update", "update", "--project-dir", str(bare)],
                          cwd=TEMPLATE_ROOT, capture_output=True, text=True)
    assert done.returncode == 1
    assert done.stderr.startswith("error: ") and "cruft link <template git URL>" in done.stderr
    assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1


def test_platform_files_are_the_shared_paths_and_the_root_module() -> None:
    from hooks.assemble import SHARED_PATHS

    for shared in SHARED_PATHS:
        expected = "team" if shared == "seedcode" else "platform"
        assert owner_of(f"{shared}/x.py" if (TEMPLATE_ROOT / shared).is_dir() else shared) == expected, shared
    assert owner_of("infra/main.tf") == "platform"
    for team_file in ("seedcode/train.py", "pyproject.toml", "infra/envs/dev.tfvars", "README.md", "data/x.csv"):
        assert owner_of(team_file) == "team", team_file
