"""The hosts of one job as one XGBoost collective (its Rabit tracker, allreduce and broadcast).

SageMaker tells each host the job's host list and its own name: a training job in ``SM_HOSTS`` /
``SM_CURRENT_HOST`` and ``<root>/input/config/resourceconfig.json``, a processing job in
``<root>/config/resourceconfig.json``. With one host nothing here changes anything. With several,
the first host also runs xgboost's RabitTracker and every host joins the collective as the worker
whose rank is its place in the host list: xgboost's histogram training allreduces the gradient
statistics of each host's shard, so all hosts grow the same trees from all the data, and
``merged_over_hosts`` gives every host the merge of all hosts' partial results (the data-quality
statistics of each shard). xgboost is imported only when a job has several hosts.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import sm_paths

TRACKER_PORT = 9099
# where the workers reach the tracker; SageMaker resolves host names, the local engine sets 127.0.0.1
TRACKER_HOST_ENV = "ML_FACTORY_TRACKER_HOST"
TRACKER_PORT_ENV = "ML_FACTORY_TRACKER_PORT"
TIMEOUT_ENV = "ML_FACTORY_COLLECTIVE_TIMEOUT"
DEFAULT_TIMEOUT_SECONDS = 600  # how long a host waits for the others to connect or answer


@dataclass(frozen=True)
class Cluster:
    hosts: tuple[str, ...]
    current_host: str

    @property
    def rank(self) -> int:
        return self.hosts.index(self.current_host)

    @property
    def distributed(self) -> bool:
        return len(self.hosts) > 1


def current_cluster() -> Cluster:
    """The job's hosts from SageMaker's environment, else its resourceconfig.json (training's, then
    processing's), else one host."""
    if os.environ.get("SM_HOSTS"):
        hosts, current = json.loads(os.environ["SM_HOSTS"]), os.environ.get("SM_CURRENT_HOST", "")
    else:
        paths = (sm_paths.opt_ml("input", "config", "resourceconfig.json"),
                 sm_paths.opt_ml("config", "resourceconfig.json"))
        path = next((path for path in paths if path.is_file()), None)
        config = json.loads(path.read_text()) if path else {}
        hosts, current = config.get("hosts", ["algo-1"]), config.get("current_host", "algo-1")
    hosts = tuple(hosts)
    if current not in hosts:
        raise ValueError(f"current host {current!r} is not in the host list {list(hosts)}")
    return Cluster(hosts, current)


def is_leader() -> bool:
    """Rank 0 (the only host, or the first one): the one that writes the model and the checkpoints."""
    from xgboost import collective

    return collective.get_rank() == 0


def lost_collective(cluster: Cluster, work: str, error: BaseException, remedy: str) -> str:
    """What a host says when the collective broke under it (another host died or cannot be reached)."""
    reason = " ".join(str(error).split())[:400]  # xgboost's collective errors span several lines
    return (f"host {cluster.current_host} of {len(cluster.hosts)} lost the {work} collective: {reason}; a host "
            f"failed or the hosts cannot reach each other; {remedy}")


def wait_for_tracker(host: str, port: int, timeout: float) -> None:
    """Until the first host's tracker listens (at most ``timeout`` s): xgboost retries a refused connection
    only after 2 s, then 4 s more, so a host that is ready first would wait seconds. (The tracker logs the
    probe as one harmless "Failed to initialize worker proxy" warning.)"""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((host, port), timeout=1):
                return
        except OSError:
            time.sleep(0.05)


@contextmanager
def joined(cluster: Cluster) -> Iterator[None]:
    """Inside: this host is a worker of the job's collective (nothing happens on a one-host job)."""
    if not cluster.distributed:
        yield
        return
    from xgboost import collective
    from xgboost.core import XGBoostError
    from xgboost.tracker import RabitTracker

    host = os.environ.get(TRACKER_HOST_ENV) or cluster.hosts[0]
    port = int(os.environ.get(TRACKER_PORT_ENV) or TRACKER_PORT)
    timeout = int(os.environ.get(TIMEOUT_ENV) or DEFAULT_TIMEOUT_SECONDS)
    tracker = None
    if cluster.rank == 0:
        tracker = RabitTracker(n_workers=len(cluster.hosts), host_ip=host, port=port, sortby="task", timeout=timeout)
        tracker.start()
    else:
        wait_for_tracker(host, port, timeout)
    try:
        with collective.CommunicatorContext(dmlc_tracker_uri=host, dmlc_tracker_port=port,
                                            dmlc_task_id=f"{cluster.rank:05d}", dmlc_timeout=timeout):
            yield
    except BaseException:
        if tracker is not None:  # now, quietly: the job's own error says what went wrong
            with contextlib.suppress(XGBoostError):
                tracker.free()
        raise
    if tracker is not None:
        tracker.wait_for(timeout)  # until every worker has said goodbye (a failed job exits without waiting)


@contextmanager
def joined_or_lost(cluster: Cluster, work: str, remedy: str, error: type[Exception] = RuntimeError) -> Iterator[None]:
    """``joined(cluster)``, with a broken collective (another host died) raised as ``error`` saying so
    (``lost_collective``; ``work`` is one word, e.g. "statistics")."""
    if not cluster.distributed:
        yield
        return
    from xgboost.core import XGBoostError

    try:
        with joined(cluster):
            yield
    except XGBoostError as err:
        raise error(lost_collective(cluster, work, err, remedy)) from err


def from_first_host(cluster: Cluster, decide: Callable[[], Any]) -> Any:
    """What the first host's ``decide()`` returns, on every host (broadcast over the collective, pickled;
    call it inside ``joined``), so all hosts work on one host's decision (e.g. the files to share out)."""
    if not cluster.distributed:
        return decide()
    from xgboost import collective

    return collective.broadcast(decide() if cluster.rank == 0 else None, 0)


def merged_over_hosts(local: Any) -> Any:
    """Every host's ``local`` (anything with ``merge(other)``; broadcast by xgboost's collective, pickled),
    merged in rank order, on every host; ``local`` itself on a one-host job. The same merge on every host
    gives every host the same result."""
    from xgboost import collective

    if not collective.is_distributed():
        return local
    rank = collective.get_rank()
    parts = [collective.broadcast(local if source == rank else None, source)
             for source in range(collective.get_world_size())]
    merged = parts[0]
    for part in parts[1:]:
        merged.merge(part)
    return merged


def shared_fingerprint(local: str) -> str:
    """One fingerprint of every host's training setup (each host only sees its own shard), so all
    hosts accept or refuse the same checkpoint; the host's own fingerprint on a one-host job."""
    import numpy as np
    from xgboost import collective

    if not collective.is_distributed():
        return local
    own = hashlib.sha256(f"{collective.get_rank()}:{local}".encode()).digest()[:16]
    combined = collective.allreduce(np.frombuffer(own, dtype=np.uint64).copy(), collective.Op.BITWISE_XOR)
    return combined.astype("<u8").tobytes().hex()
