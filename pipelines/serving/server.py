"""The local endpoint's ASGI application, served by gunicorn (as the SageMaker containers serve theirs).

Routes:
  GET  /ping                                  200 once the model is loaded
  POST /invocations                           the inference container contract (text/csv, application/json)
  POST /endpoints/<EndpointName>/invocations  the SageMaker Runtime API's InvokeEndpoint, with its headers
                                              and error shapes, so boto3's sagemaker-runtime client (and
                                              anything built on it) works with endpoint_url unchanged

Each worker loads the package once through `ScriptModeHandler`: the package's own model.tar.gz and
code tarball, `model_fn` / `input_fn` / `predict_fn` / `output_fn`, exactly the container's sequence.
Bad requests get a 4xx with a one-line reason; the worker keeps serving. Successful invocations
are captured (sampled) by a `CaptureWriter` in SageMaker's format.

gunicorn runs `pipelines.serving.server:create_app()` with `-c python:pipelines.serving.gunicorn_conf`;
$ML_FACTORY_ENDPOINT_SPEC names the endpoint's spec file (`EndpointSpec`), re-read by the new
workers that a HUP starts, which is how a newer version replaces the model without dropping requests.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from pipelines.serving.capture import CaptureWriter, Invocation
from pipelines.serving.script_mode import ScriptModeHandler, ServingPackage

SPEC_ENV = "ML_FACTORY_ENDPOINT_SPEC"
MAX_BODY_BYTES = 6 * 1024 * 1024  # InvokeEndpoint's payload limit
RUNTIME_ROUTE = re.compile(r"^/endpoints/([^/]+)/invocations$")
VERSION_HEADER = "X-ML-Factory-Model-Version"
CLIENT_ERRORS = (ValueError, KeyError, TypeError, UnicodeError)
REASON_CHARS = 500


@dataclass(frozen=True)
class EndpointSpec:
    """What a local endpoint serves, written by `pipelines.deploy --local` and read by every worker."""

    endpoint: str
    variant: str
    version: int
    package_arn: str
    model_data: str  # model.tar.gz on disk
    code: str  # sourcedir.tar.gz on disk
    program: str  # SAGEMAKER_PROGRAM
    content_types: tuple[str, ...]
    capture_root: str  # "" = no capture
    capture_percentage: int
    account_id: str
    region: str

    def write(self, path: Path) -> None:
        """Atomically, so a worker never reads half a spec."""
        partial = path.with_suffix(".partial")
        partial.write_text(json.dumps(asdict(self), indent=2))
        partial.replace(path)

    @classmethod
    def read(cls, path: Path) -> EndpointSpec:
        data = json.loads(Path(path).read_text())
        data["content_types"] = tuple(data["content_types"])
        return cls(**data)


@dataclass(frozen=True)
class Reply:
    status: int
    body: bytes
    content_type: str = "text/plain"
    headers: tuple[tuple[str, str], ...] = ()


class ClientProblem(Exception):
    """A request the model cannot serve: the HTTP status and a one-line reason."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status


def one_line(exc: BaseException) -> str:
    text = (str(exc) or type(exc).__name__).strip().splitlines()
    return (text[0] if text else type(exc).__name__)[:REASON_CHARS]


@dataclass(frozen=True)
class Request:
    """One HTTP request as the routes see it; a body over the 6 MB limit is read through but not kept."""

    method: str
    path: str
    content_type: str
    accept: str | None
    content_length: str | None
    body: bytes
    too_large: bool = False


async def read_request(scope: dict[str, Any], receive: Callable[[], Awaitable[dict[str, Any]]]) -> Request:
    """The ASGI request with its body; beyond MAX_BODY_BYTES the body is drained, so the client sees the 413
    rather than a broken pipe."""
    headers = {name.decode("latin-1"): value.decode("latin-1") for name, value in scope["headers"]}
    parts: list[bytes] = []
    size, more = 0, True
    while more:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk, more = message.get("body", b""), message.get("more_body", False)
        size += len(chunk)
        if size <= MAX_BODY_BYTES:
            parts.append(chunk)
    return Request(scope["method"], scope["path"], headers.get("content-type", ""), headers.get("accept"),
                   headers.get("content-length"), b"".join(parts), size > MAX_BODY_BYTES)


class EndpointApp:
    """One worker's ASGI application over one loaded package (a model call is a few hundred microseconds, so
    it runs on the worker's event loop: no thread hand-offs per request)."""

    def __init__(self, spec: EndpointSpec, workdir: Path) -> None:
        self.spec = spec
        self.workdir = workdir
        self.handler = ScriptModeHandler(ServingPackage(Path(spec.model_data), Path(spec.code), spec.program), workdir)
        self.capture = (CaptureWriter(Path(spec.capture_root), spec.endpoint, spec.variant, spec.capture_percentage)
                        if spec.capture_root and spec.capture_percentage > 0 else None)
        self.version_header = (VERSION_HEADER.encode(), str(spec.version).encode())

    def close(self) -> None:
        if self.capture:
            self.capture.close()
        shutil.rmtree(self.workdir, ignore_errors=True)

    async def __call__(self, scope: dict[str, Any], receive: Callable[[], Awaitable[dict[str, Any]]],
                       send: Callable[[dict[str, Any]], Awaitable[None]]) -> None:
        if scope["type"] != "http":  # lifespan is off (gunicorn_conf); nothing else is served
            return
        reply = self.route(await read_request(scope, receive))
        headers = [(b"Content-Type", reply.content_type.encode()), (b"Content-Length", str(len(reply.body)).encode()),
                   self.version_header, *((name.encode(), value.encode()) for name, value in reply.headers)]
        await send({"type": "http.response.start", "status": reply.status, "headers": headers})
        await send({"type": "http.response.body", "body": reply.body})

    def route(self, request: Request) -> Reply:
        method, path = request.method, request.path
        if path == "/ping":
            return Reply(200, b"") if method in ("GET", "HEAD") else Reply(405, b"use GET /ping\n")
        runtime = RUNTIME_ROUTE.match(path)
        if path != "/invocations" and not runtime:
            return Reply(404, f"no route {path}; use /ping, /invocations or /endpoints/<name>/invocations\n".encode())
        if method != "POST":
            return Reply(405, f"use POST {path}\n".encode())
        if runtime:
            return self.runtime_invoke(runtime.group(1), request)
        try:
            return self.invoke(request)
        except ClientProblem as problem:
            return Reply(problem.status, (str(problem) + "\n").encode())

    def invoke(self, request: Request) -> Reply:
        """The container contract: the model's answer, or ClientProblem with a 4xx (500: a bug in the model code)."""
        if request.too_large:
            size = request.content_length or "more than 6 MB"
            raise ClientProblem(413, f"request body of {size} bytes exceeds the 6 MB limit ({MAX_BODY_BYTES} bytes); "
                                     "send fewer rows per request")
        body, content_type = request.body, request.content_type
        kind = content_type.split(";")[0].strip().lower()
        if kind not in self.spec.content_types:
            raise ClientProblem(415, f"unsupported content type {content_type or '(none)'!r}; use "
                                     f"{' or '.join(self.spec.content_types)}")
        if not body.strip():
            raise ClientProblem(400, "empty request body; send at least one row")
        try:
            answer, answer_type = self.handler.invoke(body, content_type, request.accept)
        except CLIENT_ERRORS as exc:
            raise ClientProblem(400, one_line(exc)) from None
        except Exception as exc:  # the model code's own failure: the container answers 500
            if type(exc).__name__ == "DataError":  # seedcode's user-facing data error
                raise ClientProblem(400, one_line(exc)) from None
            raise ClientProblem(500, one_line(exc)) from None
        if self.capture:
            self.capture.capture(Invocation(time.time(), body, content_type, answer, answer_type))
        return Reply(200, answer, answer_type)

    def runtime_invoke(self, name: str, request: Request) -> Reply:
        """InvokeEndpoint: unknown endpoint and payload problems are ValidationError (400); a model's
        4xx/5xx is ModelError (424) carrying OriginalStatusCode and OriginalMessage, as the service does."""
        if name != self.spec.endpoint:
            return runtime_error(400, "ValidationError",
                                 f"Endpoint {name} of account {self.spec.account_id} not found.")
        try:
            reply = self.invoke(request)
        except ClientProblem as problem:
            if problem.status == 413:
                return runtime_error(400, "ValidationError", str(problem))
            return model_error(self.spec, problem)
        return Reply(200, reply.body, reply.content_type,
                     (("x-Amzn-Invoked-Production-Variant", self.spec.variant),))


def runtime_error(status: int, code: str, message: str, **members: Any) -> Reply:
    body = json.dumps({"Message": message, **members}).encode()
    return Reply(status, body, "application/json", (("x-amzn-ErrorType", code),))


def model_error(spec: EndpointSpec, problem: ClientProblem) -> Reply:
    side = "client" if problem.status < 500 else "server"
    log_group = f"/aws/sagemaker/Endpoints/{spec.endpoint}"
    message = (f"Received {side} error ({problem.status}) from primary with message \"{problem}\". See "
               f"{log_group} in account {spec.account_id} for more information.")
    return runtime_error(424, "ModelError", message, OriginalStatusCode=problem.status, OriginalMessage=str(problem),
                         LogStreamArn=f"arn:aws:logs:{spec.region}:{spec.account_id}:log-group:{log_group}")


def create_app() -> EndpointApp:
    """gunicorn's app factory: load the package the spec file names, in this worker."""
    spec_path = Path(os.environ[SPEC_ENV])
    spec = EndpointSpec.read(spec_path)
    workers = spec_path.parent / "workers"
    workers.mkdir(exist_ok=True)
    return EndpointApp(spec, Path(tempfile.mkdtemp(prefix=f"v{spec.version}-{os.getpid()}-", dir=workers)))
