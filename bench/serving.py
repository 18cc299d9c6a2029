"""Benchmark the local endpoint (`python -m pipelines.deploy --local`): latency and throughput over HTTP.

Runs the local pipeline once on generated data in a scratch project, approves the model and serves it
twice: stage dev with capture of every request, stage staging with capture off. Then, per server:
p50/p99 latency of one client sending 1-row and 100-row CSV requests, and requests per second with
1, 4 and 16 concurrent clients (1-row requests, keep-alive connections). Goal: p99 <= 10 ms for one
row and >= 1000 requests/s on 2 cores.

  .venv/bin/python bench/serving.py [--rows 20000] [--seconds 5] [--requests 500]
"""

from __future__ import annotations

import argparse
import http.client
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))


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


def request(connection: http.client.HTTPConnection, body: bytes) -> float:
    started = time.perf_counter()
    connection.request("POST", "/invocations", body=body, headers={"Content-Type": "text/csv", "Accept": "text/csv"})
    response = connection.getresponse()
    response.read()
    if response.status != 200:
        raise SystemExit(f"HTTP {response.status}")
    return (time.perf_counter() - started) * 1000


def latency(port: int, body: bytes, count: int) -> tuple[float, float]:
    connection = http.client.HTTPConnection("127.0.0.1", port)
    for _ in range(20):
        request(connection, body)
    times = sorted(request(connection, body) for _ in range(count))
    connection.close()
    return times[len(times) // 2], times[min(len(times) - 1, int(len(times) * 0.99))]


def throughput(port: int, body: bytes, clients: int, seconds: float) -> float:
    counts = [0] * clients
    deadline = time.perf_counter() + seconds

    def client(index: int) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port)
        while time.perf_counter() < deadline:
            request(connection, body)
            counts[index] += 1
        connection.close()

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(counts) / (time.perf_counter() - started)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=20000)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--requests", type=int, default=500)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench-serving-"))
    try:
        pyproject = scratch_project(folder, args.rows)
        [raw] = sorted(folder.glob(".ml-factory/s3/**/Preprocess/test/raw/test_raw.csv"))
        lines = raw.read_text().splitlines()
        one, hundred = lines[1].encode(), "\n".join(lines[1:101]).encode()
        print(f"local endpoint on {os.cpu_count()} cores, gunicorn gthread workers; {args.requests} requests per "
              f"latency figure, {args.seconds:g} s per throughput figure")
        for stage, capture in (("dev", "on"), ("staging", "off")):
            url = cli("pipelines.deploy", "--local", "--stage", stage, "--config", str(pyproject), cwd=folder)
            port = int(url.rsplit(":", 1)[1])
            p50, p99 = latency(port, one, args.requests)
            p50_100, p99_100 = latency(port, hundred, args.requests // 5)
            rates = [throughput(port, one, clients, args.seconds) for clients in (1, 4, 16)]
            print(f"capture {capture:3}: 1 row p50 {p50:.2f} ms p99 {p99:.2f} ms | 100 rows p50 {p50_100:.2f} ms "
                  f"p99 {p99_100:.2f} ms | req/s with 1/4/16 clients: " + " / ".join(f"{r:.0f}" for r in rates))
            cli("pipelines.deploy", "--local", "--stage", stage, "--config", str(pyproject), "--delete", cwd=folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
