"""Pack the Studio launch artifacts: `python -m hooks.bundle OUT_DIR`.

OUT_DIR receives the CloudFormation template both launch routes use (`launch-template.yaml`, generated
by hooks.studio_template) and the template source the vending job renders from
(`ml-factory-template.tar.gz`: every file git tracks or would track, plus `ml-factory-bundle.json` naming
the version, commit and git source). Packing is reproducible: sorted entries, fixed mode, owner and time
(pipelines/code_bundle.py's reproducible_tar_gz), so the same commit gives the same bytes and an upload
of an unchanged release is a no-op. `hooks.publish_studio_template` uploads what this writes.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from hooks.assemble import template_version
from hooks.studio_template import render_launch_template
from pipelines.code_bundle import reproducible_tar_gz

TEMPLATE_ROOT = Path(__file__).resolve().parent.parent
LAUNCH_TEMPLATE = "launch-template.yaml"
SOURCE_BUNDLE = "ml-factory-template.tar.gz"
MANIFEST = "ml-factory-bundle.json"


class BundleError(Exception):
    """The checkout cannot be bundled; the message says why."""


@dataclass(frozen=True)
class BundleManifest:
    version: str
    commit: str
    dirty: bool  # uncommitted changes went into the bundle: it is not the commit's bytes
    template_git_url: str  # where cruft finds the template for later updates

    def to_json(self) -> bytes:
        return (json.dumps(self.__dict__, indent=2, sort_keys=True) + "\n").encode()


def _git(root: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise BundleError(f"{root} is not a usable git checkout (git {args[0]}: {done.stderr.strip()})")
    return done.stdout


def template_files(root: Path) -> dict[str, Path]:
    """Every file git tracks or would track (untracked but not ignored), by its path in the checkout."""
    listed = _git(root, "ls-files", "-z", "--cached", "--others", "--exclude-standard").split("\0")
    return {name: root / name for name in sorted(set(listed)) if name and (root / name).is_file()}


def template_git_url(root: Path) -> str:
    """The template's git URL, from cookiecutter.json's `_template_source` (`git::https://...`)."""
    source = json.loads((root / "cookiecutter.json").read_text())["_template_source"]
    return source.removeprefix("git::")


def manifest_of(root: Path) -> BundleManifest:
    commit = _git(root, "rev-parse", "HEAD").strip()
    dirty = bool(_git(root, "status", "--porcelain").strip())
    return BundleManifest(template_version(root), commit, dirty, template_git_url(root))


def source_bundle(root: Path) -> bytes:
    files: dict[str, bytes | Path] = dict(template_files(root))
    files[MANIFEST] = manifest_of(root).to_json()
    return reproducible_tar_gz(files)


def write_bundle(root: Path, out_dir: Path) -> list[Path]:
    """Write the launch template and the source bundle into `out_dir`; the paths written."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = [out_dir / LAUNCH_TEMPLATE, out_dir / SOURCE_BUNDLE]
    written[0].write_text(render_launch_template(root))
    written[1].write_bytes(source_bundle(root))
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m hooks.bundle", description=__doc__.splitlines()[0])
    parser.add_argument("out_dir", type=Path, help="folder to write launch-template.yaml and the source bundle into")
    args = parser.parse_args(argv)
    try:
        manifest = manifest_of(TEMPLATE_ROOT)
        paths = write_bundle(TEMPLATE_ROOT, args.out_dir)
    except BundleError as exc:
        print(f"error: {exc}; run it from a git clone of the template", file=sys.stderr)
        return 1
    if manifest.dirty:
        print("warning: uncommitted changes are in the bundle; commit them for a reproducible release",
              file=sys.stderr)
    for path in paths:
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
