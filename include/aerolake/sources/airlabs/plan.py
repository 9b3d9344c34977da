"""What one Airlabs partition (a snapshot) fetches: positions and the departure and arrival boards of each
hub, and the airports and airlines listings in the day's first snapshot only; the live API serves only the
present (within :data:`SNAPSHOT_TOLERANCE`)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from aerolake.core.settings import Settings
from aerolake.http import Request
from aerolake.sources import hubs_of
from aerolake.sources.airlabs.spec import AIRLINES, AIRPORTS, FLIGHTS, SCHEDULES, SOURCE
from aerolake.stores.lake import Partition

SCHEDULES_PAGE_SIZE = 500  # asked per page; the API may serve fewer (then more pages follow)
REFERENCE_SNAPSHOTS_BEFORE = "0010"  # snapshots of the day's first ten minutes (UTC) fetch the references
#: how far a snapshot may lie from "now" for the live API to still serve it
SNAPSHOT_TOLERANCE = timedelta(minutes=30)


# -- the fetch plan ---------------------------------------------------------------------------------------
def fetches_references(partition: Partition) -> bool:
    """Whether this partition fetches the airports and airlines listings (once a day: see the docstring)."""
    return partition.snapshot is None or partition.snapshot < REFERENCE_SNAPSHOTS_BEFORE


def partition_plan(partition: Partition, settings: Settings) -> dict[str, list[Request]]:
    hubs = hubs_of(settings, SOURCE)
    references = fetches_references(partition)
    return {
        AIRPORTS: [Request(AIRPORTS, AIRPORTS, {}, 0)] if references else [],
        AIRLINES: [Request(AIRLINES, AIRLINES, {}, 0)] if references else [],
        SCHEDULES: [Request(SCHEDULES, SCHEDULES, {f"{side}_iata": hub}, SCHEDULES_PAGE_SIZE)
                    for hub in hubs for side in ("dep", "arr")],
        FLIGHTS: [Request(FLIGHTS, FLIGHTS, {f"{side}_iata": hub}, 0) for hub in hubs for side in ("dep", "arr")],
    }


def snapshot_time(partition: Partition) -> datetime | None:
    """The UTC moment (naive) a snapshot partition stands for; None for a partition without snapshot."""
    if partition.snapshot is None:
        return None
    return datetime.strptime(f"{partition.dt} {partition.snapshot}", "%Y-%m-%d %H%M")


def servable(partition: Partition, now: datetime) -> str | None:
    """None if the live API can serve ``partition`` at UTC time ``now``, else why not.

    Airlabs answers only "now": a snapshot is servable within :data:`SNAPSHOT_TOLERANCE` of its time.
    """
    moment = snapshot_time(partition)
    now = now.astimezone(UTC).replace(tzinfo=None) if now.tzinfo else now
    if moment is None:
        return (f"Airlabs serves only real-time snapshots (dt=.../snapshot=HHMM/); the partition {partition.key} "
                "has no snapshot time")
    lag = now - moment
    if abs(lag) <= SNAPSHOT_TOLERANCE:
        return None
    when = "in the past" if lag > timedelta(0) else "in the future"
    return (f"snapshot {partition.key} is {abs(lag)} {when} (now {now:%Y-%m-%d %H:%M} UTC); the live API serves only "
            f"the present, within {int(SNAPSHOT_TOLERANCE.total_seconds() // 60)} minutes")


def cannot_serve_hint(partition: Partition) -> str:
    return (f"Airlabs serves only real-time data, and the lake has no complete raw partition for {partition.key} to "
            "replay; a past snapshot can only be rebuilt from the lake.")
