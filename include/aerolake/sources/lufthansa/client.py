"""The Lufthansa Open API client: OAuth2 client credentials (the token cached, refreshed before expiry and on
a 401), the gateway's answers classified (403 "Over Queries Per Second" retried, a 404 ``ProcessingErrors``
read as "no data for this window", a body that is not JSON kept for quarantine), ``offset``/``limit`` paging to
``TotalCount``, and the records of one answer (any one-member array comes as a plain object)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from typing import Any

import requests

from aerolake.core.connections import ApiCredentials, api_credentials
from aerolake.core.errors import MalformedBody
from aerolake.core.settings import Settings
from aerolake.http import (
    ApiError,
    BearerToken,
    HttpClient,
    Page,
    RetryableError,
    RetryPolicy,
    offset_pages,
    parse_body,
    retry_after_of,
)
from aerolake.sources import calls_per_second_of
from aerolake.sources.lufthansa.spec import FLIGHTSTATUS, REFERENCE_ENDPOINTS, SOURCE, SPEC

log = logging.getLogger(__name__)

def as_list(value: Any) -> list[Any]:
    """The dict-or-list quirk: None -> [], a lone object -> [object], a list -> itself."""
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


class LufthansaClient:
    """OAuth2 client-credentials client. The token is cached, refreshed before expiry and on a 401."""

    def __init__(
        self,
        credentials: ApiCredentials,
        *,
        calls_per_second: float | None = 5.0,
        retry: RetryPolicy | None = None,
        timeout: float = 30.0,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        refresh_margin: float = 300.0,
        before_request: Callable[[], None] | None = None,
    ):
        self.credentials = credentials
        self.http = HttpClient(SOURCE, calls_per_second=calls_per_second, retry=retry, timeout=timeout,
                               sleep=sleep, seed=0, before_request=before_request)
        #: the access token: refreshed five minutes early (or a tenth of a short lifetime) and on a 401
        self.bearer = BearerToken(SOURCE, self._fetch_token, clock=clock, refresh_margin=refresh_margin,
                                  refresh_share=0.1)

    @property
    def public_base_url(self) -> str:
        """The base URL, safe to record (it carries no credentials)."""
        return self.credentials.base_url

    # -- auth -------------------------------------------------------------------------------------------
    def _fetch_token(self) -> tuple[str, float]:
        def classify(response: requests.Response) -> None:
            if response.status_code in (400, 401):
                raise ApiError(
                    f"lufthansa: token request rejected with HTTP {response.status_code}; check the client id "
                    "and secret of connection lufthansa_api", response.status_code)
            _raise_for_gateway(response)

        response = self.http.send(
            "POST", f"{self.credentials.base_url}/oauth/token",
            data={"client_id": self.credentials.client_id, "client_secret": self.credentials.client_secret,
                  "grant_type": "client_credentials"},
            classify=classify,
        )
        body = response.json()
        return body["access_token"], float(body.get("expires_in") or 0)

    # -- calls ------------------------------------------------------------------------------------------
    def get(self, path: str, params: dict[str, Any] | None = None) -> Page:
        """One call. 404 ``ResourceNotFound`` is a valid empty answer; malformed bodies are retried and, if
        still malformed, returned as such (``malformed=True``) for the pipeline to quarantine."""
        url = f"{self.credentials.base_url}/{path}"
        params = dict(params or {})
        try:
            response = self.http.send("GET", url, params=params, headers=self.bearer.headers,
                                      classify=_classify_data_answer, on_unauthorized=self.bearer.invalidate)
        except ApiError as exc:
            if isinstance(exc.__cause__, MalformedBody) and exc.response is not None:
                log.error("lufthansa: %s still malformed after retries; kept as received for quarantine", path)
                return Page(path, params, exc.response.status_code, exc.response.content, malformed=True)
            raise
        return Page(path, params, response.status_code, response.content, payload=parse_body(response.content))

    def iter_pages(self, path: str, params: dict[str, Any], page_size: int,
                   extract: Callable[[Any], tuple[list[dict], int | None]]) -> Iterator[Page]:
        """Every page of a listing, following ``offset``/``limit`` until ``TotalCount`` is reached.

        A page still malformed after retries is yielded as such (it goes to quarantine) and the walk goes on
        at the next offset; if the listing's size is still unknown after a few malformed pages in a row, the
        walk fails rather than guess where the listing ends.
        """
        return offset_pages(self.get, path, params, page_size, extract, name=SOURCE,
                            last_page=lambda page: page.status == 404 or _has_next_link(page.payload) is False)


def _raise_for_gateway(response: requests.Response) -> None:
    if response.status_code == 403:
        text = response.text[:200]
        if "Over" in text and ("Limit" in text or "Rate" in text):
            raise RetryableError(f"lufthansa: rate limited (403 {text.strip()})", 403)
        raise ApiError(f"lufthansa: forbidden (403 {text.strip()}); check the API plan of the client id", 403)


def _classify_data_answer(response: requests.Response) -> None:
    status = response.status_code
    _raise_for_gateway(response)
    if status == 401:
        raise ApiError("lufthansa: 401 Not Authorized even with a fresh token; check connection lufthansa_api",
                       401)
    if status >= 500:
        raise RetryableError(f"lufthansa: HTTP {status}", status, retry_after=retry_after_of(response),
                             response=response)
    if status == 404:
        if _is_not_found(response):
            return
        raise ApiError(f"lufthansa: 404 for {response.url.split('?')[0]}", 404)
    if status != 200:
        raise ApiError(f"lufthansa: HTTP {status}: {_processing_error(response)}", status)
    try:
        parse_body(response.content)
    except ValueError as exc:
        raise MalformedBody(f"lufthansa: malformed JSON body ({len(response.content)} bytes)", status,
                            response=response) from exc


def _is_not_found(response: requests.Response) -> bool:
    try:
        err = as_list(response.json()["ProcessingErrors"]["ProcessingError"])[0]
    except (ValueError, KeyError, TypeError, IndexError):
        return False
    return err.get("Type") == "ResourceNotFound"


def _processing_error(response: requests.Response) -> str:
    try:
        err = as_list(response.json()["ProcessingErrors"]["ProcessingError"])[0]
        return f"{err.get('Type')} {err.get('Code')}: {err.get('Description')}"
    except (ValueError, KeyError, TypeError, IndexError):
        return response.text[:200]


def _has_next_link(payload: Any) -> bool | None:
    meta = _meta(payload)
    if meta is None:
        return None
    return any(link.get("@Rel") == "next" for link in as_list(meta.get("Link")))


def _meta(payload: Any) -> dict | None:
    if not isinstance(payload, dict) or not payload:
        return None
    resource = next(iter(payload.values()))
    return resource.get("Meta") if isinstance(resource, dict) else None


# -- record extraction from a page ------------------------------------------------------------------------
def extract_records(endpoint: str, payload: Any) -> tuple[list[Any], int | None]:
    """The records of one page body, as sent (an item that is not an object is kept: staging quarantines it),
    and the listing's ``TotalCount`` (None when absent). An answer of another shape raises ``ValueError``."""
    if endpoint == FLIGHTSTATUS:
        resource_key, collection_key, record_key = "FlightStatusResource", "Flights", "Flight"
    else:
        _, resource_key, collection_key, record_key = REFERENCE_ENDPOINTS[endpoint]
    if not isinstance(payload, dict) or resource_key not in payload:
        raise ValueError(f"expected an object with {resource_key}, got "
                         f"{sorted(payload)[:5] if isinstance(payload, dict) else type(payload).__name__}")
    resource = payload[resource_key] or {}
    records = as_list(_member(_member(resource, collection_key, resource_key), record_key, collection_key))
    meta = resource.get("Meta") if isinstance(resource, dict) else None
    total = meta.get("TotalCount") if isinstance(meta, dict) else None
    try:
        total = int(total) if total is not None else None
    except (TypeError, ValueError):
        total = None
    return records, total


def _member(value: Any, key: str, where: str) -> Any:
    """``value[key]``, None for a missing or ``null`` container; a container that is not an object raises."""
    if value is None or value == "":
        return None
    if not isinstance(value, dict):
        raise ValueError(f"{where} is a {type(value).__name__}, not an object")
    return value.get(key)


# -- what the stages need from this source ---------------------------------------------------------------
def make_client(settings: Settings, before_request: Callable[[], None] | None = None) -> LufthansaClient:
    return LufthansaClient(api_credentials(SPEC.api, settings), calls_per_second=calls_per_second_of(settings, SOURCE),
                           before_request=before_request)
