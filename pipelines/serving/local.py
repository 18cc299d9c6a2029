"""`python -m pipelines.deploy --local`: the newest Approved package of the local registry, served on
127.0.0.1 by gunicorn in the background, without Docker.

State per stage under `<state>/endpoints/<stage>/`: `endpoint.json` (pid, port, version, URL),
`spec.json` (what the workers load, see pipelines/serving/server.py), `server.log`. A second deploy
of a newer version rewrites the spec and sends the server a HUP: new workers load the new model
while the old ones finish their requests. Capture goes to the local object store at the path the
cloud would use (pipelines/serving/names.py), in SageMaker's layout.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass
from pathlib import Path

import pipelines
from pipelines.config import Config
from pipelines.errors import UserError
from pipelines.registry_model import PackageVersion
from pipelines.serving import names
from pipelines.serving.packages import select_package, serving_files
from pipelines.serving.server import SPEC_ENV, VERSION_HEADER, EndpointSpec
from pipelines.wiring import offline_wiring

START_TIMEOUT_SECONDS = 120.0
STOP_TIMEOUT_SECONDS = 60.0


@dataclass(frozen=True)
class LocalDeployRequest:
    state_root: Path  # the local engine's state folder (registry, object store)
    stage: str = "dev"
    package_arn: str | None = None
    port: int = 0  # 0: any free port
    delete: bool = False


@dataclass(frozen=True)
class RunningEndpoint:
    """endpoint.json: the background server of one stage."""

    pid: int
    port: int
    version: int
    package_arn: str

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def endpoint_dir(state_root: Path, stage: str) -> Path:
    return Path(state_root) / "endpoints" / stage


def _progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def ping_version(url: str, timeout: float = 2.0) -> int | None:
    """The model version /ping reports, or None when nothing answers."""
    try:
        with urllib.request.urlopen(f"{url}/ping", timeout=timeout) as response:
            return int(response.headers.get(VERSION_HEADER) or -1) if response.status == 200 else None
    except (OSError, urllib.error.URLError, ValueError):
        return None


def read_running(folder: Path) -> RunningEndpoint | None:
    """The recorded server when its process is alive and answers /ping; stale records are removed."""
    record = folder / "endpoint.json"
    if not record.is_file():
        return None
    running = RunningEndpoint(**json.loads(record.read_text()))
    alive = True
    try:
        os.kill(running.pid, 0)
    except ProcessLookupError:
        alive = False
    except PermissionError:
        pass
    if alive and ping_version(running.url) is not None:
        return running
    record.unlink(missing_ok=True)
    return None


def _spec(config: Config, request: LocalDeployRequest, package: PackageVersion) -> EndpointSpec:
    from pipelines.engine.state import StateDir
    from pipelines.engine.store import ObjectStore

    store = ObjectStore(StateDir(request.state_root).store)
    files = serving_files(package)
    model, code = store.path(files.model_data_url), store.path(files.code_url)
    for what, path, uri in (("model", model, files.model_data_url), ("code", code, files.code_url)):
        if not path.is_file():
            raise UserError(f"the package's {what} {uri} is not in the local object store ({path}); run "
                            "`python -m pipelines.run --local` again")
    wiring = offline_wiring(config.project, request.stage, config.account_id, config.aws_region, "local")
    capture = store.path(names.capture_uri(wiring.artifact_bucket, config.project))
    return EndpointSpec(
        endpoint=names.endpoint_name(config.project, request.stage), variant=names.VARIANT, version=package.version,
        package_arn=package.arn, model_data=str(model), code=str(code), program=files.program,
        content_types=files.content_types, capture_root=str(capture),
        capture_percentage=config.deploy.capture_percentage, account_id=config.account_id, region=config.aws_region)


def _listening_socket(port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # accepted connections inherit it (Linux): gunicorn sends headers and body apart, and Nagle's algorithm
    # would hold the body back until the client's delayed ACK (40 ms per response)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        sock.bind(("127.0.0.1", port))
    except OSError as exc:
        sock.close()
        raise UserError(f"cannot listen on 127.0.0.1:{port} ({exc.strerror}); pass another --port or 0") from None
    sock.listen(1024)
    sock.set_inheritable(True)
    return sock


def start_server(folder: Path, spec: EndpointSpec, port: int) -> RunningEndpoint:
    """gunicorn in its own session, bound to a socket opened here (so the port is known without a race)."""
    spec_path = folder / "spec.json"
    spec.write(spec_path)
    sock = _listening_socket(port)
    code_root = str(Path(pipelines.__file__).resolve().parent.parent)
    env = {**os.environ, SPEC_ENV: str(spec_path), "OMP_NUM_THREADS": "1",
           "PYTHONPATH": os.pathsep.join(p for p in (code_root, os.environ.get("PYTHONPATH", "")) if p)}
    command = [sys.executable, "-m", "gunicorn", "-c", "python:pipelines.serving.gunicorn_conf",
               "--bind", f"fd://{sock.fileno()}", "pipelines.serving.server:create_app()"]
    with (folder / "server.log").open("ab") as log:
        process = subprocess.Popen(command, pass_fds=(sock.fileno(),), start_new_session=True, env=env,
                                   stdin=subprocess.DEVNULL, stdout=log, stderr=log, cwd=code_root)
    running = RunningEndpoint(process.pid, sock.getsockname()[1], spec.version, spec.package_arn)
    sock.close()
    _await_version(running, process, folder)
    return running


def _await_version(running: RunningEndpoint, process: subprocess.Popen[bytes] | None, folder: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if ping_version(running.url, timeout=1.0) == running.version:
            return
        if process is not None and process.poll() is not None:
            raise UserError(f"the local endpoint server exited with code {process.returncode}: "
                            f"{_log_tail(folder)}; see {folder / 'server.log'}")
        time.sleep(0.1)
    raise UserError(f"the local endpoint did not answer /ping with version {running.version} within "
                    f"{START_TIMEOUT_SECONDS:.0f} s; see {folder / 'server.log'}")


def _log_tail(folder: Path) -> str:
    lines = [line for line in (folder / "server.log").read_text(errors="replace").splitlines() if line.strip()]
    return lines[-1] if lines else "(no output)"


def deploy_local(config: Config, request: LocalDeployRequest) -> RunningEndpoint:
    """Serve the chosen Approved package: start the server, or replace a running one's model (HUP)."""
    from pipelines.engine.registry import LocalRegistry
    from pipelines.engine.state import REGISTRY_FILE

    registry_path = Path(request.state_root) / REGISTRY_FILE
    if not registry_path.is_file():
        raise UserError(f"no local registry at {registry_path}; run `python -m pipelines.run --local` first")
    registry = LocalRegistry(registry_path, region=config.aws_region, account_id=config.account_id)
    group = offline_wiring(config.project, names.REGISTRY_STAGE, config.account_id, config.aws_region,
                           "local").model_package_group
    package = select_package(registry.list_versions(group), group, request.package_arn, registry.where)
    spec = _spec(config, request, package)
    folder = endpoint_dir(request.state_root, request.stage)
    folder.mkdir(parents=True, exist_ok=True)
    running = read_running(folder)
    if running and running.version == package.version:
        _progress(f"{spec.endpoint}: already serving {group} version {package.version}")
        return running
    if running:
        spec.write(folder / "spec.json")
        os.kill(running.pid, signal.SIGHUP)  # new workers load the new spec; old ones finish their requests
        previous, running = running.version, RunningEndpoint(running.pid, running.port, package.version, package.arn)
        _await_version(running, None, folder)
        _progress(f"{spec.endpoint}: now serving {group} version {package.version} (was {previous})")
    else:
        running = start_server(folder, spec, request.port)
        _progress(f"{spec.endpoint}: serving {group} version {package.version} (pid {running.pid})")
    (folder / "endpoint.json").write_text(json.dumps(asdict(running)))
    return running


def delete_local(request: LocalDeployRequest) -> bool:
    """Stop the stage's server (gunicorn drains in-flight requests and the capture queues); False if none ran."""
    folder = endpoint_dir(request.state_root, request.stage)
    running = read_running(folder)
    if running is None:
        return False
    with contextlib.suppress(ProcessLookupError):
        os.kill(running.pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT_SECONDS
    while time.monotonic() < deadline and _alive(running.pid):
        time.sleep(0.1)
    if _alive(running.pid):
        raise UserError(f"the local endpoint (pid {running.pid}) did not stop within {STOP_TIMEOUT_SECONDS:.0f} s")
    (folder / "endpoint.json").unlink(missing_ok=True)
    return True


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with contextlib.suppress(ChildProcessError, OSError):  # our own child: reap it
        done, _ = os.waitpid(pid, os.WNOHANG)
        if done == pid:
            return False
    return True


def local_runtime_client(url: str, region: str) -> object:
    """boto3's sagemaker-runtime client pointed at the local endpoint (it checks no signature)."""
    import boto3

    return boto3.client("sagemaker-runtime", endpoint_url=url, region_name=region, aws_access_key_id="local",
                        aws_secret_access_key="local")


def smoke_test_local(config: Config, request: LocalDeployRequest) -> object:
    """The smoke test against the stage's local endpoint, with the served package's held-out rows."""
    from pipelines.definition import METADATA_TEST_ROWS
    from pipelines.engine.registry import LocalRegistry
    from pipelines.engine.state import REGISTRY_FILE, StateDir
    from pipelines.engine.store import ObjectStore
    from pipelines.serving.smoke import run_smoke_test, smoke_case

    running = read_running(endpoint_dir(request.state_root, request.stage))
    if running is None:
        raise UserError(f"no local endpoint for stage {request.stage}; start one with "
                        f"`python -m pipelines.deploy --local --stage {request.stage}`")
    registry = LocalRegistry(Path(request.state_root) / REGISTRY_FILE, region=config.aws_region,
                             account_id=config.account_id)
    group = offline_wiring(config.project, names.REGISTRY_STAGE, config.account_id, config.aws_region,
                           "local").model_package_group
    package = select_package(registry.list_versions(group), group, running.package_arn, registry.where)
    rows = ObjectStore(StateDir(request.state_root).store).path(package.metadata.get(METADATA_TEST_ROWS) or "s3://-/-")
    if not rows.is_file():
        raise UserError(f"{group} version {package.version} records no held-out rows ({METADATA_TEST_ROWS}); run "
                        "`python -m pipelines.run --local` again and approve the new version")
    with rows.open(encoding="utf-8") as handle:
        lines = [line.rstrip("\n") for _, line in zip(range(config.deploy.smoke_test_rows + 1), handle, strict=False)]
    endpoint = names.endpoint_name(config.project, request.stage)
    return run_smoke_test(local_runtime_client(running.url, config.aws_region),
                          smoke_case(endpoint, lines, config.problem_type, config.deploy.smoke_test_p95_ms))
