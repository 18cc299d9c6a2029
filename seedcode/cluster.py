"""The training hosts of one job as one XGBoost collective (its Rabit tracker and allreduce).

SageMaker tells each host the job's host list and its own name (``SM_HOSTS`` / ``SM_CURRENT_HOST``,
or ``<root>/input/config/resourceconfig.json``). With one host nothing here changes the training.
With several, the first host also runs xgboost's RabitTracker, every host joins the collective as
the worker whose rank is its place in the host list, and xgboost's histogram training allreduces
the gradient statistics of each host's shard, so all hosts grow the same trees from all the data.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
from xgboost import collective
from xgboost.core import XGBoostError
from xgboost.tracker import RabitTracker

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
    """The job's hosts from SageMaker's environment, else its resourceconfig.json, else one host."""
    if os.environ.get("SM_HOSTS"):
        hosts, current = json.loads(os.environ["SM_HOSTS"]), os.environ.get("SM_CURRENT_HOST", "")
    else:
        path = sm_paths.opt_ml("input", "config", "resourceconfig.json")
        config = json.loads(path.read_text()) if path.is_file() else {}
        hosts, current = config.get("hosts", ["algo-1"]), config.get("current_host", "algo-1")
    hosts = tuple(hosts)
    if current not in hosts:
        raise ValueError(f"current host {current!r} is not in the host list {list(hosts)}")
    return Cluster(hosts, current)


def is_leader() -> bool:
    """Rank 0 (the only host, or the first one): the one that writes the model and the checkpoints."""
    return collective.get_rank() == 0


@contextmanager
def joined(cluster: Cluster) -> Iterator[None]:
    """Inside: this host is a worker of the job's collective (nothing happens on a one-host job)."""
    if not cluster.distributed:
        yield
        return
    host = os.environ.get(TRACKER_HOST_ENV) or cluster.hosts[0]
    port = int(os.environ.get(TRACKER_PORT_ENV) or TRACKER_PORT)
    timeout = int(os.environ.get(TIMEOUT_ENV) or DEFAULT_TIMEOUT_SECONDS)
    tracker = None
    if cluster.rank == 0:
        tracker = RabitTracker(n_workers=len(cluster.hosts), host_ip=host, port=port, sortby="task", timeout=timeout)
        tracker.start()
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


def shared_fingerprint(local: str) -> str:
    """One fingerprint of every host's training setup (each host only sees its own shard), so all
    hosts accept or refuse the same checkpoint; the host's own fingerprint on a one-host job."""
    if not collective.is_distributed():
        return local
    own = hashlib.sha256(f"{collective.get_rank()}:{local}".encode()).digest()[:16]
    combined = collective.allreduce(np.frombuffer(own, dtype=np.uint64).copy(), collective.Op.BITWISE_XOR)
    return combined.astype("<u8").tobytes().hex()
