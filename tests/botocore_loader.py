"""One botocore data loader for the whole test process.

botocore gives every new session its own loader, which parses the service models (SageMaker's is
several megabytes of JSON) again. Our CLIs make a session or two per run; the tests run hundreds of
CLI calls, moto mocks and SDK builds in one process, and spent about a third of their CPU time parsing
the same JSON. Sharing the loader keeps botocore's own cache for the process: the same files, read once.
"""

from __future__ import annotations

import botocore.loaders
import botocore.session

_shared = botocore.loaders.create_loader()
_create_loader = botocore.session.create_loader


def _loader(search_path_string: str | None = None) -> botocore.loaders.Loader:
    """The shared loader for botocore's own data; a fresh one for a session given other data paths."""
    return _shared if not search_path_string else _create_loader(search_path_string)


def share_botocore_loader() -> None:
    botocore.session.create_loader = _loader
