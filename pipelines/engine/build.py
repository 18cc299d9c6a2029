"""The definition a local run executes: `build_pipeline(config, local wiring, code)`, as the cloud
run builds it, remembered under the state folder so a rerun skips the SageMaker SDK import.

The remembered JSON is keyed by everything the build reads: the config, the wiring, the code
digest, the sources of the `pipelines` package (not the engine) and the SDK version.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from importlib import metadata
from pathlib import Path

from pipelines.code_bundle import CodeBundle
from pipelines.config import Config
from pipelines.wiring import Wiring, offline_wiring

PIPELINES_DIR = Path(__file__).resolve().parent.parent
# modules of the package that cannot change what build_pipeline produces (every other one counts)
NOT_IN_DEFINITION = {"__init__.py", "run.py", "cloud.py", "aws.py", "registry.py", "registry_model.py",
                     "parameters.py", "progress.py", "sample_data.py"}


def local_wiring(config: Config) -> Wiring:
    """What Terraform would vend, with local values: buckets in the object store, a local role."""
    return offline_wiring(config.project, config.stage, config.account_id, config.aws_region, label="local")


def _sdk_version() -> str:
    try:
        return metadata.version("sagemaker")
    except metadata.PackageNotFoundError:
        return "unknown"


def definition_key(config: Config, wiring: Wiring, bundle: CodeBundle) -> str:
    sources = {path.relative_to(PIPELINES_DIR).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
               for path in sorted([*PIPELINES_DIR.glob("*.py"), *(PIPELINES_DIR / "steps").glob("*.py")])
               if path.name not in NOT_IN_DEFINITION}
    material = {"config": dataclasses.asdict(config), "wiring": wiring.to_dict(), "code": bundle.digest,
                "sources": sources, "sdk": _sdk_version()}
    return hashlib.sha256(json.dumps(material, sort_keys=True, default=str).encode()).hexdigest()[:32]


def load_definition(config: Config, wiring: Wiring, bundle: CodeBundle, folder: Path) -> tuple[str, bool]:
    """(definition JSON, True when it came from the state folder instead of the SDK)."""
    path = Path(folder) / f"{definition_key(config, wiring, bundle)}.json"
    if path.is_file():
        return path.read_text(), True
    from pipelines.definition import build_pipeline

    definition = build_pipeline(config, wiring, bundle).definition
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.parent / f".{path.name}.{os.getpid()}.tmp"
    temporary.write_text(definition)
    os.replace(temporary, path)
    return definition, False
