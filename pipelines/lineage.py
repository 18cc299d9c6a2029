"""What a registered model version was made from: its run, data, target, config and code.

The keys below are CustomerMetadataProperties of a model package, the same in the cloud (set by
the RegisterModel step of the definition) and in the local registry (set by the engine). Data,
code and config identify a model: a run whose three hashes equal an existing version's trains
the same model, so it is not registered again.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from pipelines.config import Config

KEY_EXECUTION_ID = "execution_id"
KEY_DATA_URI = "data_uri"
KEY_DATA_HASH = "data_hash"  # "sha256:<hex>", see data_hash()
KEY_TARGET = "target"
KEY_CONFIG_HASH = "config_hash"  # "sha256:<hex>" of the stage's resolved Config
KEY_CODE_DIGEST = "code_digest"  # the step code bundle's digest (already set by the definition)
KEY_GIT_COMMIT = "git_commit"
LINEAGE_KEYS = (KEY_EXECUTION_ID, KEY_DATA_URI, KEY_DATA_HASH, KEY_TARGET, KEY_CONFIG_HASH, KEY_CODE_DIGEST,
                KEY_GIT_COMMIT)
MODEL_IDENTITY_KEYS = (KEY_DATA_HASH, KEY_CODE_DIGEST, KEY_CONFIG_HASH)  # same values: same model
UNKNOWN = "unknown"
DATA_SUFFIXES = (".csv", ".csv.gz", ".parquet")  # what the Preprocess step reads


@dataclass(frozen=True)
class Lineage:
    """The lineage of one run, as registry metadata."""

    execution_id: str
    data_uri: str
    data_hash: str
    target: str
    config_hash: str
    code_digest: str
    git_commit: str

    def metadata(self) -> dict[str, str]:
        return {KEY_EXECUTION_ID: self.execution_id, KEY_DATA_URI: self.data_uri, KEY_DATA_HASH: self.data_hash,
                KEY_TARGET: self.target, KEY_CONFIG_HASH: self.config_hash, KEY_CODE_DIGEST: self.code_digest,
                KEY_GIT_COMMIT: self.git_commit}


def model_identity(metadata: dict[str, str]) -> tuple[str, ...] | None:
    """(data hash, code digest, config hash) of a version, or None when any of them is unknown."""
    values = tuple(metadata.get(key, "") for key in MODEL_IDENTITY_KEYS)
    return None if any(not value or value == UNKNOWN for value in values) else values


def config_hash(config: Config) -> str:
    """A digest of the resolved stage config (every field, so per-stage overrides count, except where
    runs are logged: tracking does not change the model)."""
    fields = dataclasses.asdict(config)
    fields.pop("tracking", None)
    text = json.dumps(fields, sort_keys=True, default=str)
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def git_commit(folder: Path) -> str:
    """`git rev-parse HEAD` in `folder`, or "unknown" outside a git repository (or without git)."""
    try:
        result = subprocess.run(["git", "rev-parse", "HEAD"], cwd=folder, capture_output=True, text=True,
                                timeout=10, check=False)
    except (OSError, subprocess.SubprocessError):
        return UNKNOWN
    commit = result.stdout.strip()
    return commit if result.returncode == 0 and commit else UNKNOWN


def data_files(location: Path) -> list[tuple[str, Path]]:
    """The files Preprocess reads at a location, as (relative path, file), sorted: one file, or every
    CSV/Parquet file under a folder with hidden files skipped."""
    location = Path(location)
    if location.is_file():
        return [(location.name, location)]
    found = []
    for path in sorted(location.rglob("*")):
        relative = path.relative_to(location)
        if (path.is_file() and path.name.lower().endswith(DATA_SUFFIXES)
                and not any(part.startswith(".") for part in relative.parts)):
            found.append((relative.as_posix(), path))
    return found


def data_hash(files: list[tuple[str, Path]], file_digest: Callable[[Path], str]) -> str:
    """"sha256:<hex>" of the input data: the file's own SHA-256 when there is one file (what `sha256sum`
    prints), else the SHA-256 of the `sha256sum`-style listing "<hex>  <relative path>\\n" of every file."""
    if not files:
        return UNKNOWN
    if len(files) == 1:
        return "sha256:" + file_digest(files[0][1])
    listing = "".join(f"{file_digest(path)}  {relative}\n" for relative, path in files)
    return "sha256:" + hashlib.sha256(listing.encode()).hexdigest()


def s3_listing_hash(s3: object, uri: str) -> str:
    """A content hash of the data objects under an S3 URI without downloading them: sha256 over each
    object's key (relative to the URI), size and ETag (the MD5 of a single-part upload's bytes).
    "sha256-etag:" marks it as a listing hash, not comparable with the local file hash."""
    bucket, _, prefix = uri.removeprefix("s3://").partition("/")
    digest = hashlib.sha256()
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)  # type: ignore[attr-defined]
    found = 0
    for page in pages:
        for item in sorted(page.get("Contents", []), key=lambda entry: entry["Key"]):
            relative = item["Key"][len(prefix):]
            if relative.endswith(DATA_SUFFIXES) and not any(part.startswith(".") for part in relative.split("/")):
                digest.update(f"{relative}\t{item['Size']}\t{item['ETag'].strip(chr(34))}\n".encode())
                found += 1
    if not found:
        raise ValueError(f"no CSV or Parquet objects under {uri}")
    return f"sha256-etag:{digest.hexdigest()}"
