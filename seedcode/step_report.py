"""How a step reports: ``[ml-factory]`` log lines on stdout, one clear error line for bad data.

A data problem is raised as ``DataError``; ``run_step`` turns it into one line on stderr
(``error: ...``), writes the same text to the job's failure file (SageMaker shows it as the
FailureReason) and exits with code 2. Anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import sys
from collections.abc import Callable

import sm_paths

PREFIX = "[ml-factory]"
EXIT_DATA_ERROR = 2
RUNTIME_MODULES = ("numpy", "pandas", "pyarrow", "sklearn", "xgboost")


class DataError(Exception):
    """The input data or settings are unusable; the message names the problem and the fix."""


def log(message: str) -> None:
    """One progress or result line on stdout."""
    print(f"{PREFIX} {message}", flush=True)


def write_failure(message: str, kind: str) -> None:
    """Write the failure reason where SageMaker looks for it; never fail while failing."""
    try:
        path = sm_paths.failure_file(kind)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(message + "\n")
    except OSError:
        pass


def runtime() -> str:
    """This interpreter and the versions of the step libraries loaded so far, e.g. to tell a local run
    on the container's versions (requirements-container.in) from one on the project's."""
    versions = [f"Python {sys.version.split()[0]}"]
    for module in RUNTIME_MODULES:
        if module in sys.modules:
            versions.append(f"{module} {getattr(sys.modules[module], '__version__', '?')}")
    return ", ".join(versions)


def run_step(main: Callable[[], None], kind: str) -> int:
    """Run a step's main function; a DataError becomes exit code 2 with a one-line message."""
    log(f"runtime: {runtime()}")
    try:
        main()
    except DataError as err:
        message = " ".join(str(err).split())
        sys.stdout.flush()
        print(f"error: {message}", file=sys.stderr, flush=True)
        write_failure(message, kind)
        return EXIT_DATA_ERROR
    return 0
