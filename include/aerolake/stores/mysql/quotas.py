"""API request budgets, shared by every run and task through MySQL (``api_quota_usage``).

Free plans allow 1,000 (Airlabs) and 100 (Aviation Stack) requests a month, counted by the provider per
calendar month. Each source has a budget per UTC day and month (``AEROLAKE_<SOURCE>_BUDGET_PER_DAY`` /
``_PER_MONTH``, empty = no limit). Two guards use it:

* before a fetch, :meth:`QuotaLedger.ensure` checks that the budget holds at least the calls the plan needs;
  if not, the run stops **before any call**, saying how many it needed and how many it had;
* every request (retries too: the provider counts them) is charged by :meth:`QuotaLedger.charge`, the
  client's ``before_request`` hook, in a transaction that locks the two counters, so parallel runs and tasks
  never overspend; a call the budget cannot pay is not made.

A stopped run writes nothing half: an endpoint's manifest is written only after all its pages, so the
partition stays incomplete in the lake, nothing reaches MongoDB or MySQL, and the next run (a retry, the
next day, a backfill) fetches it again. An Airflow pool per API (``airlabs_api``, ``aviationstack_api``,
one slot) keeps each API's calls serial across DAG runs.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime

from aerolake.core.connections import MySqlConfig
from aerolake.core.errors import QuotaExceeded
from aerolake.core.settings import Budget, utcnow
from aerolake.stores.mysql.db import connection

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Usage:
    period_kind: str  # day | month
    period_start: date
    used: int
    limit: int | None

    @property
    def left(self) -> int | None:
        return None if self.limit is None else max(0, self.limit - self.used)

    def describe(self) -> str:
        limit = "no limit" if self.limit is None else f"{self.used} of {self.limit} used"
        return f"{self.period_kind} {self.period_start:%Y-%m-%d}: {limit}"


class QuotaLedger:
    """The request counters of one source in MySQL, checked and charged atomically."""

    def __init__(self, cfg: MySqlConfig, source: str, budget: Budget, clock: Callable[[], datetime] = utcnow):
        self.cfg, self.source, self.budget, self._clock = cfg, source, budget, clock
        self.charged = 0

    @property
    def limited(self) -> bool:
        return self.budget.per_day is not None or self.budget.per_month is not None

    def _periods(self) -> list[tuple[str, date, int | None]]:
        today = self._clock().date()
        return [("day", today, self.budget.per_day), ("month", today.replace(day=1), self.budget.per_month)]

    def usage(self) -> list[Usage]:
        """Calls used so far in the current day and month."""
        out = []
        with connection(self.cfg, autocommit=True) as conn, conn.cursor() as cur:
            for kind, start, limit in self._periods():
                cur.execute("SELECT calls FROM api_quota_usage WHERE source = %s AND period_kind = %s "
                            "AND period_start = %s", (self.source, kind, start))
                row = cur.fetchone()
                out.append(Usage(kind, start, row[0] if row else 0, limit))
        return out

    def _message(self, needed: int, usage: list[Usage], what: str) -> str:
        lefts = [u.left for u in usage if u.left is not None]
        subject = what if what.startswith(f"{self.source} ") else f"{self.source}: {what}"
        return (f"{subject} needs {needed} API call(s) but the request budget has {min(lefts)} left "
                f"({'; '.join(u.describe() for u in usage)}). Nothing was called for it and nothing was written; "
                f"it resumes when the budget allows (a retry or rerun the next day/month), or raise "
                f"AEROLAKE_{self.source.upper()}_BUDGET_PER_DAY / _PER_MONTH.")

    def ensure(self, needed: int, what: str = "this run") -> None:
        """Raise :class:`QuotaExceeded` unless the budget has ``needed`` calls left today and this month."""
        if not self.limited or needed <= 0:
            return
        usage = self.usage()
        if any(u.left is not None and u.left < needed for u in usage):
            raise QuotaExceeded(self._message(needed, usage, what))
        log.info("%s: request budget ok for %d call(s): %s", self.source, needed,
                 "; ".join(u.describe() for u in usage))

    def charge(self, calls: int = 1) -> None:
        """Count ``calls`` against the budget, or raise :class:`QuotaExceeded` (and count nothing)."""
        periods = self._periods()
        now = self._clock()
        with connection(self.cfg) as conn:
            try:
                with conn.cursor() as cur:
                    for kind, start, _limit in periods:  # make sure both counters exist, then lock them
                        cur.execute("INSERT INTO api_quota_usage (source, period_kind, period_start, calls, "
                                    "updated_at) VALUES (%s, %s, %s, 0, %s) ON DUPLICATE KEY UPDATE calls = calls",
                                    (self.source, kind, start, now))
                    usage = []
                    for kind, start, limit in periods:
                        cur.execute("SELECT calls FROM api_quota_usage WHERE source = %s AND period_kind = %s "
                                    "AND period_start = %s FOR UPDATE", (self.source, kind, start))
                        usage.append(Usage(kind, start, cur.fetchone()[0], limit))
                    if any(u.left is not None and u.left < calls for u in usage):
                        raise QuotaExceeded(self._message(calls, usage, "the next request"))
                    for kind, start, _limit in periods:
                        cur.execute("UPDATE api_quota_usage SET calls = calls + %s, updated_at = %s WHERE source = %s "
                                    "AND period_kind = %s AND period_start = %s",
                                    (calls, now, self.source, kind, start))
                conn.commit()
            except Exception:
                conn.rollback()
                raise
        self.charged += calls
