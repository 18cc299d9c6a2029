"""Copy the shared code from the template root into the freshly rendered team repo."""

import sys
from pathlib import Path

REPO_DIR = Path("{{ cookiecutter._repo_dir }}").resolve()
sys.path.insert(0, str(REPO_DIR))
from hooks.assemble import AssemblyError, assemble  # noqa: E402  (stdlib-only module)

try:
    assemble(REPO_DIR, Path.cwd(), "{{ cookiecutter._template_source }}")
except AssemblyError as exc:
    sys.stderr.write(f"ERROR: {exc}. Re-clone the template and run cookiecutter again.\n")
    sys.exit(1)
