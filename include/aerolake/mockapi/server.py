"""HTTP plumbing of the mock API: routing by source prefix, fault knobs, rate limits and stats.

Each provider is a ``Source`` mounted under its own prefix (``/lufthansa/v1`` today; Airlabs and
Aviation Stack later).  A source knows its auth scheme, its error bodies and its routes; this
module applies the cross-cutting behaviour to every data call, in this order:

1. ``latency_ms`` sleep (every source call, token endpoint included);
2. authentication (401 from the source);
3. per-credential ``qps_limit`` over a sliding one-second window (403 from the source);
4. injected faults drawn from the seeded RNG: ``error_rate`` (500/502/503) then
   ``rate_limit_rate`` (403);
5. the source's answer; a 200 body is cut in half when ``truncate_rate`` fires or the path+query
   matches one of ``malformed_paths``.

Fault draws use one ``random.Random(seed)`` under a lock, four draws per data call whatever the
knob values, so a sequential run is reproducible for a seed.  ``reset_stats()`` also re-seeds it.

Admin endpoints (never counted, never faulted): ``GET /_mock/health``, ``GET /_mock/stats``,
``POST /_mock/reset``, ``GET|POST /_mock/config``, ``POST /_mock/expire_tokens``.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from random import Random
from typing import Any
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit

from aerolake.mockapi.config import STARTUP_ONLY, MockConfig
from aerolake.mockapi.world import World

log = logging.getLogger("aerolake.mockapi")

SECRET_PARAMS = frozenset({"client_secret", "api_key", "access_key", "access_token", "token", "key"})


def dumps(obj: Any) -> bytes:
    """Compact, key-order-preserving JSON (byte-identical for identical input)."""
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


@dataclass
class Request:
    method: str
    path: str  # full path, e.g. /lufthansa/v1/references/airports
    subpath: str  # path below the source prefix, without surrounding slashes
    query: list[tuple[str, str]]
    headers: Message
    body: bytes
    base_url: str  # scheme://host[:port] as the client addressed us

    def param(self, name: str, default: str | None = None) -> str | None:
        for key, value in self.query:
            if key == name:
                return value
        return default

    def int_param(self, name: str, default: int, invalid: Callable[[], Exception]) -> int:
        """Parameter ``name`` as an integer, ``default`` when absent or empty; not a number raises ``invalid()``
        (each API answers that in its own way)."""
        raw = self.param(name)
        if raw is None or raw == "":
            return default
        try:
            return int(raw)
        except ValueError:
            raise invalid() from None

    def form(self) -> dict[str, str]:
        return dict(parse_qsl(self.body.decode("utf-8", "replace"), keep_blank_values=True))

    def url_with(self, **overrides: object) -> str:
        """This request's URL with query parameters replaced (used for paging links)."""
        params = [(k, str(v)) for k, v in overrides.items()]
        params += [(k, v) for k, v in self.query if k not in overrides]
        return f"{self.base_url}{self.path}?{urlencode(params)}"


@dataclass
class Response:
    status: int
    body: bytes
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def json(cls, status: int, obj: Any, **headers: str) -> Response:
        return cls(status, dumps(obj), "application/json", dict(headers))


class Source:
    """One provider mounted under ``prefix``; subclasses implement its auth, errors and routes."""

    name = "source"
    prefix = "/source"

    def __init__(self, server: MockServer) -> None:
        self.server = server

    def endpoint_group(self, req: Request) -> str:
        raise NotImplementedError

    def is_public(self, req: Request) -> bool:
        """Calls that need no credentials and are never faulted (e.g. the token endpoint)."""
        return False

    def authenticate(self, req: Request) -> tuple[str | None, Response | None]:
        """(credential key for rate limiting, None) or (None, error response)."""
        raise NotImplementedError

    def over_limit(self) -> Response:
        raise NotImplementedError

    def server_error(self, status: int) -> Response:
        raise NotImplementedError

    def not_found(self, req: Request) -> Response:
        return Response.json(404, {"Error": "Service Not Found"})

    def expire_tokens(self) -> int:
        return 0

    def reset(self) -> None:
        """Forget per-source state kept across calls (e.g. quota usage); called by ``reset_stats``."""

    def handle(self, req: Request) -> Response:
        raise NotImplementedError


class MockServer:
    """The state behind the HTTP server: config, world, sources, stats, rate-limit windows."""

    def __init__(self, config: MockConfig | None = None) -> None:
        from aerolake.mockapi.airlabs import AirlabsSource  # (they import this module)
        from aerolake.mockapi.aviationstack import AviationstackSource  # (they import this module)
        from aerolake.mockapi.lufthansa import LufthansaSource  # imported here: lufthansa imports this module
        from aerolake.mockapi.opensky import OpenskySource  # (it imports this module)

        self.config = config or MockConfig()
        self._lock = threading.RLock()
        self._rng = Random(self.config.seed)
        self._qps: dict[str, deque[float]] = {}
        self._requests: Counter[str] = Counter()
        self._statuses: Counter[str] = Counter()
        self._world: World | None = None
        self._world_key: tuple | None = None
        self._malformed = [re.compile(p) for p in self.config.malformed_paths]
        self.sources: list[Source] = [LufthansaSource(self), AviationstackSource(self), AirlabsSource(self),
                                      OpenskySource(self)]

    # ---- state --------------------------------------------------------------------------------

    @property
    def world(self) -> World:
        cfg = self.config
        key = (cfg.seed, cfg.flights_per_hub, cfg.anomalies, cfg.hubs)
        with self._lock:
            if self._world is None or self._world_key != key:
                self._world = World(cfg.seed, cfg.flights_per_hub, cfg.anomalies, cfg.hubs)
                self._world_key = key
            return self._world

    def configure(self, **changes: Any) -> MockConfig:
        """Change knobs at runtime (host and port excepted); returns the new config."""
        fixed = sorted(k for k in changes if k in STARTUP_ONLY and changes[k] != getattr(self.config, k))
        if fixed:
            raise ValueError(f"{', '.join(fixed)} can only be set at start")
        with self._lock:
            new = self.config.updated(**changes)
            if new.seed != self.config.seed:
                self._rng = Random(new.seed)
            self._malformed = [re.compile(p) for p in new.malformed_paths]
            self.config = new
        log.info("mock config changed: %s", ", ".join(sorted(changes)) or "nothing")
        return new

    def stats(self) -> dict[str, Any]:
        with self._lock:
            return {
                "requests": dict(sorted(self._requests.items())),
                "total": sum(self._requests.values()),
                "status_counts": dict(sorted(self._statuses.items())),
            }

    def reset_stats(self) -> None:
        """Zero the counters, clear rate-limit windows and re-seed the fault RNG."""
        with self._lock:
            self._requests.clear()
            self._statuses.clear()
            self._qps.clear()
            self._rng = Random(self.config.seed)
        for source in self.sources:
            source.reset()

    def expire_tokens(self) -> int:
        return sum(source.expire_tokens() for source in self.sources)

    # ---- dispatch -----------------------------------------------------------------------------

    def _within_qps(self, credential: str) -> bool:
        limit = self.config.qps_limit
        if not limit:
            return True
        now = time.monotonic()
        with self._lock:
            window = self._qps.setdefault(credential, deque())
            while window and window[0] <= now - 1.0:
                window.popleft()
            if len(window) >= limit:
                return False
            window.append(now)
            return True

    def _draw(self) -> tuple[float, float, float, float]:
        with self._lock:
            r = self._rng
            return r.random(), r.random(), r.random(), r.random()

    def dispatch(self, req: Request) -> Response:
        if req.path.startswith("/_mock/") or req.path == "/_mock":
            return self._admin(req)
        source = next(
            (s for s in self.sources if req.path == s.prefix or req.path.startswith(s.prefix + "/")), None
        )
        if source is None:
            resp = Response.json(404, {"Error": f"No mock source serves {req.path}"})
            self._count("unknown", resp.status)
            return resp
        req.subpath = req.path[len(source.prefix) :].strip("/")
        cfg = self.config
        if cfg.latency_ms:
            time.sleep(cfg.latency_ms / 1000.0)
        group = source.endpoint_group(req)
        resp = self._serve(source, req, cfg)
        self._count(group, resp.status)
        return resp

    def _serve(self, source: Source, req: Request, cfg: MockConfig) -> Response:
        if source.is_public(req):
            return source.handle(req)
        u_error, u_kind, u_limit, u_truncate = self._draw()
        credential, denied = source.authenticate(req)
        if denied is not None:
            return denied
        if not self._within_qps(f"{source.name}:{credential}"):
            return source.over_limit()
        if u_error < cfg.error_rate:
            return source.server_error((500, 502, 503)[int(u_kind * 3) % 3])
        if u_limit < cfg.rate_limit_rate:
            return source.over_limit()
        resp = source.handle(req)
        if resp.status == 200:
            target = req.path + ("?" + urlencode(req.query) if req.query else "")
            if u_truncate < cfg.truncate_rate or any(p.search(target) for p in self._malformed):
                resp.body = resp.body[: len(resp.body) // 2]
        return resp

    def _count(self, group: str, status: int) -> None:
        with self._lock:
            self._requests[group] += 1
            self._statuses[str(status)] += 1

    def _admin(self, req: Request) -> Response:
        action = req.path[len("/_mock/") :].strip("/")
        if action == "health" and req.method == "GET":
            return Response.json(200, {"status": "ok"})
        if action == "stats" and req.method == "GET":
            return Response.json(200, self.stats())
        if action == "reset" and req.method == "POST":
            self.reset_stats()
            return Response.json(200, {"status": "reset"})
        if action == "expire_tokens" and req.method == "POST":
            return Response.json(200, {"expired": self.expire_tokens()})
        if action == "config" and req.method == "GET":
            return Response.json(200, self.config.to_public_dict())
        if action == "config" and req.method == "POST":
            try:
                changes = json.loads(req.body or b"{}")
                if not isinstance(changes, dict):
                    raise ValueError("body must be a JSON object of knob: value")
                cfg = self.configure(**changes)
            except (ValueError, TypeError) as exc:
                return Response.json(400, {"error": str(exc)})
            return Response.json(200, cfg.to_public_dict())
        return Response.json(404, {"error": f"unknown admin endpoint {req.method} {req.path}"})


def redact_target(path: str, query: list[tuple[str, str]]) -> str:
    """Path + query for logs, secret-looking parameters masked."""
    if not query:
        return path
    safe = [(k, "***" if k.lower() in SECRET_PARAMS else v) for k, v in query]
    return f"{path}?{urlencode(safe)}"


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out in separate writes
    server_version = "aerolake-mockapi/1.0"
    mock: MockServer  # set on the per-server subclass

    def _handle(self) -> None:
        started = time.perf_counter()
        split = urlsplit(self.path)
        query = parse_qsl(split.query, keep_blank_values=True)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        host = self.headers.get("Host") or "{}:{}".format(*self.server.server_address[:2])
        req = Request(
            self.command, unquote(split.path) or "/", "", query, self.headers, body, f"http://{host}"
        )
        try:
            resp = self.mock.dispatch(req)
        except Exception:  # a bug in the mock must answer 500, not kill the connection
            log.exception("mock API failed on %s %s", self.command, split.path)
            resp = Response.json(500, {"Error": "mock server bug; see the server log"})
        # logged before the reply goes out, so the line exists once the client has its answer
        log.info(
            "%s %s %d %.1fms",
            self.command,
            redact_target(split.path, query),
            resp.status,
            (time.perf_counter() - started) * 1000,
        )
        self.send_response(resp.status)
        self.send_header("Content-Type", resp.content_type)
        self.send_header("Content-Length", str(len(resp.body)))
        for name, value in resp.headers.items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(resp.body)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = _handle

    def log_message(self, format: str, *args: Any) -> None:
        """Silence the stdlib's per-request stderr line (we log our own, secret-free)."""


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128


class MockApi:
    """The mock server running in a daemon thread; a context manager for tests.

    >>> with MockApi(MockConfig(flights_per_hub=50, qps_limit=None)) as api:
    ...     api.lufthansa_url  # doctest: +SKIP
    """

    def __init__(self, config: MockConfig | None = None, **knobs: Any) -> None:
        config = config or MockConfig()
        self.mock = MockServer(config.updated(**knobs) if knobs else config)
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def config(self) -> MockConfig:
        return self.mock.config

    def start(self) -> MockApi:
        if self._httpd is not None:
            return self
        handler = type("MockHandler", (_Handler,), {"mock": self.mock})
        self._httpd = _HTTPServer((self.config.host, self.config.port), handler)
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.1},
            name="aerolake-mockapi",
            daemon=True,
        )
        self._thread.start()
        log.info("mock API listening on %s", self.base_url)
        return self

    def stop(self) -> None:
        if self._httpd is None:
            return
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._httpd = self._thread = None
        log.info("mock API stopped")

    def __enter__(self) -> MockApi:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._httpd is None:
            raise RuntimeError("MockApi is not running; call start() or use it as a context manager")
        return int(self._httpd.server_address[1])

    @property
    def base_url(self) -> str:
        return f"http://{self.config.host}:{self.port}"

    @property
    def lufthansa_url(self) -> str:
        return self.base_url + "/lufthansa/v1"

    @property
    def airlabs_url(self) -> str:
        return self.base_url + "/airlabs/api/v9"

    @property
    def aviationstack_url(self) -> str:
        return self.base_url + "/aviationstack/v1"

    @property
    def opensky_url(self) -> str:
        return self.base_url + "/opensky/api"

    def stats(self) -> dict[str, Any]:
        return self.mock.stats()

    def reset_stats(self) -> None:
        self.mock.reset_stats()

    def expire_tokens(self) -> int:
        return self.mock.expire_tokens()

    def configure(self, **changes: Any) -> MockConfig:
        return self.mock.configure(**changes)

    @property
    def world(self) -> World:
        return self.mock.world
