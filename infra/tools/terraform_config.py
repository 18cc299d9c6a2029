"""Read Terraform configuration with python-hcl2, without a Terraform binary.

python-hcl2 (8.x) turns a file into nested dicts: a block is a list of dicts marked with
`__is_block__`, an attribute is a plain value, and strings lose their quotes while expressions
keep their `${...}` form. This module hides those details behind a few small helpers shared by
the infra checks.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import hcl2

INFRA_DIR = Path(__file__).resolve().parents[1]
HCL_SUFFIXES = (".tf", ".tfvars", ".tfbackend", ".hcl")
_OPTIONS = hcl2.SerializationOptions(strip_string_quotes=True, with_comments=False)


@dataclass(frozen=True)
class Block:
    """One labelled top-level block, e.g. `resource "aws_s3_bucket" "this" { ... }`."""

    kind: str  # resource, data, module, provider, variable, output, locals, terraform
    labels: tuple[str, ...]
    body: dict[str, Any]
    path: Path
    line: int  # 1-based line of the block header, 0 when not found

    @property
    def address(self) -> str:
        return ".".join(("data", *self.labels) if self.kind == "data" else (self.kind, *self.labels))

    @property
    def where(self) -> str:
        return f"{self.path}:{self.line} {self.address}"


def hcl_files(root: Path = INFRA_DIR, suffixes: tuple[str, ...] = HCL_SUFFIXES) -> list[Path]:
    """Every HCL file under `root`, skipping `.terraform/` working directories."""
    return sorted(p for p in root.rglob("*") if p.suffix in suffixes and ".terraform" not in p.parts and p.is_file())


def load(path: Path) -> dict[str, Any]:
    """Parse one HCL file; raises whatever python-hcl2 raises on a syntax error."""
    with path.open(encoding="utf-8") as handle:
        return hcl2.load(handle, serialization_options=_OPTIONS)


def is_block(value: Any) -> bool:
    """True for the python-hcl2 form of one or more nested blocks."""
    return isinstance(value, list) and bool(value) and all(isinstance(v, dict) and v.get("__is_block__") for v in value)


def fields(body: dict[str, Any]) -> dict[str, Any]:
    """A block body without python-hcl2's bookkeeping keys (`__is_block__`, `__comments__`, ...)."""
    return {k: v for k, v in body.items() if not k.startswith("__")}


def _header_line(text: str, kind: str, labels: tuple[str, ...]) -> int:
    pattern = r"^\s*" + re.escape(kind) + "".join(r'\s+"?' + re.escape(label) + '"?' for label in labels) + r"\s*\{"
    match = re.search(pattern, text, flags=re.MULTILINE)
    return text.count("\n", 0, match.start()) + 1 if match else 0


_LABELS = {"resource": 2, "data": 2, "module": 1, "provider": 1, "variable": 1, "output": 1}


def blocks(path: Path) -> Iterator[Block]:
    """The top-level blocks of one file, labels unwrapped (locals and terraform have none)."""
    document = load(path)
    text = path.read_text(encoding="utf-8")
    for kind, entries in fields(document).items():
        depth = _LABELS.get(kind, 0)
        for entry in entries if isinstance(entries, list) else [entries]:
            yield from _unwrap(kind, entry, depth, (), path, text)


def _unwrap(
    kind: str, node: dict[str, Any], depth: int, labels: tuple[str, ...], path: Path, text: str
) -> Iterator[Block]:
    if depth == 0:
        yield Block(kind, labels, node, path, _header_line(text, kind, labels))
        return
    for label, child in fields(node).items():
        yield from _unwrap(kind, child, depth - 1, (*labels, label), path, text)


def config_blocks(directory: Path) -> list[Block]:
    """Every top-level block of the `.tf` files directly in `directory` (one Terraform module)."""
    return [block for path in sorted(directory.glob("*.tf")) for block in blocks(path)]


################################################################################
# Cross-references inside one module: what `terraform validate` would reject
################################################################################

_MODULE_META = {"source", "version", "count", "for_each", "providers", "depends_on"}
_REFERENCES = {
    "var": re.compile(r"(?<![\w.])var\.([A-Za-z_][\w-]*)"),
    "local": re.compile(r"(?<![\w.])local\.([A-Za-z_][\w-]*)"),
    "module": re.compile(r"(?<![\w.])module\.([A-Za-z_][\w-]*)(?:\.([A-Za-z_][\w-]*))?"),
    "data": re.compile(r"(?<![\w.])data\.([a-z][a-z0-9_]*)\.([A-Za-z_][\w-]*)"),
    "resource": re.compile(r"(?<![\w.])(aws_[a-z0-9_]+)\.([A-Za-z_][\w-]*)"),
}


def _expressions(value: Any) -> Iterator[str]:
    """Every string holding an expression (`${...}`) anywhere in a parsed value."""
    if isinstance(value, str):
        if "${" in value:
            yield value
    elif isinstance(value, dict):
        for key, child in value.items():
            if not key.startswith("__"):
                yield from _expressions(key)
                yield from _expressions(child)
    elif isinstance(value, list):
        for child in value:
            yield from _expressions(child)


def local_module_dir(block: Block) -> Path | None:
    """The directory of a module call whose source is a local path, else None."""
    source = block.body.get("source")
    if isinstance(source, str) and source.startswith(("./", "../")):
        return (block.path.parent / source).resolve()
    return None


def module_call_problems(block: Block) -> list[str]:
    """Arguments of a local module call must be variables of that module, and every required one set."""
    module_dir = local_module_dir(block)
    if module_dir is None:
        return []
    if not (module_dir.is_dir() and any(module_dir.glob("*.tf"))):
        return [f"{block.where}: module source {block.body['source']} has no .tf files"]
    variables = {b.labels[0]: b.body for b in config_blocks(module_dir) if b.kind == "variable"}
    arguments = set(fields(block.body)) - _MODULE_META
    problems = [f"{block.where}: module has no variable '{name}'" for name in sorted(arguments - set(variables))]
    missing = [name for name, body in variables.items() if "default" not in body and name not in arguments]
    problems += [f"{block.where}: missing required variable '{name}'" for name in sorted(missing)]
    return problems


def reference_problems(directory: Path) -> list[str]:
    """References to undeclared variables, locals, modules, module outputs, resources or data sources."""
    all_blocks = config_blocks(directory)
    declared: dict[str, set[Any]] = {
        "var": {b.labels[0] for b in all_blocks if b.kind == "variable"},
        "local": {name for b in all_blocks if b.kind == "locals" for name in fields(b.body)},
        "module": {b.labels[0] for b in all_blocks if b.kind == "module"},
        "data": {b.labels for b in all_blocks if b.kind == "data"},
        "resource": {b.labels for b in all_blocks if b.kind == "resource"},
    }
    outputs: dict[str, set[str] | None] = {}
    for block in all_blocks:
        if block.kind == "module":
            module_dir = local_module_dir(block)
            outputs[block.labels[0]] = (
                {b.labels[0] for b in config_blocks(module_dir) if b.kind == "output"}
                if module_dir and module_dir.is_dir()
                else None  # a remote module: its outputs are unknown here
            )
    problems = []
    for block in all_blocks:
        if block.kind == "moved":  # its `from` is gone by design; moved_problems checks both ends
            continue
        for expression in _expressions(block.body):
            for kind, pattern in _REFERENCES.items():
                for found in pattern.finditer(expression):
                    problem = _reference_problem(kind, found, declared, outputs)
                    if problem:
                        problems.append(f"{block.where}: {problem}")
    return sorted(set(problems))


def _reference_problem(
    kind: str, found: re.Match[str], declared: dict[str, set[Any]], outputs: dict[str, set[str] | None]
) -> str | None:
    if kind in ("var", "local"):
        name = found.group(1)
        return None if name in declared[kind] else f"reference to undeclared {kind}.{name}"
    if kind == "module":
        name, output = found.group(1), found.group(2)
        if name not in declared["module"]:
            return f"reference to undeclared module.{name}"
        known = outputs.get(name)
        if output and known is not None and output not in known:
            return f"module.{name} has no output '{output}'"
        return None
    address = (found.group(1), found.group(2))
    if address not in declared[kind]:
        prefix = "data." if kind == "data" else ""
        return f"reference to undeclared {prefix}{address[0]}.{address[1]}"
    return None


def _address(expression: str) -> list[str]:
    """`${module.a[0].module.b.aws_x.y["k"]}` -> ["module", "a", "module", "b", "aws_x", "y"]."""
    return re.sub(r"\[[^\]]*\]", "", expression.removeprefix("${").removesuffix("}")).split(".")


def moved_problems(directory: Path) -> list[str]:
    """`moved` blocks: the `from` resource is no longer declared, and `to` names a resource that is, following
    module calls into local modules (what `terraform plan` would reject)."""
    all_blocks = config_blocks(directory)
    problems = []
    for block in (b for b in all_blocks if b.kind == "moved"):
        source, target = _address(str(block.body.get("from"))), _address(str(block.body.get("to")))
        if source[0] != "module" and any(b.kind == "resource" and b.labels == tuple(source) for b in all_blocks):
            problems.append(f"{block.where}: moved from {'.'.join(source)}, which is still declared")
        here, blocks_here = directory, all_blocks
        while len(target) > 2 and target[0] == "module":
            call = next((b for b in blocks_here if b.kind == "module" and b.labels == (target[1],)), None)
            module_dir = local_module_dir(call) if call else None
            if module_dir is None:
                problems.append(f"{block.where}: moved to module.{target[1]}, not a local module call in {here}")
                break
            here, blocks_here, target = module_dir, config_blocks(module_dir), target[2:]
        else:
            if not any(b.kind == "resource" and b.labels == tuple(target) for b in blocks_here):
                problems.append(f"{block.where}: moved to {'.'.join(target)}, which {here} does not declare")
    return problems
