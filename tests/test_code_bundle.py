"""The step code bundle and the one reproducible tar.gz writer (code tarball and model.tar.gz)."""

from __future__ import annotations

import io
import os
import tarfile
from pathlib import Path

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
