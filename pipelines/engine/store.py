"""The local object store: `s3://<bucket>/<key>` is the file `<root>/<bucket>/<key>`.

Objects move by hard link wherever possible (a 1 GB input costs nothing to "upload" or
"download"), falling back to a copy across file systems. Writers never modify a stored file in
place: a new object replaces the old one by rename, so a hard-linked reader keeps its bytes.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import shutil
import tempfile
import threading
from pathlib import Path
from typing import Any


def _is_partial(path: Path) -> bool:
    """A temporary file of a write in progress (see link_or_copy and put_bytes)."""
    return path.name.startswith(".") and path.name.endswith(".tmp")


class StoreError(Exception):
    """A request the store cannot serve (bad URI, nothing there); the message names the URI."""


def split_uri(uri: str) -> tuple[str, str]:
    """`s3://bucket/a/b` -> ('bucket', 'a/b')."""
    if not isinstance(uri, str) or not uri.startswith("s3://"):
        raise StoreError(f"{uri!r} is not an s3:// URI")
    bucket, _, key = uri[len("s3://"):].partition("/")
    if not bucket or "/" in bucket or bucket in (".", ".."):
        raise StoreError(f"{uri!r} has no valid bucket name")
    if any(part in (".", "..") for part in key.split("/")):
        raise StoreError(f"{uri!r}: '.' and '..' are not allowed in object keys here")
    return bucket, key


def link_or_copy(source: Path, target: Path) -> None:
    """Make `target` a hard link to `source` (a copy across devices), replacing `target` atomically."""
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.parent / f".{target.name}.{os.getpid()}.{threading.get_ident()}.tmp"
    try:
        os.link(source, temporary)
    except OSError as exc:
        if exc.errno not in (errno.EXDEV, errno.EPERM, errno.EMLINK, errno.ENOTSUP, errno.EACCES):
            raise
        shutil.copyfile(source, temporary)
    os.replace(temporary, target)
    with contextlib.suppress(FileNotFoundError):  # rename leaves both names when they are one file already
        temporary.unlink()


class ObjectStore:
    """S3 semantics the pipeline relies on, over a folder."""

    def __init__(self, root: Path):
        self.root = Path(root)

    def path(self, uri: str) -> Path:
        bucket, key = split_uri(uri)
        return self.root / bucket / key

    def uri(self, path: Path) -> str:
        relative = Path(path).resolve().relative_to(self.root.resolve()).as_posix()
        return f"s3://{relative}"

    def exists(self, uri: str) -> bool:
        """An object at `uri`, or any object under it as a prefix folder."""
        path = self.path(uri)
        if path.is_file():
            return True
        return path.is_dir() and any(p.is_file() and not _is_partial(p) for p in path.rglob("*"))

    def is_object(self, uri: str) -> bool:
        return self.path(uri).is_file()

    # ------------------------------------------------------------------ writing

    def put_bytes(self, uri: str, data: bytes) -> Path:
        target = self.path(uri)
        target.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp",
                                         delete=False) as handle:
            handle.write(data)
        os.replace(handle.name, target)
        return target

    def put_json(self, uri: str, content: Any) -> Path:
        return self.put_bytes(uri, (json.dumps(content, indent=2) + "\n").encode())

    def put_file(self, uri: str, source: Path) -> Path:
        target = self.path(uri)
        link_or_copy(Path(source), target)
        return target

    def put_tree(self, uri: str, source: Path) -> list[str]:
        """Upload every file under `source` to the prefix `uri` (S3 output of a job); returns their URIs."""
        source = Path(source)
        if not source.is_dir():
            return []
        prefix = uri.rstrip("/")
        written = []
        for path in sorted(source.rglob("*")):
            if path.is_file() and not _is_partial(path):
                target = f"{prefix}/{path.relative_to(source).as_posix()}"
                self.put_file(target, path)
                written.append(target)
        return written

    # ------------------------------------------------------------------ reading

    def read_bytes(self, uri: str) -> bytes:
        path = self.path(uri)
        if not path.is_file():
            raise StoreError(f"no object {uri} in the local object store ({self.root})")
        return path.read_bytes()

    def read_json(self, uri: str) -> Any:
        try:
            return json.loads(self.read_bytes(uri))
        except ValueError as exc:
            raise StoreError(f"{uri} is not valid JSON: {exc}") from None

    def get_tree(self, uri: str, target: Path, *, required: bool = True) -> int:
        """Download like an S3Prefix input: the object itself into `target/<name>`, or every object
        under the prefix folder into `target/<relative path>`. Returns the number of files."""
        source = self.path(uri)
        target = Path(target)
        target.mkdir(parents=True, exist_ok=True)
        if source.is_file():
            link_or_copy(source, target / source.name)
            return 1
        count = 0
        if source.is_dir():
            for path in sorted(source.rglob("*")):
                if path.is_file() and not _is_partial(path):
                    link_or_copy(path, target / path.relative_to(source))
                    count += 1
        if not count and required:
            raise StoreError(f"no objects found under {uri} in the local object store ({self.root})")
        return count
