"""gunicorn settings for the local endpoint (`-c python:pipelines.serving.gunicorn_conf`).

Threaded workers keep connections alive between requests, as the SageMaker Runtime's clients
expect. Each worker loads the model itself (no preload), so a HUP's new workers load the newest
spec while the old ones finish their in-flight requests (`graceful_timeout`). On exit a worker
closes its app: the capture writer drains its queue, so a clean shutdown loses no record.
"""

from __future__ import annotations

import os
from typing import Any

workers = int(os.environ.get("ML_FACTORY_SERVER_WORKERS") or min(4, os.cpu_count() or 2))
worker_class = "gthread"
threads = int(os.environ.get("ML_FACTORY_SERVER_THREADS") or 4)
keepalive = 75  # seconds; longer than the usual client pool idle time
graceful_timeout = 30
timeout = 120
preload_app = False
accesslog = None
errorlog = "-"
loglevel = "warning"
proc_name = "ml-factory-endpoint"


def worker_exit(server: Any, worker: Any) -> None:
    app = getattr(worker, "wsgi", None)
    close = getattr(app, "close", None)
    if close:
        close()
