"""What identifies a registered model's inputs: the data hash a user can check with sha256sum,
the config hash that follows every setting, and the git commit (or "unknown")."""

from __future__ import annotations

import dataclasses
import hashlib
import subprocess

from pipelines.config import load_config
from pipelines.lineage import UNKNOWN, config_hash, data_files, data_hash, git_commit, model_identity


def sha256(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_one_file_hashes_as_sha256sum_prints_it(tmp_path):
    data = tmp_path / "in" / "data.csv"
    data.parent.mkdir()
    data.write_text("a,b\n1,2\n")
    for location in (data, data.parent):
        assert data_hash(data_files(location), sha256) == f"sha256:{sha256(data)}"


def test_a_folder_hashes_what_preprocess_reads(tmp_path):
    (tmp_path / "part").mkdir()
    (tmp_path / "a.csv").write_text("a\n1\n")
    (tmp_path / "part" / "b.parquet").write_bytes(b"PAR1")
    (tmp_path / ".hidden.csv").write_text("ignored\n")
    (tmp_path / "notes.txt").write_text("ignored\n")
    files = data_files(tmp_path)
    assert [name for name, _ in files] == ["a.csv", "part/b.parquet"]
    listing = "".join(f"{sha256(path)}  {name}\n" for name, path in files)  # sha256sum's output
    before = data_hash(files, sha256)
    assert before == "sha256:" + hashlib.sha256(listing.encode()).hexdigest()
    (tmp_path / "part" / "b.parquet").write_bytes(b"PAR2")
    assert data_hash(data_files(tmp_path), sha256) != before
    assert data_hash(data_files(tmp_path / "empty"), sha256) == UNKNOWN


def test_config_hash_follows_every_setting(repo_root):
    config = load_config("dev", repo_root / "pyproject.toml")
    assert config_hash(config) == config_hash(load_config("dev", repo_root / "pyproject.toml"))
    changed = dataclasses.replace(config, target_column="other")
    assert config_hash(changed) != config_hash(config)
    assert config_hash(load_config("prod", repo_root / "pyproject.toml")) != config_hash(config)


def test_git_commit_or_unknown(tmp_path):
    assert git_commit(tmp_path) == UNKNOWN
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    assert git_commit(tmp_path) == UNKNOWN  # no commit yet
    (tmp_path / "f").write_text("x")
    subprocess.run(["git", "-C", str(tmp_path), "add", "f"], check=True)
    subprocess.run(["git", "-C", str(tmp_path), "-c", "user.name=t", "-c", "user.email=t@example.com", "commit",
                    "-qm", "first"], check=True)
    head = subprocess.run(["git", "-C", str(tmp_path), "rev-parse", "HEAD"], capture_output=True, text=True,
                          check=True).stdout.strip()
    assert git_commit(tmp_path) == head


def test_a_model_without_all_three_hashes_has_no_identity():
    full = {"data_hash": "sha256:a", "code_digest": "c", "config_hash": "sha256:b"}
    assert model_identity(full) == ("sha256:a", "c", "sha256:b")
    assert model_identity({**full, "data_hash": UNKNOWN}) is None
    assert model_identity({k: v for k, v in full.items() if k != "code_digest"}) is None
