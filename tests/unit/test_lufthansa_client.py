"""LufthansaClient against a real in-process mock API: OAuth token life cycle, paging, faults, plan.

Every test starts its own ``MockApi`` on a free port (the suite runs with ``-n 2``). Retries are made fast
with a no-op sleep and a short ``RetryPolicy``, except where the server's one-second QPS window must pass.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from datetime import date, datetime
from functools import partial
from typing import Any

import pytest

from aerolake.core.connections import ApiCredentials
from aerolake.http import ApiError, Page, RetryPolicy
from aerolake.mockapi import MockApi, MockConfig
from aerolake.sources.lufthansa.client import LufthansaClient, extract_records
from aerolake.sources.lufthansa.plan import FLIGHTSTATUS_PAGE_SIZE, REFERENCE_PAGE_SIZE, day_plan
from aerolake.sources.lufthansa.spec import FLIGHTSTATUS, REFERENCE_ENDPOINTS

CLIENT_ID = "aerolake-test"
CLIENT_SECRET = "lh-secret-93c1d7a0-never-log-me"
TOKEN = "lufthansa/oauth/token"
DAY = "2026-03-02"


def no_sleep(seconds: float) -> None:
    pass


@pytest.fixture
def start_api() -> Iterator[Callable[..., MockApi]]:
    """Start a MockApi with the given knobs (qps limit off unless given); stopped after the test."""
    started: list[MockApi] = []

    def start(**knobs: Any) -> MockApi:
        knobs.setdefault("qps_limit", None)
        knobs.setdefault("flights_per_hub", 40)
        api = MockApi(MockConfig(**knobs)).start()
        started.append(api)
        return api

    yield start
    for api in started:
        api.stop()


def make_client(api: MockApi, *, client_id: str = CLIENT_ID, client_secret: str = CLIENT_SECRET,
                **kwargs: Any) -> LufthansaClient:
    kwargs.setdefault("calls_per_second", None)
    kwargs.setdefault("sleep", no_sleep)
    kwargs.setdefault("retry", RetryPolicy(max_attempts=6, base_delay=0.0, max_delay=0.0))
    kwargs.setdefault("timeout", 10.0)
    return LufthansaClient(ApiCredentials(api.lufthansa_url, client_id, client_secret), **kwargs)


def walk(client: LufthansaClient, endpoint: str, page_size: int, **params: Any) -> list[Page]:
    path = REFERENCE_ENDPOINTS[endpoint][0]
    return list(client.iter_pages(path, {"lang": "en", **params}, page_size, partial(extract_records, endpoint)))


def codes(pages: list[Page], field: str) -> list[str]:
    return [str(r[field]) for p in pages for r in p.records]


def requests_to(api: MockApi, group: str) -> int:
    return api.stats()["requests"].get(group, 0)


def status_count(api: MockApi, status: int | str) -> int:
    return api.stats()["status_counts"].get(str(status), 0)


class FakeClock:
    def __init__(self, now: float = 1000.0):
        self.now = now

    def __call__(self) -> float:
        return self.now


# -- OAuth token ------------------------------------------------------------------------------------------
def test_token_is_fetched_once_and_reused(start_api, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    caplog.set_level(logging.DEBUG, logger="aerolake")
    api = start_api()
    client = make_client(api)
    for code in ("LH", "4Y", "EN"):
        page = client.get(f"references/airlines/{code}", {"lang": "en"})
        assert page.status == 200
    client.get("references/countries", {"limit": 5})
    assert requests_to(api, TOKEN) == 1
    assert client.bearer.fetches == 1
    assert status_count(api, 401) == 0
    token = client.bearer.value
    assert token
    assert caplog.records
    for record in caplog.records:
        assert token not in record.getMessage()
        assert CLIENT_SECRET not in record.getMessage()


def test_token_is_refreshed_after_a_401(start_api) -> None:
    api = start_api()
    client = make_client(api)
    assert client.get("references/airlines/LH").status == 200
    assert api.expire_tokens() == 1
    page = client.get("references/airlines/LH")
    assert page.status == 200
    assert extract_records("airlines", page.payload)[0][0]["AirlineID"] == "LH"
    assert requests_to(api, TOKEN) == 2
    assert client.bearer.fetches == 2
    assert status_count(api, 401) == 1
    # the new token is then reused
    client.get("references/airlines/4Y")
    assert requests_to(api, TOKEN) == 2


def test_token_is_refreshed_before_it_expires(start_api) -> None:
    api = start_api(token_ttl=100)
    clock = FakeClock(1000.0)
    client = make_client(api, clock=clock)
    client.get("references/airlines/LH")
    assert client.bearer.fetches == 1
    # a 100 s token is refreshed a tenth of its life early: at 90 s
    clock.now = 1089.9
    client.get("references/airlines/LH")
    assert client.bearer.fetches == 1
    clock.now = 1090.0
    client.get("references/airlines/LH")
    assert client.bearer.fetches == 2
    assert requests_to(api, TOKEN) == 2
    assert status_count(api, 401) == 0  # refreshed proactively, never rejected


def test_long_token_is_refreshed_five_minutes_early(start_api) -> None:
    api = start_api()  # the API's default 21600 s token
    clock = FakeClock(0.0)
    client = make_client(api, clock=clock)
    client.get("references/airlines/LH")
    clock.now = 21600 - 300 - 0.001
    client.get("references/airlines/LH")
    assert client.bearer.fetches == 1
    clock.now = 21600 - 300
    client.get("references/airlines/LH")
    assert client.bearer.fetches == 2
    assert requests_to(api, TOKEN) == 2


def test_bad_credentials_raise_naming_the_connection_without_the_secret(
        start_api, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    caplog.set_level(logging.DEBUG, logger="aerolake")
    api = start_api(client_id="the-right-id", client_secret="the-right-secret")
    client = make_client(api, client_id="the-wrong-id", client_secret=CLIENT_SECRET)
    with pytest.raises(ApiError) as info:
        client.get("references/airlines/LH")
    err = info.value
    assert err.status == 401
    assert "lufthansa_api" in str(err)
    assert CLIENT_SECRET not in str(err)
    assert CLIENT_SECRET not in repr(err)
    assert "the-right-secret" not in str(err)
    for record in caplog.records:
        assert CLIENT_SECRET not in record.getMessage()
    assert requests_to(api, TOKEN) == 1  # bad credentials are not retried
    assert requests_to(api, "lufthansa/references/airlines") == 0
    assert CLIENT_SECRET not in repr(client.credentials)


def test_good_credentials_are_accepted_when_the_server_checks_them(start_api) -> None:
    api = start_api(client_id=CLIENT_ID, client_secret=CLIENT_SECRET)
    assert make_client(api).get("references/airlines/LH").status == 200


# -- paging -----------------------------------------------------------------------------------------------
def test_paging_walks_every_page_exactly_once(start_api) -> None:
    api = start_api()
    client = make_client(api)
    small = walk(client, "airports", 20)
    total = small[0].total_count
    assert total == 1263
    expected_pages = -(-total // 20)
    assert [p.params["offset"] for p in small] == [20 * i for i in range(expected_pages)]
    assert all(p.params["limit"] == 20 and p.params["lang"] == "en" for p in small)
    assert all(p.status == 200 and not p.malformed and p.total_count == total for p in small)
    assert requests_to(api, "lufthansa/references/airports") == expected_pages
    small_codes = codes(small, "AirportCode")
    assert len(small_codes) == len(set(small_codes)) == total

    big = walk(client, "airports", 100)
    assert len(big) == -(-total // 100)
    assert requests_to(api, "lufthansa/references/airports") == expected_pages + len(big)
    assert set(codes(big, "AirportCode")) == set(small_codes)
    assert requests_to(api, TOKEN) == 1


def test_page_size_above_the_maximum_is_treated_as_the_maximum(start_api) -> None:
    api = start_api()
    client = make_client(api)
    page = client.get("references/countries", {"limit": 500, "offset": 0})
    records, total = extract_records("countries", page.payload)
    assert total == 165
    assert len(records) == REFERENCE_PAGE_SIZE


def test_page_keeps_the_exact_bytes_and_parsed_payload(start_api) -> None:
    api = start_api()
    page = make_client(api).get("references/airports/FRA", {"lang": "en"})
    assert page.url_path == "references/airports/FRA"
    assert page.params == {"lang": "en"}
    assert page.status == 200
    assert isinstance(page.body, bytes)
    assert page.payload["AirportResource"]["Airports"]["Airport"]["AirportCode"] == "FRA"
    assert page.body.startswith(b'{"AirportResource":')


def test_flight_status_window_pages_cover_the_window(start_api) -> None:
    api = start_api(flights_per_hub=300)
    client = make_client(api)
    path = f"operations/flightstatus/departures/FRA/{DAY}T12:00"
    expected = api.world.window("dep", "FRA", datetime.fromisoformat(f"{DAY}T12:00"))
    assert len(expected) > 20
    pages = list(client.iter_pages(path, {"serviceType": "passenger"}, 20, partial(extract_records, FLIGHTSTATUS)))
    assert len(pages) == -(-len(expected) // 20)
    flights = [r for p in pages for r in p.records]
    assert len(flights) == len(expected) == pages[0].total_count
    assert {f["Departure"]["AirportCode"] for f in flights} == {"FRA"}


def test_empty_window_is_a_404_page_without_records(start_api) -> None:
    api = start_api(flights_per_hub=40)
    assert api.world.window("dep", "FRA", datetime.fromisoformat(f"{DAY}T00:00")) == []
    client = make_client(api)
    path = f"operations/flightstatus/departures/FRA/{DAY}T00:00"
    pages = list(client.iter_pages(path, {"serviceType": "passenger"}, FLIGHTSTATUS_PAGE_SIZE,
                                   partial(extract_records, FLIGHTSTATUS)))
    assert len(pages) == 1
    page = pages[0]
    assert page.status == 404
    assert page.records == []
    assert page.total_count is None
    assert not page.malformed
    assert page.payload["ProcessingErrors"]["ProcessingError"]["Type"] == "ResourceNotFound"
    assert requests_to(api, "lufthansa/operations/flightstatus/departures") == 1  # a 404 is not retried


def test_input_validation_error_is_fatal_and_says_why(start_api) -> None:
    api = start_api()
    client = make_client(api)
    with pytest.raises(ApiError) as info:
        client.get(f"operations/flightstatus/departures/ZZZ/{DAY}T08:00")
    assert info.value.status == 400
    assert "InputValidation" in str(info.value)
    assert "ZZZ" in str(info.value)
    assert requests_to(api, "lufthansa/operations/flightstatus/departures") == 1


def test_unknown_service_404_is_fatal(start_api) -> None:
    api = start_api()
    client = make_client(api)
    with pytest.raises(ApiError) as info:
        client.get("operations/nothing-here")
    assert info.value.status == 404
    assert "operations/nothing-here" in str(info.value)


# -- faults -----------------------------------------------------------------------------------------------
def test_server_errors_are_retried_and_the_walk_is_complete(start_api) -> None:
    clean_api = start_api()
    reference = codes(walk(make_client(clean_api), "countries", 20), "CountryCode")
    assert len(reference) == 165

    api = start_api(error_rate=0.3, seed=3)
    client = make_client(api, retry=RetryPolicy(max_attempts=10, base_delay=0.0, max_delay=0.0))
    pages = walk(client, "countries", 20)
    assert [p.params["offset"] for p in pages] == list(range(0, 165, 20))
    assert codes(pages, "CountryCode") == reference
    stats = api.stats()["status_counts"]
    assert sum(n for s, n in stats.items() if s.startswith("5")) > 0, stats
    assert stats["200"] == len(pages) + 1  # every page once, plus the token


def test_qps_403_is_retried_with_backoff_and_the_walk_completes(start_api) -> None:
    api = start_api(qps_limit=5)
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        time.sleep(seconds)

    client = make_client(api, sleep=sleep, retry=RetryPolicy(max_attempts=12, base_delay=0.2, max_delay=0.6))
    pages = walk(client, "countries", 20)  # 9 pages: more than the server allows in a second
    found = codes(pages, "CountryCode")
    assert len(found) == len(set(found)) == 165
    assert status_count(api, 403) >= 1
    assert slept and all(0 <= s <= 0.6 for s in slept)
    assert requests_to(api, "lufthansa/references/countries") == len(pages) + status_count(api, 403)


def test_client_rate_limit_keeps_under_the_server_limit(start_api) -> None:
    api = start_api(qps_limit=5)
    client = make_client(api, calls_per_second=4.0, sleep=time.sleep)
    for _ in range(6):
        assert client.get("references/airlines/LH").status == 200
    assert status_count(api, 403) == 0


def test_malformed_body_is_returned_as_such_after_retries(start_api) -> None:
    api = start_api(malformed_paths=[r"references/airlines\?.*offset=20(&|$)"])
    client = make_client(api, retry=RetryPolicy(max_attempts=3, base_delay=0.0, max_delay=0.0))
    page = client.get("references/airlines", {"lang": "en", "limit": 20, "offset": 20})
    assert page.malformed is True
    assert page.status == 200
    assert page.payload is None
    assert page.records == []
    assert requests_to(api, "lufthansa/references/airlines") == 3

    api.configure(malformed_paths=[])
    full = client.get("references/airlines", {"lang": "en", "limit": 20, "offset": 20})
    assert not full.malformed
    assert page.body == full.body[: len(full.body) // 2]  # kept byte for byte as received


@pytest.mark.parametrize(("bad_offset", "malformed"), [(20, [False, True, False]), (0, [True, False, False])],
                         ids=["middle-page", "first-page"])
def test_walk_goes_on_past_a_malformed_page(start_api, bad_offset: int, malformed: list[bool]) -> None:
    """A page still malformed after retries is kept (for quarantine) and the walk goes on; a malformed first
    page hides TotalCount, yet the rest of the listing is fetched (the next page tells the total) instead of
    the walk silently ending after one page."""
    api = start_api(malformed_paths=[rf"references/airlines\?.*offset={bad_offset}(&|$)"])
    client = make_client(api, retry=RetryPolicy(max_attempts=2, base_delay=0.0, max_delay=0.0))
    pages = walk(client, "airlines", 20)
    assert [p.params["offset"] for p in pages] == [0, 20, 40]
    assert [p.malformed for p in pages] == malformed
    assert len(codes(pages, "AirlineID")) == 44 - 20


# -- the day's plan ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("hubs", [("FRA", "MUC"), ("FRA",), ("FRA", "MUC", "ZRH")])
@pytest.mark.parametrize("day", [date(2026, 3, 2), date(2026, 3, 29), date(2026, 10, 25)])
def test_day_plan_covers_six_windows_both_directions_every_hub(day: date, hubs: tuple[str, ...]) -> None:
    plan = day_plan(day, hubs)
    assert list(plan) == [*REFERENCE_ENDPOINTS, FLIGHTSTATUS]
    for endpoint, (path, *_rest) in REFERENCE_ENDPOINTS.items():
        assert len(plan[endpoint]) == 1
        request = plan[endpoint][0]
        assert (request.endpoint, request.path, request.params, request.page_size) == (
            endpoint, path, {"lang": "en"}, REFERENCE_PAGE_SIZE)
    windows = plan[FLIGHTSTATUS]
    assert len(windows) == 6 * 2 * len(hubs)
    expected = {
        f"operations/flightstatus/{direction}/{hub}/{day.isoformat()}T{hour:02d}:00"
        for hub in hubs for direction in ("departures", "arrivals") for hour in range(0, 24, 4)
    }
    assert {r.path for r in windows} == expected
    assert len({r.path for r in windows}) == len(windows)
    assert all(r.endpoint == FLIGHTSTATUS and r.page_size == FLIGHTSTATUS_PAGE_SIZE
               and r.params == {"serviceType": "passenger"} for r in windows)


def test_day_plan_windows_are_served_by_the_mock(start_api) -> None:
    api = start_api(flights_per_hub=40)
    client = make_client(api)
    plan = day_plan(date.fromisoformat(DAY), ("FRA",))
    statuses = {}
    for request in plan[FLIGHTSTATUS]:
        pages = list(client.iter_pages(request.path, request.params, request.page_size,
                                       partial(extract_records, FLIGHTSTATUS)))
        statuses[request.path] = [p.status for p in pages]
    assert all(set(s) <= {200, 404} for s in statuses.values())
    assert any(200 in s for s in statuses.values())
