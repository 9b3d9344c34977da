"""The shared HTTP machinery: rate limiter, retry policy, secret redaction and the retrying client.

The client is exercised over real HTTP against a tiny scripted ``http.server`` stub, so connection drops,
5xx answers and the query string that carries the secret are all real.
"""

from __future__ import annotations

import json
import logging
import random
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from aerolake.http import ApiError, HttpClient, RateLimiter, RetryableError, RetryPolicy, redact_params

SECRET = "s3cr3t-7f2b9c1e-do-not-log"


# -- a scripted HTTP stub ---------------------------------------------------------------------------------
class ScriptedStub:
    """Answers requests from a script: an int is an HTTP status (JSON body), "drop" closes the connection
    without answering, "short" hangs up in the middle of the body. Once the script is used up every request gets 200. Records each request target."""

    def __init__(self, script: list[int | str]):
        self.script = list(script)
        self.seen: list[str] = []
        self.bodies: list[bytes] = []
        self._lock = threading.Lock()
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                with stub._lock:
                    stub.seen.append(self.path)
                    stub.bodies.append(body)
                    action = stub.script.pop(0) if stub.script else 200
                if action == "drop":
                    self.close_connection = True
                    return
                if action == "short":  # promise a body, send part of it, hang up
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", "1000")
                    self.end_headers()
                    self.wfile.write(b'{"status": ')
                    self.close_connection = True
                    return
                payload = json.dumps({"status": action}).encode()
                self.send_response(int(action))
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = _handle

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.01},
                                       daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1/things"

    def __enter__(self) -> ScriptedStub:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


@pytest.fixture
def stub_factory() -> Iterator:
    stubs: list[ScriptedStub] = []

    def make(script: list[int | str]) -> ScriptedStub:
        stub = ScriptedStub(script).__enter__()
        stubs.append(stub)
        return stub

    yield make
    for stub in stubs:
        stub.__exit__()


@pytest.fixture
def refused_url() -> str:
    """A URL on a local port nobody listens on (connection refused at once)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1/things"


class SleepRecorder:
    def __init__(self) -> None:
        self.calls: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


def _client(sleep: SleepRecorder, attempts: int = 4, **kwargs: object) -> HttpClient:
    return HttpClient("teststub", calls_per_second=None, retry=RetryPolicy(max_attempts=attempts, base_delay=0.5,
                      max_delay=30.0), sleep=sleep, seed=1, timeout=5, **kwargs)


def _exception_chain_text(exc: BaseException) -> str:
    parts = []
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        parts.append(f"{exc!s} {exc!r}")
        exc = exc.__cause__ or exc.__context__
    return " | ".join(parts)


# -- RateLimiter ------------------------------------------------------------------------------------------
class FakeClock:
    def __init__(self, now: float = 100.0):
        self.now = now
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def test_rate_limiter_spaces_calls_evenly_with_exact_waits() -> None:
    clock = FakeClock(100.0)
    limiter = RateLimiter(2.0, clock=clock, sleep=clock.sleep)
    assert limiter.interval == 0.5
    waits = [limiter.wait() for _ in range(4)]
    assert waits == [0.0, 0.5, 0.5, 0.5]
    assert clock.sleeps == [0.5, 0.5, 0.5]  # a zero wait never sleeps
    assert clock.now == pytest.approx(101.5)


def test_rate_limiter_waits_only_for_what_is_left_of_the_interval() -> None:
    clock = FakeClock(10.0)
    limiter = RateLimiter(4.0, clock=clock, sleep=clock.sleep)  # 0.25 s apart
    assert limiter.wait() == 0.0
    clock.now += 0.1
    assert limiter.wait() == pytest.approx(0.15)
    clock.now += 1.0  # idle for a while: the next call goes at once...
    assert limiter.wait() == 0.0
    # ...but idle time earns no burst: the one after that is spaced again
    assert limiter.wait() == pytest.approx(0.25)


def test_rate_limiter_with_a_frozen_clock_queues_callers() -> None:
    clock = FakeClock(0.0)
    slept: list[float] = []
    limiter = RateLimiter(5.0, clock=clock, sleep=slept.append)
    waits = [limiter.wait() for _ in range(5)]
    assert waits == pytest.approx([0.0, 0.2, 0.4, 0.6, 0.8])
    assert slept == pytest.approx([0.2, 0.4, 0.6, 0.8])


def test_rate_limiter_gives_each_thread_its_own_slot() -> None:
    clock = FakeClock(0.0)
    slept: list[float] = []
    lock = threading.Lock()

    def sleep(seconds: float) -> None:
        with lock:
            slept.append(seconds)

    limiter = RateLimiter(10.0, clock=clock, sleep=sleep)
    threads = [threading.Thread(target=limiter.wait) for _ in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(round(s, 6) for s in slept) == [round(0.1 * k, 6) for k in range(1, 10)]


@pytest.mark.parametrize("rate", [None, 0, 0.0])
def test_rate_limiter_disabled_never_sleeps_nor_reads_the_clock(rate: float | None) -> None:
    def clock() -> float:
        raise AssertionError("a disabled limiter must not read the clock")

    def sleep(seconds: float) -> None:
        raise AssertionError("a disabled limiter must not sleep")

    limiter = RateLimiter(rate, clock=clock, sleep=sleep)
    assert limiter.interval == 0.0
    assert [limiter.wait() for _ in range(100)] == [0.0] * 100


# -- RetryPolicy ------------------------------------------------------------------------------------------
def test_retry_policy_defaults() -> None:
    policy = RetryPolicy()
    assert (policy.max_attempts, policy.base_delay, policy.max_delay) == (6, 0.5, 30.0)


@pytest.mark.parametrize("attempt", range(12))
def test_retry_policy_full_jitter_stays_within_the_exponential_cap(attempt: int) -> None:
    policy = RetryPolicy(max_attempts=12, base_delay=0.5, max_delay=30.0)
    cap = min(30.0, 0.5 * 2**attempt)
    rng = random.Random(attempt)
    delays = [policy.delay(attempt, rng) for _ in range(400)]
    assert all(0.0 <= d <= cap for d in delays)
    # full jitter: spread over the whole range, not clustered at the cap
    assert min(delays) < 0.1 * cap
    assert max(delays) > 0.9 * cap


def test_retry_policy_is_reproducible_for_a_seed() -> None:
    policy = RetryPolicy()
    first = [policy.delay(a, random.Random(7)) for a in range(6)]
    again = [policy.delay(a, random.Random(7)) for a in range(6)]
    assert first == again


@pytest.mark.parametrize(
    ("retry_after", "expected"), [(0.0, 0.0), (1.0, 1.0), (2.5, 2.5), (30.0, 30.0), (120.0, 30.0)]
)
def test_retry_policy_honours_retry_after_up_to_max_delay(retry_after: float, expected: float) -> None:
    policy = RetryPolicy(max_delay=30.0)
    rng = random.Random(0)
    assert policy.delay(0, rng, retry_after) == expected
    assert policy.delay(9, rng, retry_after) == expected


# -- redact_params ----------------------------------------------------------------------------------------
def test_redact_params_hides_every_secret_parameter() -> None:
    params = {"api_key": SECRET, "access_key": SECRET, "client_secret": SECRET, "API_KEY": SECRET,
              "Access_Key": SECRET, "token": SECRET, "password": SECRET, "key": SECRET,
              "flight_date": "2026-03-01", "limit": 100, "offset": 0}
    safe = redact_params(params)
    assert safe == {"api_key": "***", "access_key": "***", "client_secret": "***", "API_KEY": "***",
                    "Access_Key": "***", "token": "***", "password": "***", "key": "***",
                    "flight_date": "2026-03-01", "limit": 100, "offset": 0}
    assert SECRET not in repr(safe)
    assert params["api_key"] == SECRET  # the caller's mapping is left alone


@pytest.mark.parametrize("params", [None, {}])
def test_redact_params_of_nothing_is_empty(params: dict | None) -> None:
    assert redact_params(params) == {}


# -- HttpClient -------------------------------------------------------------------------------------------
def test_send_returns_the_first_good_answer(stub_factory) -> None:
    stub = stub_factory([200])
    sleep = SleepRecorder()
    client = _client(sleep)
    response = client.send("GET", stub.url, params={"limit": 5})
    assert response.status_code == 200
    assert client.calls == 1
    assert sleep.calls == []
    assert stub.seen == ["/v1/things?limit=5"]


def test_send_retries_a_dropped_connection_then_succeeds(stub_factory) -> None:
    stub = stub_factory(["drop", "drop", 200])
    sleep = SleepRecorder()
    client = _client(sleep, attempts=4)
    response = client.send("GET", stub.url)
    assert response.status_code == 200
    assert response.json() == {"status": 200}
    assert client.calls == 3
    assert len(stub.seen) == 3
    assert len(sleep.calls) == 2
    assert 0 <= sleep.calls[0] <= 0.5 and 0 <= sleep.calls[1] <= 1.0  # base 0.5 * 2**attempt


def test_send_retries_a_connection_broken_mid_body_then_succeeds(stub_factory) -> None:
    """A connection lost while the body is read (requests' ChunkedEncodingError, "Connection broken:
    IncompleteRead") is as transient as one lost before the answer: it is retried like any connection error."""
    stub = stub_factory(["short", 200])
    sleep = SleepRecorder()
    client = _client(sleep, attempts=4)
    response = client.send("GET", stub.url)
    assert response.status_code == 200
    assert response.json() == {"status": 200}
    assert client.calls == 2
    assert len(stub.seen) == 2
    assert len(sleep.calls) == 1


def test_send_gives_up_on_bodies_always_cut_with_an_api_error(stub_factory) -> None:
    stub = stub_factory(["short"] * 3)
    client = _client(SleepRecorder(), attempts=3)
    with pytest.raises(ApiError, match="gave up after 3 attempts"):
        client.send("GET", stub.url, params={"api_key": SECRET})
    assert len(stub.seen) == 3


def test_send_retries_5xx_then_succeeds(stub_factory) -> None:
    stub = stub_factory([500, 502, 503, 200])
    sleep = SleepRecorder()
    client = _client(sleep, attempts=6)
    response = client.send("GET", stub.url)
    assert response.status_code == 200
    assert client.calls == 4
    assert len(stub.seen) == 4
    assert len(sleep.calls) == 3


def test_send_does_not_retry_4xx_without_a_classifier(stub_factory) -> None:
    stub = stub_factory([404])
    client = _client(SleepRecorder())
    response = client.send("GET", stub.url)
    assert response.status_code == 404
    assert client.calls == 1
    assert len(stub.seen) == 1


def test_send_gives_up_after_max_attempts_of_5xx(stub_factory) -> None:
    stub = stub_factory([503] * 10)
    sleep = SleepRecorder()
    client = _client(sleep, attempts=3)
    with pytest.raises(ApiError) as info:
        client.send("GET", stub.url, params={"limit": 5})
    err = info.value
    assert not isinstance(err, RetryableError)
    assert err.status == 503
    assert err.retryable is True
    assert isinstance(err.__cause__, RetryableError)
    assert "gave up after 3 attempts" in str(err)
    assert "teststub" in str(err)
    assert client.calls == 3
    assert len(stub.seen) == 3
    assert len(sleep.calls) == 2  # no pointless sleep after the last attempt


def test_send_gives_up_after_max_attempts_of_refused_connections(refused_url: str) -> None:
    sleep = SleepRecorder()
    client = _client(sleep, attempts=3)
    with pytest.raises(ApiError) as info:
        client.send("GET", refused_url)
    err = info.value
    assert err.status is None
    assert err.response is None
    assert "ConnectionError" in str(err)
    assert "gave up after 3 attempts" in str(err)
    assert client.calls == 3
    assert len(sleep.calls) == 2


def test_send_uses_retry_after_from_the_classifier(stub_factory) -> None:
    stub = stub_factory([429, 429, 200])
    sleep = SleepRecorder()

    def classify(response: requests.Response) -> None:
        if response.status_code == 429:
            raise RetryableError("teststub: slow down", 429, retry_after=2.5)

    client = _client(sleep, attempts=5)
    assert client.send("GET", stub.url, classify=classify).status_code == 200
    assert sleep.calls == [2.5, 2.5]
    assert len(stub.seen) == 3


def test_send_does_not_retry_a_fatal_classification(stub_factory) -> None:
    stub = stub_factory([401, 200])

    def classify(response: requests.Response) -> None:
        if response.status_code == 401:
            raise ApiError("teststub: bad key", 401)

    client = _client(SleepRecorder(), attempts=5)
    with pytest.raises(ApiError, match="bad key") as info:
        client.send("GET", stub.url, classify=classify)
    assert info.value.status == 401
    assert info.value.retryable is False
    assert len(stub.seen) == 1


def test_send_refreshes_once_on_401_then_retries_without_waiting(stub_factory) -> None:
    stub = stub_factory([401, 200])
    sleep = SleepRecorder()
    refreshed: list[bool] = []
    client = _client(sleep, attempts=5)
    response = client.send("GET", stub.url, on_unauthorized=lambda: refreshed.append(True))
    assert response.status_code == 200
    assert refreshed == [True]
    assert sleep.calls == [0.0]


def test_send_refreshes_only_once(stub_factory) -> None:
    stub = stub_factory([401, 401, 200])
    refreshed: list[bool] = []

    def classify(response: requests.Response) -> None:
        if response.status_code == 401:
            raise ApiError("teststub: still unauthorized", 401)

    client = _client(SleepRecorder(), attempts=5)
    with pytest.raises(ApiError, match="still unauthorized"):
        client.send("GET", stub.url, classify=classify, on_unauthorized=lambda: refreshed.append(True))
    assert refreshed == [True]
    assert len(stub.seen) == 2


def test_send_rate_limits_with_its_own_sleep(stub_factory) -> None:
    stub = stub_factory([])
    sleep = SleepRecorder()
    client = HttpClient("teststub", calls_per_second=1000.0, sleep=sleep, timeout=5)
    for _ in range(3):
        client.send("GET", stub.url)
    assert client.limiter.interval == pytest.approx(0.001)
    assert all(0 < s <= 0.001 for s in sleep.calls)


def test_secrets_never_reach_logs_nor_exceptions(stub_factory, caplog: pytest.LogCaptureFixture) -> None:
    stub = stub_factory(["drop", 500, 502, 503])
    caplog.set_level(logging.INFO)
    caplog.set_level(logging.DEBUG, logger="aerolake")
    client = _client(SleepRecorder(), attempts=4)
    params = {"api_key": SECRET, "access_key": SECRET, "client_secret": SECRET, "flight_date": "2026-03-01"}
    with pytest.raises(ApiError) as info:
        client.send("GET", stub.url, params=params)
    # the secret really went over the wire...
    assert all(SECRET in target for target in stub.seen)
    assert len(stub.seen) == 4
    # ...but appears in no log record and nowhere in the exception chain
    records = [r for r in caplog.records if r.name.startswith("aerolake")]
    assert any("flight_date" in r.getMessage() for r in records)
    assert any("retrying" in r.getMessage() for r in records)
    for record in caplog.records:
        assert SECRET not in record.getMessage()
        assert SECRET not in repr(record.args)
    text = _exception_chain_text(info.value)
    assert SECRET not in text
    assert "'api_key': '***'" in str(info.value)


def test_form_secrets_are_not_logged(stub_factory, caplog: pytest.LogCaptureFixture) -> None:
    stub = stub_factory([502, 200])
    caplog.set_level(logging.DEBUG, logger="aerolake")
    client = _client(SleepRecorder(), attempts=3)
    client.send("POST", stub.url, data={"client_id": "me", "client_secret": SECRET,
                                         "grant_type": "client_credentials"})
    assert SECRET.encode() in stub.bodies[0]
    assert caplog.records
    for record in caplog.records:
        assert SECRET not in record.getMessage()


def test_connection_error_messages_do_not_leak_the_query(refused_url: str,
                                                         caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    caplog.set_level(logging.DEBUG, logger="aerolake")
    client = _client(SleepRecorder(), attempts=2)
    with pytest.raises(ApiError) as info:
        client.send("GET", refused_url, params={"access_key": SECRET})
    assert SECRET not in _exception_chain_text(info.value)
    for record in caplog.records:
        assert SECRET not in record.getMessage()


# -- waits the server asks for ------------------------------------------------------------------------------
def _answer(status: int, headers: dict[str, str]) -> requests.Response:
    response = requests.Response()
    response.status_code, response._content, response.url = status, b"{}", "https://api.invalid/x"
    response.headers.update(headers)
    return response


@pytest.mark.parametrize(("headers", "expected"), [
    ({"Retry-After": "7"}, 7.0),
    ({"Retry-After": "-3"}, 0.0),
    ({"X-Rate-Limit-Retry-After-Seconds": "3600"}, 3600.0),  # OpenSky's
    ({"Retry-After": "soon"}, None),
    ({}, None),
])
def test_retry_after_of_reads_the_headers_servers_send(headers: dict, expected: float | None) -> None:
    from aerolake.http import retry_after_of

    assert retry_after_of(_answer(429, headers)) == expected


def test_retry_after_of_reads_an_http_date() -> None:
    from email.utils import formatdate

    from aerolake.http import retry_after_of

    wait = retry_after_of(_answer(503, {"Retry-After": formatdate(__import__("time").time() + 120, usegmt=True)}))
    assert 115 <= wait <= 121


class _Answers:
    """A session answering each request with the next scripted (status, headers)."""

    def __init__(self, script: list[tuple[int, dict[str, str]]]):
        self.script, self.sent = list(script), 0

    def request(self, *_args: object, **_kwargs: object) -> requests.Response:
        self.sent += 1
        return _answer(*self.script.pop(0))


@pytest.mark.parametrize(("wait", "calls", "retryable"), [
    ("2", 2, None),  # waited out within the client's retries: the second call succeeds
    ("120", 1, True),  # longer than the client waits, short enough for the task's retries
    ("3600", 1, False),  # an allowance that renews in an hour: no retry of this run can wait that long
])
def test_a_server_asked_wait_is_honoured_or_stops_the_calls(wait: str, calls: int, retryable: bool | None) -> None:
    sleeps = SleepRecorder()
    session = _Answers([(503, {"Retry-After": wait}), (200, {})])
    client = _client(sleeps, session=session)
    if retryable is None:
        assert client.send("GET", "https://api.invalid/x").status_code == 200
        assert sleeps.calls == [2.0]
    else:
        with pytest.raises(ApiError, match=rf"the API asks to wait {wait} s") as err:
            client.send("GET", "https://api.invalid/x")
        assert err.value.retryable is retryable and sleeps.calls == []
    assert session.sent == calls


# -- the fate of every error ------------------------------------------------------------------------------
def test_every_error_of_the_pipeline_has_one_fate() -> None:
    from aerolake.core import errors
    from aerolake.core.errors import FAIL, FATES, RETRY, fate_of

    permanent = [errors.ConfigurationError("x"), errors.InProcessStoreRefused("x"), errors.MissingInput("x"),
                 errors.IncompleteRead("x"), errors.CannotServe("x"), errors.QuotaExceeded("x"),
                 errors.QualityCheckFailed("x"), ApiError("401", 401), ApiError("invalid_access_key", 401),
                 ApiError("over the allowance", 429, retryable=False)]
    transient = [RetryableError("503", 503), errors.MalformedBody("cut", 200), ApiError("gave up", 503, retryable=True),
                 errors.DeliveryFailed("x", 1, 2), ConnectionError("reset"), TimeoutError("slow")]
    assert [fate_of(e) for e in permanent] == [FAIL] * len(permanent)
    assert [fate_of(e) for e in transient] == [RETRY] * len(transient)
    # each class defined in aerolake.core.errors is named in the table (by itself or a base it inherits)
    classes = [c for c in vars(errors).values() if isinstance(c, type) and issubclass(c, Exception)
               and c.__module__ == errors.__name__]
    assert all(any(issubclass(c, kind) for kind, _fate, _why in FATES[:-1]) for c in classes)
