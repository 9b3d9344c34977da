"""A month of every DAG's default schedule against its source's budget: the pace keeps each within its free
plan's allowance, and spreads the calls over the whole month instead of spending it in its first day.

The DAGs are the real ones (their timetables as Airflow parsed them); the calls a run needs are its source's
fetch plan for the run's partition (each listing counted as two pages, more than the mock's answers take).
"""

from __future__ import annotations

import itertools
from collections import Counter
from datetime import date, datetime, timedelta

import pytest
from test_dag_integrity import dagbag  # noqa: F401 - the fixture

from aerolake.core.settings import Settings
from aerolake.sources import SOURCES, budget_of, source
from aerolake.stores.lake import Partition
from aerolake.stores.mysql.quotas import Usage, pace_periods, schedule_slots, unpaid

PAGES_PER_LISTING = 2
MONTH_START = datetime(2026, 11, 1)  # a 30-day month


def simulate(schedule: str, per_month: int | None, per_day: int | None, needed: callable,
             days: int = 30) -> list[tuple[datetime, int]]:
    """Every scheduled run of ``days`` days from MONTH_START: the calls each paid run made, by the pace and the
    budget alone (no other caller)."""
    calls: list[tuple[datetime, int]] = []
    used: Counter = Counter()
    for moment in schedule_slots(schedule, MONTH_START, MONTH_START + timedelta(days=days)):
        month, day = moment.date().replace(day=1), moment.date()
        usage = [Usage("day", day, used["day", day], per_day), Usage("month", month, used["month", month], per_month)]
        cost = needed(moment)
        if any(u.left is not None and u.left < cost for u in usage):
            continue  # the budget itself cannot pay: the run would stop before calling
        if unpaid(pace_periods(usage, schedule, moment), cost):
            continue  # skipped by the pace
        used["day", day] += cost
        used["month", month] += cost
        calls.append((moment, cost))
    return calls


@pytest.mark.parametrize("name", [name for name in SOURCES if budget_of(Settings(), name).per_month
                                  or budget_of(Settings(), name).per_day])
def test_a_month_of_default_schedules_stays_within_the_free_plan(dagbag, name):  # noqa: F811
    dag = dagbag.dags[f"{name}_lakehouse"]
    schedule = dag.timetable.summary
    budget = budget_of(Settings(), name)
    src = source(name)
    snapshots = schedule.split()[1] == "*"  # an intra-day schedule: each run is a snapshot partition

    def needed(moment: datetime) -> int:
        partition = Partition(name, moment.strftime("%Y-%m-%d"), moment.strftime("%H%M") if snapshots else None)
        listings = sum(len(requests) for requests in src.partition_plan(partition, Settings()).values())
        return PAGES_PER_LISTING * max(listings, 1)

    unpaced = sum(needed(m) for m in schedule_slots(schedule, MONTH_START, MONTH_START + timedelta(days=30)))
    calls = simulate(schedule, budget.per_month, budget.per_day, needed)
    total = sum(cost for _moment, cost in calls)
    if budget.per_month:
        assert total <= budget.per_month < unpaced  # unpaced, the schedule would overspend the plan
        # spread over the month: calls in its first and in its last days, never all spent early
        assert calls[0][0].date() <= date(2026, 11, 3) and calls[-1][0].date() >= date(2026, 11, 28)
        assert total >= budget.per_month * 0.85  # and the allowance is used, not hoarded
    if budget.per_day:
        by_day = Counter()
        for moment, cost in calls:
            by_day[moment.date()] += cost
        assert max(by_day.values()) <= budget.per_day


def test_the_pace_spreads_airlabs_snapshots_evenly():
    """Airlabs' free 1,000 calls a month at 8 calls a snapshot every 10 minutes: a snapshot about every 6 hours."""
    calls = simulate("*/10 * * * *", 1000, None, lambda _moment: 8)
    gaps = [(b - a).total_seconds() / 3600 for (a, _), (b, _) in itertools.pairwise(calls)]
    assert len(calls) == 1000 // 8 - 1 or len(calls) == 1000 // 8
    assert min(gaps) >= 5.5 and max(gaps) <= 6.5
