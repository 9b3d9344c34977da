"""The Aviation Stack v1 client: the access key in the query string (redacted everywhere), error bodies
detected by content whatever the HTTP status, ``limit``/``offset`` paging to ``pagination.total``, the
records of one answer."""

from __future__ import annotations

import json
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
    HttpClient,
    Page,
    RetryableError,
    RetryPolicy,
    offset_pages,
    parse_body,
    redact_params,
    retry_after_of,
)
from aerolake.sources import calls_per_second_of
from aerolake.sources.aviationstack.spec import SOURCE, SPEC

log = logging.getLogger(__name__)

#: error code -> (retryable, what to do); anything unknown is fatal unless the status is 5xx
ERROR_CODES: dict[str, tuple[bool, str]] = {
    "usage_limit_reached": (False, "the plan's monthly request quota is used up; stop and resume after the "
                                   "quota resets (or upgrade the plan)"),
    "rate_limit_reached": (True, "too many requests per second or minute"),
    "invalid_access_key": (False, "check the access key (password) of connection aviationstack_api"),
    "missing_access_key": (False, "set the access key (password) of connection aviationstack_api"),
    "inactive_user": (False, "the account is inactive; check the subscription of connection aviationstack_api"),
    "https_access_restricted": (False, "the plan does not allow HTTPS; use an http:// host in connection "
                                       "aviationstack_api or upgrade the plan"),
    "function_access_restricted": (False, "the plan does not include this function or parameter"),
    "validation_error": (False, "the request parameters were refused"),
    "invalid_api_function": (False, "the API has no such function; check the host of connection "
                                    "aviationstack_api"),
    "404_not_found": (False, "the resource does not exist"),
    "internal_error": (True, "the API failed internally"),
}


# -- client -----------------------------------------------------------------------------------------------
class AviationstackClient:
    """``GET`` with the access key in the query string (added here, never in ``Page.params``), paging by
    ``limit``/``offset`` to ``pagination.total``, errors classified by their body."""

    def __init__(
        self,
        credentials: ApiCredentials,
        *,
        calls_per_second: float | None = 1.0,
        retry: RetryPolicy | None = None,
        timeout: float = 30.0,
        sleep: Callable[[float], None] = time.sleep,
        before_request: Callable[[], None] | None = None,
    ):
        self.credentials = credentials
        self.http = HttpClient(SOURCE, calls_per_second=calls_per_second, retry=retry, timeout=timeout,
                               sleep=sleep, seed=0, before_request=before_request)

    @property
    def public_base_url(self) -> str:
        """The base URL, safe to record (the key travels in the query string, not in the URL)."""
        return self.credentials.base_url

    def get(self, path: str, params: dict[str, Any] | None = None) -> Page:
        """One call. A body still not JSON after the retries is returned as ``malformed`` (quarantined)."""
        params = dict(params or {})
        url = f"{self.credentials.base_url}/{path}"
        try:
            response = self.http.send("GET", url, params={**params, "access_key": self.credentials.client_secret},
                                      classify=classify)
        except ApiError as exc:
            if isinstance(exc.__cause__, MalformedBody) and exc.response is not None:
                log.error("aviationstack: %s %s still malformed after retries; kept as received for quarantine",
                          path, redact_params(params))
                return Page(path, params, exc.response.status_code, exc.response.content, malformed=True)
            raise
        return Page(path, params, response.status_code, response.content, payload=parse_body(response.content))

    def iter_pages(self, path: str, params: dict[str, Any], page_size: int,
                   extract: Callable[[Any], tuple[list[dict], int | None]]) -> Iterator[Page]:
        """Every page of a listing, following ``offset`` until ``pagination.total`` is reached.

        A malformed page is yielded as such and the walk goes on at the next offset; if the total is still
        unknown after a few malformed pages in a row, the walk fails rather than guess where the listing ends.
        """
        # an empty page ends the listing whatever the total claims
        return offset_pages(self.get, path, params, page_size, extract, name=SOURCE,
                            last_page=lambda page: not page.records)


def classify(response: requests.Response) -> None:
    """Raise for any answer that is not data: an ``{"error": ...}`` body (whatever the status), a non-JSON
    error page, or a 200 body that is not JSON (retried as malformed)."""
    status = response.status_code
    try:
        body = parse_body(response.content)
    except ValueError:
        body = None
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        raise _api_error(status, error)
    if status == 429:
        raise RetryableError(f"aviationstack: HTTP 429 ({_text(response)})", status, retry_after_of(response))
    if status >= 500:
        raise RetryableError(f"aviationstack: HTTP {status} ({_text(response)})", status, retry_after_of(response),
                             response=response)
    if status != 200:
        raise ApiError(f"aviationstack: HTTP {status} ({_text(response)}); connection {SPEC.api.conn_id}",
                       status)
    if body is None:
        raise MalformedBody(f"aviationstack: malformed JSON body ({len(response.content)} bytes)", status,
                            response=response)
    # a 200 answer of another shape is stored as received and quarantined whole (extract_records says why)


def _api_error(status: int, error: dict[str, Any]) -> ApiError:
    code = str(error.get("code") or "unknown")
    message = str(error.get("message") or "").strip()
    retryable, advice = ERROR_CODES.get(code, (status >= 500, "unexpected error code"))
    text = f"aviationstack: {code} (HTTP {status}): {message}"
    context = error.get("context")
    if context:
        safe = redact_params(context) if isinstance(context, dict) else context
        text += f"; context: {json.dumps(safe, ensure_ascii=False, default=str)[:500]}"
    text += f"; {advice} (connection {SPEC.api.conn_id})"
    if retryable:
        return RetryableError(text, status)
    return ApiError(text, status)


def _text(response: requests.Response) -> str:
    return " ".join(response.text[:200].split())


# -- what the stages need from this source ---------------------------------------------------------------
def make_client(settings: Settings, before_request: Callable[[], None] | None = None) -> AviationstackClient:
    return AviationstackClient(api_credentials(SPEC.api, settings),
                               calls_per_second=calls_per_second_of(settings, SOURCE), before_request=before_request)


def extract_records(endpoint: str, payload: Any) -> tuple[list[Any], int | None]:
    """The records of one page as sent (an item that is not an object is kept: staging quarantines it) and
    ``pagination.total`` (None when absent). An answer without a ``data`` list raises ``ValueError``."""
    if not isinstance(payload, dict) or not isinstance(payload.get("data"), list):
        raise ValueError("expected an object with a data list, got "
                         f"{sorted(payload)[:5] if isinstance(payload, dict) else type(payload).__name__}")
    records = list(payload["data"])
    pagination = payload.get("pagination")
    total = pagination.get("total") if isinstance(pagination, dict) else None
    try:
        total = int(total) if total is not None else None
    except (TypeError, ValueError):
        total = None
    return records, total
