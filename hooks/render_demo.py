"""Render a team repo from this template without prompts: `python -m hooks.render_demo OUT_DIR`.

Prints the generated repo's path on stdout (for `make demo`), progress on stderr.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("output_dir", type=Path, help="folder to render into (emptied first)")
    args = parser.parse_args(argv)

    from cookiecutter.exceptions import CookiecutterException
    from cookiecutter.main import cookiecutter

    template = Path(__file__).resolve().parent.parent
    shutil.rmtree(args.output_dir, ignore_errors=True)
    started = time.perf_counter()
    try:
        project_dir = cookiecutter(str(template), no_input=True, output_dir=str(args.output_dir))
    except CookiecutterException as exc:
        print(f"ERROR: rendering failed: {exc}", file=sys.stderr)
        return 1
    print(f"rendered {project_dir} in {time.perf_counter() - started:.1f}s", file=sys.stderr)
    print(project_dir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
