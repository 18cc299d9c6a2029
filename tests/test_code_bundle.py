"""The step code bundle and the one reproducible tar.gz writer (code tarball and model.tar.gz)."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from pipelines.code_bundle import CodeBundle, reproducible_tar_gz
from pipelines.engine.training import tar_directory

FILES = {"train.py": b"print('train')\n", "lib/helpers.py": b"X = 1\n", "README.md": b"# code\n"}


def write_tree(root: Path, order: list[str], mtime: int) -> None:
    for name in order:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(FILES[name])
        os.utime(path, (mtime, mtime))
        path.chmod(0o600)


def test_same_files_give_the_same_bytes_whatever_their_times_modes_and_order(tmp_path):
    first, second = tmp_path / "a", tmp_path / "b"
    write_tree(first, sorted(FILES), mtime=1_000_000)
    write_tree(second, sorted(FILES, reverse=True), mtime=2_000_000)
    tar_directory(first, tmp_path / "a.tar.gz")
    tar_directory(second, tmp_path / "b.tar.gz")
    assert (tmp_path / "a.tar.gz").read_bytes() == (tmp_path / "b.tar.gz").read_bytes()
    # files given as bytes or as paths: the same archive, so the code tarball and model.tar.gz share one writer
    assert reproducible_tar_gz(FILES) == (tmp_path / "a.tar.gz").read_bytes()
    assert CodeBundle(digest="d", files=dict(FILES)).tarball() == reproducible_tar_gz(FILES)


def test_archive_holds_the_files_with_fixed_metadata():
    with tarfile.open(fileobj=io.BytesIO(reproducible_tar_gz(FILES)), mode="r:gz") as tar:
        members = tar.getmembers()
        assert [m.name for m in members] == sorted(FILES)
        assert {(m.mode, m.mtime, m.uid, m.gid) for m in members} == {(0o644, 0, 0, 0)}
        assert {m.name: tar.extractfile(m).read() for m in members} == FILES


def test_tar_directory_replaces_the_target_whole(tmp_path):
    source = tmp_path / "model"
    write_tree(source, ["train.py"], mtime=0)
    target = tmp_path / "out" / "model.tar.gz"
    tar_directory(source, target)
    assert sorted(p.name for p in target.parent.iterdir()) == ["model.tar.gz"]  # no temporary left behind
    with tarfile.open(target) as tar:
        assert tar.getnames() == ["train.py"]


def bundle_of(files: dict[str, bytes]) -> CodeBundle:
    return CodeBundle(digest="whole", files=files)


def test_a_step_needs_its_script_what_it_imports_transitively_and_the_files_it_names():
    bundle = bundle_of({
        "train.py": b"import helpers\nfrom lib.deep import x\nimport numpy\n",
        "helpers.py": b"import os\nfrom base import y\nCATALOG = 'catalog.json'\n",
        "base.py": b"import helpers\n",  # a cycle ends
        "lib/deep.py": b"x = 1\n", "lib/__init__.py": b"",
        "catalog.json": b"{}", "evaluate.py": b"import base\n", "README.md": b"# not code\n",
    })
    assert bundle.closure("train.py") == ["base.py", "catalog.json", "helpers.py", "lib/__init__.py", "lib/deep.py",
                                          "train.py"]
    assert bundle.closure("evaluate.py") == ["base.py", "catalog.json", "evaluate.py", "helpers.py"]
    step = bundle.for_step("train.py")
    assert set(step.files) == set(bundle.closure("train.py"))
    # the step's digest follows its own files only
    edited = bundle_of({**bundle.files, "evaluate.py": b"import base\n# edited\n", "README.md": b"# new\n"})
    assert edited.for_step("train.py").digest == step.digest
    assert edited.for_step("evaluate.py").digest != bundle.for_step("evaluate.py").digest


def test_the_upload_holds_every_steps_code_under_its_digest_and_the_whole_tarball_last():
    from pipelines.code_bundle import STEP_SCRIPTS, bundle_seedcode

    bundle = bundle_seedcode()
    uris = [uri for uri, _ in bundle.objects("bucket", "team")]
    assert uris[-1] == bundle.tarball_uri("bucket", "team")  # its presence marks a complete upload
    for script in STEP_SCRIPTS:
        step = bundle.for_step(script)
        assert step.tarball_uri("bucket", "team") in uris
        assert f"{step.files_uri('bucket', 'team')}{script}" in uris
    assert "train.py" not in bundle.for_step("preprocess.py").files
    assert "metrics.json" in bundle.for_step("evaluate.py").files  # read beside evaluate.py


@pytest.mark.parametrize("script", ["preprocess.py", "data_quality.py", "train.py", "evaluate.py", "inference.py"])
def test_each_steps_code_imports_on_its_own(script, tmp_path):
    """A step's folder holds all it needs: its script imports with nothing else of seedcode/ beside it."""
    from pipelines.code_bundle import bundle_seedcode

    for name, data in bundle_seedcode().for_step(script).files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(data)
    result = subprocess.run([sys.executable, "-c", f"import {script.removesuffix('.py')}"], cwd=tmp_path,
                            capture_output=True, text=True, timeout=120, env={"PYTHONPATH": str(tmp_path)})
    assert result.returncode == 0, result.stderr
