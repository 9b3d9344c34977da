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

**The pace** (:meth:`QuotaLedger.pace`) keeps a schedule from spending the month in a day. A budget period (the
month, the day) is spread over the scheduled runs that fall in it: by the run at slot *k* of *n*, the period may
have used ``limit * k / n`` calls. A scheduled run whose calls do not fit what the pace allows by then is
**skipped** (:class:`aerolake.core.errors.RunSkipped`: the task ends skipped, with the numbers in its log and in
``pipeline_runs``), not failed. What a skipped run did not spend carries over, so a run that needs more calls than
one run's share waits for enough of them; the period's calls are spread over all of it and never run dry before
its end (Airlabs' free 1,000 a month at 8 calls a snapshot: one snapshot about every six hours, all month). The
pace applies to scheduled runs; a run a person asks for (a manual trigger, a backfill) only has to fit the
budget itself. :func:`budget_status` gives, per source, what the report and ``/status`` show: used, left, what
the pace allows now and the next scheduled run that will call.
"""

from __future__ import annotations

import bisect
import logging
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any

from aerolake.core.connections import MySqlConfig
from aerolake.core.errors import QuotaExceeded, RunSkipped
from aerolake.core.settings import Budget, utcnow, wall_clock
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


def period_end(kind: str, start: date) -> date:
    """The first day after the period (a day, or a calendar month) starting ``start``."""
    if kind == "day":
        return start + timedelta(days=1)
    return (start.replace(day=28) + timedelta(days=4)).replace(day=1)


@lru_cache(maxsize=64)
def schedule_slots(schedule: str, start: datetime, end: datetime) -> tuple[datetime, ...]:
    """The moments of cron ``schedule`` (UTC) in ``[start, end)``."""
    from croniter import croniter

    slots = []
    it = croniter(schedule, start - timedelta(seconds=1))
    while True:
        moment = it.get_next(datetime)
        if moment >= end:
            return tuple(slots)
        slots.append(moment)


@dataclass(frozen=True)
class PacePeriod:
    """One limited period at a moment: its calls used, its limit, and what the pace allows by then."""

    kind: str  # day | month
    start: date
    used: int
    limit: int
    allowed: int  # by the pace, up to this moment's slot
    slot: int  # slots of the schedule in the period up to now (inclusive)
    slots: int  # slots of the schedule in the whole period

    def describe(self) -> str:
        return (f"{self.kind} {self.start:%Y-%m-%d}: {self.used} of {self.limit} used, the pace allows {self.allowed} "
                f"by run {self.slot} of {self.slots}")


def pace_periods(usage: list[Usage], schedule: str, now: datetime) -> list[PacePeriod]:
    """The pace of each limited period of ``usage`` at ``now`` (this module's docstring)."""
    out = []
    for u in usage:
        if u.limit is None:
            continue
        start = datetime.combine(u.period_start, datetime.min.time())
        end = datetime.combine(period_end(u.period_kind, u.period_start), datetime.min.time())
        slots = schedule_slots(schedule, start, end)
        slot = bisect.bisect_right(slots, now)
        allowed = u.limit if not slots else math.floor(u.limit * slot / len(slots))
        out.append(PacePeriod(u.period_kind, u.period_start, u.used, u.limit, allowed, slot, len(slots)))
    return out


def unpaid(periods: list[PacePeriod], needed: int) -> list[PacePeriod]:
    """The periods whose pace cannot pay ``needed`` more calls."""
    return [p for p in periods if p.used + needed > p.allowed]


def next_paying_run(usage: list[Usage], schedule: str, needed: int, now: datetime,
                    horizon: timedelta = timedelta(days=62)) -> datetime | None:
    """The first scheduled moment after ``now`` whose run the pace pays for ``needed`` calls, if no other call is
    made meanwhile (None: none within ``horizon``)."""
    from croniter import croniter

    it = croniter(schedule, now)
    while True:
        moment = it.get_next(datetime)
        if moment > now + horizon:
            return None
        at = [Usage(u.period_kind, start, u.used if start == u.period_start else 0, u.limit)
              for u in usage for start in (_period_start(u.period_kind, moment.date()),)]
        if not unpaid(pace_periods(at, schedule, moment), needed) and all(u.left is None or u.left >= needed
                                                                          for u in at):
            return moment


def _period_start(kind: str, day: date) -> date:
    return day if kind == "day" else day.replace(day=1)


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

    def pace(self, needed: int, schedule: str, what: str = "this run") -> list[PacePeriod]:
        """Raise :class:`RunSkipped` unless the pace of ``schedule`` pays ``needed`` calls now (the module's
        docstring); returns the periods' pace. Call after :meth:`ensure`: a run the budget itself cannot pay
        fails there."""
        now = self._clock()
        usage = self.usage()
        periods = pace_periods(usage, schedule, now)
        self.record_plan(schedule, needed)
        short = unpaid(periods, needed)
        if short:
            following = next_paying_run(usage, schedule, needed, now)
            raise RunSkipped(
                f"{self.source}: {what} skipped by the budget's pace: it needs {needed} call(s) and the pace allows "
                f"{min(p.allowed - p.used for p in short)} more now ({'; '.join(p.describe() for p in periods)}). "
                f"Nothing was called; the next scheduled run that the pace pays is at "
                f"{f'{following:%Y-%m-%d %H:%M} UTC' if following else 'none within two months'}. A manual "
                "trigger is not paced (only the budget itself limits it).")
        log.info("%s: the budget's pace pays %d call(s): %s", self.source, needed,
                 "; ".join(p.describe() for p in periods))
        return periods

    def record_plan(self, schedule: str, calls_per_run: int) -> None:
        """Remember the schedule and calls of this source's scheduled runs (for :func:`budget_status`)."""
        with connection(self.cfg, autocommit=True) as conn, conn.cursor() as cur:
            cur.execute("INSERT INTO api_budget_plans (source, schedule, calls_per_run, updated_at) VALUES "
                        "(%s, %s, %s, %s) ON DUPLICATE KEY UPDATE schedule = VALUES(schedule), calls_per_run = "
                        "VALUES(calls_per_run), updated_at = VALUES(updated_at)",
                        (self.source, schedule, calls_per_run, wall_clock()))

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


def describe_status(status: dict[str, Any]) -> str:
    """One line of :func:`budget_status`, for logs and the report."""
    parts = []
    for kind, p in status["periods"].items():
        if p["limit"] is None:
            continue
        pace = f", the pace allows {p['pace_allows']} by now" if "pace_allows" in p else ""
        parts.append(f"{kind} from {p['start']}: {p['used']} of {p['limit']} used, {p['left']} left{pace}")
    plan = (f"; {status['calls_per_run']} call(s) per scheduled run ({status['schedule']}), the next that will call: "
            f"{status['next_call'] or 'none within two months'}" if status["schedule"] else
            "; no scheduled run has fetched yet")
    return f"{status['source']}: " + "; ".join(parts) + plan


def budget_status(cfg: MySqlConfig, source: str, budget: Budget, now: datetime | None = None) -> dict[str, Any]:
    """What the report and ``/status`` show of a source's budget: per period used, limit and left; with the plan
    of its scheduled runs (once one has run), what the pace allows now and the next scheduled run that will
    call."""
    now = now or utcnow()
    ledger = QuotaLedger(cfg, source, budget, clock=lambda: now)
    usage = ledger.usage()
    with connection(cfg, autocommit=True) as conn, conn.cursor() as cur:
        cur.execute("SELECT schedule, calls_per_run FROM api_budget_plans WHERE source = %s", (source,))
        plan = cur.fetchone()
    periods = {u.period_kind: {"start": u.period_start.isoformat(), "used": u.used, "limit": u.limit, "left": u.left}
               for u in usage}
    status: dict[str, Any] = {"source": source, "limited": ledger.limited, "periods": periods, "schedule": None,
                              "calls_per_run": None, "next_call": None}
    if plan and ledger.limited:
        schedule, calls = plan
        for p in pace_periods(usage, schedule, now):
            periods[p.kind]["pace_allows"] = p.allowed
        following = next_paying_run(usage, schedule, calls, now)
        status.update(schedule=schedule, calls_per_run=calls,
                      next_call=following.isoformat(timespec="minutes") if following else None)
    return status
