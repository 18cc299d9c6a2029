"""Copy the shared code from the template root into the freshly rendered team repo.

cookiecutter runs this rendered copy from a temporary file with the new repo as working directory;
the assembly itself runs as `python -m hooks.assemble` in the template root (see its docstring).
cookiecutter names that root `_repo_dir`; cruft (`cruft create`/`update`) does not, so the fallback is
the root the validation extension was imported from (cruft puts its template clone on sys.path). A
relative `_repo_dir` (`cookiecutter .`) is made absolute while cookiecutter renders this file in the template.
"""

import os
import subprocess
import sys
from pathlib import Path

TEMPLATE_DIR = Path("{{ cookiecutter._repo_dir | default(ml_factory_template_root) | ml_factory_abspath }}")
# PYTHONSAFEPATH would keep `-m` from putting the template root on sys.path
environment = {key: value for key, value in os.environ.items() if key != "PYTHONSAFEPATH"}
command = [sys.executable, "-m", "hooks.assemble", str(Path.cwd()), "{{ cookiecutter._template_source }}"]
result = subprocess.run(command, cwd=TEMPLATE_DIR, env=environment, check=False)
sys.exit(result.returncode)
