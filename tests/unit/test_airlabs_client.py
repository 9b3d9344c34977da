"""AirlabsClient against the running mock API and against fake answers for every error code.

Retries are made instant with a no-op sleep that records the waits asked for; every test checks the key never
reaches a log line, an error message, a page's params or (for the echoed envelope) a page's body.
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
from aerolake.core.settings import OFFLINE_API_KEY, Settings
from aerolake.http import ApiError, RetryPolicy
from aerolake.mockapi import MockApi, MockConfig
from aerolake.sources import source
from aerolake.sources.airlabs.client import AirlabsClient, extract_records
from aerolake.stores.lake import Partition

airlabs = source("airlabs")

KEY = "5e0c9a1d-7b2f-4c3e-9d8a-airlabs-never-log-me"
NOW = "2026-03-01T12:05:00Z"
ERRORS = json.loads((Path(__file__).resolve().parents[1] / "fixtures" / "airlabs" / "errors.json").read_text())


class Sleeps(list):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def start_api() -> Iterator[Callable[..., MockApi]]:
    started: list[MockApi] = []

    def start(**knobs: Any) -> MockApi:
        knobs.setdefault("qps_limit", None)
        knobs.setdefault("flights_per_hub", 60)
        knobs.setdefault("now", NOW)
        knobs.setdefault("airlabs_api_key", KEY)
        api = MockApi(MockConfig(**knobs)).start()
        started.append(api)
        return api

    yield start
    for api in started:
        api.stop()


def client_for(base_url: str, key: str = KEY, sleep: Sleeps | None = None, attempts: int = 4) -> AirlabsClient:
    return AirlabsClient(ApiCredentials(base_url, None, key), calls_per_second=None,
                         sleep=Sleeps() if sleep is None else sleep, timeout=10.0,
                         retry=RetryPolicy(max_attempts=attempts, base_delay=0.01, max_delay=65.0))


def walk(client: AirlabsClient, endpoint: str, params: dict[str, Any], page_size: int = 0) -> list:
    return list(client.iter_pages(endpoint, params, page_size, partial(extract_records, endpoint)))


def assert_no_key(caplog: pytest.LogCaptureFixture, *texts: Any) -> None:
    assert caplog.records
    for record in caplog.records:
        assert KEY not in record.getMessage()
    for text in texts:
        assert KEY not in str(text)


# -- against the mock ---------------------------------------------------------------------------------------
def test_schedules_are_paged_to_the_end_and_the_key_stays_out_of_pages(start_api, caplog) -> None:
    caplog.set_level(logging.INFO)
    api = start_api(airlabs_max_limit=15)
    client = client_for(api.airlabs_url)
    pages = walk(client, "schedules", {"dep_iata": "FRA"}, page_size=500)
    assert len(pages) >= 3
    assert [p.params["offset"] for p in pages] == [15 * i for i in range(len(pages))]
    assert all(p.params == {"dep_iata": "FRA", "limit": 500, "offset": p.params["offset"]} for p in pages)
    api.configure(airlabs_max_limit=1000)
    everything = requests.get(f"{api.airlabs_url}/schedules", params={"api_key": KEY, "dep_iata": "FRA",
                                                                      "limit": 1000}, timeout=10).json()["response"]
    paged = [r for p in pages for r in p.records]
    assert paged == everything and len(paged) > 30
    assert client.http.calls == len(pages) == api.stats()["requests"]["airlabs/schedules"] - 1
    for page in pages:
        assert KEY.encode() not in page.body and b'"api_key":"***"' in page.body
        assert json.loads(page.body)["request"]["key"]["limits_by_month"] == 1000
    assert_no_key(caplog, [p.params for p in pages])


def test_one_call_listings_and_a_not_found_board_is_an_empty_answer(start_api) -> None:
    api = start_api()
    client = client_for(api.airlabs_url)
    airlines = walk(client, "airlines", {})
    assert len(airlines) == 1 and {"LH", "XQ"} <= {r["iata_code"] for r in airlines[0].records}
    positions = walk(client, "flights", {"dep_iata": "FRA"})
    assert len(positions) == 1 and positions[0].records and all(r["dep_iata"] in ("FRA", None)
                                                                for r in positions[0].records)
    # a board with nothing on it: the API's not_found body, an empty page and no error
    api.configure(now="2026-03-01T01:00:00Z", flights_per_hub=1)
    empty = walk(client, "schedules", {"arr_iata": "HAJ"}, page_size=500)
    assert [(p.status, p.records) for p in empty] == [(200, [])]
    assert json.loads(empty[0].body)["error"]["code"] == "not_found"


@pytest.mark.parametrize("as_200", [False, True])
@pytest.mark.parametrize(("knobs", "key", "code"), [
    ({}, "wrong-key", "unknown_api_key"),
    ({"airlabs_key_expired": True}, KEY, "expired_api_key"),
    ({"airlabs_month_limit": 0}, KEY, "month_limit_exceeded"),
])
def test_fatal_answers_of_the_mock_stop_at_once(start_api, caplog, knobs, key, code, as_200) -> None:
    caplog.set_level(logging.INFO)
    api = start_api(airlabs_errors_as_200=as_200, **knobs)
    client = client_for(api.airlabs_url, key=key)
    with pytest.raises(ApiError) as err:
        walk(client, "schedules", {"dep_iata": "FRA"}, page_size=500)
    assert code in str(err.value) and "airlabs_api" in str(err.value)
    assert not err.value.retryable and client.http.calls == 1
    assert api.stats()["status_counts"] == {("200" if as_200 else ("401" if "key" in code else "429")): 1}
    assert_no_key(caplog, err.value)


def test_a_minute_limit_of_the_mock_is_waited_out_and_retried(start_api) -> None:
    api = start_api(airlabs_minute_limit=1)
    sleeps = Sleeps()
    client = client_for(api.airlabs_url, sleep=sleeps, attempts=3)
    assert walk(client, "airlines", {})[0].records
    with pytest.raises(ApiError, match=r"minute_limit_exceeded.*gave up after 3 attempts") as err:
        walk(client, "airlines", {})
    assert err.value.retryable and sleeps == [61.0, 61.0]  # the mock's window does not move: sleep is a no-op


def test_wrong_params_and_unknown_methods_fail_at_once(start_api) -> None:
    api = start_api()
    client = client_for(api.airlabs_url)
    with pytest.raises(ApiError, match=r"wrong_params .*fetch plan") as err:
        client.get("schedules", {})
    assert err.value.status == 400
    with pytest.raises(ApiError, match=r"unknown_method .*airlabs_api.*base URL") as err:
        client.get("routes-of-mars", {})
    assert err.value.status == 404 and client.http.calls == 2


def test_a_truncated_body_is_retried_then_kept_as_malformed(start_api) -> None:
    api = start_api(malformed_paths=[r"flights\?dep_iata=MUC"])
    client = client_for(api.airlabs_url, attempts=2)
    [page] = walk(client, "flights", {"dep_iata": "MUC"})
    assert page.malformed and page.records == [] and client.http.calls == 2
    assert KEY.encode() not in page.body
    with pytest.raises(json.JSONDecodeError):
        json.loads(page.body)
    # paged listings skip past malformed pages, but not blindly for ever
    api.configure(malformed_paths=[r"schedules"])
    with pytest.raises(ApiError, match="3 malformed pages in a row"):
        walk(client, "schedules", {"dep_iata": "FRA"}, page_size=500)


def test_server_errors_are_retried(start_api) -> None:
    api = start_api(error_rate=1.0)
    sleeps = Sleeps()
    client = client_for(api.airlabs_url, sleep=sleeps, attempts=3)
    with pytest.raises(ApiError, match="gave up after 3 attempts") as err:
        client.get("airlines")
    assert err.value.retryable and len(sleeps) == 2
    api.configure(error_rate=0.0)
    assert client.get("airlines").status == 200


# -- fake answers for every error code -------------------------------------------------------------------------
class FakeSession:
    """Answers each request with the next (status, body) of a script; records the params sent."""

    def __init__(self, script: list[tuple[int, Any]]):
        self.script = list(script)
        self.sent: list[dict[str, Any]] = []

    def request(self, method: str, url: str, params: Any = None, **kwargs: Any) -> requests.Response:
        self.sent.append(dict(params or {}))
        status, body = self.script.pop(0)
        response = requests.Response()
        response.status_code = status
        response._content = body if isinstance(body, bytes) else json.dumps(body).encode()
        response.url = f"{url}?api_key={params['api_key']}"  # as requests builds it: the key is in there
        return response


def scripted(script: list[tuple[int, Any]], attempts: int = 4) -> tuple[AirlabsClient, FakeSession, Sleeps]:
    sleeps = Sleeps()
    client = client_for("https://airlabs.example/api/v9", sleep=sleeps, attempts=attempts)
    client.http.session = session = FakeSession(script)
    return client, session, sleeps


OK = {"request": {"key": {"api_key": KEY}, "method": "flights", "params": {"lang": "en"}},
      "response": [{"hex": "3C4B26", "updated": 1}], "terms": "..."}


@pytest.mark.parametrize("status", [200, 401, 404, 400, 429])
@pytest.mark.parametrize("code", ["unknown_api_key", "expired_api_key", "month_limit_exceeded", "wrong_params",
                                  "unknown_method"])
def test_fatal_error_codes_stop_after_one_call_whatever_the_status(caplog, code, status) -> None:
    caplog.set_level(logging.DEBUG)
    client, session, sleeps = scripted([(status, ERRORS[code]), (200, OK)])
    with pytest.raises(ApiError) as err:
        client.get("flights", {"dep_iata": "FRA"})
    message = str(err.value)
    assert message.startswith(f"airlabs: {code} (") and "on connection airlabs_api: " in message
    assert not err.value.retryable and len(session.sent) == 1 and sleeps == []
    assert session.sent[0] == {"dep_iata": "FRA", "api_key": KEY}  # the key goes in the query string
    assert_no_key(caplog, message)


@pytest.mark.parametrize(("code", "waits"), [("minute_limit_exceeded", [61.0]), ("internal_error", None)])
@pytest.mark.parametrize("status", [200, 429, 500])
def test_limit_and_internal_errors_back_off_then_succeed(caplog, code, waits, status) -> None:
    caplog.set_level(logging.INFO)
    client, session, sleeps = scripted([(status, ERRORS[code]), (200, OK)])
    page = client.get("flights", {"dep_iata": "FRA"})
    assert page.status == 200 and len(session.sent) == 2 and len(sleeps) == 1
    if waits:
        assert sleeps == waits
    else:
        assert 0 <= sleeps[0] <= 0.01  # exponential backoff with jitter (base 0.01 s here)
    assert KEY.encode() not in page.body and page.payload["request"]["key"]["api_key"] == "***"
    assert any(code in r.getMessage() for r in caplog.records if r.levelno == logging.WARNING)
    assert_no_key(caplog)


@pytest.mark.parametrize(("minute", "retryable"), [(50, True), (10, False)])
def test_an_hour_limit_is_not_retried_in_vain(caplog, monkeypatch, minute, retryable) -> None:
    """The hour's allowance is spent: asking again within the client's backoff is a wasted call. The request
    stops at once; the task's retries (minutes apart) may wait for the next hour when it is near, else the
    task fails at once."""
    from aerolake.sources.airlabs import client as airlabs_client

    caplog.set_level(logging.INFO)
    monkeypatch.setattr(airlabs_client.time, "time", lambda: 1_772_366_400.0 + minute * 60)  # 12:mm UTC
    client, session, sleeps = scripted([(429, ERRORS["hour_limit_exceeded"])] * 3, attempts=3)
    with pytest.raises(ApiError, match=rf"hour_limit_exceeded .*the API asks to wait {(60 - minute) * 60} s") as err:
        client.get("schedules", {"arr_iata": "MUC"})
    assert err.value.retryable is retryable
    assert len(session.sent) == 1 and sleeps == []
    assert_no_key(caplog, err.value)


def test_not_found_is_an_empty_answer_with_any_status() -> None:
    for status in (200, 404):
        client, session, _ = scripted([(status, ERRORS["not_found"])])
        pages = list(client.iter_pages("schedules", {"dep_iata": "FRA"}, 500,
                                       partial(extract_records, "schedules")))
        assert [(p.status, p.records, p.malformed) for p in pages] == [(status, [], False)]
        assert len(session.sent) == 1


def test_non_json_answers_gateway_errors_retried_other_statuses_fatal() -> None:
    client, session, sleeps = scripted([(502, b"<html>502 Bad Gateway</html>"), (503, b"<html></html>"),
                                        (200, OK)])
    assert client.get("flights").status == 200 and len(session.sent) == 3 and len(sleeps) == 2
    client, session, _ = scripted([(403, b"<html>Forbidden</html>")])
    with pytest.raises(ApiError, match="HTTP 403 with a body that is not JSON"):
        client.get("flights")
    client, session, _ = scripted([(418, {"response": []})])
    with pytest.raises(ApiError, match="HTTP 418 without an error body"):
        client.get("flights")


def test_an_error_message_echoing_the_key_is_scrubbed(caplog) -> None:
    caplog.set_level(logging.INFO)
    body = {"error": {"message": f"Unknown API Key {KEY}", "code": "unknown_api_key"}}
    client, _, _ = scripted([(200, body)])
    with pytest.raises(ApiError) as err:
        client.get("flights")
    assert "Unknown API Key ***" in str(err.value)
    assert_no_key(caplog, err.value)


# -- wiring: make_client, plan, servable ------------------------------------------------------------------------
def test_make_client_uses_the_offline_connection_and_settings() -> None:
    calls: list[int] = []
    client = airlabs.make_client(Settings(mock_api_url="http://127.0.0.1:9", calls_per_second={"airlabs": 2.0}),
                                 before_request=lambda: calls.append(1))
    assert client.public_base_url == "http://127.0.0.1:9/airlabs/api/v9"
    assert client.credentials.client_secret == OFFLINE_API_KEY
    assert client.http.limiter.interval == 0.5 and client.http.before_request is not None
    assert OFFLINE_API_KEY not in repr(client.credentials)


def test_the_before_request_hook_is_charged_for_every_call_retries_included(start_api) -> None:
    api = start_api(airlabs_api_key=OFFLINE_API_KEY)
    calls: list[int] = []
    client = airlabs.make_client(Settings(mock_api_url=api.base_url, calls_per_second={"airlabs": 0}),
                                 before_request=lambda: calls.append(1))
    client.http.session = FakeSession([(429, ERRORS["minute_limit_exceeded"]), (200, OK)])
    client.http._sleep = Sleeps()
    client.get("flights")
    assert len(calls) == 2


def test_the_plan_asks_eight_calls_per_snapshot_and_the_references_once_a_day() -> None:
    settings = Settings(hubs={"airlabs": ("FRA", "MUC")})
    plan = airlabs.partition_plan(Partition("airlabs", "2026-03-01", "1200"), settings)
    assert list(plan) == list(airlabs.SPEC.endpoints)
    assert (plan["airports"], plan["airlines"]) == ([], [])
    assert [(r.path, r.params, r.page_size) for r in plan["schedules"]] == [
        ("schedules", {"dep_iata": "FRA"}, 500), ("schedules", {"arr_iata": "FRA"}, 500),
        ("schedules", {"dep_iata": "MUC"}, 500), ("schedules", {"arr_iata": "MUC"}, 500)]
    assert [r.params for r in plan["flights"]] == [{"dep_iata": "FRA"}, {"arr_iata": "FRA"}, {"dep_iata": "MUC"},
                                                   {"arr_iata": "MUC"}]
    assert sum(len(v) for v in plan.values()) == 8
    first = airlabs.partition_plan(Partition("airlabs", "2026-03-01", "0000"), settings)
    assert sum(len(v) for v in first.values()) == 10 and first["airports"][0].page_size == 0
    assert all("api_key" not in r.params for v in first.values() for r in v)


@pytest.mark.parametrize(("snapshot", "now", "ok"), [
    ("1200", datetime(2026, 3, 1, 12, 10), True),
    ("1200", datetime(2026, 3, 1, 12, 30), True),
    ("1200", datetime(2026, 3, 1, 11, 45), True),
    ("1200", datetime(2026, 3, 1, 12, 31), False),
    ("1200", datetime(2026, 3, 2, 12, 0), False),
    ("2350", datetime(2026, 3, 2, 0, 5), True),
    (None, datetime(2026, 3, 1, 12, 0), False),
])
def test_servable_only_near_now(snapshot, now, ok) -> None:
    reason = airlabs.servable(Partition("airlabs", "2026-03-01", snapshot), now)
    assert (reason is None) is ok
    if not ok:
        assert "lake" not in reason and ("past" in reason or "snapshot" in reason)


def test_servable_accepts_an_aware_now() -> None:
    from datetime import UTC

    assert airlabs.servable(Partition("airlabs", "2026-03-01", "1200"), datetime(2026, 3, 1, 12, 5, tzinfo=UTC)) \
        is None
