"""A small client of Airflow's REST API v2: trigger a DAG run, check the API server's health.

Authentication is Airflow 3's: ``POST /auth/token`` with the configured username and password returns a JWT,
sent as a bearer token; it is cached and fetched again once when Airflow answers 401. A trigger is a POST that
creates a run, so it is never retried blindly (a retry after a lost answer could create a second run).
Neither the password nor a token ever reaches a log line, an exception message or a response.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

import requests

log = logging.getLogger(__name__)


class AirflowApiError(RuntimeError):
    """Airflow refused or could not be reached; ``status`` is the HTTP status this API should answer."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


def safe_url(url: str) -> str:
    """``url`` without any ``user:password@`` part, for messages."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = host + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


@dataclass(frozen=True)
class TriggeredRun:
    dag_id: str
    dag_run_id: str
    logical_date: str | None
    state: str | None


class AirflowClient:
    """Airflow REST API v2 at ``base_url`` (the API server's root, e.g. ``http://airflow-apiserver:8080``)."""

    def __init__(self, base_url: str, username: str | None, password: str | None, timeout: float = 10.0,
                 session: requests.Session | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self._username = username
        self._password = password
        self.timeout = timeout
        self.session = session or requests.Session()
        self._token: str | None = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"AirflowClient({safe_url(self.base_url)!r})"

    def health(self) -> dict[str, Any]:
        """``GET /api/v2/monitor/health`` (no authentication); raises unless it answers 200."""
        response = self._request("GET", "/api/v2/monitor/health", authenticated=False)
        if response.status_code != 200:
            raise AirflowApiError(f"Airflow API health answered HTTP {response.status_code}", 502)
        return response.json()

    def trigger_dag_run(self, dag_id: str, logical_date: datetime | None, conf: dict[str, Any] | None) -> TriggeredRun:
        """``POST /api/v2/dags/{dag_id}/dagRuns``; returns the run Airflow created."""
        body = {"logical_date": logical_date.isoformat() if logical_date else None, "conf": conf or {}}
        path = f"/api/v2/dags/{quote(dag_id, safe='')}/dagRuns"
        response = self._request("POST", path, json=body)
        if response.status_code == 401:  # expired token: fetch a new one once
            with self._lock:
                self._token = None
            response = self._request("POST", path, json=body)
        if response.status_code in (200, 201):
            run = response.json()
            log.info("Triggered %s: run %s (logical date %s)", dag_id, run.get("dag_run_id"), run.get("logical_date"))
            return TriggeredRun(dag_id, run["dag_run_id"], run.get("logical_date"), run.get("state"))
        detail = _detail(response)
        if response.status_code in (401, 403):
            raise AirflowApiError(
                f"Airflow API refused the trigger of {dag_id} (HTTP {response.status_code}: {detail}); check "
                "AEROLAKE_AIRFLOW_USERNAME / AEROLAKE_AIRFLOW_PASSWORD and that user's permissions", 502)
        if response.status_code == 404:
            raise AirflowApiError(f"Airflow does not know DAG {dag_id} ({detail}); is it deployed and parsed?", 404)
        if response.status_code == 409:
            raise AirflowApiError(f"Airflow already has that run of {dag_id} ({detail})", 409)
        if response.status_code in (400, 422):
            raise AirflowApiError(f"Airflow rejected the trigger of {dag_id}: {detail}", 422)
        raise AirflowApiError(f"Airflow API answered HTTP {response.status_code} to the trigger of {dag_id}: "
                              f"{detail}", 502)

    def _token_header(self) -> dict[str, str]:
        with self._lock:
            if self._token is None:
                if not self._username or not self._password:
                    raise AirflowApiError("Airflow API credentials are not configured: set "
                                          "AEROLAKE_AIRFLOW_USERNAME and AEROLAKE_AIRFLOW_PASSWORD", 503)
                response = self._request("POST", "/auth/token", authenticated=False,
                                         json={"username": self._username, "password": self._password})
                if response.status_code not in (200, 201):
                    raise AirflowApiError(
                        f"Airflow API refused our credentials at /auth/token (HTTP {response.status_code}); check "
                        "AEROLAKE_AIRFLOW_USERNAME / AEROLAKE_AIRFLOW_PASSWORD", 502)
                self._token = response.json()["access_token"]
            return {"Authorization": f"Bearer {self._token}"}

    def _request(self, method: str, path: str, *, authenticated: bool = True, **kwargs: Any) -> requests.Response:
        headers = self._token_header() if authenticated else {}
        try:
            response = self.session.request(method, self.base_url + path, headers=headers, timeout=self.timeout,
                                            **kwargs)
        except requests.RequestException as exc:
            raise AirflowApiError(f"Airflow API unreachable at {safe_url(self.base_url)}: {type(exc).__name__}",
                                  503) from None
        log.debug("Airflow API %s %s -> %s", method, path, response.status_code)
        return response


def _detail(response: requests.Response) -> str:
    """Airflow's error ``detail`` (short), or the start of the body."""
    try:
        detail = response.json().get("detail", "")
    except ValueError:
        detail = response.text
    return str(detail)[:300]
