"""Render the Inputs and Outputs tables of a module README from its variables.tf and outputs.tf.

The tables sit between `<!-- BEGIN_TF_DOCS -->` and `<!-- END_TF_DOCS -->` (the terraform-docs
markers); tests/infra checks they are current. Regenerate every README in place with

    python -m infra.tools.module_docs
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

from infra.tools.terraform_config import INFRA_DIR, config_blocks

BEGIN, END = "<!-- BEGIN_TF_DOCS -->", "<!-- END_TF_DOCS -->"
_SECTION = re.compile(re.escape(BEGIN) + r".*?" + re.escape(END), flags=re.DOTALL)


def module_dirs(infra_dir: Path = INFRA_DIR) -> list[Path]:
    """The root module and every module of the library."""
    modules = infra_dir / "modules"
    return [infra_dir, *sorted(p for p in modules.iterdir() if p.is_dir())] if modules.is_dir() else [infra_dir]


def _cell(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;").replace("\n", " ")


def _type(value: Any) -> str:
    text = str(value)
    return text[2:-1] if text.startswith("${") and text.endswith("}") else text


def render_tables(directory: Path) -> str:
    """The marked Inputs/Outputs section for one module directory."""
    blocks = config_blocks(directory)
    lines = [BEGIN, "## Inputs", "", "| Name | Description | Type | Default | Required |"]
    lines.append("|------|-------------|------|---------|:--------:|")
    for block in blocks:
        if block.kind != "variable":
            continue
        body = block.body
        default = f"`{json.dumps(body['default'])}`" if "default" in body else "n/a"
        lines.append(
            f"| `{block.labels[0]}` | {_cell(body.get('description', ''))} | `{_cell(_type(body.get('type', 'any')))}` "
            f"| {_cell(default)} | {'no' if 'default' in body else 'yes'} |"
        )
    lines += ["", "## Outputs", "", "| Name | Description |", "|------|-------------|"]
    lines += [
        f"| `{block.labels[0]}` | {_cell(block.body.get('description', ''))} |"
        for block in blocks
        if block.kind == "output"
    ]
    return "\n".join([*lines, END])


def current_section(readme: Path) -> str | None:
    """The marked section of a README as written, or None when it has none."""
    match = _SECTION.search(readme.read_text(encoding="utf-8"))
    return match.group(0) if match else None


def update_readme(directory: Path) -> bool:
    """Rewrite the marked section of `<directory>/README.md`; True when it changed."""
    readme = directory / "README.md"
    text = readme.read_text(encoding="utf-8")
    if not _SECTION.search(text):
        raise ValueError(f"{readme} has no {BEGIN} ... {END} section")
    updated = _SECTION.sub(lambda _: render_tables(directory), text)
    readme.write_text(updated, encoding="utf-8")
    return updated != text


def main() -> int:
    for directory in module_dirs():
        if (directory / "README.md").is_file():
            print(f"{'updated' if update_readme(directory) else 'current'}: {directory / 'README.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
