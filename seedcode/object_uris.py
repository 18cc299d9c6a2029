"""Objects named by s3:// URIs, for a step that reads and writes S3 itself rather than through its
processing inputs and outputs (the drift step: a capture window, the watermark; model quality: the capture
window and the ground-truth labels).

In a SageMaker job that is S3 through boto3 (the image ships it) with the job's role. The local engine
runs steps without AWS: it sets ``ML_FACTORY_LOCAL_S3`` to its object store's folder, where
``s3://<bucket>/<key>`` is the file ``<folder>/<bucket>/<key>`` (pipelines/engine/store.py), as it
points ``SM_OPT_ML_ROOT`` at the step's /opt/ml. Plain paths (not s3://) are read where they are.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

LOCAL_STORE_ENV = "ML_FACTORY_LOCAL_S3"


def split_uri(uri: str) -> tuple[str, str]:
    """`s3://bucket/a/b` -> ('bucket', 'a/b')."""
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    return bucket, key


@dataclass(frozen=True)
class Objects:
    """S3 (``s3`` a boto3 client) or the local engine's store (``local_root``); writes use SSE-KMS with
    ``kms_key`` when one is given."""

    s3: Any = None
    local_root: Path | None = None
    kms_key: str = ""

    @classmethod
    def from_environment(cls, region: str, kms_key: str = "") -> Objects:
        root = os.environ.get(LOCAL_STORE_ENV)
        if root:
            return cls(local_root=Path(root), kms_key=kms_key)
        import boto3

        return cls(s3=boto3.client("s3", region_name=region or None), kms_key=kms_key)

    @property
    def local(self) -> bool:
        return self.local_root is not None

    def location(self, uri: str) -> Path | str:
        """What capture_reading.read_capture takes: the local folder of ``uri``, or ``uri`` itself on S3."""
        if self.local_root is None or not uri.startswith("s3://"):
            return uri
        bucket, key = split_uri(uri)
        return self.local_root / bucket / key

    def read_json(self, uri: str) -> Any | None:
        """The object's JSON, or None when there is no such object."""
        if self.local_root is not None:
            path = Path(self.location(uri))
            return json.loads(path.read_text()) if path.is_file() else None
        bucket, key = split_uri(uri)
        try:
            body = self.s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        except self.s3.exceptions.NoSuchKey:
            return None
        return json.loads(body)

    def write_json(self, uri: str, content: Any) -> None:
        data = (json.dumps(content, indent=2) + "\n").encode()
        if self.local_root is not None:
            path = Path(self.location(uri))
            path.parent.mkdir(parents=True, exist_ok=True)
            temporary = path.parent / f".{path.name}.{os.getpid()}.tmp"  # the store's partial-write naming
            temporary.write_bytes(data)
            os.replace(temporary, path)
            return
        bucket, key = split_uri(uri)
        encryption = {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": self.kms_key} if self.kms_key else {}
        self.s3.put_object(Bucket=bucket, Key=key, Body=data, ContentType="application/json", **encryption)
