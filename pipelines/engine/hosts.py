"""Multi-instance jobs on this machine: one process per host on 127.0.0.1.

SageMaker gives every host of a job the same code, its share of each ShardedByS3Key input
(objects dealt out in key order) and all of a FullyReplicated one, and the host list (training:
`SM_HOSTS`, `SM_CURRENT_HOST` and `/opt/ml/input/config/resourceconfig.json`; processing:
`/opt/ml/config/resourceconfig.json` only). The first host is the job's own sandbox (its
checkpoints, model and outputs are the job's); the others get sandboxes under `<step>/hosts/`.
Their processes run side by side, and XGBoost's real tracker joins them on loopback (the
`ML_FACTORY_TRACKER_*` variables say where; on SageMaker it is the first host, port 9099).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipelines.engine.process import JobProcess, ProcessResult
from pipelines.engine.sandbox import Sandbox
from pipelines.engine.spot import RoundWatcher

LOOPBACK = "127.0.0.1"
HOST_FAILURE = "host failure"  # why the engine killed a host (--simulate-host-failure)
# how seedcode/cluster.py words a host's error when another host of the collective died
LOST_COLLECTIVE = re.compile(r"lost the \w+ collective")


def host_names(arguments: dict[str, Any]) -> list[str]:
    """algo-1 ... algo-N for a training (ResourceConfig) or processing (ProcessingResources) job."""
    resources = (arguments.get("ResourceConfig")
                 or (arguments.get("ProcessingResources") or {}).get("ClusterConfig") or {})
    return [f"algo-{index + 1}" for index in range(int(resources.get("InstanceCount") or 1))]


def sharded_channels(arguments: dict[str, Any]) -> set[str]:
    return {channel["ChannelName"] for channel in arguments.get("InputDataConfig") or []
            if ((channel.get("DataSource") or {}).get("S3DataSource") or {}).get("S3DataDistributionType")
            == "ShardedByS3Key"}


def keep_share(folder: Path, index: int, count: int) -> None:
    """ShardedByS3Key: host `index` of `count` keeps every count-th object in key order."""
    files = sorted((p for p in folder.rglob("*") if p.is_file()), key=lambda p: p.relative_to(folder).as_posix())
    for position, path in enumerate(files):
        if position % count != index:
            path.unlink()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((LOOPBACK, 0))
        return int(probe.getsockname()[1])


def cpus_per_host(hosts: int) -> int:
    """The cores each host process may use: this machine's, shared by the job's hosts (each SageMaker
    host has its own; here they share, and more xgboost threads than cores make every round wait)."""
    return max(1, (os.cpu_count() or 1) // max(1, hosts))


def tracker_variables(hosts: list[str], tracker_port: int) -> dict[str, str]:
    """Where the hosts of a multi-instance job reach XGBoost's tracker on this machine."""
    if len(hosts) == 1:
        return {}
    return {"ML_FACTORY_TRACKER_HOST": LOOPBACK, "ML_FACTORY_TRACKER_PORT": str(tracker_port)}


def host_variables(hosts: list[str], current: str, tracker_port: int) -> dict[str, str]:
    """What differs between the hosts of one training job (plus where the tracker listens on this machine)."""
    return {"SM_CURRENT_HOST": current, "SM_HOSTS": json.dumps(hosts), "SM_NUM_CPUS": str(cpus_per_host(len(hosts))),
            **tracker_variables(hosts, tracker_port)}


def failed_host(results: list[tuple[str, ProcessResult]]) -> tuple[str, ProcessResult, bool] | None:
    """The host that stands for a failed job, and whether it was lost: the first killed by a signal
    nobody sent (a lost instance, the OOM killer); else the first whose error is its own, not the
    lost collective the other hosts then report; else the first that failed. None if none failed."""
    failed = [(name, result) for name, result in results if result.returncode != 0]
    if not failed:
        return None
    lost = next(((name, result) for name, result in failed
                 if result.killed_by and result.stopped in (None, HOST_FAILURE)), None)
    if lost is not None:
        return (*lost, True)
    name, result = next(((name, result) for name, result in failed
                         if not any(LOST_COLLECTIVE.search(line) for line in result.stderr_tail)), failed[0])
    return name, result, False


def peak_memory(results: dict[str, ProcessResult]) -> dict[str, Any]:
    """The `peak_memory_mb` fact: each host's peak resident memory, where it was measured."""
    peaks = {host: round(result.peak_memory_mb, 1) for host, result in results.items()
             if result.peak_memory_mb is not None}
    return {"peak_memory_mb": peaks} if peaks else {}


def host_reason(name: str, count: int, reason: str) -> str:
    """A host's failure reason as the job's: naming the host when the job has several."""
    return reason if count == 1 or f"host {name}" in reason else f"host {name} of {count}: {reason}"


def run_side_by_side(processes: list[tuple[str, JobProcess]], timeout: float | None,
                     grace: float) -> list[tuple[str, ProcessResult]]:
    """Run the hosts' processes at the same time; each host's result, in host order."""
    results: dict[str, ProcessResult] = {}

    def run(name: str, process: JobProcess) -> None:
        results[name] = process.run(timeout=timeout, grace_seconds=grace)

    threads = [threading.Thread(target=run, args=pair, daemon=True) for pair in processes]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return [(name, results[name]) for name, _ in processes]


@dataclass
class OtherHost:
    """Host 2..N of a job: its sandbox and, during an attempt, its process and result."""

    name: str
    sandbox: Sandbox
    process: JobProcess | None = None
    result: ProcessResult | None = None
    thread: threading.Thread | None = None
    watcher: RoundWatcher | None = None  # follows its rounds; may kill it at one (a simulated host failure)

    def configure(self, leader_root: Path, hosts: list[str]) -> None:
        """The first host's code and config, with this host as the current one (channels: place_channels)."""
        root = self.sandbox.root
        shutil.rmtree(root / "code", ignore_errors=True)
        shutil.copytree(leader_root / "code", root / "code")
        shutil.copytree(leader_root / "input" / "config", root / "input" / "config", dirs_exist_ok=True)
        resource = root / "input" / "config" / "resourceconfig.json"
        resource.write_text(json.dumps({**json.loads(resource.read_text()), "current_host": self.name, "hosts": hosts}))

    def reset(self, checkpoints: Path, container_checkpoints: str) -> None:
        """A (new) attempt: empty model and output folders, the checkpoints the job's S3 prefix holds."""
        root = self.sandbox.root
        local = self.sandbox.local(container_checkpoints)
        for folder in (local, root / "model", root / "output"):
            shutil.rmtree(folder, ignore_errors=True)
        shutil.copytree(checkpoints, local)
        for folder in ("model", "output/data"):
            (root / folder).mkdir(parents=True, exist_ok=True)

    def start(self, argv: list[str], env: dict[str, str], timeout: float | None, grace: float,
              fail_at: int | None = None) -> None:
        """Start its process; with `fail_at`, SIGKILL it after that round, as a lost instance."""
        self.process = JobProcess(argv, env, cwd=self.sandbox.root / "code", log_dir=self.sandbox.logs,
                                  label=self.name)
        process, self.result = self.process, None
        self.watcher = RoundWatcher(fail_at, lambda: process.kill_now(HOST_FAILURE))
        watcher = self.watcher

        def run() -> None:
            self.result = process.run(on_stdout=watcher, timeout=timeout, grace_seconds=grace)

        self.thread = threading.Thread(target=run, daemon=True)
        self.thread.start()

    def finish(self) -> ProcessResult | None:
        if self.thread is not None:
            self.thread.join()
        return self.result
