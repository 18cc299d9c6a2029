"""Load and invoke a model package the way the SageMaker XGBoost container's script mode does.

The container (sagemaker_xgboost_container.serving with SAGEMAKER_PROGRAM set) extracts the
SAGEMAKER_SUBMIT_DIRECTORY tarball into its code folder, puts that folder on sys.path and imports
the SAGEMAKER_PROGRAM module; it extracts model.tar.gz into /opt/ml/model and calls
``model_fn(model_dir)`` once; then, per request, ``input_fn(body, content_type)`` ->
``predict_fn(data, model)`` -> ``output_fn(prediction, accept)`` (sagemaker_inference's
Transformer). `ScriptModeHandler` does exactly that sequence, so a test or a local endpoint runs
the same serving code over the same files as the cloud endpoint.

`python -m pipelines.serving.script_mode --model M --code C --program P --content-type T` reads a
request body on stdin and writes the response on stdout, in a fresh interpreter like a container.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import tarfile
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

DEFAULT_ACCEPT = "application/json"  # sagemaker_inference's default for Accept */* or none


@dataclass(frozen=True)
class ServingPackage:
    """The files a script-mode endpoint serves: the model, the code tarball and the entry module."""

    model_data: Path  # model.tar.gz (ModelDataUrl)
    code: Path  # sourcedir.tar.gz (SAGEMAKER_SUBMIT_DIRECTORY)
    program: str  # SAGEMAKER_PROGRAM, e.g. inference.py


def _extract(archive: Path, target: Path) -> Path:
    target.mkdir(parents=True, exist_ok=True)
    with tarfile.open(archive, "r:*") as tar:
        tar.extractall(target, filter="data")
    return target


class ScriptModeHandler:
    """One loaded package: the user module imported from its code folder and the model loaded once."""

    def __init__(self, package: ServingPackage, workdir: Path) -> None:
        code_dir = _extract(package.code, workdir / "code")
        model_dir = _extract(package.model_data, workdir / "model")
        module_name = package.program.removesuffix(".py")
        if not (code_dir / package.program).is_file():
            raise FileNotFoundError(f"{package.code} has no {package.program} (SAGEMAKER_PROGRAM)")
        sys.path.insert(0, str(code_dir))
        self.module: ModuleType = importlib.import_module(module_name)
        self.model: Any = self.module.model_fn(str(model_dir))

    def invoke(self, body: bytes, content_type: str, accept: str | None = None) -> tuple[bytes, str]:
        """(response body, response content type) for one request."""
        accept = DEFAULT_ACCEPT if accept in (None, "", "*/*") else accept
        data = self.module.input_fn(bytearray(body), content_type)
        prediction = self.module.predict_fn(data, self.model)
        result = self.module.output_fn(prediction, accept)
        if isinstance(result, tuple):
            result, accept = result
        return (result.encode("utf-8") if isinstance(result, str) else bytes(result)), accept


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pipelines.serving.script_mode",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path, required=True, help="model.tar.gz")
    parser.add_argument("--code", type=Path, required=True, help="sourcedir.tar.gz")
    parser.add_argument("--program", default="inference.py", help="entry module (default inference.py)")
    parser.add_argument("--content-type", default="text/csv")
    parser.add_argument("--accept", default=None)
    parser.add_argument("--workdir", type=Path, required=True, help="empty folder to extract into")
    args = parser.parse_args(argv)
    handler = ScriptModeHandler(ServingPackage(args.model, args.code, args.program), args.workdir)
    body, _ = handler.invoke(sys.stdin.buffer.read(), args.content_type, args.accept)
    sys.stdout.buffer.write(body)
    return 0


if __name__ == "__main__":
    sys.exit(main())
