"""The Airlabs v9 client: the API key in the query string (blanked out of every body, log and message), error
bodies read whatever the HTTP status (``minute_limit_exceeded`` retried after a pause, ``not_found`` an empty
answer, the other codes fatal with a hint), ``limit``/``offset`` paging while ``has_more``, the records of one
answer."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Iterator
from typing import Any

import requests

from aerolake.core.connections import ApiCredentials, api_credentials
from aerolake.core.errors import MalformedBody
from aerolake.core.settings import Settings
from aerolake.http import ApiError, HttpClient, Page, RetryableError, RetryPolicy, parse_body, read_page
from aerolake.sources import calls_per_second_of
from aerolake.sources.airlabs.spec import SOURCE, SPEC

log = logging.getLogger(__name__)

MAX_PAGES = 100  # a board longer than this is a paging bug, not traffic
MAX_BLIND_MALFORMED_PAGES = 3
MINUTE_LIMIT_RETRY_AFTER = 61.0  # seconds: the API's minute window has surely turned
RETRY = RetryPolicy(max_attempts=6, base_delay=1.0, max_delay=65.0)

#: error codes: retried after a pause / an empty answer; every other code stops the run
RETRYABLE_ERRORS = frozenset({"minute_limit_exceeded", "hour_limit_exceeded", "internal_error"})
EMPTY_ANSWER = "not_found"
_ERROR_HINTS = {
    "unknown_api_key": "the API key is not known to Airlabs; check the connection's password (the key)",
    "expired_api_key": "the API key has expired; renew it and update the connection's password",
    "month_limit_exceeded": ("the key's monthly request quota is used up; the run stops, and can be resumed once the "
                             "quota renews (next month) or the plan is raised"),
    "wrong_params": "the API rejected the request's parameters (a bug in the fetch plan)",
    "unknown_method": "the API does not know this method; check the connection's host (the base URL)",
}


def _error_of(payload: Any) -> tuple[str, str] | None:
    """(code, message) of an ``{"error": {...}}`` body, else None."""
    if not isinstance(payload, dict) or not isinstance(payload.get("error"), dict):
        return None
    error = payload["error"]
    return str(error.get("code") or "unknown_error"), str(error.get("message") or "")


class AirlabsClient:
    """API-key client: the key rides in the query string (redacted from every log line and message)."""

    def __init__(self, credentials: ApiCredentials, *, calls_per_second: float | None = 1.0,
                 retry: RetryPolicy | None = None, timeout: float = 30.0,
                 sleep: Callable[[float], None] = time.sleep, before_request: Callable[[], None] | None = None):
        if not credentials.client_secret:
            raise ValueError(f"connection {SPEC.api.conn_id} has no API key")
        self.credentials = credentials
        self.http = HttpClient(SOURCE, calls_per_second=calls_per_second, retry=retry or RETRY, timeout=timeout,
                               sleep=sleep, seed=0, before_request=before_request)

    @property
    def public_base_url(self) -> str:
        """The base URL, safe to record (the key is a query parameter, never part of it)."""
        return self.credentials.base_url

    @property
    def _key(self) -> str:
        return self.credentials.client_secret or ""

    def _scrub(self, data: bytes) -> bytes:
        """The body without the API key the envelope echoes (``"api_key": "<key>"`` in ``request.key``); a key
        of some length found anywhere else is blanked too (a short one would match ordinary text)."""
        key = self._key.encode()
        if not key or key not in data:
            return data
        data = re.sub(rb'("api_key"\s*:\s*")' + re.escape(key) + rb'"', rb'\1***"', data)
        return data.replace(key, b"***") if len(key) >= 12 else data

    def _classify(self, response: requests.Response) -> None:
        status = response.status_code
        try:
            payload = parse_body(response.content)
        except ValueError as exc:
            if status >= 500 or status == 429:
                raise RetryableError(f"airlabs: HTTP {status} (not JSON)", status, response=response) from exc
            if status == 200:
                raise MalformedBody(f"airlabs: malformed JSON body ({len(response.content)} bytes)", status,
                                    response=response) from exc
            raise ApiError(f"airlabs: HTTP {status} with a body that is not JSON", status) from exc
        error = _error_of(payload)
        if error is None:
            if status != 200:
                raise (RetryableError if status >= 500 or status == 429 else ApiError)(
                    f"airlabs: HTTP {status} without an error body", status)
            return
        code, message = error
        message = message.replace(self._key, "***") if self._key else message
        if code == EMPTY_ANSWER:
            return
        if code in RETRYABLE_ERRORS:
            # the minute's window turns within the client's retries; the hour's is waited out by the task's
            # retries if it turns soon, else the task fails at once (aerolake.http: the longest useful wait)
            retry_after = {"minute_limit_exceeded": MINUTE_LIMIT_RETRY_AFTER,
                           "hour_limit_exceeded": 3600.0 - time.time() % 3600.0}.get(code)
            raise RetryableError(f"airlabs: {code} ({message})", status, retry_after=retry_after, response=response)
        hint = _ERROR_HINTS.get(code, "an error code this client does not know")
        raise ApiError(f"airlabs: {code} ({message}) on connection {SPEC.api.conn_id}: {hint}", status)

    def get(self, method: str, params: dict[str, Any] | None = None) -> Page:
        """One call of ``method``. A ``not_found`` answer is an empty page; a body still malformed after the
        retries is returned as such (``malformed=True``) for the pipeline to quarantine."""
        url = f"{self.credentials.base_url}/{method}"
        params = dict(params or {})
        sent = {**params, "api_key": self._key}  # the key only here: Page.params goes to the manifest
        try:
            response = self.http.send("GET", url, params=sent, classify=self._classify)
        except ApiError as exc:
            if isinstance(exc.__cause__, MalformedBody) and exc.response is not None:
                log.error("airlabs: %s still malformed after retries; kept as received for quarantine", method)
                return Page(method, params, exc.response.status_code, self._scrub(exc.response.content),
                            malformed=True)
            raise
        body = self._scrub(response.content)
        return Page(method, params, response.status_code, body, payload=parse_body(body))

    def iter_pages(self, path: str, params: dict[str, Any], page_size: int,
                   extract: Callable[[Any], tuple[list[dict], int | None]]) -> Iterator[Page]:
        """Every page of one request: a single call when ``page_size`` is 0, else ``limit``/``offset`` pages
        while the answer's ``request.has_more`` says so (or, without it, while pages come full)."""
        if not page_size:
            yield read_page(self.get(path, params), extract)
            return
        offset, step, malformed_in_a_row = 0, page_size, 0
        for _ in range(MAX_PAGES):
            page = read_page(self.get(path, {**params, "limit": page_size, "offset": offset}), extract)
            yield page
            if page.misshapen:  # no has_more to read: the walk ends, the page goes to quarantine
                return
            if page.malformed:
                malformed_in_a_row += 1
                if malformed_in_a_row >= MAX_BLIND_MALFORMED_PAGES:
                    raise ApiError(f"airlabs: {malformed_in_a_row} malformed pages in a row from {path}: cannot tell "
                                   "where the listing ends; retry the task later")
                offset += step
                continue
            malformed_in_a_row = 0
            more = _has_more(page.payload)
            if not page.records or more is False or (more is None and len(page.records) < page_size):
                return
            step = len(page.records)
            offset += step
        raise ApiError(f"airlabs: more than {MAX_PAGES} pages from {path} {params}; refusing to page on")


def _has_more(payload: Any) -> bool | None:
    request = payload.get("request") if isinstance(payload, dict) else None
    more = request.get("has_more") if isinstance(request, dict) else None
    return bool(more) if more is not None else None


# -- record extraction ------------------------------------------------------------------------------------
def extract_records(endpoint: str, payload: Any) -> tuple[list[Any], int | None]:
    """The records of one answer as sent (an item that is not an object is kept: staging quarantines it); an
    error body (``not_found``) holds none. Airlabs sends no total. Another shape raises ``ValueError``."""
    if _error_of(payload) is not None:
        return [], None
    if not isinstance(payload, dict) or not isinstance(payload.get("response"), list):
        raise ValueError("expected an object with a response list, got "
                         f"{sorted(payload)[:5] if isinstance(payload, dict) else type(payload).__name__}")
    return list(payload["response"]), None


def make_client(settings: Settings, before_request: Callable[[], None] | None = None) -> AirlabsClient:
    return AirlabsClient(api_credentials(SPEC.api, settings), calls_per_second=calls_per_second_of(settings, SOURCE),
                         before_request=before_request)
