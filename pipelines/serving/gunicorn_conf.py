"""gunicorn settings for the local endpoint (`-c python:pipelines.serving.gunicorn_conf`).

One worker process per core (at most 4: each holds its own copy of the model), each an asyncio
event loop (gunicorn's ASGI worker) serving many keep-alive connections, as the SageMaker Runtime's
clients expect. A request is a few hundred microseconds of CPU (parse, encode, predict), so it runs
on the loop itself, without the thread hand-offs of threaded workers (gthread: poller thread to pool
thread and back for every request): measured side by side with bench/serving.py's client, about 500
us of server CPU per 1-row request against about 700 us with gthread (bench/README.md). A worker
keeps the connections it accepted, and accepts greedily, so a burst of new clients may sit mostly
on one worker (13 of 16 measured); at about 500 us a request, one core still has room for about
2,000 requests/s (an estimate from CPU time, not a measurement: see bench/README.md).

Each worker loads the model itself (no preload), so a HUP's new workers load the newest spec while
the old ones finish their in-flight requests (`graceful_timeout`). On exit a worker closes its app:
the capture writer drains its queue, so a clean shutdown loses no record.
"""

from __future__ import annotations

import os
from typing import Any

workers = int(os.environ.get("ML_FACTORY_SERVER_WORKERS") or min(4, os.cpu_count() or 2))
worker_class = "asgi"
asgi_lifespan = "off"  # the app loads in the worker (create_app) and closes in worker_exit
keepalive = 75  # seconds; longer than the usual client pool idle time
graceful_timeout = 30
timeout = 120
preload_app = False
accesslog = None
errorlog = "-"
loglevel = "warning"
proc_name = "ml-factory-endpoint"


def worker_exit(server: Any, worker: Any) -> None:
    app = getattr(worker, "asgi", None)
    close = getattr(app, "close", None)
    if close:
        close()
