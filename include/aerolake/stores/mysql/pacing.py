"""Pacing shared by every process through MySQL: an API's hourly allowance, and one fetch per partition.

**Hourly pace.** A plan that allows N calls an hour (Lufthansa's public plan: 1,000) is paced at a margin below it
(:attr:`aerolake.core.connections.Api.calls_per_hour`, 900 for Lufthansa) over a sliding hour, across every run
and task: :meth:`HourlyPace.wait_turn`, called before each request, records the call in ``api_call_times`` and,
when the last hour already holds the pace's calls, waits (logging why and how long) until the oldest leaves
the window. A backfill of many days then slows down instead of drawing 403 "Over Rate Limit" answers. The
per-second pace is the client's own :class:`aerolake.http.RateLimiter` (one pool slot per API keeps its calls
serial across runs).

**One fetch per partition.** Two runs of one partition (a retry overlapping a manual trigger, a backfill over a
scheduled run) would both call the API for it. :func:`fetch_lock` holds a server lock per (database, source,
endpoint, partition) while an endpoint is fetched; the second run waits for it, then finds the first one's
manifest and calls nothing. The lock belongs to the connection: a killed worker releases it.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from aerolake.core.connections import MySqlConfig
from aerolake.stores.mysql.db import connection

log = logging.getLogger(__name__)

#: how long a second run of a partition waits for the first one's fetch
FETCH_LOCK_TIMEOUT_S = 2 * 3600


def _lock_name(*parts: str) -> str:
    """A server lock name (MySQL allows 64 characters): readable prefix, hashed identity."""
    return "aerolake:" + hashlib.sha1("|".join(parts).encode(), usedforsecurity=False).hexdigest()


@contextmanager
def fetch_lock(cfg: MySqlConfig, source: str, endpoint: str, partition_key: str,
               timeout_s: float = FETCH_LOCK_TIMEOUT_S) -> Iterator[bool]:
    """Hold the lock of one endpoint's fetch of a partition; yields whether another run held it first (the
    caller then reads the lake again before calling the API)."""
    name = _lock_name("fetch", cfg.database, source, endpoint, partition_key)
    what = f"{source}/{endpoint} {partition_key}"
    with connection(cfg, autocommit=True) as conn, conn.cursor() as cur:
        cur.execute("SELECT GET_LOCK(%s, 0)", (name,))
        waited = cur.fetchone()[0] != 1
        if waited:
            log.info("%s: another run is fetching it; waiting for it (at most %.0f s)", what, timeout_s)
            cur.execute("SELECT GET_LOCK(%s, %s)", (name, timeout_s))
            if cur.fetchone()[0] != 1:
                raise TimeoutError(f"{what}: another run held its fetch for more than {timeout_s:.0f} s")
        try:
            yield waited
        finally:
            cur.execute("SELECT RELEASE_LOCK(%s)", (name,))


class HourlyPace:
    """At most ``per_hour`` calls of ``source`` in any sliding hour, across processes (this module's docstring)."""

    def __init__(self, cfg: MySqlConfig, source: str, per_hour: int, *, window_s: float = 3600.0,
                 sleep: Callable[[float], None] = time.sleep):
        self.cfg, self.source, self.per_hour, self.window_s = cfg, source, per_hour, window_s
        self._sleep = sleep
        self.waited_s = 0.0
        self._name = _lock_name("pace", cfg.database, source)

    def wait_turn(self) -> float:
        """Record one call now, first waiting while the window already holds ``per_hour`` calls; returns the
        seconds waited."""
        waited = 0.0
        with connection(self.cfg, autocommit=True) as conn, conn.cursor() as cur:
            cur.execute("SELECT GET_LOCK(%s, 60)", (self._name,))
            if cur.fetchone()[0] != 1:
                raise TimeoutError(f"{self.source}: could not take the pacing lock in 60 s")
            try:
                while True:
                    cur.execute("DELETE FROM api_call_times WHERE source = %s AND called_at < NOW(3) - INTERVAL "
                                "%s MICROSECOND", (self.source, int(self.window_s * 1e6)))
                    cur.execute("SELECT COUNT(*), TIMESTAMPDIFF(MICROSECOND, NOW(3), MIN(called_at)) FROM "
                                "api_call_times WHERE source = %s", (self.source,))
                    calls, oldest_offset_us = cur.fetchone()
                    if calls < self.per_hour:
                        break
                    wait = max(0.05, self.window_s + (oldest_offset_us or 0) / 1e6)
                    log.warning("%s: %d calls in the last %.0f s, the pace's limit (%d an hour, below the API's "
                                "allowance); waiting %.1f s", self.source, calls, self.window_s, self.per_hour, wait)
                    self._sleep(wait)
                    waited += wait
                cur.execute("INSERT INTO api_call_times (source, called_at) VALUES (%s, NOW(3))", (self.source,))
            finally:
                cur.execute("SELECT RELEASE_LOCK(%s)", (self._name,))
        self.waited_s += waited
        return waited
