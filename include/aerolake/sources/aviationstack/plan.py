"""What one Aviation Stack partition (a day) fetches: each hub's departures; the free plan serves only today
and yesterday (UTC)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from aerolake.core.settings import Settings
from aerolake.http import (
    Request,
)
from aerolake.sources import hubs_of
from aerolake.sources.aviationstack.spec import FLIGHTS, SOURCE
from aerolake.stores.lake import Partition

PAGE_SIZE = 100  # the maximum below the Professional plan
#: the live API serves the flights of the current UTC day and the day before (free plans: the current day)
SERVABLE_DAYS_BACK = 1


def partition_plan(partition: Partition, settings: Settings) -> dict[str, list[Request]]:
    """One departures listing per hub for the partition's ``flight_date`` (snapshots use the same plan)."""
    return {FLIGHTS: [Request(FLIGHTS, "flights", {"flight_date": partition.dt, "dep_iata": hub}, PAGE_SIZE)
                      for hub in hubs_of(settings, SOURCE)]}


def servable(partition: Partition, now: datetime) -> str | None:
    """None if the live API can serve ``partition`` at UTC time ``now``, else why not."""
    now_utc = now.astimezone(UTC) if now.tzinfo else now
    today = now_utc.date()
    first = today - timedelta(days=SERVABLE_DAYS_BACK)
    day = date.fromisoformat(partition.dt)
    if first <= day <= today:
        return None
    when = "in the past" if day < first else "in the future"
    return (f"Aviation Stack serves the flights of {first.isoformat()} and {today.isoformat()} only (today and "
            f"yesterday, UTC), and {partition.dt} is {when}.")


def cannot_serve_hint(partition: Partition) -> str:
    return ("Aviation Stack serves the flights of today and yesterday (UTC) only, and the lake has no complete raw "
            f"partition for {partition.dt} to replay; a past date can only be rebuilt from the lake.")
