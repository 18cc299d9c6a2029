"""`python -m hooks.bundle OUT_DIR` packs the launch template and the template source reproducibly."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
import time
from pathlib import Path

from hooks.bundle import LAUNCH_TEMPLATE, MANIFEST, SOURCE_BUNDLE, template_files, write_bundle
from hooks.studio_template import CHECKED_IN

TEMPLATE_ROOT = Path(__file__).resolve().parent.parent
FIXED_DATE = {"GIT_AUTHOR_DATE": "2025-01-01T00:00:00Z", "GIT_COMMITTER_DATE": "2025-01-01T00:00:00Z",
              "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
              "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"}


def copy_of_this_checkout(target: Path) -> Path:
    for name, source in template_files(TEMPLATE_ROOT).items():
        (target / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target / name)
    return target


def clone_of_this_checkout(target: Path) -> Path:
    """A git repo holding this checkout's files, committed at a fixed date: the same commit id every time."""
    copy_of_this_checkout(target)
    env = {**os.environ, **FIXED_DATE}
    for command in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-q", "-m", "release"]):
        subprocess.run(["git", *command], cwd=target, env=env, check=True, capture_output=True)
    return target


def test_the_same_commit_gives_the_same_bytes(tmp_path: Path) -> None:
    first = clone_of_this_checkout(tmp_path / "a")
    time.sleep(1.1)  # other mtimes, other folder: only the commit's content may matter
    second = clone_of_this_checkout(tmp_path / "b")
    one = write_bundle(first, tmp_path / "out1")
    two = write_bundle(second, tmp_path / "out2")
    assert [p.name for p in one] == [LAUNCH_TEMPLATE, SOURCE_BUNDLE]
    for a, b in zip(one, two, strict=True):
        assert a.read_bytes() == b.read_bytes(), a.name


def test_a_changed_file_changes_the_bundle(tmp_path: Path) -> None:
    repo = clone_of_this_checkout(tmp_path / "a")
    before = write_bundle(repo, tmp_path / "out1")[1].read_bytes()
    (repo / "seedcode" / "train.py").write_text("# changed\n")
    assert write_bundle(repo, tmp_path / "out2")[1].read_bytes() != before


def test_bundle_holds_the_template_source_and_its_manifest(tmp_path: Path) -> None:
    repo = clone_of_this_checkout(tmp_path / "a")
    launch, source = write_bundle(repo, tmp_path / "out")
    with tarfile.open(fileobj=io.BytesIO(source.read_bytes())) as tar:
        names = tar.getnames()
        assert names == sorted(names)
        assert {m.mtime for m in tar.getmembers()} == {0} and {m.uid for m in tar.getmembers()} == {0}
        manifest = json.loads(tar.extractfile(MANIFEST).read())  # type: ignore[union-attr]
    for needed in ("cookiecutter.json", "hooks/studio_vend.py", "pipelines/rules.py",
                   "{{cookiecutter.project}}/README.md"):
        assert needed in names
    assert not any(name.startswith((".venv", ".git/")) for name in names)
    commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=repo, capture_output=True, text=True).stdout.strip()
    assert manifest["commit"] == commit and manifest["dirty"] is False
    assert manifest["template_git_url"].startswith("https://")
    assert launch.read_text() == (TEMPLATE_ROOT / CHECKED_IN).read_text()


def test_cli_outside_git_says_what_to_do(tmp_path: Path) -> None:
    copy = copy_of_this_checkout(tmp_path / "not-a-repo")
    done = subprocess.run([sys.executable, "-m", "hooks.bundle", str(tmp_path / "out")], cwd=copy,
                          capture_output=True, text=True, env={**os.environ, "GIT_CEILING_DIRECTORIES": str(tmp_path)})
    assert done.returncode == 1
    assert done.stderr.startswith("error: ") and "run it from a git clone of the template" in done.stderr
    assert "Traceback" not in done.stderr and not (tmp_path / "out" / SOURCE_BUNDLE).exists()
