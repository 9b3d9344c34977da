"""A source's settings come from its spec, each overridden by ``AEROLAKE_<NAME>_*``, or by the settings: its
request budget (``SPEC.budget``), hubs (``SPEC.hubs``), pace (``SPEC.api.calls_per_second``), connection
(``SPEC.api``) and its rank in the flights merge (``SPEC.authority``)."""

from __future__ import annotations

import pytest

from aerolake.core.connections import Api, ApiCredentials, api_credentials
from aerolake.core.errors import ConfigurationError
from aerolake.core.settings import OFFLINE_API_KEY, OFFLINE_CLIENT_ID, OFFLINE_CLIENT_SECRET, Budget, Settings
from aerolake.sources import (
    SOURCES,
    authorities,
    budget_of,
    calls_per_hour_of,
    calls_per_second_of,
    hubs_of,
    source,
    spec_of,
)
from aerolake.stores.mysql.merge import Authority, authority_sql, upsert_assignments


def test_the_plans_budget_by_default(monkeypatch) -> None:
    for name in ("AIRLABS", "AVIATIONSTACK", "LUFTHANSA", "OPENSKY"):
        for half in ("DAY", "MONTH"):
            monkeypatch.delenv(f"AEROLAKE_{name}_BUDGET_PER_{half}", raising=False)
    assert budget_of(Settings(), "airlabs") == Budget(per_day=None, per_month=1000)
    assert budget_of(Settings(), "aviationstack") == Budget(per_day=None, per_month=100)
    assert budget_of(Settings(), "lufthansa") == Budget()
    assert budget_of(Settings(), "opensky") == Budget(per_day=4000)  # credits: a registered account's day


def test_the_environment_overrides_each_half(monkeypatch) -> None:
    monkeypatch.setenv("AEROLAKE_AIRLABS_BUDGET_PER_DAY", "40")
    monkeypatch.delenv("AEROLAKE_AIRLABS_BUDGET_PER_MONTH", raising=False)
    assert budget_of(Settings(), "airlabs") == Budget(per_day=40, per_month=1000)
    monkeypatch.setenv("AEROLAKE_AIRLABS_BUDGET_PER_MONTH", "")  # empty: no limit
    assert budget_of(Settings(), "airlabs") == Budget(per_day=40, per_month=None)
    monkeypatch.setenv("AEROLAKE_AIRLABS_BUDGET_PER_MONTH", "-1")
    with pytest.raises(ValueError, match="AEROLAKE_AIRLABS_BUDGET_PER_MONTH must not be negative"):
        budget_of(Settings(), "airlabs")


def test_the_settings_budget_wins(monkeypatch) -> None:
    monkeypatch.setenv("AEROLAKE_AVIATIONSTACK_BUDGET_PER_DAY", "3")
    assert budget_of(Settings(budgets={"aviationstack": Budget(per_day=7)}), "aviationstack") == Budget(per_day=7)


def test_an_unknown_source_has_no_budget_to_give() -> None:
    with pytest.raises(ValueError, match="unknown source 'flightaware'"):
        budget_of(Settings(), "flightaware")


def test_hubs_and_pace_come_from_the_spec_then_the_environment_then_the_settings(monkeypatch) -> None:
    for name in SOURCES:
        monkeypatch.delenv(f"AEROLAKE_{name.upper()}_HUBS", raising=False)
        monkeypatch.delenv(f"AEROLAKE_{name.upper()}_CALLS_PER_SECOND", raising=False)
    assert {name: hubs_of(Settings(), name) for name in SOURCES} == dict.fromkeys(SOURCES, ("FRA", "MUC"))
    assert {name: calls_per_second_of(Settings(), name) for name in SOURCES} == \
        {"airlabs": 1.0, "aviationstack": 1.0, "lufthansa": 4.0, "opensky": 1.0}  # Lufthansa: below its 5 calls/s
    assert {name: calls_per_hour_of(Settings(), name) for name in SOURCES} == \
        {"airlabs": None, "aviationstack": None, "lufthansa": 900, "opensky": None}  # below Lufthansa's 1,000 an hour

    monkeypatch.setenv("AEROLAKE_AIRLABS_HUBS", " zrh, VIE ,")
    monkeypatch.setenv("AEROLAKE_LUFTHANSA_CALLS_PER_SECOND", "2.5")
    monkeypatch.setenv("AEROLAKE_LUFTHANSA_CALLS_PER_HOUR", "")
    assert calls_per_hour_of(Settings(), "lufthansa") is None
    assert calls_per_hour_of(Settings(calls_per_hour={"lufthansa": 10}), "lufthansa") == 10
    assert hubs_of(Settings(), "airlabs") == ("ZRH", "VIE")
    assert hubs_of(Settings(), "aviationstack") == ("FRA", "MUC")
    assert calls_per_second_of(Settings(), "lufthansa") == 2.5
    settings = Settings(hubs={"airlabs": ("HAM",)}, calls_per_second={"lufthansa": 0})
    assert hubs_of(settings, "airlabs") == ("HAM",)
    assert calls_per_second_of(settings, "lufthansa") == 0


@pytest.mark.parametrize(("variable", "value", "message"), [
    ("AEROLAKE_AIRLABS_HUBS", " , ", "AEROLAKE_AIRLABS_HUBS must name at least one code"),
    ("AEROLAKE_AIRLABS_CALLS_PER_SECOND", "fast", "AEROLAKE_AIRLABS_CALLS_PER_SECOND must be a number"),
    ("AEROLAKE_AIRLABS_CALLS_PER_SECOND", "-1", "AEROLAKE_AIRLABS_CALLS_PER_SECOND must not be negative"),
])
def test_a_bad_setting_is_refused_by_name(monkeypatch, variable: str, value: str, message: str) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ValueError, match=message):
        hubs_of(Settings(), "airlabs") if variable.endswith("HUBS") else calls_per_second_of(Settings(), "airlabs")


def test_the_plans_follow_the_hubs_setting(monkeypatch) -> None:
    from aerolake.stores.lake import Partition

    monkeypatch.setenv("AEROLAKE_AVIATIONSTACK_HUBS", "VIE")
    plan = source("aviationstack").partition_plan(Partition("aviationstack", "2026-12-01"), Settings())
    assert [request.params["dep_iata"] for request in plan["flights"]] == ["VIE"]
    plan = source("lufthansa").partition_plan(Partition("lufthansa", "2026-12-01"), Settings(hubs={"lufthansa": ("ZRH",)}))
    assert {request.path.split("/")[-2] for request in plan["flightstatus"]} == {"ZRH"}


def test_each_spec_names_its_connection_and_the_mock_serves_its_path() -> None:
    apis = {name: spec_of(name).api for name in SOURCES}
    assert {name: (api.conn_id, api.auth, api.mock_path) for name, api in apis.items()} == {
        "airlabs": ("airlabs_api", "api_key", "airlabs/api/v9"),
        "aviationstack": ("aviationstack_api", "api_key", "aviationstack/v1"),
        "lufthansa": ("lufthansa_api", "client_credentials", "lufthansa/v1"),
        "opensky": ("opensky_api", "client_credentials", "opensky/api"),
    }
    with pytest.raises(ValueError, match="auth must be client_credentials or api_key"):
        Api("x_api", "basic", mock_path="x")  # type: ignore[arg-type]


def test_credentials_from_the_connection_or_the_offline_mock(monkeypatch) -> None:
    lufthansa, airlabs = spec_of("lufthansa").api, spec_of("airlabs").api
    for api in (lufthansa, airlabs):
        monkeypatch.delenv(f"AIRFLOW_CONN_{api.conn_id.upper()}", raising=False)
    settings = Settings(mock_api_url="http://127.0.0.1:8090")
    assert api_credentials(lufthansa, settings) == ApiCredentials(
        "http://127.0.0.1:8090/lufthansa/v1", OFFLINE_CLIENT_ID, OFFLINE_CLIENT_SECRET, offline=True)
    assert api_credentials(airlabs, settings) == ApiCredentials(
        "http://127.0.0.1:8090/airlabs/api/v9", None, OFFLINE_API_KEY, offline=True)

    monkeypatch.setenv("AIRFLOW_CONN_AIRLABS_API", '{"conn_type": "http", "host": "airlabs.co/api/v9", "password": "k3y"}')
    creds = api_credentials(airlabs, settings)
    assert (creds.base_url, creds.client_secret, creds.offline) == ("https://airlabs.co/api/v9", "k3y", False)
    assert "k3y" not in repr(creds)
    monkeypatch.setenv("AIRFLOW_CONN_LUFTHANSA_API", '{"conn_type": "http", "host": "https://api.lufthansa.com/v1", '
                                                     '"login": "id"}')
    with pytest.raises(ConfigurationError, match=r"lufthansa_api needs login .* and password"):
        api_credentials(lufthansa, settings)


def test_the_flights_merge_ranks_the_sources_by_their_specs_authority() -> None:
    ranks = authorities()
    assert ranks["airlabs"] == Authority(2) and ranks["aviationstack"] == Authority(1)
    assert ranks["opensky"] == Authority(0)  # observed times, no schedule: every schedule source wins
    assert ranks["lufthansa"].rank == 2 and ranks["lufthansa"].own_rank == 3
    assert "LH" in ranks["lufthansa"].own_airlines
    sql = authority_sql("s", "a", ranks)
    assert sql.startswith("(CASE WHEN s = 'lufthansa' AND a IN ('LH', ")
    assert sql.endswith("THEN 3 WHEN s IN ('airlabs', 'lufthansa') THEN 2 WHEN s IN ('aviationstack') THEN 1 "
                        "WHEN s IN ('opensky') THEN 0 ELSE 0 END)")


def test_the_merge_refuses_what_would_not_be_a_sql_literal_and_a_flights_merge_without_ranks() -> None:
    from aerolake.schema import FLIGHTS

    with pytest.raises(ValueError, match="not source names"):
        authority_sql("s", "a", {"x'; DROP TABLE flights; --": Authority(1)})
    with pytest.raises(ValueError, match="not IATA airline codes"):
        Authority(2, own_airlines=("LH'",), own_rank=3)
    with pytest.raises(ValueError, match="go together"):
        Authority(2, own_airlines=("LH",))
    with pytest.raises(ValueError, match="the flights merge needs the sources' authorities"):
        upsert_assignments(FLIGHTS)


def test_the_mock_api_mounts_every_source_at_its_specs_mock_path() -> None:
    from aerolake.mockapi.server import MockServer

    mounted = sorted(source.prefix.strip("/") for source in MockServer().sources)
    assert mounted == sorted(spec_of(name).api.mock_path for name in SOURCES)
