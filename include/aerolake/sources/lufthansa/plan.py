"""What one Lufthansa partition (a day) fetches: the five reference listings, then departures and arrivals of
each hub in 4-hour windows covering the local day. The API itself says which days it cannot serve (HTTP 400)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from aerolake.core.settings import Settings
from aerolake.http import Request
from aerolake.sources import hubs_of
from aerolake.sources.lufthansa.spec import FLIGHTSTATUS, REFERENCE_ENDPOINTS, SOURCE
from aerolake.stores.lake import Partition

REFERENCE_PAGE_SIZE = 100  # the API's maximum for references
FLIGHTSTATUS_PAGE_SIZE = 80  # the API's maximum for flight status
WINDOW_HOURS = 4  # a departures/arrivals call covers four hours from its start


# -- the fetch plan for one day ---------------------------------------------------------------------------
def day_plan(day: date, hubs: tuple[str, ...], lang: str = "en") -> dict[str, list[Request]]:
    """Every request for one day: the references, then departures and arrivals of each hub in 4-hour
    windows covering the whole local day at the hub."""
    plan: dict[str, list[Request]] = {
        endpoint: [Request(endpoint, path, {"lang": lang}, REFERENCE_PAGE_SIZE)]
        for endpoint, (path, *_rest) in REFERENCE_ENDPOINTS.items()
    }
    windows = []
    for hub in hubs:
        for direction in ("departures", "arrivals"):
            start = datetime(day.year, day.month, day.day)
            while start.date() == day:
                path = f"operations/flightstatus/{direction}/{hub}/{start:%Y-%m-%dT%H:%M}"
                windows.append(Request(FLIGHTSTATUS, path, {"serviceType": "passenger"}, FLIGHTSTATUS_PAGE_SIZE))
                start += timedelta(hours=WINDOW_HOURS)
    plan[FLIGHTSTATUS] = windows
    return plan


def partition_plan(partition: Partition, settings: Settings) -> dict[str, list[Request]]:
    return day_plan(date.fromisoformat(partition.dt), hubs_of(settings, SOURCE))


def servable(partition: Partition, now: datetime) -> str | None:
    """Always None: the Lufthansa API says itself (HTTP 400) which days it cannot serve, and the extract then
    adds :func:`cannot_serve_hint`."""
    return None


def cannot_serve_hint(partition: Partition) -> str:
    return ("The Lufthansa API serves flight status only from yesterday to five days ahead, and the lake has no "
            f"complete raw partition for {partition.dt} to replay; a past date can only be rebuilt from the lake.")
