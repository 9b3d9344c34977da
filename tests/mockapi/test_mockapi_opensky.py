"""The mock OpenSky REST API and auth server over real HTTP: shapes (state vectors as arrays, the 12-member
flights), the auth server, credits, 429s, the nightly batch, and consistency with the Airlabs view of the same
world at the same moment."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from aerolake.mockapi import MockApi, MockConfig

NOW = "2026-03-01T12:00:00Z"
NOW_S = 1772366400
TOKEN_PATH = "auth/realms/opensky-network/protocol/openid-connect/token"
FLIGHT_FIELDS = ["icao24", "firstSeen", "estDepartureAirport", "lastSeen", "estArrivalAirport", "callsign",
                 "estDepartureAirportHorizDistance", "estDepartureAirportVertDistance",
                 "estArrivalAirportHorizDistance", "estArrivalAirportVertDistance", "departureAirportCandidatesCount",
                 "arrivalAirportCandidatesCount"]
FEB28 = {"begin": 1772236800, "end": 1772323199}
BOX = {"lamin": 47.35, "lomin": 7.54, "lamax": 51.03, "lomax": 12.79}


@pytest.fixture(scope="module")
def server() -> Iterator[MockApi]:
    with MockApi(MockConfig(seed=3, flights_per_hub=300, qps_limit=None, now=NOW)) as api:
        yield api


@pytest.fixture
def api(server: MockApi) -> Iterator[MockApi]:
    import dataclasses

    saved = dataclasses.asdict(server.config)
    server.reset_stats()
    yield server
    server.configure(**saved)


def token(api: MockApi, client_id: str = "aerolake", secret: str = "secret") -> str:
    response = requests.post(f"{api.opensky_url}/{TOKEN_PATH}", data={
        "grant_type": "client_credentials", "client_id": client_id, "client_secret": secret}, timeout=10)
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


def get(api: MockApi, path: str, bearer: str | None = None, **params: Any) -> requests.Response:
    headers = {"Authorization": f"Bearer {bearer}"} if bearer else {}
    return requests.get(f"{api.opensky_url}/{path}", params=params, headers=headers, timeout=30)


def test_the_auth_server_issues_bearer_tokens_and_refuses_bad_clients(api: MockApi) -> None:
    answer = requests.post(f"{api.opensky_url}/{TOKEN_PATH}", data={
        "grant_type": "client_credentials", "client_id": "a", "client_secret": "b"}, timeout=10).json()
    assert set(answer) == {"access_token", "expires_in", "refresh_expires_in", "token_type", "not-before-policy",
                           "scope"}
    assert (answer["expires_in"], answer["token_type"], answer["refresh_expires_in"]) == (1800, "Bearer", 0)
    api.configure(opensky_client_id="a", opensky_client_secret="right")
    wrong = requests.post(f"{api.opensky_url}/{TOKEN_PATH}", data={
        "grant_type": "client_credentials", "client_id": "a", "client_secret": "wrong"}, timeout=10)
    assert wrong.status_code == 401 and wrong.json()["error"] == "invalid_client"
    grant = requests.post(f"{api.opensky_url}/{TOKEN_PATH}", data={"client_id": "a", "client_secret": "right"},
                          timeout=10)
    assert grant.status_code == 400 and grant.json()["error"] == "unsupported_grant_type"


def test_an_invalid_or_expired_token_is_401_and_no_token_is_anonymous(api: MockApi) -> None:
    bearer = token(api)
    assert get(api, "states/all", bearer, **BOX).status_code == 200
    assert api.expire_tokens() >= 1
    refused = get(api, "states/all", bearer, **BOX)
    assert refused.status_code == 401 and "invalid_token" in refused.headers["WWW-Authenticate"]
    anonymous = get(api, "states/all", **BOX)
    assert anonymous.status_code == 200 and anonymous.headers["X-Rate-Limit-Remaining"] == "399"
    assert get(api, "flights/departure", airport="EDDF", **FEB28).status_code == 401


def test_state_vectors_are_positional_arrays_with_real_numbers_and_padded_callsigns(api: MockApi) -> None:
    bearer = token(api)
    plain = get(api, "states/all", bearer, **BOX).json()
    extended = get(api, "states/all", bearer, extended=1, **BOX).json()
    assert plain["time"] == NOW_S and plain["states"]
    assert {len(v) for v in plain["states"]} == {17} and {len(v) for v in extended["states"]} == {18}
    assert [v[:17] for v in extended["states"]] == plain["states"]
    for v in plain["states"]:
        assert isinstance(v[0], str) and len(v[0]) == 6 and v[0] == v[0].lower()
        assert v[1] is None or len(v[1]) == 8
        assert isinstance(v[5], float) and isinstance(v[6], float) and isinstance(v[8], bool)
        assert BOX["lamin"] <= v[6] <= BOX["lamax"] and BOX["lomin"] <= v[5] <= BOX["lomax"]
        assert v[3] <= v[4] <= NOW_S and isinstance(v[9], float)
        if v[8]:  # on the ground: no altitude, no vertical rate
            assert v[7] is None and v[11] is None and v[13] is None
    assert {v[17] for v in extended["states"]} <= {4, 6}
    # a box nobody flies in (the middle of the Atlantic): states is null
    empty = get(api, "states/all", bearer, lamin=30, lomin=-40, lamax=31, lomax=-39).json()
    assert empty == {"time": NOW_S, "states": None}


def test_the_same_aircraft_at_the_same_positions_as_the_airlabs_view(api: MockApi) -> None:
    bearer = token(api)
    states = get(api, "states/all", bearer).json()["states"]  # the world: no box
    airlabs = requests.get(f"{api.airlabs_url}/flights", params={"api_key": "aerolake-offline"}, timeout=30).json()
    # an aircraft is its address and the time it last reported (a busy airframe may fly two legs of the world)
    positions = {(r["hex"].lower(), r["updated"]): r for r in airlabs["response"] if r["hex"]}
    placed = {(v[0], v[3]): v for v in states if v[3] is not None}
    unplaced = {v[0] for v in states if v[3] is None}  # the quirk: no position in the last 15 s
    assert len(positions) > 50 and len(states) >= len(positions)
    assert all(key in placed or key[0] in unplaced for key in positions)
    for key, record in positions.items():
        v = placed.get(key)
        if v is None:
            continue
        if record["lat"] is not None:
            assert (v[6], v[5]) == (record["lat"], record["lng"])
        assert v[10] == record["dir"] and v[9] == pytest.approx(record["speed"] / 3.6, abs=0.01)
        assert v[8] == (record["status"] == "landed")
        if record["alt"] is not None and v[7] is not None:
            assert v[7] == record["alt"]
        if record["flight_icao"] and v[1] and v[1].strip()[3:].isdigit():
            assert v[1].strip() == record["flight_icao"]


def test_time_is_honoured_for_a_registered_caller_up_to_an_hour_back(api: MockApi) -> None:
    bearer = token(api)
    earlier = get(api, "states/all", bearer, time=NOW_S - 1802, **BOX).json()
    assert earlier["time"] == NOW_S - 1805  # 5-second resolution
    assert get(api, "states/all", bearer, time=NOW_S - 3700, **BOX).status_code == 400
    anonymous = get(api, "states/all", time=NOW_S - 1800, **BOX).json()
    assert anonymous["time"] == NOW_S  # ignored


def test_flights_are_arrays_of_the_twelve_members_and_the_same_flight_in_both_hubs_lists(api: MockApi) -> None:
    bearer = token(api)
    departures = get(api, "flights/departure", bearer, airport="EDDF", **FEB28)
    arrivals = get(api, "flights/arrival", bearer, airport="EDDM", **FEB28).json()
    assert departures.status_code == 200 and departures.headers["X-Rate-Limit-Remaining"] == "3996"
    flights = departures.json()
    assert isinstance(flights, list) and len(flights) > 100
    assert all(list(f) == FLIGHT_FIELDS for f in flights + arrivals)
    assert all(FEB28["begin"] <= f["firstSeen"] <= FEB28["end"] for f in flights)
    assert all(FEB28["begin"] <= f["lastSeen"] <= FEB28["end"] for f in arrivals)
    assert all(f["firstSeen"] < f["lastSeen"] for f in flights)
    assert {f["estDepartureAirport"] for f in flights} <= {"EDDF", None}
    assert any(f["estArrivalAirport"] is None for f in flights) and any(f["callsign"] is None for f in flights)
    assert all(f["callsign"] is None or len(f["callsign"]) == 8 for f in flights)
    both = [f for f in flights if f["estArrivalAirport"] == "EDDM"]
    assert both and all(f in arrivals for f in both if f["lastSeen"] <= FEB28["end"])
    # deterministic: the same bytes again
    assert get(api, "flights/departure", bearer, airport="EDDF", **FEB28).content == departures.content


def test_flights_come_from_the_nightly_batch_and_intervals_are_bounded(api: MockApi) -> None:
    bearer = token(api)
    today = {"begin": 1772323200, "end": 1772409599}
    assert get(api, "flights/departure", bearer, airport="EDDF", **today).status_code == 404
    nothing = get(api, "flights/departure", bearer, airport="EDFE", **FEB28)
    assert (nothing.status_code, nothing.content) == (404, b"")
    too_long = get(api, "flights/arrival", bearer, airport="EDDF", begin=FEB28["begin"] - 8 * 86_400,
                   end=FEB28["end"])
    assert too_long.status_code == 400 and b"seven days" in too_long.content
    assert get(api, "flights/arrival", bearer, airport="EDDF", begin=2, end=1).status_code == 400


def test_credits_are_counted_per_caller_and_day_and_a_request_they_cannot_pay_is_429(api: MockApi) -> None:
    api.configure(opensky_daily_credits=6)
    bearer = token(api)
    assert get(api, "states/all", bearer).headers["X-Rate-Limit-Remaining"] == "2"  # no box: 4
    assert get(api, "states/all", bearer, **BOX).headers["X-Rate-Limit-Remaining"] == "1"
    refused = get(api, "states/all", bearer, lamin=40, lomin=0, lamax=50, lomax=10)  # 100 square degrees: 2
    assert refused.status_code == 429 and refused.headers["X-Rate-Limit-Retry-After-Seconds"] == "43200"
    assert get(api, "states/all", bearer, **BOX).headers["X-Rate-Limit-Remaining"] == "0"
    other = token(api, client_id="someone-else")
    assert get(api, "states/all", other, **BOX).headers["X-Rate-Limit-Remaining"] == "5"
    api.configure(now="2026-03-02T00:00:00Z")  # a new UTC day: a new allowance
    assert get(api, "states/all", bearer, **BOX).headers["X-Rate-Limit-Remaining"] == "5"


def test_the_fault_knobs_apply(api: MockApi) -> None:
    bearer = token(api)
    api.configure(rate_limit_rate=1.0)
    burst = get(api, "states/all", bearer, **BOX)
    assert burst.status_code == 429 and burst.headers["X-Rate-Limit-Retry-After-Seconds"] == "2"
    api.configure(rate_limit_rate=0.0, error_rate=1.0)
    assert get(api, "states/all", bearer, **BOX).status_code in (500, 502, 503)
    api.configure(error_rate=0.0, truncate_rate=1.0)
    with pytest.raises(json.JSONDecodeError):
        get(api, "states/all", bearer, **BOX).json()
    assert api.stats()["requests"]["opensky/auth/token"] == 1  # the token endpoint is never faulted
