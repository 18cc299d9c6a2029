"""Regenerate `tests/infra/aws_provider_schema.json.gz`, the compact AWS provider schema.

No Terraform binary is available in CI, so the schema comes from the PyPI package
`cdktf-cdktf-provider-aws`: its embedded jsii assembly describes every resource and data
source config struct, and each property's docs link ends in `#<terraform_argument_name>`.

    python infra/tools/extract_provider_schema.py            # download the pinned wheel with pip
    python infra/tools/extract_provider_schema.py --wheel X  # use a wheel already on disk

Compact form (one entry per Terraform type)::

    {"r": [required args], "o": [optional args], "b": {block: [required, nested or null]}}

`nested` has the same form; null means the provider leaves the block's content open.
Standard library only.
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
import re
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path
from typing import Any

PACKAGE = "cdktf-cdktf-provider-aws"
PACKAGE_VERSION = "21.22.1"  # embeds hashicorp/aws 6.25.0
OUTPUT = Path(__file__).resolve().parents[2] / "tests" / "infra" / "aws_provider_schema.json.gz"

_REGISTRY = re.compile(
    r"registry\.terraform\.io/providers/hashicorp/aws/([0-9.]+)/docs/(resources|data-sources)/\S+ (\w+)\}"
)
_ANCHOR = re.compile(r"#(\w+) \w+#\w+\}")
_AWS = "@cdktf/provider-aws."


def download_wheel(dest: Path) -> Path:
    """Fetch the pinned wheel with pip (no dependencies) and return its path."""
    requirement = f"{PACKAGE}=={PACKAGE_VERSION}"
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", requirement, "-d", str(dest)], check=True
    )
    return next(dest.glob("*.whl"))


def read_assembly(wheel: Path) -> dict[str, Any]:
    """The jsii assembly (`.jsii`) inside the wheel's embedded npm tarball."""
    with zipfile.ZipFile(wheel) as archive:
        name = next(n for n in archive.namelist() if n.endswith(".jsii.tgz"))
        tarball = archive.read(name)
    with tarfile.open(fileobj=io.BytesIO(tarball), mode="r:gz") as tar:
        member = tar.extractfile("package/.jsii")
        if member is None:
            raise RuntimeError(f"{wheel}: no package/.jsii in {name}")
        return json.load(member)


def _docs(prop: dict[str, Any]) -> str:
    docs = prop.get("docs", {})
    return f"{docs.get('summary', '')} {docs.get('remarks', '')}"


def _struct(type_ref: dict[str, Any]) -> str | None:
    """The provider struct a property holds (directly, in a list, or in a union), if any."""
    if type_ref.get("fqn", "").startswith(_AWS):
        return type_ref["fqn"]
    if "union" in type_ref:
        for option in type_ref["union"]["types"]:
            found = _struct(option)
            if found:
                return found
    collection = type_ref.get("collection")
    if collection and collection["kind"] == "array":
        return _struct(collection["elementtype"])
    return None


def compact_struct(types: dict[str, Any], fqn: str) -> dict[str, Any]:
    """Arguments and nested blocks of one config struct, recursively."""
    required: list[str] = []
    optional: list[str] = []
    blocks: dict[str, list[Any]] = {}
    for prop in types[fqn].get("properties", []):
        anchor = _ANCHOR.search(_docs(prop))
        if not anchor:
            raise RuntimeError(f"{fqn}.{prop['name']}: no Terraform name in its docs")
        name = anchor.group(1)
        is_required = not prop.get("optional", False)
        is_block = prop.get("docs", {}).get("summary", "").endswith(" block.")
        if is_block:
            nested = _struct(prop["type"])
            blocks[name] = [is_required, compact_struct(types, nested) if nested else None]
        else:  # plain or object-typed attribute: its value is not checked deeper
            (required if is_required else optional).append(name)
    entry: dict[str, Any] = {}
    if required:
        entry["r"] = sorted(required)
    if optional:
        entry["o"] = sorted(optional)
    if blocks:
        entry["b"] = dict(sorted(blocks.items()))
    return entry


def compact_schema(assembly: dict[str, Any]) -> dict[str, Any]:
    """Every resource, data source and the provider block, keyed by Terraform type name."""
    types = assembly["types"]
    schema: dict[str, Any] = {"resource": {}, "data": {}, "provider": {}}
    version = ""
    for klass in types.values():
        base = klass.get("base")
        if base not in ("cdktf.TerraformResource", "cdktf.TerraformDataSource", "cdktf.TerraformProvider"):
            continue
        config = next(p for p in klass["initializer"]["parameters"] if p["name"] == "config")
        struct = compact_struct(types, config["type"]["fqn"])
        if base == "cdktf.TerraformProvider":
            schema["provider"]["aws"] = struct
            continue
        match = _REGISTRY.search(klass["docs"]["summary"])
        if not match:
            raise RuntimeError(f"{klass['fqn']}: no registry link in its docs")
        version = match.group(1)
        kind = "resource" if base == "cdktf.TerraformResource" else "data"
        schema[kind][match.group(3)] = struct
    schema["resource"] = dict(sorted(schema["resource"].items()))
    schema["data"] = dict(sorted(schema["data"].items()))
    return {
        "provider": "hashicorp/aws",
        "provider_version": version,
        "extracted_from": f"{PACKAGE}=={assembly['version']}",
        **schema,
    }


def write_schema(schema: dict[str, Any], output: Path) -> None:
    payload = json.dumps(schema, separators=(",", ":"), sort_keys=False).encode()
    output.write_bytes(gzip.compress(payload, compresslevel=9, mtime=0))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wheel", type=Path, help="an already downloaded cdktf-cdktf-provider-aws wheel")
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        wheel = args.wheel or download_wheel(Path(tmp))
        schema = compact_schema(read_assembly(wheel))
    write_schema(schema, args.output)
    print(
        f"{args.output}: hashicorp/aws {schema['provider_version']}, "
        f"{len(schema['resource'])} resources, {len(schema['data'])} data sources"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
