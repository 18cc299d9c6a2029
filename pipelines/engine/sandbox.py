"""A step's stand-in for its container: `/opt/ml` becomes `<run-dir>/<step>/opt_ml`.

Step code computes every path from `SM_OPT_ML_ROOT` (seedcode/sm_paths.py), so pointing that
variable at the sandbox and rewriting `/opt/ml/...` in arguments and environment values is all
it takes to run a container's command on this machine.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

CONTAINER_ROOT = "/opt/ml"
ROOT_ENV = "SM_OPT_ML_ROOT"
PYTHON_COMMANDS = re.compile(r"^python(3(\.\d+)?)?$")
_CONTAINER_PATH = re.compile(r"(?<![\w./-])/opt/ml(?=/|$|[^\w.-])")


class Sandbox:
    """The folders of one step: `opt_ml/` (the container's /opt/ml) and `logs/`."""

    def __init__(self, step_dir: Path, python: Path = Path(sys.executable)):
        self.step_dir = Path(step_dir).resolve()
        self.python = python  # the step code's interpreter, the container's `python3`
        self.root = self.step_dir / "opt_ml"
        self.logs = self.step_dir / "logs"
        self.root.mkdir(parents=True, exist_ok=True)
        self.logs.mkdir(parents=True, exist_ok=True)

    def local(self, container_path: str) -> Path:
        """Where a container path lives here; paths outside /opt/ml go under `<step>/fs/`."""
        path = str(container_path)
        if path == CONTAINER_ROOT or path.startswith(CONTAINER_ROOT + "/"):
            return self.root / path[len(CONTAINER_ROOT):].lstrip("/")
        return self.step_dir / "fs" / path.lstrip("/")

    def remap(self, text: str) -> str:
        """Every `/opt/ml` path inside an argument or environment value, rewritten to the sandbox."""
        return _CONTAINER_PATH.sub(lambda _: str(self.root), text)

    def command(self, argv: list[str]) -> list[str]:
        """A container command for this machine: `python3` is the step interpreter, paths remapped."""
        if not argv:
            return []
        first = str(self.python) if PYTHON_COMMANDS.match(argv[0]) else self.remap(argv[0])
        return [first, *(self.remap(str(arg)) for arg in argv[1:])]

    def environment(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        """This process's environment (minus SM_* variables a container would not inherit) plus the
        container's variables, paths remapped, and the root."""
        env = {key: value for key, value in os.environ.items() if not key.startswith("SM_")}
        for key, value in (extra or {}).items():
            env[str(key)] = self.remap(str(value))
        env[ROOT_ENV] = str(self.root)
        env["PYTHONUNBUFFERED"] = "1"
        return env
