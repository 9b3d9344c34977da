"""The OpenSky client: OAuth2 client credentials from OpenSky's auth server (the token cached, refreshed before
it expires and on a 401), or anonymous (no login: ``/states/all`` only); the credit cost of every request
charged to the budget; ``X-Rate-Limit-Remaining`` and a 429's ``X-Rate-Limit-Retry-After-Seconds`` honoured;
the records of one answer (a state vector is an array of positional values: it is given its members' names).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests

from aerolake.core.connections import ApiCredentials, airflow_connection, offline_credentials
from aerolake.core.errors import ConfigurationError, MalformedBody
from aerolake.core.settings import Settings
from aerolake.http import (
    ApiError,
    BearerToken,
    HttpClient,
    Page,
    RetryableError,
    RetryPolicy,
    parse_body,
    read_page,
)
from aerolake.sources import calls_per_second_of
from aerolake.sources.opensky.spec import (
    ARRIVALS,
    DEPARTURES,
    SOURCE,
    SPEC,
    STATE_FIELDS,
    STATE_MEMBERS,
    STATES,
    flights_credits,
    states_credits,
)

log = logging.getLogger(__name__)

#: OpenSky's token endpoint (an OpenID Connect server), the default of the connection's ``extra.token_url``
DEFAULT_TOKEN_URL = "https://auth.opensky-network.org/auth/realms/opensky-network/protocol/openid-connect/token"  # noqa: S105
#: where a stand-in of the API (the mock, a proxy) serves the token endpoint: this path below its base URL
TOKEN_PATH = "auth/realms/opensky-network/protocol/openid-connect/token"  # noqa: S105 (a path)
API_HOST = "opensky-network.org"
RETRY = RetryPolicy(max_attempts=5, base_delay=1.0, max_delay=120.0)
#: the longest ``X-Rate-Limit-Retry-After-Seconds`` waited for; a longer one (the day's credits are gone) fails
#: the run at once instead of holding a worker for hours
LONGEST_WAIT = 120.0


@dataclass(frozen=True)
class OpenSkyAccess:
    """The base URL and OAuth2 client of connection ``opensky_api``; ``token_url`` None: anonymous."""

    credentials: ApiCredentials
    token_url: str | None


def default_token_url(base_url: str) -> str:
    """OpenSky's token endpoint for OpenSky's API; for another base URL (the mock, a proxy) the same path below it."""
    host = urlsplit(base_url).hostname or ""
    if host == API_HOST or host.endswith(f".{API_HOST}"):
        return DEFAULT_TOKEN_URL
    return f"{base_url.rstrip('/')}/{TOKEN_PATH}"


def _base_url(host: str, port: int | None) -> str:
    base = host.rstrip("/")
    if base.startswith(("http://", "https://")):
        return base
    scheme = "http" if base.startswith(("127.", "localhost")) else "https"
    return f"{scheme}://{base}" + (f":{port}" if port else "")


def opensky_access(settings: Settings) -> OpenSkyAccess:
    """How to reach OpenSky: connection ``opensky_api`` (host = base URL, login/password = OAuth2 client id and
    secret, ``extra.token_url``; no login = anonymous), or the offline mock API when it is not defined."""
    conn = airflow_connection(SPEC.api.conn_id)
    if conn is None:
        log.info("Connection %s not defined: using the offline mock API at %s", SPEC.api.conn_id, settings.mock_api_url)
        credentials = offline_credentials(SPEC.api, settings.mock_api_url)
        return OpenSkyAccess(credentials, default_token_url(credentials.base_url))
    base = _base_url(conn.host or "", conn.port)
    if not base.startswith(("http://", "https://")) or base in ("http://", "https://"):
        raise ConfigurationError(f"Connection {SPEC.api.conn_id} needs host (the API's base URL, {API_HOST}/api)")
    if bool(conn.login) != bool(conn.password):
        raise ConfigurationError(f"Connection {SPEC.api.conn_id} needs both login (OAuth2 client id) and password "
                                 "(client secret), or neither (anonymous: state vectors only)")
    if not conn.login:
        log.info("Connection %s has no login: anonymous access (state vectors only, 400 credits a day)",
                 SPEC.api.conn_id)
        return OpenSkyAccess(ApiCredentials(base), None)
    extra = getattr(conn, "extra_dejson", None) or {}
    token_url = extra.get("token_url") if isinstance(extra, dict) else None
    return OpenSkyAccess(ApiCredentials(base, conn.login, conn.password), token_url or default_token_url(base))


def request_credits(path: str, params: dict[str, Any]) -> int:
    """The credits one request costs (:func:`aerolake.sources.opensky.spec.states_credits`, ``flights_credits``)."""
    if path.startswith("states/"):
        try:
            box = {k: float(params[k]) for k in ("lamin", "lomin", "lamax", "lomax")}
        except (KeyError, TypeError, ValueError):
            return states_credits()
        return states_credits(**box)
    if path.startswith("flights/"):
        try:
            return flights_credits(int(params["begin"]), int(params["end"]))
        except (KeyError, TypeError, ValueError):
            return flights_credits(0, 10**10)
    return 1


def _int_header(response: requests.Response, name: str) -> float | None:
    try:
        return float(response.headers.get(name, ""))
    except ValueError:
        return None


class OpenSkyClient:
    """OAuth2 client-credentials client (anonymous without a client id). The token is cached and refreshed
    before it expires and on a 401; token requests cost no credits and are not counted as API calls."""

    def __init__(
        self,
        credentials: ApiCredentials,
        *,
        token_url: str | None = None,
        calls_per_second: float | None = 1.0,
        retry: RetryPolicy | None = None,
        timeout: float = 30.0,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        refresh_margin: float = 120.0,
        before_request: Callable[[], None] | None = None,
        longest_wait: float = LONGEST_WAIT,
    ):
        self.credentials = credentials
        self.anonymous = not credentials.client_id
        if not self.anonymous and not (credentials.client_secret and token_url):
            raise ValueError(f"{SPEC.api.conn_id}: a client id needs its secret and a token URL")
        self.token_url = token_url
        #: the data calls: every attempt first pays its credits (:meth:`_pay`)
        self.http = HttpClient(SOURCE, calls_per_second=calls_per_second, retry=retry or RETRY, timeout=timeout,
                               sleep=sleep, seed=0, before_request=self._pay)
        self._auth = HttpClient(f"{SOURCE} auth", calls_per_second=None,
                                retry=RetryPolicy(max_attempts=3, base_delay=1.0, max_delay=10.0), timeout=timeout,
                                sleep=sleep, seed=0)
        self._budget = before_request
        self._longest_wait = longest_wait
        #: the access token: refreshed two minutes early (or a fifth of a short lifetime) and on a 401
        self.bearer = BearerToken(SOURCE, self._fetch_token, clock=clock, refresh_margin=refresh_margin,
                                  refresh_share=0.2)
        self._cost = 1
        #: credits OpenSky said are left (``X-Rate-Limit-Remaining`` of the last answer), None before any
        self.credits_left: int | None = None
        #: credits charged by this client's requests (each attempt at its cost)
        self.credits_spent = 0

    @property
    def public_base_url(self) -> str:
        """The base URL, safe to record (it carries no credentials)."""
        return self.credentials.base_url

    # -- auth -------------------------------------------------------------------------------------------
    def _fetch_token(self) -> tuple[str, float]:
        def classify(response: requests.Response) -> None:
            status = response.status_code
            if status in (400, 401, 403):
                try:
                    body = parse_body(response.content)
                except ValueError:
                    body = {}
                body = body if isinstance(body, dict) else {}
                raise ApiError(f"opensky: the token endpoint refused the client credentials of connection "
                               f"{SPEC.api.conn_id} (HTTP {status} {body.get('error') or ''}: "
                               f"{body.get('error_description') or ''}); check login (the API client's id), "
                               "password (its secret) and extra.token_url", status)
            if status == 429:
                raise RetryableError("opensky: the token endpoint answered 429", 429,
                                     retry_after=_int_header(response, "Retry-After"))

        self._auth.session = self.http.session  # one connection pool (and one stand-in in tests)
        response = self._auth.send("POST", str(self.token_url), classify=classify,
                                   data={"grant_type": "client_credentials", "client_id": self.credentials.client_id,
                                         "client_secret": self.credentials.client_secret})
        try:
            body = parse_body(response.content)
            token, expires_in = body["access_token"], float(body.get("expires_in") or 1800)
        except (ValueError, KeyError, TypeError) as exc:
            raise ApiError(f"opensky: the token endpoint answered HTTP {response.status_code} without an access "
                           "token", response.status_code, retryable=True) from exc
        return str(token), expires_in

    def _headers(self) -> dict[str, str]:
        return {"Accept": "application/json"} if self.anonymous else self.bearer.headers()

    # -- credits ----------------------------------------------------------------------------------------
    def _pay(self) -> None:
        """Before every attempt: stop if OpenSky said fewer credits are left than it costs; else charge the
        budget its cost (one charge a credit)."""
        cost = self._cost
        if self.credits_left is not None and self.credits_left < cost:
            raise ApiError(f"opensky: OpenSky reports {self.credits_left} credit(s) left (X-Rate-Limit-Remaining) "
                           f"and the next request costs {cost}: not called. The allowance renews daily; rerun then",
                           429, retryable=False)
        if self._budget is not None:
            for _ in range(cost):
                self._budget()
        self.credits_spent += cost

    # -- calls ------------------------------------------------------------------------------------------
    def _classify(self, response: requests.Response) -> None:
        remaining = _int_header(response, "X-Rate-Limit-Remaining")
        if remaining is not None:
            self.credits_left = int(remaining)
        status = response.status_code
        if status == 200:
            try:
                parse_body(response.content)
            except ValueError as exc:
                raise MalformedBody(f"opensky: malformed JSON body ({len(response.content)} bytes)", status,
                                    response=response) from exc
            return
        if status == 404:  # no flight matches the interval: an empty answer
            return
        if status == 429:
            wait = _int_header(response, "X-Rate-Limit-Retry-After-Seconds")
            if wait is None or wait <= self._longest_wait:
                raise RetryableError(f"opensky: 429 too many requests (retry after {wait} s)", 429, retry_after=wait,
                                     response=response)
            raise ApiError(f"opensky: 429, the account's credits are used up; OpenSky gives more in {wait:.0f} s. "
                           "The run stops instead of waiting; rerun it then (or lower the hubs or the schedule)",
                           429, retryable=False)
        if status >= 500:
            raise RetryableError(f"opensky: HTTP {status}", status, response=response)
        if status == 401:
            what = ("anonymous access is refused here: set login/password of connection opensky_api"
                    if self.anonymous else "401 even with a fresh token; check connection opensky_api")
            raise ApiError(f"opensky: {what}", 401)
        raise ApiError(f"opensky: HTTP {status}: {response.text[:200].strip()}", status)

    def get(self, path: str, params: dict[str, Any] | None = None) -> Page:
        """One call. A 404 (no flight matches) is an empty page; a body still malformed after the retries is
        returned as such (``malformed=True``) for the pipeline to quarantine."""
        params = dict(params or {})
        if self.anonymous and not path.startswith("states/"):
            raise ConfigurationError(f"opensky: {path} needs an OpenSky account, and connection {SPEC.api.conn_id} "
                                     "has no login (anonymous access serves /states/all only): set login/password "
                                     "to an API client's id and secret")
        self._cost = request_credits(path, params)
        self._headers()  # a token first: credits are charged only for a request that goes out
        try:
            response = self.http.send("GET", f"{self.credentials.base_url}/{path}", params=params,
                                      headers=self._headers, classify=self._classify,
                                      on_unauthorized=None if self.anonymous else self.bearer.invalidate)
        except ApiError as exc:
            if isinstance(exc.__cause__, MalformedBody) and exc.response is not None:
                log.error("opensky: %s still malformed after retries; kept as received for quarantine", path)
                return Page(path, params, exc.response.status_code, exc.response.content, malformed=True)
            raise
        payload = parse_body(response.content) if response.status_code == 200 else None
        return Page(path, params, response.status_code, response.content, payload=payload)

    def iter_pages(self, path: str, params: dict[str, Any], page_size: int,
                   extract: Callable[[Any], tuple[list[dict], int | None]]) -> Iterator[Page]:
        """The one page of a request: OpenSky does not page (``page_size`` is ignored)."""
        yield read_page(self.get(path, params), extract)


# -- record extraction ------------------------------------------------------------------------------------
def state_record(vector: Any) -> Any:
    """A state vector as a record: an array of at least 17 members becomes an object of its members' names
    (``category`` only when sent, members past the 18th dropped: the raw page keeps them); anything else is
    returned as sent, for staging to quarantine."""
    if not isinstance(vector, list) or len(vector) < STATE_MEMBERS:
        return vector
    return dict(zip(STATE_FIELDS, vector, strict=False))


def extract_records(endpoint: str, payload: Any) -> tuple[list[Any], int | None]:
    """The records of one answer: ``/states/all`` is ``{"time": ..., "states": [[...], ...] | null}`` (null: an
    empty box), each state vector named by :func:`state_record`; ``/flights/*`` is an array of flight objects,
    kept as sent. OpenSky sends no total. Another shape raises ``ValueError``."""
    if endpoint == STATES:
        if not isinstance(payload, dict) or "states" not in payload:
            raise ValueError("expected an object with states, got "
                             f"{sorted(payload)[:5] if isinstance(payload, dict) else type(payload).__name__}")
        states = payload["states"]
        if states is None:
            return [], None
        if not isinstance(states, list):
            raise ValueError(f"states is a {type(states).__name__}, not an array")
        return [state_record(vector) for vector in states], None
    if endpoint in (DEPARTURES, ARRIVALS):
        if payload is None:
            return [], None
        if not isinstance(payload, list):
            raise ValueError(f"expected an array of flights, got a {type(payload).__name__}")
        return list(payload), None
    raise ValueError(f"opensky has no endpoint {endpoint!r}")


def make_client(settings: Settings, before_request: Callable[[], None] | None = None) -> OpenSkyClient:
    access = opensky_access(settings)
    return OpenSkyClient(access.credentials, token_url=access.token_url,
                         calls_per_second=calls_per_second_of(settings, SOURCE), before_request=before_request)
