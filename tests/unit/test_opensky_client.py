"""OpenSkyClient against the running mock API: OAuth2 tokens (refreshed before expiry and on a 401), anonymous
access, credits (each request's cost charged to the budget, ``X-Rate-Limit-Remaining`` and a 429's
``X-Rate-Limit-Retry-After-Seconds`` honoured), the array layout of state vectors, null members, 404 as an empty
answer; the connection's settings. The client secret never reaches a log line or a message."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from aerolake.core.connections import ApiCredentials
from aerolake.core.errors import ConfigurationError, retry_can_help
from aerolake.core.settings import Settings
from aerolake.http import ApiError, RetryPolicy
from aerolake.mockapi import MockApi, MockConfig
from aerolake.sources import source
from aerolake.sources.opensky.client import (
    DEFAULT_TOKEN_URL,
    OpenSkyClient,
    default_token_url,
    extract_records,
    opensky_access,
    request_credits,
)
from aerolake.sources.opensky.plan import partition_plan
from aerolake.sources.opensky.spec import STATE_FIELDS
from aerolake.stores.lake import Partition

opensky = source("opensky")
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "opensky"
NOW = "2026-03-01T12:00:00Z"
SECRET = "s3cr3t-opensky-never-log-me"
BOX = {"lamin": 47.35, "lomin": 7.54, "lamax": 51.03, "lomax": 12.79}  # FRA and MUC: 19.3 square degrees
DAY = {"begin": 1772236800, "end": 1772323199}  # 2026-02-28 (UTC)


class Sleeps(list):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def start_api() -> Iterator[Callable[..., MockApi]]:
    started: list[MockApi] = []

    def start(**knobs: Any) -> MockApi:
        knobs.setdefault("qps_limit", None)
        knobs.setdefault("flights_per_hub", 60)
        knobs.setdefault("now", NOW)
        api = MockApi(MockConfig(**knobs)).start()
        started.append(api)
        return api

    yield start
    for api in started:
        api.stop()


def client_for(api: MockApi, client_id: str | None = "aerolake", secret: str | None = SECRET, **kwargs: Any
               ) -> OpenSkyClient:
    kwargs.setdefault("sleep", Sleeps())
    kwargs.setdefault("retry", RetryPolicy(max_attempts=3, base_delay=0.0, max_delay=120.0))
    credentials = ApiCredentials(api.opensky_url, client_id, secret)
    return OpenSkyClient(credentials, token_url=default_token_url(api.opensky_url) if client_id else None,
                         calls_per_second=None, **kwargs)


def states(client: OpenSkyClient, **params: Any) -> Any:
    return next(client.iter_pages("states/all", {**BOX, **params}, 0, lambda p: extract_records("states", p)))


def flights(client: OpenSkyClient, endpoint: str = "departures", airport: str = "EDDF", **interval: int) -> Any:
    path = "flights/departure" if endpoint == "departures" else "flights/arrival"
    params = {"airport": airport, **DAY, **interval}
    return next(client.iter_pages(path, params, 0, lambda p: extract_records(endpoint, p)))


# -- auth ----------------------------------------------------------------------------------------------------
def test_one_token_serves_many_calls_and_is_refreshed_before_it_expires(start_api, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    api = start_api(opensky_token_ttl=1800)
    clock = Clock()
    client = client_for(api, clock=clock)
    for _ in range(3):
        assert states(client).status == 200
    assert client.bearer.fetches == 1
    clock.now += 1800 - 120 - 1  # still inside the margin: the same token
    states(client)
    assert client.bearer.fetches == 1
    clock.now += 2  # two minutes before it expires: a new one
    states(client)
    assert client.bearer.fetches == 2
    assert api.stats()["requests"]["opensky/auth/token"] == 2
    assert client.http.calls == 5  # token requests are not API calls
    assert SECRET not in caplog.text


def test_a_401_refreshes_the_token_once_and_retries(start_api) -> None:
    api = start_api()
    client = client_for(api)
    states(client)
    assert api.expire_tokens() == 1
    page = states(client)
    assert page.status == 200 and client.bearer.fetches == 2
    assert api.stats()["status_counts"]["401"] == 1


def test_bad_client_credentials_fail_at_once_naming_the_connection_never_the_secret(start_api) -> None:
    api = start_api(opensky_client_id="aerolake", opensky_client_secret="the-right-one")
    charges: list[int] = []
    client = client_for(api, before_request=lambda: charges.append(1))
    with pytest.raises(ApiError) as err:
        states(client)
    assert charges == [] and client.credits_spent == 0  # no request went out: no credit charged
    message = str(err.value)
    assert "opensky_api" in message and "invalid_client" in message and SECRET not in message
    assert not retry_can_help(err.value)
    assert api.stats()["requests"] == {"opensky/auth/token": 1}  # no data call was made
    token_answer = json.loads((FIXTURES / "token_invalid_client.json").read_text())
    assert token_answer["error"] == "invalid_client"


def test_the_token_answer_has_the_auth_servers_shape(start_api) -> None:
    import requests

    api = start_api()
    response = requests.post(default_token_url(api.opensky_url), data={
        "grant_type": "client_credentials", "client_id": "x", "client_secret": "y"}, timeout=10)
    assert set(response.json()) == set(json.loads((FIXTURES / "token.json").read_text()))
    assert response.json()["expires_in"] == 1800 and response.json()["token_type"] == "Bearer"


def test_anonymous_access_gets_the_latest_state_vectors_and_is_refused_the_flights_before_a_call(start_api) -> None:
    api = start_api()
    client = client_for(api, client_id=None, secret=None)
    page = states(client, time=1772366000)  # ignored for an anonymous caller: the latest, at 10 s resolution
    assert page.status == 200 and page.payload["time"] == 1772366400 and client.bearer.fetches == 0
    assert client.credits_left == 399  # the anonymous allowance
    with pytest.raises(ConfigurationError, match="needs an OpenSky account"):
        flights(client)
    assert "opensky/flights/departure" not in api.stats()["requests"]


# -- credits ---------------------------------------------------------------------------------------------------
def test_each_request_charges_its_credit_cost_to_the_budget(start_api) -> None:
    api = start_api()
    charges: list[int] = []
    client = client_for(api, before_request=lambda: charges.append(1))
    states(client)  # a box of 19.3 square degrees: 1 credit
    assert (len(charges), client.credits_left) == (1, 3999)
    next(client.iter_pages("states/all", {}, 0, lambda p: extract_records("states", p)))  # the world: 4
    assert (len(charges), client.credits_left) == (5, 3995)
    flights(client)  # a day's interval, under 24 hours: 4
    assert (len(charges), client.credits_left, client.credits_spent) == (9, 3991, 9)
    assert request_credits("states/all", {"lamin": 40, "lomin": 0, "lamax": 55, "lomax": 10}) == 3
    assert request_credits("flights/arrival", {"begin": 0, "end": 86_400 * 4}) == 300  # 5 day partitions x 60


def test_a_429_with_a_short_retry_after_is_waited_for_and_retried(start_api) -> None:
    api = start_api(rate_limit_rate=1.0)
    sleeps = Sleeps()
    client = client_for(api, sleep=sleeps)
    with pytest.raises(ApiError) as err:
        states(client)
    assert err.value.status == 429 and retry_can_help(err.value)  # still bursting after the attempts: retryable
    assert sleeps == [2.0, 2.0]  # X-Rate-Limit-Retry-After-Seconds, not a guess
    api.configure(rate_limit_rate=0.0)
    assert states(client).status == 200


def test_used_up_credits_stop_the_run_saying_when_they_return_and_nothing_more_is_called(start_api) -> None:
    api = start_api(opensky_daily_credits=6)
    sleeps = Sleeps()
    client = client_for(api, sleep=sleeps)
    flights(client)  # 4 credits
    assert client.credits_left == 2
    with pytest.raises(ApiError, match=r"reports 2 credit\(s\) left .* costs 4: not called") as err:
        flights(client, "arrivals")
    assert not retry_can_help(err.value)
    assert "opensky/flights/arrival" not in api.stats()["requests"]
    # a client that did not know: the API answers 429 until the next UTC day (12 hours): the run stops at once
    fresh = client_for(api, sleep=sleeps)
    with pytest.raises(ApiError, match=r"credits are used up; OpenSky gives more in 43200 s") as err:
        flights(fresh, "arrivals")
    assert not retry_can_help(err.value) and sleeps == []


# -- answers ---------------------------------------------------------------------------------------------------
def test_state_vectors_are_arrays_of_17_or_18_members_named_in_order(start_api) -> None:
    api = start_api()
    client = client_for(api)
    plain, extended = states(client), states(client, extended=1)
    assert plain.records and len(plain.records) == len(extended.records)
    raw = plain.payload["states"][0]
    assert isinstance(raw, list) and len(raw) == 17 and len(extended.payload["states"][0]) == 18
    assert list(plain.records[0]) == list(STATE_FIELDS[:17]) and list(extended.records[0]) == list(STATE_FIELDS)
    assert plain.records[0]["icao24"] == raw[0] and plain.records[0]["latitude"] == raw[6]
    assert all(len(r["callsign"]) == 8 for r in plain.records if r["callsign"] is not None)


def test_the_records_of_real_shaped_answers(start_api) -> None:
    records, total = extract_records("states", json.loads((FIXTURES / "states_all.json").read_text()))
    assert total is None and len(records) == 11 and records[0]["callsign"] == "DLH400  "
    assert records[3]["time_position"] is None and records[3]["latitude"] is None  # null members kept
    extended, _ = extract_records("states", json.loads((FIXTURES / "states_all_extended.json").read_text()))
    assert extended[2]["category"] == 6
    assert extract_records("states", json.loads((FIXTURES / "states_empty.json").read_text())) == ([], None)
    departures, _ = extract_records("departures", json.loads((FIXTURES / "flights_departure.json").read_text()))
    assert len(departures) == 8 and departures[2]["estArrivalAirport"] is None
    # what is not a state vector stays as sent (staging quarantines it); a wrong envelope is refused whole
    odd, _ = extract_records("states", {"time": 1, "states": [["abc"], {"icao24": "abc"}, None]})
    assert odd == [["abc"], {"icao24": "abc"}, None]
    for payload in ({"time": 1}, [], {"time": 1, "states": "none"}):
        with pytest.raises(ValueError, match=r"expected an object with states|states is a str"):
            extract_records("states", payload)
    with pytest.raises(ValueError, match="expected an array of flights"):
        extract_records("arrivals", {"flights": []})


def test_no_flight_in_the_interval_is_a_404_and_an_empty_page(start_api) -> None:
    api = start_api()
    client = client_for(api)
    page = flights(client, airport="EDDF", begin=1772323200 + 86_400, end=1772323200 + 2 * 86_400 - 1)  # tomorrow
    assert (page.status, page.records, page.malformed) == (404, [], False)
    assert client.credits_left == 3996  # answered: it cost its credits


def test_an_interval_longer_than_the_api_allows_is_refused_with_its_message(start_api) -> None:
    api = start_api()
    client = client_for(api)
    with pytest.raises(ApiError, match="must not be larger than seven days") as err:
        flights(client, begin=1772323200 - 8 * 86_400, end=1772323200)
    assert err.value.status == 400 and not retry_can_help(err.value)


def test_a_body_still_truncated_after_the_retries_is_kept_for_quarantine(start_api) -> None:
    api = start_api(malformed_paths=["flights/departure"])
    client = client_for(api)
    page = flights(client)
    assert page.malformed and page.status == 200 and page.records == []
    assert api.stats()["requests"]["opensky/flights/departure"] == 3


def test_the_plan_of_a_day_runs_against_the_mock(start_api) -> None:
    api = start_api()
    client = client_for(api)
    plan = partition_plan(Partition("opensky", "2026-02-28"), Settings())
    counts = {}
    for endpoint in ("departures", "arrivals"):
        for request in plan[endpoint]:
            page = next(client.iter_pages(request.path, request.params, request.page_size,
                                          lambda p, e=endpoint: extract_records(e, p)))
            counts[(endpoint, request.params["airport"])] = len(page.records)
    assert set(counts) == {(e, a) for e in ("departures", "arrivals") for a in ("EDDF", "EDDM")}
    assert all(n > 30 for n in counts.values()), counts


# -- the connection ---------------------------------------------------------------------------------------------
def test_the_connection_gives_base_url_client_and_token_url_and_no_login_is_anonymous(monkeypatch) -> None:
    monkeypatch.delenv("AIRFLOW_CONN_OPENSKY_API", raising=False)
    offline = opensky_access(Settings(mock_api_url="http://127.0.0.1:8090"))
    assert offline.credentials.base_url == "http://127.0.0.1:8090/opensky/api"
    assert offline.token_url == ("http://127.0.0.1:8090/opensky/api/auth/realms/opensky-network/protocol/"
                                 "openid-connect/token")
    monkeypatch.setenv("AIRFLOW_CONN_OPENSKY_API", json.dumps({
        "conn_type": "http", "host": "https://opensky-network.org/api", "login": "me-api-client", "password": SECRET}))
    real = opensky_access(Settings())
    assert (real.credentials.base_url, real.credentials.client_id, real.token_url) == (
        "https://opensky-network.org/api", "me-api-client", DEFAULT_TOKEN_URL)
    assert SECRET not in repr(real)
    monkeypatch.setenv("AIRFLOW_CONN_OPENSKY_API", json.dumps({
        "conn_type": "http", "host": "opensky-network.org/api", "login": "id", "password": "pw",
        "extra": {"token_url": "https://sso.example/token"}}))
    assert opensky_access(Settings()).token_url == "https://sso.example/token"
    monkeypatch.setenv("AIRFLOW_CONN_OPENSKY_API", json.dumps({"conn_type": "http",
                                                              "host": "https://opensky-network.org/api"}))
    anonymous = opensky_access(Settings())
    assert anonymous.token_url is None and anonymous.credentials.client_id is None
    monkeypatch.setenv("AIRFLOW_CONN_OPENSKY_API", json.dumps({"conn_type": "http",
                                                              "host": "https://opensky-network.org/api",
                                                              "login": "id"}))
    with pytest.raises(ConfigurationError, match=r"needs both login \(OAuth2 client id\) and password"):
        opensky_access(Settings())


def test_make_client_uses_the_offline_mock_when_no_connection_is_defined(start_api, monkeypatch) -> None:
    monkeypatch.delenv("AIRFLOW_CONN_OPENSKY_API", raising=False)
    api = start_api()
    client = opensky.make_client(Settings(mock_api_url=api.base_url, calls_per_second={"opensky": 0}))
    assert not client.anonymous and states(client).status == 200
