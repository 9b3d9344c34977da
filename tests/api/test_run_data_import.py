"""POST /run_data_import: token (401 missing / 403 wrong, no run created), the DAG allow-list, the rate limit,
and the trigger through the Airflow REST API v2 stub (JWT from /auth/token), returning Airflow's run id."""

from __future__ import annotations

import logging

import pytest
from fastapi.testclient import TestClient

from aerolake.api import create_app

from .conftest import AIRFLOW_PASSWORD, TOKEN

AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def stub(airflow_stub):
    stub, _ = airflow_stub
    for runs in stub.runs.values():
        runs.clear()
    stub.requests.clear()
    return stub


def test_trigger_returns_the_run_id_airflow_created(client: TestClient, stub) -> None:
    response = client.post("/run_data_import", headers=AUTH, json={
        "dag_id": "lufthansa_lakehouse", "logical_date": "2026-03-01", "conf": {"refetch": True}})
    assert response.status_code == 201, response.text
    body = response.json()
    assert body == {"dag_id": "lufthansa_lakehouse", "dag_run_id": "manual__2026-03-01T00:00:00+00:00",
                    "logical_date": "2026-03-01T00:00:00+00:00", "state": "queued"}
    [run] = stub.runs["lufthansa_lakehouse"]
    assert run["dag_run_id"] == body["dag_run_id"] and run["conf"] == {"refetch": True}
    assert run["triggering_user_name"] == "aerolake-bot"
    assert ("POST", "/auth/token") in stub.requests


def test_trigger_without_logical_date_uses_now_and_reuses_the_token(client: TestClient, stub) -> None:
    first = client.post("/run_data_import", headers=AUTH, json={"dag_id": "airlabs_lakehouse"})
    second = client.post("/run_data_import", headers=AUTH, json={"dag_id": "aviationstack_lakehouse",
                                                                 "logical_date": "2026-03-02T06:30:00Z"})
    assert first.status_code == 201 and second.status_code == 201, (first.text, second.text)
    assert first.json()["dag_run_id"].startswith("manual__20")
    assert second.json()["dag_run_id"] == "manual__2026-03-02T06:30:00+00:00"
    assert stub.requests.count(("POST", "/auth/token")) <= 1  # one JWT for both (none if still cached)
    assert len(stub.all_runs()) == 2


def test_duplicate_run_is_a_conflict(client: TestClient, stub) -> None:
    body = {"dag_id": "lufthansa_lakehouse", "logical_date": "2026-03-03"}
    assert client.post("/run_data_import", headers=AUTH, json=body).status_code == 201
    again = client.post("/run_data_import", headers=AUTH, json=body)
    assert again.status_code == 409 and "already" in again.json()["detail"]
    assert len(stub.all_runs()) == 1


@pytest.mark.parametrize(("headers", "status"), [
    ({}, 401),
    ({"Authorization": "Bearer"}, 401),
    ({"Authorization": f"Basic {TOKEN}"}, 401),
    ({"Authorization": "Bearer wrong-token"}, 403),
    ({"Authorization": f"Bearer {TOKEN}x"}, 403),
    ({"Authorization": f"Bearer {TOKEN[:-1]}"}, 403),
])
def test_no_run_without_the_right_token(client: TestClient, stub, headers: dict, status: int) -> None:
    response = client.post("/run_data_import", headers=headers, json={"dag_id": "lufthansa_lakehouse"})
    assert response.status_code == status, response.text
    assert TOKEN not in response.text
    if status == 401:
        assert response.headers["www-authenticate"] == "Bearer"
    assert stub.all_runs() == [] and stub.requests == []  # Airflow was never even called


def test_token_is_checked_before_the_body(client: TestClient, stub) -> None:
    response = client.post("/run_data_import", json={"dag_id": "rm -rf", "conf": "x"})
    assert response.status_code == 401
    assert stub.requests == []


@pytest.mark.parametrize(("body", "words"), [
    ({"dag_id": "example_bash_operator"}, "dag_id: must be one of the project's DAGs"),
    ({}, "dag_id: is required"),
    ({"dag_id": "lufthansa_lakehouse", "logical_date": "yesterday"}, "logical_date"),
    ({"dag_id": "lufthansa_lakehouse", "conf": [1]}, "conf"),
    ({"dag_id": "lufthansa_lakehouse", "conf": {"x": "y" * 20000}}, "at most 10,000"),
    ({"dag_id": "lufthansa_lakehouse", "run_id": "mine"}, "run_id: is not a known field"),
])
def test_only_project_dags_and_valid_bodies(client: TestClient, stub, body: dict, words: str) -> None:
    response = client.post("/run_data_import", headers=AUTH, json=body)
    assert response.status_code == 422, response.text
    assert words in response.json()["detail"]
    assert stub.all_runs() == [] and stub.requests == []


def test_rate_limited_per_client(make_settings, stub) -> None:
    with TestClient(create_app(make_settings(import_rate_limit=2, import_rate_window_s=60))) as client:
        codes = [client.post("/run_data_import", headers=AUTH,
                             json={"dag_id": "lufthansa_lakehouse", "logical_date": f"2026-04-0{i}"}).status_code
                 for i in range(1, 5)]
        wrong = client.post("/run_data_import", headers={"Authorization": "Bearer guess"},
                            json={"dag_id": "lufthansa_lakehouse"})
    assert codes == [201, 201, 429, 429]
    assert wrong.status_code == 429 and int(wrong.headers["retry-after"]) > 0  # guessing counts too
    assert len(stub.all_runs()) == 2


def test_disabled_without_a_configured_token(make_settings, stub) -> None:
    with TestClient(create_app(make_settings(token=None))) as client:
        response = client.post("/run_data_import", headers={"Authorization": "Bearer "},
                               json={"dag_id": "lufthansa_lakehouse"})
    assert response.status_code == 503 and "AEROLAKE_API_TOKEN" in response.json()["detail"]
    assert stub.all_runs() == []


def test_airflow_refusing_our_credentials_creates_no_run(make_settings, stub) -> None:
    with TestClient(create_app(make_settings(airflow_password="not-the-password"))) as client:
        response = client.post("/run_data_import", headers=AUTH, json={"dag_id": "lufthansa_lakehouse"})
    assert response.status_code == 502
    assert "AEROLAKE_AIRFLOW_PASSWORD" in response.json()["detail"] and "not-the-password" not in response.text
    assert stub.all_runs() == []


def test_airflow_user_without_permission_creates_no_run(make_settings, stub) -> None:
    with TestClient(create_app(make_settings(airflow_username="viewer", airflow_password="viewer-password"))) as c:
        response = c.post("/run_data_import", headers=AUTH, json={"dag_id": "lufthansa_lakehouse"})
    assert response.status_code == 502 and "HTTP 403" in response.json()["detail"]
    assert stub.all_runs() == []


def test_expired_airflow_token_is_renewed_once(make_settings, stub) -> None:
    from datetime import timedelta

    stub.token_lifetime = timedelta(seconds=-10)  # every token Airflow hands out is already expired
    try:
        with TestClient(create_app(make_settings())) as client:
            response = client.post("/run_data_import", headers=AUTH, json={"dag_id": "lufthansa_lakehouse"})
    finally:
        stub.token_lifetime = timedelta(hours=1)
    assert response.status_code == 502 and "HTTP 401" in response.json()["detail"]
    assert stub.requests.count(("POST", "/auth/token")) == 2  # fetched, refused, fetched again, refused: stop
    assert stub.all_runs() == []


def test_airflow_unreachable(make_settings, stub) -> None:
    from .test_endpoints import dead_port

    with TestClient(create_app(make_settings(airflow_api_url=f"http://user:pw-secret@127.0.0.1:{dead_port()}"))) as c:
        response = c.post("/run_data_import", headers=AUTH, json={"dag_id": "lufthansa_lakehouse"})
    assert response.status_code == 503 and "unreachable" in response.json()["detail"]
    assert "pw-secret" not in response.text


def test_no_secret_in_any_response_or_log(make_settings, stub, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    secrets = (TOKEN, AIRFLOW_PASSWORD)
    with TestClient(create_app(make_settings(airflow_api_url=make_settings().airflow_api_url))) as client:
        responses = [
            client.get("/health"), client.get("/status"), client.get("/openapi.json"), client.get("/"),
            client.get("/dashboard"), client.post("/closest_airport", json={"latitude": 1, "longitude": 2}),
            client.post("/run_data_import", headers=AUTH, json={"dag_id": "lufthansa_lakehouse"}),
            client.post("/run_data_import", headers={"Authorization": "Bearer nope"}, json={"dag_id": "x"}),
            client.post("/run_data_import", json={"dag_id": "lufthansa_lakehouse"}),
        ]
    assert responses[6].status_code == 201
    for response in responses:
        text = response.text + repr(dict(response.headers))
        assert not any(s in text for s in secrets), response.request.url
    assert not any(s in caplog.text for s in secrets)
    assert TOKEN not in repr(make_settings()) and AIRFLOW_PASSWORD not in repr(make_settings())
