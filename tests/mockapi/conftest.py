"""Fixtures for the mock API tests: a shared server, a small Lufthansa client, knob restoring."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from aerolake.mockapi import MockApi, MockConfig

DAY = "2026-03-01"
WINDOW_STARTS = ("00:00", "04:00", "08:00", "12:00", "16:00", "20:00")


def as_list(value: Any) -> list[Any]:
    """Undo the dict-or-list quirk."""
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def link(meta: dict[str, Any], rel: str) -> str | None:
    return next((lk["@Href"] for lk in as_list(meta["Link"]) if lk["@Rel"] == rel), None)


class LhClient:
    """Just enough of a Lufthansa client to exercise the mock over real HTTP."""

    def __init__(
        self, base_url: str, client_id: str = "demo-client", client_secret: str = "demo-secret"
    ) -> None:
        self.base_url = base_url
        self.session = requests.Session()
        self.client_id, self.client_secret = client_id, client_secret
        self.token = ""

    def login(self) -> requests.Response:
        resp = self.session.post(
            f"{self.base_url}/oauth/token",
            data={
                "client_id": self.client_id,
                "client_secret": self.client_secret,
                "grant_type": "client_credentials",
            },
            timeout=10,
        )
        if resp.status_code == 200:
            self.token = resp.json()["access_token"]
        return resp

    def get(self, path: str, headers: dict[str, str] | None = None, **params: Any) -> requests.Response:
        url = path if path.startswith("http") else f"{self.base_url}/{path.lstrip('/')}"
        hdrs = {"Authorization": f"Bearer {self.token}", "Accept": "application/json", **(headers or {})}
        return self.session.get(url, params=params or None, headers=hdrs, timeout=30)

    def walk(self, path: str, resource: str, container: str, member: str, **params: Any) -> tuple[list, int]:
        """Follow ``next`` links; returns (all records, TotalCount of the first page)."""
        records: list[Any] = []
        resp = self.get(path, **params)
        assert resp.status_code == 200, resp.text
        total = resp.json()[resource]["Meta"]["TotalCount"]
        while True:
            body = resp.json()[resource]
            records.extend(as_list(body[container][member]))
            nxt = link(body["Meta"], "next")
            if nxt is None:
                return records, total
            resp = self.get(nxt)
            assert resp.status_code == 200, resp.text

    def flights(self, kind: str, airport: str, day: str = DAY, **params: Any) -> list[dict[str, Any]]:
        """Every flight of a local day at ``airport`` (six 4-hour windows, all pages)."""
        out: list[dict[str, Any]] = []
        for start in WINDOW_STARTS:
            path = f"operations/flightstatus/{kind}/{airport}/{day}T{start}"
            resp = self.get(path, limit=80, **params)
            if resp.status_code == 404:
                continue
            records, _ = self.walk(path, "FlightStatusResource", "Flights", "Flight", limit=80, **params)
            out.extend(records)
        return out


@pytest.fixture(scope="session")
def api() -> Iterator[MockApi]:
    with MockApi(MockConfig(seed=7, flights_per_hub=600, qps_limit=None)) as server:
        yield server


@pytest.fixture
def lh(api: MockApi) -> LhClient:
    client = LhClient(api.lufthansa_url)
    assert client.login().status_code == 200
    return client


@pytest.fixture
def knobs(api: MockApi) -> Iterator[MockApi]:
    """The shared server, with every knob restored after the test."""
    saved = dataclasses.asdict(api.config)
    yield api
    api.configure(**saved)
    api.reset_stats()
