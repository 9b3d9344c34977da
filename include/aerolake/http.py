"""HTTP machinery shared by every source client: rate limit, retries with backoff and jitter, safe logging.

One mechanism, configured per API: a source says which answers are retryable (and how long to wait) and
which are fatal; this module does the waiting, counting and logging. Query parameters that carry secrets
(``api_key``, ``access_key``, ...) and ``Authorization`` headers never reach a log line or an exception.
"""

from __future__ import annotations

import json
import logging
import random
import re
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import requests

from aerolake.core.errors import ApiError, RetryableError

log = logging.getLogger(__name__)

SECRET_PARAMS = frozenset({"api_key", "access_key", "client_secret", "key", "token", "password"})


_KEY_IN_URL = re.compile(r"((?:access_key|api_key)=)[^&\s\"']+", re.IGNORECASE)


class RedactKeysInUrls(logging.Filter):
    """Masks ``access_key=...``/``api_key=...`` in the records of a logger that prints whole URLs: urllib3 logs
    every request line at DEBUG, and Airlabs and Aviation Stack want their key in the query string."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = _KEY_IN_URL.sub(r"\1***", record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(_KEY_IN_URL.sub(r"\1***", a) if isinstance(a, str) else a for a in record.args)
        return True


def redact_urllib3_logs() -> None:
    """Install :class:`RedactKeysInUrls` on urllib3's request logger (once)."""
    logger = logging.getLogger("urllib3.connectionpool")
    if not any(isinstance(f, RedactKeysInUrls) for f in logger.filters):
        logger.addFilter(RedactKeysInUrls())


def redact_params(params: Mapping[str, Any] | None) -> dict[str, Any]:
    """``params`` safe for logs, manifests and error messages."""
    return {k: ("***" if k.lower() in SECRET_PARAMS else v) for k, v in (params or {}).items()}


class RateLimiter:
    """At most ``calls_per_second`` calls, spaced evenly; thread-safe. ``0`` or ``None`` disables it."""

    def __init__(self, calls_per_second: float | None, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep):
        self.interval = 1.0 / calls_per_second if calls_per_second else 0.0
        self._clock = clock
        self._sleep = sleep
        self._next = 0.0
        self._lock = threading.Lock()

    def wait(self) -> float:
        """Block until the next call may go; returns the seconds waited."""
        if not self.interval:
            return 0.0
        with self._lock:
            now = self._clock()
            delay = max(0.0, self._next - now)
            self._next = max(now, self._next) + self.interval
        if delay:
            self._sleep(delay)
        return delay


#: a wait longer than this, asked by a server, is not waited out by retries (the task's own retries span
#: about 6 minutes): the request fails at once, saying how long the API asked to wait
LONGEST_USEFUL_WAIT = 20 * 60.0


def retry_after_of(response: requests.Response) -> float | None:
    """The seconds the server asks to wait before asking again: ``Retry-After`` (seconds, or an HTTP date) or
    ``X-Rate-Limit-Retry-After-Seconds`` (OpenSky); None when it says nothing usable."""
    from email.utils import parsedate_to_datetime

    for header in ("X-Rate-Limit-Retry-After-Seconds", "Retry-After"):
        value = response.headers.get(header)
        if not value:
            continue
        try:
            return max(0.0, float(value))
        except ValueError:
            pass
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            continue
        return max(0.0, when.timestamp() - time.time())
    return None


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with full jitter: ``uniform(0, min(max_delay, base_delay * 2**attempt))``."""

    max_attempts: int = 6
    base_delay: float = 0.5
    max_delay: float = 30.0

    def delay(self, attempt: int, rng: random.Random, retry_after: float | None = None) -> float:
        if retry_after is not None:
            return min(self.max_delay, retry_after)
        return rng.uniform(0, min(self.max_delay, self.base_delay * (2**attempt)))


class HttpClient:
    """A ``requests`` session with rate limiting, retries and safe logging.

    ``classify(response)`` (given by the source) raises :class:`RetryableError` or :class:`ApiError` for
    answers that are not data; connection errors, timeouts and 5xx answers are retried here by default.
    """

    def __init__(
        self,
        name: str,
        *,
        calls_per_second: float | None = 5.0,
        retry: RetryPolicy | None = None,
        timeout: float = 30.0,
        sleep: Callable[[float], None] = time.sleep,
        seed: int | None = None,
        session: requests.Session | None = None,
        before_request: Callable[[], None] | None = None,
    ):
        self.name = name
        redact_urllib3_logs()
        #: called before every request (retries included), e.g. to charge an API quota; may raise to stop
        self.before_request = before_request
        self.retry = retry or RetryPolicy()
        self.timeout = timeout
        self.session = session or requests.Session()
        self.limiter = RateLimiter(calls_per_second, sleep=sleep)
        self._sleep = sleep
        self._rng = random.Random(seed)
        self.calls = 0  # requests sent, retries included

    def send(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, Any] | None = None,
        headers: Callable[[], Mapping[str, str]] | None = None,
        data: Mapping[str, Any] | None = None,
        classify: Callable[[requests.Response], None] | None = None,
        on_unauthorized: Callable[[], None] | None = None,
    ) -> requests.Response:
        """Send with retries; returns the first response ``classify`` accepts."""
        safe = redact_params(params)
        last: ApiError | None = None
        refreshed = False
        for attempt in range(self.retry.max_attempts):
            self.limiter.wait()
            if self.before_request is not None:
                self.before_request()
            started = time.monotonic()
            self.calls += 1
            try:
                response = self.session.request(
                    method, url, params=params, data=data, headers=dict(headers() if headers else {}),
                    timeout=self.timeout,
                )
            except (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError,
                    requests.exceptions.ContentDecodingError) as exc:  # incl. a connection lost mid-body
                last = RetryableError(f"{self.name}: {type(exc).__name__} calling {url}")
            else:
                elapsed = (time.monotonic() - started) * 1000
                log.info("%s %s %s params=%s -> %s in %.0f ms", self.name, method, url, safe,
                         response.status_code, elapsed)
                try:
                    if response.status_code == 401 and on_unauthorized is not None and not refreshed:
                        refreshed = True
                        on_unauthorized()
                        raise RetryableError(f"{self.name}: 401 from {url}; token refreshed", 401, 0.0)
                    if classify is not None:
                        classify(response)
                    if response.status_code >= 500:
                        raise RetryableError(f"{self.name}: HTTP {response.status_code} from {url}",
                                             response.status_code, retry_after_of(response))
                    return response
                except RetryableError as exc:
                    last = exc
                    if exc.retry_after is None:
                        exc.retry_after = retry_after_of(response)
                    if exc.retry_after is not None and exc.retry_after > self.retry.max_delay:
                        raise self._too_long_a_wait(exc, safe) from exc
            if attempt + 1 < self.retry.max_attempts:
                wait = self.retry.delay(attempt, self._rng, getattr(last, "retry_after", None))
                log.warning("%s attempt %d/%d failed (%s); retrying in %.2f s", self.name, attempt + 1,
                            self.retry.max_attempts, last, wait)
                self._sleep(wait)
        assert last is not None
        raise ApiError(f"{last} (gave up after {self.retry.max_attempts} attempts, params={safe})",
                       last.status, retryable=True, response=last.response) from last

    def _too_long_a_wait(self, exc: RetryableError, safe: Mapping[str, Any]) -> ApiError:
        """The server asks to wait longer than this client retries: stop now instead of calling in vain; a
        wait the task's retries can span stays retryable, a longer one (an allowance that renews tomorrow)
        fails the task at once."""
        wait = float(exc.retry_after or 0)
        retryable = wait <= LONGEST_USEFUL_WAIT
        log.warning("%s: %s; the API asks to wait %.0f s, longer than this client waits between attempts", self.name,
                    exc, wait)
        return ApiError(f"{exc} (the API asks to wait {wait:.0f} s before asking again; "
                        f"{'the task will retry' if retryable else 'no retry of this run can wait that long'}, "
                        f"params={safe})", exc.status, retryable=retryable, response=exc.response)


class BearerToken:
    """An OAuth2 client-credentials access token (the Lufthansa and OpenSky clients'): fetched on first use,
    cached, and fetched again ``refresh_margin`` seconds before it expires (or ``refresh_share`` of a short
    lifetime, whichever is less) and after a 401 (:meth:`invalidate`). ``fetch()`` asks the token endpoint and
    returns ``(access token, lifetime in seconds)``; the token never reaches a log line. Thread-safe."""

    def __init__(self, name: str, fetch: Callable[[], tuple[str, float]], *,
                 clock: Callable[[], float] = time.monotonic, refresh_margin: float = 300.0,
                 refresh_share: float = 0.1):
        self.name, self._fetch, self._clock = name, fetch, clock
        self._refresh_margin, self._refresh_share = refresh_margin, refresh_share
        self.value: str | None = None
        self._expires_at = 0.0
        self._lock = threading.Lock()
        self.fetches = 0

    def headers(self) -> dict[str, str]:
        """``Authorization: Bearer <token>`` (capital B) and ``Accept: application/json``, with a valid token."""
        with self._lock:
            if self.value is None or self._clock() >= self._expires_at:
                self.value, lifetime = self._fetch()
                self._expires_at = self._clock() + lifetime - min(self._refresh_margin, lifetime * self._refresh_share)
                self.fetches += 1
                log.info("%s: new access token, valid for %.0f s", self.name, lifetime)
            return {"Authorization": f"Bearer {self.value}", "Accept": "application/json"}

    def invalidate(self) -> None:
        """Forget the token (the API answered 401): the next request fetches a new one."""
        with self._lock:
            self.value = None


@dataclass(frozen=True)
class Request:
    """One listing to fetch: an API path and its parameters, paged by ``page_size``."""

    endpoint: str
    path: str
    params: dict[str, Any]
    page_size: int


@dataclass
class Page:
    """One HTTP answer, kept byte for byte as received, with what the pipeline needs to know of it."""

    url_path: str
    params: dict[str, Any]
    status: int
    body: bytes
    payload: Any = None  # parsed JSON, None when malformed
    malformed: bool = False
    records: list[Any] = field(default_factory=list)  # the answer's items as sent: objects, or anything else
    total_count: int | None = None
    #: why a JSON answer is not the shape the source expects (:func:`read_page`): such a page is malformed,
    #: its paging cannot be read either, and asking again brings the same answer
    error: str | None = None

    @property
    def misshapen(self) -> bool:
        return self.error is not None


def parse_body(content: bytes) -> Any:
    """The JSON of an answer. An invalid UTF-8 byte does not spoil the page: it stays in its string as a lone
    surrogate (U+DC80 to U+DCFF, Python's ``surrogateescape``), so only the record holding it is refused
    (:func:`invalid_text_at`). Raises ``ValueError`` for a body that is not JSON."""
    return json.loads(content.decode("utf-8", errors="surrogateescape"))


def invalid_text_at(value: Any, path: str = "") -> str | None:
    """The path of the first string in ``value`` that held an invalid UTF-8 byte (see :func:`parse_body`),
    or None. Keys count too."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return path or "(the value)"
        return None
    if isinstance(value, dict):
        for key, item in value.items():
            where = invalid_text_at(key, f"{path}.{key!r} (a key)") or invalid_text_at(item, f"{path}.{key}".lstrip("."))
            if where:
                return where
    elif isinstance(value, list):
        for index, item in enumerate(value):
            where = invalid_text_at(item, f"{path}[{index}]")
            if where:
                return where
    return None


def read_records(extract: Callable[[Any], tuple[list[Any], int | None]], payload: Any
                 ) -> tuple[list[Any], int | None, str | None]:
    """``(records, total, error)`` of a parsed answer: what ``extract`` finds, or, when the answer is not the
    shape it expects (it raised), no records and why. The page is then kept whole for quarantine."""
    try:
        records, total = extract(payload)
    except Exception as exc:  # noqa: BLE001 - any shape the source's extractor did not foresee
        return [], None, f"unexpected answer shape: {type(exc).__name__}: {str(exc)[:200]}"
    return records, total, None


def read_page(page: Page, extract: Callable[[Any], tuple[list[Any], int | None]]) -> Page:
    """Fill ``page.records`` and ``page.total_count`` of a 200 answer, or mark it malformed with the reason."""
    if not page.malformed and page.status == 200:
        page.records, page.total_count, page.error = read_records(extract, page.payload)
        page.malformed = page.error is not None
    return page


#: malformed pages in a row, with the listing's size still unknown, after which a walk gives up
MAX_BLIND_MALFORMED_PAGES = 3


def offset_pages(
    get: Callable[[str, dict[str, Any]], Page],
    path: str,
    params: dict[str, Any],
    page_size: int,
    extract: Callable[[Any], tuple[list[dict], int | None]],
    *,
    name: str,
    last_page: Callable[[Page], bool] = lambda page: False,
) -> Iterator[Page]:
    """Every page of a ``limit``/``offset`` listing, until its total is reached (or a page says it is last).

    A page still malformed after retries is yielded as such (it goes to quarantine) and the walk goes on at
    the next offset; if the listing's size is still unknown after a few malformed pages in a row, the walk
    fails rather than guess where it ends. A page of another shape (:attr:`Page.misshapen`) with the size
    unknown ends the walk: the same question would bring the same answer. Without a total, a short page ends
    the listing; ``last_page`` adds the source's own end signal (a 404, a missing next link, an empty page).
    """
    offset = 0
    total: int | None = None
    malformed_in_a_row = 0
    while True:
        page = read_page(get(path, {**params, "limit": page_size, "offset": offset}), extract)
        if not page.malformed and page.status == 200:
            total = page.total_count if page.total_count is not None else total
        yield page
        if not page.malformed and last_page(page):
            return
        offset += page_size
        if total is not None and offset >= total:
            return
        if page.misshapen and total is None:  # nothing tells where the listing ends; its page is quarantined
            return
        if page.malformed:
            malformed_in_a_row += 1
            if total is None and malformed_in_a_row >= MAX_BLIND_MALFORMED_PAGES:
                raise ApiError(f"{name}: {malformed_in_a_row} malformed pages in a row from {path} and no total "
                               "seen: cannot tell where the listing ends; retry the task later")
            continue
        malformed_in_a_row = 0
        if total is None and len(page.records) < page_size:
            return
