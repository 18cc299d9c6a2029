"""Benchmark the local endpoint (`python -m pipelines.deploy --local`): latency and throughput over HTTP.

Runs the local pipeline once on generated data in a scratch project, approves the model and serves it
twice: stage dev with capture of every request, stage staging with capture off. Then, per server:
p50/p99 latency of one client sending 1-row and 100-row CSV requests back to back, and requests per
second with 1, 4 and 16 concurrent clients (1-row requests), each client one keep-alive connection.
Goal: p99 <= 10 ms for one row and >= 1000 requests/s on 2 cores.

The client is a small asyncio protocol (one process, no threads, no HTTP library), so it takes little of
the cores it shares with the server; its CPU time per request is printed beside the server's (all its
processes, read from /proc on Linux). CPU per request is the figure to compare between machines and
runs: wall-clock rates on a shared machine move with whatever else runs (the load average is printed).
Last, the served package is loaded in this process and one 1-row request is timed step by step
(parse and encode, predict, format), which splits the server's CPU per request into the model's part
and the HTTP server's.

  .venv/bin/python bench/serving.py [--rows 20000] [--seconds 5] [--requests 1000] [--repeat 1] [--json FILE]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))
from pipelines.serving import gunicorn_conf  # noqa: E402
from pipelines.serving.local import endpoint_dir  # noqa: E402

CLIENTS = (1, 4, 16)
PROFILE_REQUESTS = 2000


def cli(*args: str, cwd: Path) -> str:
    done = subprocess.run([sys.executable, "-m", *args], cwd=cwd, capture_output=True, text=True, timeout=900,
                          env={**os.environ, "PYTHONPATH": str(REPO_ROOT)})
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(args[:2])} failed:\n{done.stderr[-2000:]}")
    return done.stdout.strip()


def scratch_project(folder: Path, rows: int) -> Path:
    """This repo's pyproject with capture off in staging; one local run, its model approved."""
    text = (REPO_ROOT / "pyproject.toml").read_text()
    text += "\n[tool.ml-factory.stages.staging.deploy]\ncapture_percentage = 0\n"
    pyproject = folder / "pyproject.toml"
    pyproject.write_text(text)
    cli("pipelines.run", "--local", "--config", str(pyproject), "--rows", str(rows), "--param", "MetricThreshold=0",
        cwd=folder)
    cli("pipelines.registry", "--local", "--config", str(pyproject), "approve", "latest", "--reason", "bench",
        cwd=folder)
    return pyproject


@dataclass(frozen=True)
class Load:
    """What the clients send: `clients` connections, each sending `body` until `seconds` pass or it has sent
    `requests`."""

    port: int
    body: bytes
    clients: int = 1
    seconds: float = 3600.0
    requests: int | None = None


@dataclass
class Outcome:
    latencies: list[float] = field(default_factory=list)  # seconds, in completion order
    seconds: float = 0.0

    def percentile_ms(self, share: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(len(ordered) * share))] * 1000

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.seconds


class KeepAliveClient(asyncio.Protocol):
    """One connection sending the same POST /invocations back to back: the next request leaves as soon as the
    previous response is complete (Content-Length)."""

    def __init__(self, request: bytes, load: Load, outcome: Outcome, done: asyncio.Future[None]) -> None:
        self.request, self.load, self.outcome, self.done = request, load, outcome, done
        self.deadline = time.perf_counter() + load.seconds
        self.buffer = b""
        self.sent = 0
        self.started = 0.0
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.send()

    def send(self) -> None:
        assert self.transport is not None
        self.sent += 1
        self.started = time.perf_counter()
        self.transport.write(self.request)

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        head_end = self.buffer.find(b"\r\n\r\n")
        if head_end < 0:
            return
        status, _, rest = self.buffer[:head_end].partition(b"\r\n")
        headers = dict(line.split(b":", 1) for line in rest.split(b"\r\n"))
        length = int(next(v for k, v in headers.items() if k.strip().lower() == b"content-length"))
        if len(self.buffer) < head_end + 4 + length:
            return
        if status.split(b" ")[1] != b"200":
            self.finish(RuntimeError(f"the endpoint answered {self.buffer[:head_end + 4 + length]!r}"))
            return
        self.buffer = self.buffer[head_end + 4 + length:]
        now = time.perf_counter()
        self.outcome.latencies.append(now - self.started)
        if now < self.deadline and (self.load.requests is None or self.sent < self.load.requests):
            self.send()
        else:
            self.finish(None)

    def finish(self, error: Exception | None) -> None:
        if not self.done.done():
            self.done.set_exception(error) if error else self.done.set_result(None)
        if self.transport:
            self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.done.done():
            self.done.set_exception(RuntimeError(f"the endpoint closed the connection ({exc})"))


async def _drive(load: Load) -> Outcome:
    loop = asyncio.get_running_loop()
    request = (b"POST /invocations HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/csv\r\nAccept: text/csv\r\n"
               b"Content-Length: %d\r\n\r\n" % len(load.body)) + load.body
    outcome = Outcome()
    started = time.perf_counter()
    finished: list[asyncio.Future[None]] = []
    for _ in range(load.clients):
        done: asyncio.Future[None] = loop.create_future()
        finished.append(done)
        await loop.create_connection(lambda done=done: KeepAliveClient(request, load, outcome, done), "127.0.0.1",
                                     load.port)
    await asyncio.gather(*finished)
    outcome.seconds = time.perf_counter() - started
    return outcome


def drive(load: Load) -> Outcome:
    return asyncio.run(_drive(load))


def process_tree_cpu_seconds(pid: int) -> float | None:
    """User + system CPU seconds of `pid` and its descendants (Linux /proc), or None where unreadable."""
    tick, pids, total = os.sysconf("SC_CLK_TCK"), [pid], 0
    try:
        for current in pids:
            pids += [int(p) for p in Path(f"/proc/{current}/task/{current}/children").read_text().split()]
            fields = Path(f"/proc/{current}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
    except (OSError, ValueError):
        return None
    return total / tick


def throughput(port: int, pid: int, body: bytes, clients: int, seconds: float) -> dict[str, Any]:
    """Requests/s with `clients` connections, the p99 under that load, and server and client CPU per request."""
    server_before, client_before = process_tree_cpu_seconds(pid), time.process_time()
    outcome = drive(Load(port, body, clients, seconds))
    server_after, client_after = process_tree_cpu_seconds(pid), time.process_time()
    count = len(outcome.latencies)
    server = (server_after - server_before) / count * 1e6 if server_before and server_after else None
    return {"clients": clients, "requests_per_second": outcome.rate, "p99_ms": outcome.percentile_ms(0.99),
            "server_cpu_us": server, "client_cpu_us": (client_after - client_before) / count * 1e6}


def latency(port: int, body: bytes, requests: int) -> dict[str, float]:
    drive(Load(port, body, requests=20))  # warm the connection and the worker
    outcome = drive(Load(port, body, requests=requests))
    return {"p50_ms": outcome.percentile_ms(0.5), "p99_ms": outcome.percentile_ms(0.99)}


def _cpu_us(step: Any, runs: int = PROFILE_REQUESTS) -> float:
    for _ in range(50):
        step()
    started = time.thread_time()
    for _ in range(runs):
        step()
    return (time.thread_time() - started) / runs * 1e6


def handler_profile(spec_path: Path, body: bytes) -> dict[str, float]:
    """CPU microseconds of each step of one request through the served package, in this process on one thread
    (as in a worker: OMP_NUM_THREADS=1). The pandas path is the one the fast path replaced."""
    os.environ["OMP_NUM_THREADS"] = "1"  # before xgboost loads, as the server sets it
    from pipelines.serving.script_mode import ScriptModeHandler, ServingPackage
    from pipelines.serving.server import EndpointSpec

    spec = EndpointSpec.read(spec_path)
    with tempfile.TemporaryDirectory() as workdir:
        handler = ScriptModeHandler(ServingPackage(Path(spec.model_data), Path(spec.code), spec.program), Path(workdir))
        module, model = handler.module, handler.model
        steps = {"whole_handler": lambda: handler.invoke(body, "text/csv", "text/csv")}
        if hasattr(module, "fast_matrix"):  # a package served before the fast path has only the whole
            matrix = module.fast_matrix(module.input_fn(body, "text/csv"), model)
            prediction = model["booster"].inplace_predict(matrix)
            steps |= {
                "parse_and_encode": lambda: module.fast_matrix(module.input_fn(body, "text/csv"), model),
                "predict": lambda: model["booster"].inplace_predict(matrix),
                "format": lambda: module.output_fn(prediction, "text/csv"),
                "pandas_path_parse_and_encode": lambda: module.frame_matrix(module.input_fn(body, "text/csv"),
                                                                            model["schema"]),
            }
        return {name: _cpu_us(step) for name, step in steps.items()}


def serve_and_measure(pyproject: Path, stage: str, bodies: tuple[bytes, bytes], args: argparse.Namespace) -> dict:
    """Deploy the approved model for `stage`, measure it, stop it."""
    folder = pyproject.parent
    url = cli("pipelines.deploy", "--local", "--stage", stage, "--config", str(pyproject), cwd=folder)
    port = int(url.rsplit(":", 1)[1])
    pid = json.loads((endpoint_dir(folder / ".ml-factory", stage) / "endpoint.json").read_text())["pid"]
    one, hundred = bodies
    best_p99, best_rate = (lambda f: f["p99_ms"]), (lambda f: -f["requests_per_second"])
    try:
        return {"one_row": min((latency(port, one, args.requests) for _ in range(args.repeat)), key=best_p99),
                "hundred_rows": min((latency(port, hundred, args.requests // 5) for _ in range(args.repeat)),
                                    key=best_p99),
                "throughput": [min((throughput(port, pid, one, clients, args.seconds) for _ in range(args.repeat)),
                                   key=best_rate) for clients in CLIENTS]}
    finally:
        cli("pipelines.deploy", "--local", "--stage", stage, "--config", str(pyproject), "--delete", cwd=folder)


def report_line(capture: str, figures: dict) -> str:
    rates, one, hundred = figures["throughput"], figures["one_row"], figures["hundred_rows"]
    cpu = rates[-1]
    server = f"{cpu['server_cpu_us']:.0f} us" if cpu["server_cpu_us"] is not None else "n/a"
    rate_list = " / ".join(f"{r['requests_per_second']:.0f}" for r in rates)
    return (f"capture {capture:3}: 1 row p50 {one['p50_ms']:.2f} ms p99 {one['p99_ms']:.2f} ms | 100 rows p50 "
            f"{hundred['p50_ms']:.2f} ms p99 {hundred['p99_ms']:.2f} ms | req/s with 1/4/16 clients: {rate_list}"
            f" (p99 at 16: {cpu['p99_ms']:.1f} ms) | CPU per request at 16: server {server}, "
            f"client {cpu['client_cpu_us']:.0f} us")


def profile_line(steps: dict[str, float]) -> str:
    if "predict" not in steps:
        return f"one 1-row request in-process: the handler takes {steps['whole_handler']:.0f} us CPU"
    return ("one 1-row request in-process, CPU: parse+encode {parse_and_encode:.0f} us (the pandas path: "
            "{pandas_path_parse_and_encode:.0f} us), predict {predict:.0f} us, format {format:.0f} us; whole handler "
            "{whole_handler:.0f} us. The rest of the server's CPU per request is HTTP, the event loop and "
            "capture.".format(**steps))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=20000, help="rows of generated training data")
    parser.add_argument("--seconds", type=float, default=5.0, help="per throughput figure")
    parser.add_argument("--requests", type=int, default=1000, help="per 1-row latency figure (100 rows: a fifth)")
    parser.add_argument("--repeat", type=int, default=1,
                        help="measure each figure N times and keep the best (a shared machine's noise only slows)")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench-serving-"))
    try:
        print("running the local pipeline for a model to serve ...", file=sys.stderr, flush=True)
        pyproject = scratch_project(folder, args.rows)
        [raw] = sorted(folder.glob(".ml-factory/s3/**/Preprocess/test/raw/test_raw.csv"))
        lines = raw.read_text().splitlines()
        bodies = (lines[1].encode(), "\n".join(lines[1:101]).encode())
        print(f"local endpoint on {os.cpu_count()} cores (load average {os.getloadavg()[0]:.1f} at start), "
              f"{gunicorn_conf.workers} gunicorn {gunicorn_conf.worker_class} workers; {args.requests} requests per "
              f"1-row latency figure, {args.seconds:g} s per throughput figure")
        results: dict[str, Any] = {"cores": os.cpu_count(), "load_average": os.getloadavg()[0]}
        for stage, capture in (("dev", "on"), ("staging", "off")):
            results[f"capture_{capture}"] = serve_and_measure(pyproject, stage, bodies, args)
            print(report_line(capture, results[f"capture_{capture}"]), flush=True)
        steps = handler_profile(endpoint_dir(folder / ".ml-factory", "dev") / "spec.json", bodies[0])
        results["handler_cpu_us"] = steps
        print(profile_line(steps))
        if args.json:
            args.json.parent.mkdir(parents=True, exist_ok=True)
            args.json.write_text(json.dumps(results, indent=2) + "\n")
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
