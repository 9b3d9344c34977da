"""Forwarded headers count only from trusted proxies: a client rotating X-Forwarded-For (or Forwarded, or
X-Real-IP) is rate-limited exactly as without the header and logged with its real address; a trusted proxy's
forwarded client is used (right-most untrusted hop); the setting is parsed strictly.

The rate-limit tests go over real HTTP from 127.0.0.1, the peer uvicorn trusts by default, served the three
ways the app runs: ServerThread, ``python -m aerolake.api``, and mounted like the Airflow plugin."""

from __future__ import annotations

import importlib.util
import logging
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from aerolake.api import ApiSettings, create_app
from aerolake.api.config import load_api_settings
from aerolake.api.forwarding import (
    TrustedProxies,
    client_address,
    forwarded_for_nodes,
    node_address,
    parse_forwarded_header,
)
from aerolake.api.server import ServerThread
from aerolake.core.errors import ConfigurationError

from .test_endpoints import dead_port

TOKEN = "client-address-test-token"
WRONG = {"Authorization": "Bearer not-the-token"}
BODY = {"dag_id": "lufthansa_lakehouse"}
INCLUDE = Path(__file__).resolve().parents[2] / "include"
PLUGIN = Path(__file__).resolve().parents[2] / "plugins" / "aerolake_plugin.py"


def settings(**overrides) -> ApiSettings:
    """No database, no Airflow: run_data_import with a wrong token answers 403 (or 429) before either."""
    values = {"token": TOKEN, "import_rate_limit": 2, "import_rate_window_s": 60,
              "airflow_api_url": f"http://127.0.0.1:{dead_port()}"}
    return ApiSettings(**{**values, **overrides})


def xff(i: int) -> dict[str, str]:
    return {"X-Forwarded-For": f"198.51.100.{i}"}


ROTATING = {
    "x-forwarded-for": xff,
    "forwarded": lambda i: {"Forwarded": f"for=198.51.100.{i};proto=https"},
    "x-real-ip": lambda i: {"X-Real-IP": f"198.51.100.{i}"},
    "all three": lambda i: {**xff(i), "Forwarded": f'for="[2001:db8::{i}]:80"', "X-Real-IP": f"203.0.113.{i}"},
}


class LogLines(logging.Handler):
    """The messages of the named loggers, whatever Airflow's logging setup (imported by other tests of the
    same worker) did to the root logger and its handlers."""

    def __init__(self, *names: str) -> None:
        super().__init__(logging.INFO)
        self.loggers = [logging.getLogger(name) for name in names]
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())

    @property
    def text(self) -> str:
        return "\n".join(self.lines)

    def __enter__(self) -> LogLines:
        self._saved = [(lg.level, lg.disabled) for lg in self.loggers]
        for lg in self.loggers:
            lg.addHandler(self)
            lg.setLevel(logging.INFO)
            lg.disabled = False
        return self

    def __exit__(self, *exc: object) -> None:
        for lg, (level, disabled) in zip(self.loggers, self._saved, strict=True):
            lg.removeHandler(self)
            lg.setLevel(level)
            lg.disabled = disabled


def statuses(base_url: str, path: str, headers_of, n: int = 5) -> list[int]:
    with httpx.Client(base_url=base_url, timeout=10) as http:
        return [http.post(path, headers={**WRONG, **headers_of(i)}, json=BODY).status_code for i in range(1, n + 1)]


# ----------------------------------------------------------------------------- the setting
def test_trusted_proxies_parse_addresses_and_networks() -> None:
    trusted = TrustedProxies.parse(" 10.0.0.0/8, 127.0.0.1 ,,::1, 2001:db8::/32, ::ffff:192.0.2.0/120")
    assert [str(n) for n in trusted.networks] == ["10.0.0.0/8", "127.0.0.1/32", "::1/128", "2001:db8::/32",
                                                  "192.0.2.0/24"]
    assert "10.255.0.1" in trusted and "127.0.0.1" in trusted and "::1" in trusted
    assert "::ffff:10.1.2.3" in trusted  # an IPv4 peer on a dual-stack socket
    assert "192.0.2.77" in trusted and "2001:db8:1::5" in trusted
    assert "11.0.0.1" not in trusted and "127.0.0.2" not in trusted and "testclient" not in trusted
    assert not TrustedProxies.parse("") and not TrustedProxies.parse(None) and not TrustedProxies()
    assert str(TrustedProxies()) == "nobody"


@pytest.mark.parametrize(("value", "words"), [
    ("10.0.0.1/8", "did you mean 10.0.0.0/8"),
    ("10.0.0.0/33", "'10.0.0.0/33' is not an IP address or CIDR network"),
    ("proxy.internal", "host names are not resolved"),
    ("10.0.0.1, 300.1.1.1", "'300.1.1.1'"),
    ("*", "'*' is not allowed"),
])
def test_a_bad_trusted_proxies_value_is_a_clear_error(monkeypatch, value: str, words: str) -> None:
    monkeypatch.setenv("AEROLAKE_API_TRUSTED_PROXIES", value)
    with pytest.raises(ConfigurationError, match="AEROLAKE_API_TRUSTED_PROXIES") as raised:
        load_api_settings()
    assert words in str(raised.value)
    with pytest.raises(ConfigurationError, match="AEROLAKE_API_TRUSTED_PROXIES"):
        create_app()


def test_the_default_trusts_nobody_and_the_forwarded_header_setting(monkeypatch) -> None:
    loaded = load_api_settings()
    assert not loaded.trusted_proxies and loaded.forwarded_header == "x-forwarded-for"
    monkeypatch.setenv("AEROLAKE_API_TRUSTED_PROXIES", "10.0.0.0/8")
    monkeypatch.setenv("AEROLAKE_API_FORWARDED_HEADER", "X-Real-IP")
    loaded = load_api_settings()
    assert "10.1.1.1" in loaded.trusted_proxies and loaded.forwarded_header == "x-real-ip"
    assert parse_forwarded_header("Forwarded") == "forwarded"
    with pytest.raises(ConfigurationError, match="AEROLAKE_API_FORWARDED_HEADER: 'X-Client-IP' is not one of"):
        parse_forwarded_header("X-Client-IP")


def test_python_m_aerolake_api_refuses_to_start_with_a_bad_value() -> None:
    env = {**os.environ, "PYTHONPATH": str(INCLUDE), "AEROLAKE_API_TRUSTED_PROXIES": "10.0.0.0/8,10.0.0.300"}
    result = subprocess.run([sys.executable, "-m", "aerolake.api", "--port", str(dead_port())], env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2, result.stderr
    assert "AEROLAKE_API_TRUSTED_PROXIES: '10.0.0.300' is not an IP address or CIDR network" in result.stderr
    assert "Traceback" not in result.stderr


# ----------------------------------------------------------------------------- resolving the client
TRUSTED = TrustedProxies.parse("10.0.0.0/8, 2001:db8:ffff::/48")


def headers(**values: str) -> list[tuple[bytes, bytes]]:
    return [(name.replace("_", "-").lower().encode(), value.encode()) for name, value in values.items()]


@pytest.mark.parametrize(("peer", "header", "raw", "client"), [
    # an untrusted peer is the client, whatever it says
    ("198.51.100.9", "x-forwarded-for", {"x_forwarded_for": "203.0.113.1"}, "198.51.100.9"),
    ("198.51.100.9", "forwarded", {"forwarded": "for=203.0.113.1"}, "198.51.100.9"),
    ("198.51.100.9", "x-real-ip", {"x_real_ip": "203.0.113.1"}, "198.51.100.9"),
    # a trusted proxy: the right-most hop that is not a trusted proxy
    ("10.0.0.2", "x-forwarded-for", {"x_forwarded_for": "203.0.113.1"}, "203.0.113.1"),
    ("10.0.0.2", "x-forwarded-for", {"x_forwarded_for": "6.6.6.6, 203.0.113.1"}, "203.0.113.1"),
    ("10.0.0.2", "x-forwarded-for", {"x_forwarded_for": "6.6.6.6, 203.0.113.1, 10.9.9.9"}, "203.0.113.1"),
    ("10.0.0.2", "x-forwarded-for", {"x_forwarded_for": "203.0.113.1:5555"}, "203.0.113.1"),
    ("10.0.0.2", "x-forwarded-for", {"x_forwarded_for": "[2001:db8::7]:443"}, "2001:db8::7"),
    ("10.0.0.2", "x-forwarded-for", {"x_forwarded_for": "2001:db8::7"}, "2001:db8::7"),
    ("10.0.0.2", "x-forwarded-for", {"x_forwarded_for": "10.1.1.1, 10.2.2.2"}, "10.1.1.1"),  # all trusted
    ("10.0.0.2", "x-forwarded-for", {}, "10.0.0.2"),  # the proxy itself made the request
    # garbage stops the walk at the nearest trusted hop; nothing left of it is believed
    ("10.0.0.2", "x-forwarded-for", {"x_forwarded_for": "203.0.113.1, unknown"}, "10.0.0.2"),
    ("10.0.0.2", "x-forwarded-for", {"x_forwarded_for": "203.0.113.1, garbage, 10.3.3.3"}, "10.3.3.3"),
    # only the configured header counts, even from a trusted proxy
    ("10.0.0.2", "x-forwarded-for", {"forwarded": "for=203.0.113.1", "x_real_ip": "203.0.113.2"}, "10.0.0.2"),
    ("10.0.0.2", "forwarded", {"x_forwarded_for": "203.0.113.1"}, "10.0.0.2"),
    ("10.0.0.2", "forwarded", {"forwarded": 'for=6.6.6.6, for="203.0.113.1:80";proto=https;by=10.0.0.2'},
     "203.0.113.1"),
    ("10.0.0.2", "forwarded", {"forwarded": 'For="[2001:db8:cafe::17]:4711"'}, "2001:db8:cafe::17"),
    ("10.0.0.2", "forwarded", {"forwarded": "for=_hidden, for=203.0.113.1"}, "203.0.113.1"),
    ("10.0.0.2", "forwarded", {"forwarded": "for=203.0.113.1, for=_hidden"}, "10.0.0.2"),
    ("10.0.0.2", "forwarded", {"forwarded": "proto=https"}, "10.0.0.2"),
    ("10.0.0.2", "x-real-ip", {"x_real_ip": "203.0.113.1", "x_forwarded_for": "6.6.6.6"}, "203.0.113.1"),
    ("::ffff:10.0.0.2", "x-real-ip", {"x_real_ip": "203.0.113.1"}, "203.0.113.1"),
    ("2001:db8:ffff::1", "x-forwarded-for", {"x_forwarded_for": "203.0.113.1"}, "203.0.113.1"),
])
def test_client_address(peer: str, header: str, raw: dict[str, str], client: str) -> None:
    assert client_address(peer, headers(**raw), TRUSTED, header) == client


def test_several_header_lines_form_one_chain() -> None:
    lines = [(b"x-forwarded-for", b"6.6.6.6, 203.0.113.1"), (b"x-forwarded-for", b"10.4.4.4")]
    assert client_address("10.0.0.2", lines, TRUSTED) == "203.0.113.1"
    forwarded = [(b"forwarded", b"for=6.6.6.6"), (b"forwarded", b'for="203.0.113.9";by="a,b"')]
    assert client_address("10.0.0.2", forwarded, TRUSTED, "forwarded") == "203.0.113.9"


def test_forwarded_and_node_parsing() -> None:
    assert forwarded_for_nodes(['for=1.2.3.4;by=x, proto=http;FOR="[::1]:80"', " , for=unknown"]) == [
        "1.2.3.4", "[::1]:80", "unknown"]
    assert forwarded_for_nodes(['for="a\\"b, c"']) == ['a"b, c']
    assert [node_address(n) for n in ("1.2.3.4", "1.2.3.4:80", "[::1]", "[::1]:80", "::1", "[::1]x", "unknown",
                                      "", "::ffff:1.2.3.4")] == [
        "1.2.3.4", "1.2.3.4", "::1", "::1", "::1", None, None, None, "1.2.3.4"]


# ----------------------------------------------------------------------------- over HTTP
@pytest.mark.parametrize("kind", list(ROTATING))
def test_rotating_forwarded_headers_from_an_untrusted_peer_are_limited_like_none(kind: str) -> None:
    with LogLines("aerolake.api") as log, ServerThread(create_app(settings())) as server:
        forged = statuses(server.base_url, "/run_data_import", ROTATING[kind])
    with ServerThread(create_app(settings())) as server:
        plain = statuses(server.base_url, "/run_data_import", lambda i: {})
    assert forged == plain == [403, 403, 429, 429, 429]
    assert "rate limit exceeded by 127.0.0.1" in log.text and "wrong token from 127.0.0.1" in log.text
    assert "198.51.100." not in log.text and "2001:db8::" not in log.text and "203.0.113." not in log.text


def test_a_trusted_proxy_forwards_its_clients() -> None:
    trusted = settings(trusted_proxies=TrustedProxies.parse("127.0.0.1"))
    with LogLines("aerolake.api") as log, ServerThread(create_app(trusted)) as server:
        distinct = statuses(server.base_url, "/run_data_import", xff)  # five clients, two attempts each allowed
        same = statuses(server.base_url, "/run_data_import", lambda i: {"X-Forwarded-For": "203.0.113.50"})
        # what a client writes left of the proxy's entry is never the key: the right-most untrusted hop is
        spoofed = statuses(server.base_url, "/run_data_import",
                           lambda i: {"X-Forwarded-For": f"198.51.100.{100 + i}, 203.0.113.60"})
        # a header the proxy was not configured to set is ignored: the proxy's own address is the client
        other = statuses(server.base_url, "/run_data_import", lambda i: {"X-Real-IP": f"198.51.100.{200 + i}"})
    assert distinct == [403] * 5
    assert same == spoofed == other == [403, 403, 429, 429, 429]
    assert "wrong token from 198.51.100.1" in log.text and "rate limit exceeded by 203.0.113.50" in log.text
    assert "rate limit exceeded by 203.0.113.60" in log.text and "rate limit exceeded by 127.0.0.1" in log.text
    assert "198.51.100.10" not in log.text and "198.51.100.20" not in log.text  # the spoofed, ignored ones

    real_ip = settings(trusted_proxies=TrustedProxies.parse("127.0.0.0/8"), forwarded_header="x-real-ip")
    with ServerThread(create_app(real_ip)) as server:
        assert statuses(server.base_url, "/run_data_import",
                        lambda i: {"X-Real-IP": f"198.51.100.{i}", "X-Forwarded-For": "203.0.113.1"}) == [403] * 5


def free_port() -> int:
    return dead_port()


def test_python_m_aerolake_api_ignores_forwarded_headers_from_loopback(tmp_path: Path) -> None:
    """The standalone server: uvicorn's own proxy handling (which trusts 127.0.0.1 by default) is off, so the
    access log and the limit see 127.0.0.1, not the rotating addresses."""
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(INCLUDE), "AEROLAKE_API_IMPORT_RATE_LIMIT": "2",
           "FORWARDED_ALLOW_IPS": "*"}  # uvicorn would trust everyone with this, if its proxy handling were on
    log_path = tmp_path / "api.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen([sys.executable, "-m", "aerolake.api", "--port", str(port)], env=env, stdout=log,
                                stderr=subprocess.STDOUT)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(f"{base}/openapi.json", timeout=2)
                break
            except httpx.TransportError:
                assert proc.poll() is None and time.monotonic() < deadline, log_path.read_text()
                time.sleep(0.2)
        codes = statuses(base, "/run_data_import", ROTATING["all three"])
    finally:
        proc.terminate()
        proc.wait(30)
    text = log_path.read_text()
    assert codes == [503, 503, 429, 429, 429], text  # no token configured: 503, but the limit comes first
    assert text.count('127.0.0.1:') >= 5 and '"POST /run_data_import HTTP/1.1" 429' in text
    assert "rate limit exceeded by 127.0.0.1" in text and "forwarded headers are ignored" in text
    assert "198.51.100." not in text and "203.0.113." not in text


def load_plugin_module():
    spec = importlib.util.spec_from_file_location("aerolake_plugin_under_test", PLUGIN)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_mounted_like_the_airflow_plugin_the_peer_is_the_client(monkeypatch) -> None:
    """Airflow's API server runs uvicorn without --proxy-headers by default: the mounted app sees the TCP
    peer, and rotating X-Forwarded-For is limited like no header at all."""
    monkeypatch.setenv("AEROLAKE_API_TOKEN", TOKEN)
    monkeypatch.setenv("AEROLAKE_API_IMPORT_RATE_LIMIT", "2")
    monkeypatch.setattr(sys, "argv", ["airflow", "api-server", "--port", "8080"])
    with LogLines("aerolake.api", "aerolake_plugin_under_test") as log:
        module = load_plugin_module()
        host = FastAPI()
        host.mount(module.URL_PREFIX, module.aerolake_app["app"])
        with ServerThread(host) as server:
            assert statuses(server.base_url, "/aerolake/run_data_import", ROTATING["all three"]) == [
                403, 403, 429, 429, 429]
    assert "sees the TCP peer of the Airflow API server and believes forwarded headers from nobody" in log.text
    assert "rate limit exceeded by 127.0.0.1" in log.text and "198.51.100." not in log.text


def test_the_plugin_says_what_the_airflow_api_server_trusts() -> None:
    policy = load_plugin_module().airflow_client_address_policy
    rewrites, text = policy(["airflow", "api-server"], {"AEROLAKE_API_TRUSTED_PROXIES": "10.0.0.5"})
    assert not rewrites and "forwarded headers only from AEROLAKE_API_TRUSTED_PROXIES=10.0.0.5" in text
    rewrites, text = policy(["airflow", "api-server", "--proxy-headers"], {})
    assert rewrites and "FORWARDED_ALLOW_IPS=127.0.0.1" in text and "never *" in text
    rewrites, text = policy(["airflow", "api-server", "--proxy-headers"], {}, server_type="gunicorn")
    assert rewrites and "FORWARDED_ALLOW_IPS=*" in text
    _, text = policy(["airflow", "api-server", "--proxy-headers"], {"FORWARDED_ALLOW_IPS": "10.0.0.5"})
    assert "FORWARDED_ALLOW_IPS=10.0.0.5" in text
