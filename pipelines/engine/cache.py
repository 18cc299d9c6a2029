"""Step caching as SageMaker Pipelines does it, kept in SQLite under the state folder.

A step with CacheConfig.Enabled is skipped when an earlier execution ran the same step
successfully within ExpireAfter. "The same" is the cache key: the step's type and arguments
with parameters resolved and step properties / execution variables left symbolic, plus the keys
of the steps it reads from. Each step names its code by a URI addressed by the content of only the
files it runs (pipelines/code_bundle.py `CodeBundle.for_step`; the local DataQualityCheck by its
analyzer's URI) and input data by a content-addressed InputDataUri, so editing train.py changes the
keys of Train and the steps that read its output, never Preprocess's. A hit reuses the earlier
execution's properties (and so its outputs), provided those outputs are still in the store.

Concurrent runs are safe: WAL journal, every write one short transaction.
"""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pipelines.engine.step_job import StepResult

KEY_VERSION = 1  # bump when the key material changes meaning
SCHEMA = """
CREATE TABLE IF NOT EXISTS step_cache (
    cache_key TEXT NOT NULL,
    pipeline TEXT NOT NULL,
    step TEXT NOT NULL,
    step_type TEXT NOT NULL,
    execution_id TEXT NOT NULL,
    created REAL NOT NULL,
    properties TEXT NOT NULL,
    facts TEXT NOT NULL,
    outputs TEXT NOT NULL,
    PRIMARY KEY (cache_key, execution_id)
);
CREATE INDEX IF NOT EXISTS step_cache_by_key ON step_cache (cache_key, created);
"""
_DURATION = re.compile(
    r"^P(?:(?P<years>\d+(?:\.\d+)?)Y)?(?:(?P<months>\d+(?:\.\d+)?)M)?(?:(?P<weeks>\d+(?:\.\d+)?)W)?"
    r"(?:(?P<days>\d+(?:\.\d+)?)D)?(?:T(?:(?P<hours>\d+(?:\.\d+)?)H)?(?:(?P<minutes>\d+(?:\.\d+)?)M)?"
    r"(?:(?P<seconds>\d+(?:\.\d+)?)S)?)?$")
_SECONDS = {"years": 365 * 86400, "months": 30 * 86400, "weeks": 7 * 86400, "days": 86400, "hours": 3600,
            "minutes": 60, "seconds": 1}


def parse_duration(text: str | None) -> float | None:
    """ISO 8601 duration (P30D, PT12H, P1W...) in seconds; None (no expiry) for no text."""
    if not text:
        return None
    match = _DURATION.match(text.strip())
    if not match or text.strip() in ("P", "PT"):
        raise ValueError(f"ExpireAfter {text!r} is not an ISO 8601 duration such as P30D or PT1H")
    return sum(float(v) * _SECONDS[k] for k, v in match.groupdict().items() if v)


def cache_key(material: dict[str, Any]) -> str:
    text = json.dumps({"version": KEY_VERSION, **material}, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class CacheHit:
    execution_id: str
    created: float
    properties: dict[str, Any]
    facts: dict[str, Any]
    outputs: list[str]


class StepCache:
    def __init__(self, path: Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as db:
            db.executescript(SCHEMA)

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        try:
            db.execute("PRAGMA journal_mode=WAL")
            yield db
        finally:
            db.close()

    def lookup(self, key: str, expire_after: str | None, available: Callable[[str], bool],
               now: float | None = None) -> CacheHit | None:
        """The newest unexpired record for `key` whose outputs are all still available."""
        now = time.time() if now is None else now
        expiry = parse_duration(expire_after)
        oldest = now - expiry if expiry is not None else 0.0
        with self._connect() as db:
            rows = db.execute("SELECT execution_id, created, properties, facts, outputs FROM step_cache "
                              "WHERE cache_key = ? AND created >= ? ORDER BY created DESC LIMIT 5",
                              (key, oldest)).fetchall()
        for execution_id, created, properties, facts, outputs in rows:
            uris = json.loads(outputs)
            if all(available(uri) for uri in uris):
                return CacheHit(execution_id, created, json.loads(properties), json.loads(facts), uris)
        return None

    def record(self, key: str, result: StepResult, *, pipeline: str, step: str, step_type: str,
               execution_id: str) -> None:
        """Remember a succeeded step's result under its cache key."""
        with self._connect() as db:
            db.execute("INSERT OR REPLACE INTO step_cache (cache_key, pipeline, step, step_type, execution_id, "
                       "created, properties, facts, outputs) VALUES (?,?,?,?,?,?,?,?,?)",
                       (key, pipeline, step, step_type, execution_id, time.time(),
                        json.dumps(result.properties, default=str), json.dumps(result.facts, default=str),
                        json.dumps(result.outputs)))
