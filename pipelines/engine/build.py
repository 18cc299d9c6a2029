"""The pipeline definition every run path uses: `build_pipeline(config, wiring, code)`, remembered
under the state folder (`<state>/definitions/<key>.json`) so a rerun skips the SageMaker SDK import.

The local engine, `--dry-run` and the cloud run all go through `load_definition`. The remembered
JSON is keyed by everything the build reads: the config, the wiring, the code digest, the sources
of the `pipelines` package and its subpackages (not the engine) and the SDK version.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import os
from collections.abc import Callable
from importlib import metadata
from pathlib import Path
from typing import Any

from pipelines.code_bundle import CodeBundle
from pipelines.config import Config
from pipelines.wiring import Wiring, offline_wiring

PIPELINES_DIR = Path(__file__).resolve().parent.parent
ENGINE_DIR = Path(__file__).resolve().parent
# top-level modules of the package that cannot change what build_pipeline produces (every other one counts,
# in any subpackage but the engine)
NOT_IN_DEFINITION = {"__init__.py", "run.py", "cloud.py", "cloud_run.py", "aws.py", "registry.py",
                     "registry_model.py", "parameters.py", "progress.py", "sample_data.py"}


def local_wiring(config: Config) -> Wiring:
    """What Terraform would vend, with local values: buckets in the object store, a local role."""
    return offline_wiring(config.project, config.stage, config.account_id, config.aws_region, label="local")


def _sdk_version() -> str:
    try:
        return metadata.version("sagemaker")
    except metadata.PackageNotFoundError:
        return "unknown"


def _builder_sources() -> dict[str, str]:
    """sha256 of every module that may take part in building the definition, by relative path."""
    sources = {}
    for path in sorted(PIPELINES_DIR.rglob("*.py")):
        relative = path.relative_to(PIPELINES_DIR)
        if ENGINE_DIR in path.parents or str(relative) in NOT_IN_DEFINITION:
            continue
        sources[relative.as_posix()] = hashlib.sha256(path.read_bytes()).hexdigest()
    return sources


def definition_key(config: Config, wiring: Wiring, bundle: CodeBundle, builder: str = "") -> str:
    sources = _builder_sources()
    material = {"config": dataclasses.asdict(config), "wiring": wiring.to_dict(), "code": bundle.digest,
                "sources": sources, "sdk": _sdk_version(), "builder": builder}
    return hashlib.sha256(json.dumps(material, sort_keys=True, default=str).encode()).hexdigest()[:32]


def load_definition(config: Config, wiring: Wiring, bundle: CodeBundle, folder: Path,
                    build: Callable[[Config, Wiring, CodeBundle], Any] | None = None) -> tuple[str, bool]:
    """(definition JSON, True when it came from the state folder instead of the SDK).

    `build` is the training pipeline's builder unless given (the monitoring pipeline's). The cache is an
    optimisation: a folder that cannot be written (a read-only checkout) only means the next run builds again.
    """
    name = "" if build is None else f"{build.__module__}.{build.__qualname__}"
    path = Path(folder) / f"{definition_key(config, wiring, bundle, name)}.json"
    if path.is_file():
        return path.read_text(), True
    if build is None:
        from pipelines.definition import build_pipeline as build

    definition = build(config, wiring, bundle).definition
    temporary = path.parent / f".{path.name}.{os.getpid()}.tmp"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary.write_text(definition)
        os.replace(temporary, path)
    except OSError:
        with contextlib.suppress(OSError):
            temporary.unlink()
    return definition, False
