"""Step code, packaged and addressed by its content.

The pipeline definition names the code by a digest of seedcode/ instead of by a timestamped
job name, so rebuilding the definition from the same code gives the same bytes: an upsert
with no change is a no-op and step caching hits.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import tarfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

SEEDCODE_DIR = Path(__file__).resolve().parent.parent / "seedcode"
EXCLUDED_PARTS = {"__pycache__", ".pytest_cache", ".ruff_cache"}


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


@dataclass(frozen=True)
class CodeBundle:
    """seedcode/ as files (for processing jobs) and as a tarball (for script-mode training)."""

    digest: str
    files: dict[str, bytes]

    def tarball(self) -> bytes:
        """The reproducible sourcedir.tar.gz of script-mode training."""
        return reproducible_tar_gz(self.files)

    def prefix(self, bucket: str, project: str) -> str:
        return f"s3://{bucket}/{project}/code/{self.digest}"

    def files_uri(self, bucket: str, project: str) -> str:
        return f"{self.prefix(bucket, project)}/files/"

    def tarball_uri(self, bucket: str, project: str) -> str:
        return f"{self.prefix(bucket, project)}/sourcedir.tar.gz"

    def objects(self, bucket: str, project: str) -> list[tuple[str, bytes]]:
        """Every object of an upload as (S3 URI, bytes), the tarball last: its presence marks a
        complete upload, and since keys are content-addressed, a present tarball means identical code."""
        files_uri = self.files_uri(bucket, project)
        return [(f"{files_uri}{name}", data) for name, data in sorted(self.files.items())] + [
            (self.tarball_uri(bucket, project), self.tarball())]


def bundle_seedcode(root: Path = SEEDCODE_DIR) -> CodeBundle:
    """Read every step-code file under `root`; the digest covers names and contents."""
    if not root.is_dir():
        raise FileNotFoundError(f"step code folder {root} is missing")
    files: dict[str, bytes] = {}
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root)
        if path.is_file() and not EXCLUDED_PARTS.intersection(relative.parts) and path.suffix != ".pyc":
            files[relative.as_posix()] = path.read_bytes()
    digest = hashlib.sha256()
    for name, data in sorted(files.items()):
        digest.update(name.encode() + b"\0" + hashlib.sha256(data).digest())
    return CodeBundle(digest=digest.hexdigest()[:16], files=files)
