"""Step code, packaged and addressed by its content.

The pipeline definition names the code by a digest instead of by a timestamped job name, so
rebuilding the definition from the same code gives the same bytes: an upsert with no change is
a no-op and step caching hits.

Each step names only the code it runs: its script plus the seedcode modules it imports (found by
parsing the imports, transitively) and the data files those modules name (e.g. metrics.json), under
that subset's own digest (`CodeBundle.for_step`). SageMaker's step cache keys on the step's
arguments, which hold that code URI, and so does the local engine: editing train.py changes the
keys of Train and the steps after it, never Preprocess's. The whole of seedcode/ keeps one digest
too: it names the code in the lineage and keys the definition cache.
"""

from __future__ import annotations

import ast
import gzip
import hashlib
import io
import tarfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

SEEDCODE_DIR = Path(__file__).resolve().parent.parent / "seedcode"
EXCLUDED_PARTS = {"__pycache__", ".pytest_cache", ".ruff_cache"}
# The scripts steps run: the processing entry points, script-mode training, the data-quality analyzer
# (the local engine's Model Monitor stand-in), the serving entry point of the registered model and the
# monitoring pipeline's drift check.
STEP_SCRIPTS = ("preprocess.py", "data_quality.py", "train.py", "evaluate.py", "inference.py", "drift_check.py",
                "model_quality.py")


def reproducible_tar_gz(files: Mapping[str, bytes | Path]) -> bytes:
    """A gzip tar whose bytes depend only on the entries: sorted names, mode 0644, owner root, time 0.

    Each value is the entry's bytes or the file to read them from. Used for the step code's
    sourcedir.tar.gz and for the local engine's model.tar.gz / output.tar.gz.
    """
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, content in sorted(files.items()):
            info = tarfile.TarInfo(name)
            info.mode = 0o644
            info.mtime = 0
            if isinstance(content, Path):
                info.size = content.stat().st_size
                with content.open("rb") as handle:
                    tar.addfile(info, handle)
            else:
                info.size = len(content)
                tar.addfile(info, io.BytesIO(content))
    return gzip.compress(raw.getvalue(), compresslevel=6, mtime=0)


def _digest(files: Mapping[str, bytes]) -> str:
    digest = hashlib.sha256()
    for name, data in sorted(files.items()):
        digest.update(name.encode() + b"\0" + hashlib.sha256(data).digest())
    return digest.hexdigest()[:16]


def _module_files(module: str, files: Mapping[str, bytes]) -> list[str]:
    """The bundle files of a top-level module name: `name.py`, or every file of package `name/`."""
    if f"{module}.py" in files:
        return [f"{module}.py"]
    return [name for name in files if name.startswith(f"{module}/")]


def _needs(name: str, files: Mapping[str, bytes]) -> set[str]:
    """What one file needs directly: the bundle modules it imports and the bundle files it names."""
    if not name.endswith(".py"):
        return set()
    tree = ast.parse(files[name], filename=name)
    needed: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            modules = [node.module]
        else:
            modules = []
        for module in modules:
            needed.update(_module_files(module.split(".")[0], files))
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in files:
            needed.add(node.value)  # a data file read beside the code, e.g. "metrics.json"
    return needed


@dataclass(frozen=True)
class CodeBundle:
    """Step code as files (for processing jobs) and as a tarball (for script-mode training and serving):
    all of seedcode/, or the part one step needs (`for_step`)."""

    digest: str
    files: dict[str, bytes]

    def closure(self, script: str) -> list[str]:
        """`script` and every bundle file it needs, transitively, sorted."""
        if script not in self.files:
            raise FileNotFoundError(f"the step code has no {script}")
        found, pending = {script}, [script]
        while pending:
            for needed in _needs(pending.pop(), self.files) - found:
                found.add(needed)
                pending.append(needed)
        return sorted(found)

    def for_step(self, script: str) -> CodeBundle:
        """The code one step runs, under its own digest: a change elsewhere leaves its URIs, and so its cache
        key, unchanged."""
        files = {name: self.files[name] for name in self.closure(script)}
        return CodeBundle(digest=_digest(files), files=files)

    def tarball(self) -> bytes:
        """The reproducible sourcedir.tar.gz of script-mode training."""
        return reproducible_tar_gz(self.files)

    def prefix(self, bucket: str, project: str) -> str:
        return f"s3://{bucket}/{project}/code/{self.digest}"

    def files_uri(self, bucket: str, project: str) -> str:
        return f"{self.prefix(bucket, project)}/files/"

    def tarball_uri(self, bucket: str, project: str) -> str:
        return f"{self.prefix(bucket, project)}/sourcedir.tar.gz"

    def own_objects(self, bucket: str, project: str) -> list[tuple[str, bytes]]:
        files_uri = self.files_uri(bucket, project)
        return [(f"{files_uri}{name}", data) for name, data in sorted(self.files.items())] + [
            (self.tarball_uri(bucket, project), self.tarball())]

    def objects(self, bucket: str, project: str) -> list[tuple[str, bytes]]:
        """Every object of an upload as (S3 URI, bytes): each step's code under its own digest, then this
        bundle's, its tarball last: its presence marks a complete upload, and since keys are
        content-addressed, a present tarball means identical code."""
        steps = [self.for_step(script) for script in STEP_SCRIPTS if script in self.files]
        return [item for step in steps for item in step.own_objects(bucket, project)] + self.own_objects(
            bucket, project)


def bundle_seedcode(root: Path | None = None) -> CodeBundle:
    """Read every step-code file under `root` (default: seedcode/); the digest covers names and contents."""
    root = Path(root or SEEDCODE_DIR)
    if not root.is_dir():
        raise FileNotFoundError(f"step code folder {root} is missing")
    files: dict[str, bytes] = {}
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root)
        if path.is_file() and not EXCLUDED_PARTS.intersection(relative.parts) and path.suffix != ".pyc":
            files[relative.as_posix()] = path.read_bytes()
    return CodeBundle(digest=_digest(files), files=files)
