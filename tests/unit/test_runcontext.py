"""Run context -> partition: which day (and snapshot) a run covers, and its flags."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from types import SimpleNamespace

import pytest

from aerolake.airflow import runcontext
from aerolake.stores.lake import Partition


def context(**values):
    return {"run_id": "r1", "dag": SimpleNamespace(dag_id="airlabs_lakehouse"), **values}


def test_a_scheduled_daily_run_covers_its_interval_day():
    ctx = context(logical_date=datetime(2026, 3, 1, tzinfo=UTC))
    info = runcontext.run_info(ctx, "lufthansa")
    assert info.partition == Partition("lufthansa", "2026-03-01")
    assert (info.dag_id, info.run_id) == ("airlabs_lakehouse", "r1")


def test_a_snapshot_run_is_named_by_its_utc_time():
    ctx = context(logical_date=datetime(2026, 3, 1, 23, 50, tzinfo=timezone(timedelta(hours=-2))))
    assert runcontext.run_info(ctx, "airlabs", snapshots=True).partition == Partition("airlabs", "2026-03-02",
                                                                                        "0150")


def test_a_run_can_ask_for_a_snapshot_through_its_conf_or_params():
    moment = datetime(2026, 3, 1, 14, 0, tzinfo=UTC)
    by_conf = context(logical_date=moment, dag_run=SimpleNamespace(conf={"snapshot": True}))
    by_param = context(logical_date=moment, params={"snapshot": "true"})
    for ctx in (by_conf, by_param):
        assert runcontext.run_info(ctx, "aviationstack").partition.snapshot == "1400"
    assert runcontext.run_info(context(logical_date=moment), "aviationstack").partition.snapshot is None


def test_a_manual_run_without_a_logical_date_covers_the_moment_it_was_triggered():
    ctx = context(logical_date=None, dag_run=SimpleNamespace(conf={}, run_after=datetime(2026, 3, 5, 7, 3, tzinfo=UTC)))
    assert runcontext.run_info(ctx, "airlabs", snapshots=True).partition == Partition("airlabs", "2026-03-05",
                                                                                        "0703")


def test_a_run_without_any_moment_is_refused_with_a_message():
    with pytest.raises(ValueError, match="no logical date"):
        runcontext.partition_date(context(logical_date=None))


def test_refetch_flag():
    assert runcontext.refetch_requested(context(dag_run=SimpleNamespace(conf={"refetch": True})))
    assert not runcontext.refetch_requested(context(params={"refetch": False}))


def test_a_snapshot_dag_run_covers_the_whole_day_when_its_conf_says_so():
    moment = datetime(2026, 3, 1, 14, 0, tzinfo=UTC)
    whole_day = context(logical_date=moment, dag_run=SimpleNamespace(conf={"snapshot": False}),
                        params={"snapshot": True})
    assert runcontext.run_info(whole_day, "airlabs", snapshots=True).partition == Partition("airlabs", "2026-03-01")
    asked = context(logical_date=moment, dag_run=SimpleNamespace(conf={"snapshot": "true"}))
    assert runcontext.run_info(asked, "aviationstack").partition.snapshot == "1400"


def test_the_day_partition_run_covers_the_previous_day_unless_the_conf_asks_for_a_snapshot():
    midnight = datetime(2026, 3, 2, 0, 0, tzinfo=UTC)
    scheduled = context(logical_date=midnight, params={"snapshot": True})
    info = runcontext.run_info(scheduled, "opensky", snapshots=True, day_partition_at="0000")
    assert info.partition == Partition("opensky", "2026-03-01")
    later = context(logical_date=midnight.replace(minute=10), params={"snapshot": True})
    assert runcontext.run_info(later, "opensky", True, "0000").partition == Partition("opensky", "2026-03-02", "0010")
    asked = context(logical_date=midnight, dag_run=SimpleNamespace(conf={"snapshot": True}))
    assert runcontext.run_info(asked, "opensky", True, "0000").partition == Partition("opensky", "2026-03-02", "0000")
    # a DAG without snapshots has no snapshot to replace
    assert runcontext.run_info(context(logical_date=midnight), "lufthansa", False, "0000").partition == Partition(
        "lufthansa", "2026-03-02")


def test_the_link_window_is_the_loads_own_moments() -> None:
    """A snapshot's positions link within their own minutes; flights may link positions observed while they could
    be in the air (an hour before the first departure to 20 hours after the last); nothing loaded, no link."""
    from datetime import datetime

    from aerolake.pipeline.stages import _TimeRange, link_window

    positions, flights = _TimeRange("observed_at"), _TimeRange("scheduled_departure")
    assert link_window(positions, flights) is None
    positions.first, positions.last = datetime(2026, 3, 1, 12, 0), datetime(2026, 3, 1, 12, 9, 50)
    assert link_window(positions, flights) == (datetime(2026, 3, 1, 12, 0), datetime(2026, 3, 1, 12, 9, 51))
    flights.first, flights.last = datetime(2026, 3, 1, 8, 0), datetime(2026, 3, 1, 22, 0)
    assert link_window(positions, flights) == (datetime(2026, 3, 1, 7, 0), datetime(2026, 3, 2, 18, 0, 1))


def test_a_load_links_all_its_own_positions_and_only_those_near_its_changed_flights_in_their_window() -> None:
    from aerolake.pipeline.stages import _TimeRange, link_windows

    positions, flights = _TimeRange("observed_at"), _TimeRange("scheduled_departure")
    assert link_windows(positions, flights) == []
    flights.first, flights.last = datetime(2026, 3, 1, 8, 0), datetime(2026, 3, 1, 22, 0)
    assert link_windows(positions, flights) == [(datetime(2026, 3, 1, 7, 0), datetime(2026, 3, 2, 18, 0, 1), True)]
    positions.first, positions.last = datetime(2026, 3, 1, 12, 0), datetime(2026, 3, 1, 12, 9, 50)
    assert link_windows(positions, flights) == [
        (datetime(2026, 3, 1, 12, 0), datetime(2026, 3, 1, 12, 9, 51), False),
        (datetime(2026, 3, 1, 7, 0), datetime(2026, 3, 2, 18, 0, 1), True)]
