"""AviationstackClient against a real in-process mock API (paging, key, quota answers, truncated pages) and
against canned answers for every documented error code (retried or fatal, what the message says).

The access key used here is distinctive so a test can prove it never reaches a log line or an exception.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any

import pytest
import requests

from aerolake.core.connections import ApiCredentials
from aerolake.core.settings import Settings
from aerolake.http import ApiError, RetryPolicy
from aerolake.mockapi import MockApi, MockConfig
from aerolake.sources.aviationstack.client import AviationstackClient, extract_records, make_client
from aerolake.sources.aviationstack.normalize import natural_key
from aerolake.sources.aviationstack.plan import PAGE_SIZE, partition_plan
from aerolake.sources.aviationstack.spec import FLIGHTS
from aerolake.stores.lake import Partition

KEY = "as-key-5b2e91d4-never-log-me"
DAY = "2026-03-01"
NOW = "2026-03-01T12:00:00Z"
ERRORS = json.loads((Path(__file__).resolve().parents[1] / "fixtures" / "aviationstack" / "errors.json").read_text())
FLIGHTS_GROUP = "aviationstack/flights"


def no_sleep(seconds: float) -> None:
    pass


@pytest.fixture
def start_api() -> Iterator[Callable[..., MockApi]]:
    started: list[MockApi] = []

    def start(**knobs: Any) -> MockApi:
        knobs.setdefault("qps_limit", None)
        knobs.setdefault("flights_per_hub", 200)
        knobs.setdefault("now", NOW)
        knobs.setdefault("aviationstack_access_key", KEY)
        api = MockApi(MockConfig(**knobs)).start()
        started.append(api)
        return api

    yield start
    for api in started:
        api.stop()


@pytest.fixture(autouse=True)
def _debug_logs(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """Every log line at DEBUG (urllib3 prints whole URLs there); none may hold the key."""
    caplog.set_level(logging.DEBUG)
    yield
    lines = [r.getMessage() for phase in ("setup", "call") for r in caplog.get_records(phase)]
    assert not [line for line in lines if KEY in line]


def client_for(base_url: str, key: str = KEY, attempts: int = 4, **kwargs: Any) -> AviationstackClient:
    kwargs.setdefault("calls_per_second", None)
    kwargs.setdefault("sleep", no_sleep)
    return AviationstackClient(ApiCredentials(base_url, None, key), retry=RetryPolicy(attempts, 0.0, 0.0),
                               timeout=10.0, **kwargs)


def walk(client: AviationstackClient, **params: Any) -> list[Any]:
    params = {"flight_date": DAY, "dep_iata": "FRA", **params}
    return list(client.iter_pages("flights", params, PAGE_SIZE, partial(extract_records, FLIGHTS)))


def calls(api: MockApi) -> int:
    return api.stats()["requests"].get(FLIGHTS_GROUP, 0)


# -- against the mock server ------------------------------------------------------------------------------
def test_urllib3_request_lines_are_logged_with_the_key_masked(start_api) -> None:
    """urllib3 logs each request line, query string included, at DEBUG: the client masks the key there."""
    records: list[logging.LogRecord] = []
    handler = logging.Handler(logging.DEBUG)
    handler.emit = records.append  # type: ignore[method-assign]
    logger = logging.getLogger("urllib3.connectionpool")
    logger.addHandler(handler)
    level = logger.level
    logger.setLevel(logging.DEBUG)
    try:
        api = start_api()
        walk(client_for(api.aviationstack_url))
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
    lines = [r.getMessage() for r in records if "/aviationstack/v1/flights" in r.getMessage()]
    assert len(lines) == 3 and all("access_key=***" in line for line in lines), lines
    assert not [line for line in lines if KEY in line]


def test_walks_every_page_to_the_total_and_keeps_the_key_out_of_params(start_api) -> None:
    api = start_api()
    pages = walk(client_for(api.aviationstack_url))
    total = pages[0].total_count
    assert total > 2 * PAGE_SIZE  # 200 flights plus their codeshare listings: three pages
    assert [p.params["offset"] for p in pages] == [0, 100, 200]
    assert all(p.params == {"flight_date": DAY, "dep_iata": "FRA", "limit": 100, "offset": p.params["offset"]}
               for p in pages)
    records = [r for p in pages for r in p.records]
    assert len(records) == total == len({natural_key(FLIGHTS, r) or id(r) for r in records})
    assert calls(api) == 3
    assert all(json.loads(p.body)["data"] == p.records for p in pages)  # bytes kept exactly as received


def test_make_client_uses_the_offline_connection_and_charges_every_call(start_api) -> None:
    api = start_api(aviationstack_access_key="aerolake-offline")
    charged: list[int] = []
    client = make_client(Settings(mock_api_url=api.base_url, calls_per_second={"aviationstack": 0}),
                         before_request=lambda: charged.append(1))
    assert client.public_base_url == api.aviationstack_url
    pages = walk(client)
    assert len(charged) == len(pages) == client.http.calls == 3


def test_partition_plan_is_one_departures_listing_per_hub() -> None:
    plan = partition_plan(Partition("aviationstack", DAY, "1030"), Settings(hubs={"aviationstack": ("FRA", "MUC", "ZRH")}))
    assert list(plan) == [FLIGHTS]
    assert [(r.path, r.params, r.page_size) for r in plan[FLIGHTS]] == [
        ("flights", {"flight_date": DAY, "dep_iata": hub}, 100) for hub in ("FRA", "MUC", "ZRH")]


def test_a_wrong_key_fails_at_once_naming_the_connection_not_the_key(start_api) -> None:
    api = start_api()
    with pytest.raises(ApiError) as info:
        walk(client_for(api.aviationstack_url, key="wrong-" + KEY))
    message = str(info.value)
    assert "invalid_access_key" in message and "aviationstack_api" in message and "401" in message
    assert KEY not in message and info.value.status == 401 and not info.value.retryable
    assert calls(api) == 1  # no retry


def test_the_monthly_quota_stops_the_walk_at_once(start_api) -> None:
    api = start_api(aviationstack_monthly_limit=2)
    client = client_for(api.aviationstack_url)
    pages: list[Any] = []
    listing = client.iter_pages("flights", {"flight_date": DAY, "dep_iata": "FRA"}, PAGE_SIZE,
                                partial(extract_records, FLIGHTS))
    with pytest.raises(ApiError) as info:
        pages.extend(listing)
    assert len(pages) == 2
    assert "usage_limit_reached" in str(info.value) and "monthly request quota" in str(info.value)
    assert info.value.status == 429 and not info.value.retryable
    assert calls(api) == 3  # the refused call is not retried


def test_the_minute_limit_is_retried_with_backoff_and_gives_up_in_the_end(start_api) -> None:
    api = start_api(aviationstack_minute_limit=1)
    waits: list[float] = []
    client = client_for(api.aviationstack_url, attempts=3, sleep=waits.append)
    with pytest.raises(ApiError) as info:
        walk(client)
    assert "rate_limit_reached" in str(info.value) and "gave up after 3 attempts" in str(info.value)
    assert info.value.retryable
    assert calls(api) == 1 + 3 and len(waits) == 2


def test_a_truncated_page_is_retried_then_kept_as_malformed_and_the_walk_goes_on(start_api) -> None:
    api = start_api(malformed_paths=[r"offset=100"])
    pages = walk(client_for(api.aviationstack_url, attempts=2))
    assert [p.malformed for p in pages] == [False, True, False]
    assert pages[1].status == 200 and pages[1].records == []
    assert calls(api) == 1 + 2 + 1


def test_restricted_dates_answer_function_access_restricted(start_api) -> None:
    api = start_api(aviationstack_restrict_dates=True)
    client = client_for(api.aviationstack_url)
    assert walk(client, flight_date="2026-02-28")[0].records  # yesterday is served
    with pytest.raises(ApiError, match="function_access_restricted") as info:
        walk(client, flight_date="2026-02-20")
    assert info.value.status == 403 and "aviationstack_api" in str(info.value)


def test_validation_errors_show_their_context(start_api) -> None:
    api = start_api()
    with pytest.raises(ApiError) as info:
        walk(client_for(api.aviationstack_url), dep_iata="FRANKFURT")
    assert "validation_error" in str(info.value) and '"dep_iata"' in str(info.value)
    assert "invalid_iata_code" in str(info.value) and calls(api) == 1


def test_an_unreachable_api_is_retried_and_reported_without_the_key() -> None:
    with pytest.raises(ApiError) as info:
        walk(client_for("http://127.0.0.1:9/aviationstack/v1", attempts=2))
    assert "ConnectionError" in str(info.value) and KEY not in str(info.value)


# -- canned answers for every error code ------------------------------------------------------------------
class CannedSession:
    """Answers each request with the next canned (status, body, headers); records the params sent."""

    def __init__(self, answers: list[tuple[int, Any, dict[str, str]]]):
        self.answers = list(answers)
        self.sent: list[dict[str, Any]] = []

    def request(self, method: str, url: str, params: Any = None, **_: Any) -> requests.Response:
        self.sent.append(dict(params or {}))
        status, body, headers = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        response = requests.Response()
        response.status_code = status
        response._content = body if isinstance(body, bytes) else json.dumps(body).encode()
        response.headers.update(headers)
        response.url = url
        return response


def canned(answers: list[tuple[int, Any, dict[str, str]]], attempts: int = 3,
           sleep: Callable[[float], None] = no_sleep) -> tuple[AviationstackClient, CannedSession]:
    client = client_for("https://api.aviationstack.com/v1", attempts=attempts, sleep=sleep)
    session = CannedSession(answers)
    client.http.session = session  # type: ignore[assignment]
    return client, session


OK = (200, {"pagination": {"limit": 100, "offset": 0, "count": 1, "total": 1},
            "data": [{"flight_date": DAY, "airline": {"iata": "LH"}, "flight": {"number": "400"},
                      "departure": {"iata": "FRA"}}]}, {})
FATAL = ["invalid_access_key", "missing_access_key", "inactive_user", "https_access_restricted",
         "function_access_restricted", "invalid_api_function", "404_not_found", "usage_limit_reached",
         "validation_error"]
RETRIED = ["rate_limit_reached", "internal_error"]


@pytest.mark.parametrize("code", FATAL)
def test_fatal_error_codes_fail_at_once_with_a_clear_message(code: str) -> None:
    status, body = ERRORS[code]
    client, session = canned([(status, body, {})])
    with pytest.raises(ApiError) as info:
        client.get("flights", {"flight_date": DAY})
    message = str(info.value)
    assert f"aviationstack: {code} (HTTP {status})" in message
    assert body["error"]["message"] in message and "connection aviationstack_api" in message
    assert len(session.sent) == 1 and not info.value.retryable and info.value.status == status
    assert session.sent[0]["access_key"] == KEY  # sent to the API, and only there
    if code == "validation_error":
        assert '"flight_date": [{"key": "invalid_flight_date"' in message


@pytest.mark.parametrize("code", RETRIED)
def test_transient_error_codes_are_retried_then_succeed(code: str) -> None:
    status, body = ERRORS[code]
    waits: list[float] = []
    client, session = canned([(status, body, {}), (status, body, {}), OK], attempts=3, sleep=waits.append)
    page = client.get("flights", {"flight_date": DAY})
    assert page.status == 200 and page.payload["pagination"]["total"] == 1
    assert len(session.sent) == 3 and len(waits) == 2


@pytest.mark.parametrize("code", RETRIED)
def test_transient_error_codes_give_up_after_the_attempts(code: str) -> None:
    status, body = ERRORS[code]
    client, session = canned([(status, body, {})], attempts=3)
    with pytest.raises(ApiError) as info:
        client.get("flights", {"flight_date": DAY})
    assert code in str(info.value) and "gave up after 3 attempts" in str(info.value)
    assert "'access_key': '***'" in str(info.value) and len(session.sent) == 3


def test_errors_are_detected_by_the_body_even_with_http_200() -> None:
    client, session = canned([(200, ERRORS["usage_limit_reached"][1], {})])
    with pytest.raises(ApiError, match=r"usage_limit_reached \(HTTP 200\)"):
        client.get("flights", {})
    client, session = canned([(200, ERRORS["rate_limit_reached"][1], {}), OK])
    assert client.get("flights", {}).status == 200 and len(session.sent) == 2


def test_rate_limit_honours_retry_after() -> None:
    waits: list[float] = []
    client, _ = canned([(429, ERRORS["rate_limit_reached"][1], {"Retry-After": "0"}), OK], sleep=waits.append)
    client.get("flights", {})
    assert waits == [0.0]


def test_gateway_pages_are_retried_and_other_statuses_without_a_body_are_fatal() -> None:
    client, session = canned([(502, b"<html><h1>502 Bad Gateway</h1></html>", {}), OK])
    assert client.get("flights", {}).status == 200 and len(session.sent) == 2
    client, session = canned([(418, b"teapot", {})])
    with pytest.raises(ApiError, match=r"HTTP 418 \(teapot\)"):
        client.get("flights", {})
    assert len(session.sent) == 1


def test_a_200_without_a_data_list_is_kept_whole_for_quarantine_not_read_as_an_empty_page() -> None:
    client, session = canned([(200, {"pagination": {"total": 0}, "results": []}, {})])
    pages = list(client.iter_pages("flights", {}, PAGE_SIZE, partial(extract_records, FLIGHTS)))
    assert len(session.sent) == 1  # not retried: the same answer would come again
    assert pages[0].malformed and pages[0].records == []
    assert pages[0].error == ("unexpected answer shape: ValueError: expected an object with a data list, got "
                              "['pagination', 'results']")


def test_an_empty_page_ends_the_walk_whatever_the_total_claims() -> None:
    lying = (200, {"pagination": {"limit": 100, "offset": 0, "count": 0, "total": 5000}, "data": []}, {})
    client, session = canned([lying])
    pages = list(client.iter_pages("flights", {}, PAGE_SIZE, partial(extract_records, FLIGHTS)))
    assert len(pages) == 1 and len(session.sent) == 1


def test_malformed_pages_without_a_known_total_stop_the_walk() -> None:
    client, session = canned([(200, b'{"pagination": {"tot', {})], attempts=1)
    with pytest.raises(ApiError, match="3 malformed pages in a row"):
        list(client.iter_pages("flights", {}, PAGE_SIZE, partial(extract_records, FLIGHTS)))
    assert [s["offset"] for s in session.sent] == [0, 100, 200]


def test_servable_is_what_extract_asks_before_calling() -> None:
    from aerolake.sources.aviationstack.plan import servable

    assert servable(Partition("aviationstack", DAY), datetime(2026, 3, 2, 1)) is None
    assert "only" in servable(Partition("aviationstack", DAY), datetime(2026, 3, 5))
