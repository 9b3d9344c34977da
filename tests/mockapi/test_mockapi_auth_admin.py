"""Token flow, 401s, admin endpoints, stats and secret-free logging."""

from __future__ import annotations

import logging
import os
import re
import signal
import subprocess
import sys
import time

import pytest
import requests

from aerolake.mockapi import MockApi, MockConfig

from .conftest import LhClient


def test_token_flow_and_bearer_auth(api: MockApi) -> None:
    client = LhClient(api.lufthansa_url)
    resp = client.login()
    assert resp.status_code == 200
    body = resp.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 21600
    assert len(body["access_token"]) >= 16

    assert client.get("references/countries/DE").status_code == 200
    no_auth = client.session.get(f"{api.lufthansa_url}/references/countries/DE", timeout=10)
    assert no_auth.status_code == 401
    assert no_auth.json() == {"Error": "Not Authorized"}
    lower_b = client.get("references/countries/DE", headers={"Authorization": f"bearer {client.token}"})
    assert lower_b.status_code == 401
    assert client.get("references/countries/DE", headers={"Authorization": "Bearer nope"}).status_code == 401


def test_token_endpoint_rejects_bad_requests(knobs: MockApi) -> None:
    url = f"{knobs.lufthansa_url}/oauth/token"
    bad_grant = requests.post(
        url, data={"client_id": "a", "client_secret": "b", "grant_type": "password"}, timeout=10
    )
    assert bad_grant.status_code == 400
    missing = requests.post(url, data={"client_id": "a", "grant_type": "client_credentials"}, timeout=10)
    assert missing.status_code == 401

    knobs.configure(client_id="aerolake", client_secret="s3cr3t")
    assert LhClient(knobs.lufthansa_url, "aerolake", "wrong").login().json() == {"error": "invalid_client"}
    assert LhClient(knobs.lufthansa_url, "aerolake", "s3cr3t").login().status_code == 200


def test_expired_and_force_expired_tokens(knobs: MockApi) -> None:
    client = LhClient(knobs.lufthansa_url)
    client.login()
    assert client.get("references/airlines/LH").status_code == 200
    assert knobs.expire_tokens() >= 1
    assert client.get("references/airlines/LH").status_code == 401
    client.login()
    assert client.get("references/airlines/LH").status_code == 200
    requests.post(f"{knobs.base_url}/_mock/expire_tokens", timeout=10).raise_for_status()
    assert client.get("references/airlines/LH").status_code == 401

    knobs.configure(token_ttl=1)
    resp = client.login()
    assert resp.json()["expires_in"] == 1
    assert client.get("references/airlines/LH").status_code == 200
    time.sleep(1.1)
    expired = client.get("references/airlines/LH")
    assert expired.status_code == 401
    assert expired.json() == {"Error": "Not Authorized"}


def test_admin_endpoints_and_stats(knobs: MockApi, lh: LhClient) -> None:
    base = knobs.base_url
    assert requests.get(f"{base}/_mock/health", timeout=10).json() == {"status": "ok"}
    requests.post(f"{base}/_mock/reset", timeout=10).raise_for_status()
    lh.get("references/airports/FRA")
    lh.get("mds-references/airports/MUC")
    lh.get("references/airports/nearest/48.35,11.78")
    lh.get(f"operations/flightstatus/departures/FRA/{'2026-03-01'}T08:00")
    lh.get("references/airports/XXX")
    stats = requests.get(f"{base}/_mock/stats", timeout=10).json()
    assert stats["requests"] == {
        "lufthansa/operations/flightstatus/departures": 1,
        "lufthansa/references/airports": 3,
        "lufthansa/references/airports/nearest": 1,
    }
    assert stats["total"] == 5
    assert stats["status_counts"] == {"200": 4, "404": 1}
    assert stats == knobs.stats()

    cfg = requests.post(f"{base}/_mock/config", json={"error_rate": 0.25, "today": "2026-03-01"}, timeout=10)
    assert cfg.status_code == 200
    assert cfg.json()["error_rate"] == 0.25
    assert knobs.config.error_rate == 0.25
    assert str(knobs.config.today) == "2026-03-01"
    assert requests.post(f"{base}/_mock/config", json={"no_such_knob": 1}, timeout=10).status_code == 400
    assert requests.post(f"{base}/_mock/config", json={"port": 1}, timeout=10).status_code == 400
    assert requests.post(f"{base}/_mock/config", json={"error_rate": 7}, timeout=10).status_code == 400

    requests.post(f"{base}/_mock/reset", timeout=10).raise_for_status()
    assert knobs.stats() == {"requests": {}, "total": 0, "status_counts": {}}


def test_logs_never_contain_secrets(knobs: MockApi, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="aerolake.mockapi")
    client = LhClient(knobs.lufthansa_url, "log-client", "very-secret-value")
    client.login()
    client.get("references/airports/FRA", client_secret="very-secret-value")
    messages = "\n".join(r.getMessage() for r in caplog.records)
    assert "/lufthansa/v1/references/airports/FRA" in messages
    assert " 200 " in messages
    assert "very-secret-value" not in messages
    assert client.token not in messages
    assert "Bearer" not in messages


def test_cli_starts_prints_url_and_stops_on_sigterm() -> None:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "aerolake.mockapi",
            "--port",
            "0",
            "--flights-per-hub",
            "10",
            "--log-level",
            "WARNING",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        line = proc.stdout.readline()
        assert "http://127.0.0.1:" in line
        base = re.search(r"http://[\d.]+:\d+", line).group(0)
        assert requests.get(f"{base}/_mock/health", timeout=10).json() == {"status": "ok"}
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_python_api_context_manager_frees_the_port() -> None:
    with MockApi(MockConfig(flights_per_hub=5)) as server:
        url = server.base_url
        assert server.lufthansa_url == url + "/lufthansa/v1"
        assert requests.get(f"{url}/_mock/health", timeout=10).status_code == 200
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{url}/_mock/health", timeout=2)
