"""The mock accepts the Airlabs and Aviation Stack keys it is configured with (docker-compose passes the keys
of its connections through AEROLAKE_MOCK_AIRLABS_API_KEY / AEROLAKE_MOCK_AVIATIONSTACK_ACCESS_KEY) and refuses
any other, the offline key included."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from aerolake.core.settings import OFFLINE_API_KEY
from aerolake.mockapi import MockApi
from aerolake.mockapi.__main__ import build_parser, config_from_args

AIRLABS_KEY = "airlabs-key-from-env"
AVIATIONSTACK_KEY = "aviationstack-key-from-env"
NOW = "2026-03-01T12:05:00Z"


def airlabs(api: MockApi, key: str) -> requests.Response:
    return requests.get(f"{api.airlabs_url}/schedules", params={"api_key": key, "dep_iata": "FRA"}, timeout=30)


def aviationstack(api: MockApi, key: str) -> requests.Response:
    params = {"access_key": key, "dep_iata": "FRA", "flight_date": NOW[:10], "limit": 5}
    return requests.get(f"{api.aviationstack_url}/flights", params=params, timeout=30)


@pytest.fixture
def configured(monkeypatch: pytest.MonkeyPatch) -> Iterator[MockApi]:
    monkeypatch.setenv("AEROLAKE_MOCK_AIRLABS_API_KEY", AIRLABS_KEY)
    monkeypatch.setenv("AEROLAKE_MOCK_AVIATIONSTACK_ACCESS_KEY", AVIATIONSTACK_KEY)
    args = build_parser().parse_args(["--port", "0", "--flights-per-hub", "20", "--qps-limit", "0", "--now", NOW])
    with MockApi(config_from_args(args)) as api:
        yield api


def test_configured_keys_are_accepted_and_others_refused(configured: MockApi) -> None:
    ok = airlabs(configured, AIRLABS_KEY)
    assert ok.status_code == 200 and "response" in ok.json(), ok.text[:300]
    assert aviationstack(configured, AVIATIONSTACK_KEY).status_code == 200
    for key in (OFFLINE_API_KEY, "another-key"):
        refused = airlabs(configured, key)
        assert refused.status_code == 401 and refused.json()["error"]["code"] == "unknown_api_key"
        refused = aviationstack(configured, key)
        assert refused.status_code == 401 and refused.json()["error"]["code"] == "invalid_access_key"
    # the two keys are independent: one API's key is not the other's
    assert airlabs(configured, AVIATIONSTACK_KEY).status_code == 401
    assert aviationstack(configured, AIRLABS_KEY).status_code == 401


def test_default_is_the_offline_key_and_flags_win_over_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AEROLAKE_MOCK_AIRLABS_API_KEY", raising=False)
    monkeypatch.delenv("AEROLAKE_MOCK_AVIATIONSTACK_ACCESS_KEY", raising=False)
    config = config_from_args(build_parser().parse_args([]))
    assert (config.airlabs_api_key, config.aviationstack_access_key) == (OFFLINE_API_KEY, OFFLINE_API_KEY)
    monkeypatch.setenv("AEROLAKE_MOCK_AVIATIONSTACK_ACCESS_KEY", AVIATIONSTACK_KEY)
    args = build_parser().parse_args(["--aviationstack-access-key", "from-flag", "--airlabs-api-key", "flag-2"])
    config = config_from_args(args)
    assert (config.airlabs_api_key, config.aviationstack_access_key) == ("flag-2", "from-flag")
