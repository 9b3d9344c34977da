"""Knobs of the mock API server, settable at start, on the command line and at runtime."""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

# Knobs that only make sense before the socket is bound.
STARTUP_ONLY = frozenset({"host", "port"})


@dataclass
class MockConfig:
    """Behaviour of the mock server.

    Rates are fractions of data calls (0.0-1.0).  The token endpoint is exempt from every fault
    knob except ``latency_ms``, so clients can always log in.
    """

    host: str = "127.0.0.1"
    port: int = 0  # 0 = pick a free port
    seed: int = 0
    flights_per_hub: int = 200
    token_ttl: int = 21600  # seconds
    qps_limit: float | None = 5.0  # calls per second per token (sliding 1 s window); None/0 = off
    error_rate: float = 0.0  # answered 500/502/503
    rate_limit_rate: float = 0.0  # answered 403 "Account Over Queries Per Second Limit"
    latency_ms: int = 0
    truncate_rate: float = 0.0  # 200 bodies cut in half (malformed JSON)
    malformed_paths: list[str] = field(default_factory=list)  # regexes over path+query: always cut
    anomalies: bool = False
    today: date | None = None  # if set, flight status serves only today-1 .. today+5
    client_id: str | None = None  # if both set, only these credentials get a token
    client_secret: str | None = None
    hubs: tuple[str, ...] = ("FRA", "MUC")  # airports searched by flight-number look-ups
    #: the mock's clock for real-time answers (Airlabs positions and schedules, Aviation Stack ``live``):
    #: None = the wall clock; set it (ISO 8601, UTC) to replay a moment deterministically
    now: datetime | None = None
    #: Aviation Stack: the accepted ``access_key`` (None accepts any; the default is
    #: ``aerolake.core.settings.OFFLINE_API_KEY``), calls allowed per month of the mock clock and per 60 s
    #: (None = unlimited; over them: 429 ``usage_limit_reached`` / ``rate_limit_reached``), and whether a
    #: ``flight_date`` other than today or yesterday (mock clock, UTC) is refused as on the free plan
    aviationstack_access_key: str | None = "aerolake-offline"
    aviationstack_monthly_limit: int | None = None
    aviationstack_minute_limit: int | None = None
    aviationstack_restrict_dates: bool = False
    #: Airlabs: the accepted ``api_key`` (None accepts any non-empty key; the default is
    #: ``aerolake.core.settings.OFFLINE_API_KEY``), whether that key answers ``expired_api_key``, calls allowed
    #: per sliding minute / hour and in total since start or reset (the "month"; None = unlimited; over them
    #: 429 ``minute_limit_exceeded`` / ``hour_limit_exceeded`` / ``month_limit_exceeded``), the largest
    #: ``limit`` a schedules page honours, and whether every error body goes out with HTTP 200 (as the real
    #: API often does: clients must read the body)
    airlabs_api_key: str | None = "aerolake-offline"
    airlabs_key_expired: bool = False
    airlabs_minute_limit: int | None = None
    airlabs_hour_limit: int | None = None
    airlabs_month_limit: int | None = None
    airlabs_max_limit: int = 1000
    airlabs_errors_as_200: bool = False
    #: OpenSky: the auth server's token lifetime (seconds), the accepted client id and secret (None: any
    #: non-empty pair), and the credits a day (UTC, mock clock) of a registered and of an anonymous caller
    #: (None: unlimited; over them 429 with ``X-Rate-Limit-Retry-After-Seconds``)
    opensky_token_ttl: int = 1800
    opensky_client_id: str | None = None
    opensky_client_secret: str | None = None
    opensky_daily_credits: int | None = 4000
    opensky_anonymous_credits: int | None = 400

    def __post_init__(self) -> None:
        self.port = int(self.port)
        self.seed = int(self.seed)
        self.flights_per_hub = int(self.flights_per_hub)
        self.token_ttl = int(self.token_ttl)
        self.latency_ms = int(self.latency_ms)
        self.qps_limit = float(self.qps_limit) if self.qps_limit else None
        for name in ("error_rate", "rate_limit_rate", "truncate_rate"):
            value = float(getattr(self, name))
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"MockConfig.{name} must be between 0 and 1, got {value}")
            setattr(self, name, value)
        if self.error_rate + self.rate_limit_rate > 1.0:
            raise ValueError("MockConfig.error_rate + rate_limit_rate must not exceed 1")
        if (
            self.flights_per_hub < 0
            or self.token_ttl <= 0
            or self.latency_ms < 0
            or not 0 <= self.port < 65536
        ):
            raise ValueError(
                "MockConfig: flights_per_hub and latency_ms must be >= 0, token_ttl > 0, port in 0..65535"
            )
        if isinstance(self.malformed_paths, str):
            self.malformed_paths = [self.malformed_paths]
        self.malformed_paths = [str(p) for p in self.malformed_paths or []]
        for pattern in self.malformed_paths:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"MockConfig.malformed_paths: bad regex {pattern!r}: {exc}") from exc
        if isinstance(self.today, str):
            self.today = date.fromisoformat(self.today) if self.today else None
        if isinstance(self.now, str):
            self.now = datetime.fromisoformat(self.now.replace("Z", "+00:00")) if self.now else None
        if self.now is not None:
            self.now = (self.now.replace(tzinfo=UTC) if self.now.tzinfo is None else self.now.astimezone(UTC))
        if isinstance(self.hubs, str):
            self.hubs = tuple(h for h in self.hubs.split(",") if h)
        self.hubs = tuple(str(h).strip().upper() for h in self.hubs)
        self.anomalies = bool(self.anomalies)
        self.client_id = self.client_id or None
        self.client_secret = self.client_secret or None
        self.aviationstack_access_key = self.aviationstack_access_key or None
        for name in ("aviationstack_monthly_limit", "aviationstack_minute_limit"):
            value = getattr(self, name)
            value = None if value in (None, "") else int(value)
            if value is not None and value < 0:
                raise ValueError(f"MockConfig.{name} must be >= 0 or None, got {value}")
            setattr(self, name, value)
        self.aviationstack_restrict_dates = bool(self.aviationstack_restrict_dates)
        self.airlabs_api_key = self.airlabs_api_key or None
        for name in ("airlabs_minute_limit", "airlabs_hour_limit", "airlabs_month_limit"):
            value = getattr(self, name)
            value = None if value in (None, "") else int(value)
            if value is not None and value < 0:
                raise ValueError(f"MockConfig.{name} must be >= 0 or None, got {value}")
            setattr(self, name, value)
        self.airlabs_max_limit = int(self.airlabs_max_limit)
        if self.airlabs_max_limit < 1:
            raise ValueError(f"MockConfig.airlabs_max_limit must be >= 1, got {self.airlabs_max_limit}")
        self.airlabs_key_expired = bool(self.airlabs_key_expired)
        self.airlabs_errors_as_200 = bool(self.airlabs_errors_as_200)
        self.opensky_token_ttl = int(self.opensky_token_ttl)
        if self.opensky_token_ttl <= 0:
            raise ValueError(f"MockConfig.opensky_token_ttl must be > 0, got {self.opensky_token_ttl}")
        self.opensky_client_id = self.opensky_client_id or None
        self.opensky_client_secret = self.opensky_client_secret or None
        for name in ("opensky_daily_credits", "opensky_anonymous_credits"):
            value = getattr(self, name)
            value = None if value in (None, "") else int(value)
            if value is not None and value < 0:
                raise ValueError(f"MockConfig.{name} must be >= 0 or None, got {value}")
            setattr(self, name, value)

    def current_time(self) -> datetime:
        """The mock's "now" (UTC, aware): the ``now`` knob, else the wall clock."""
        return self.now or datetime.now(UTC)

    def updated(self, **changes: Any) -> MockConfig:
        """A validated copy with ``changes`` applied (unknown knob names raise ValueError)."""
        known = {f.name for f in dataclasses.fields(self)}
        unknown = sorted(set(changes) - known)
        if unknown:
            raise ValueError(
                f"unknown MockConfig knob(s): {', '.join(unknown)}; known: {', '.join(sorted(known))}"
            )
        return dataclasses.replace(self, **changes)

    def to_public_dict(self) -> dict[str, Any]:
        """JSON-able view for /_mock/config; the client secret is masked."""
        out = dataclasses.asdict(self)
        out["today"] = self.today.isoformat() if self.today else None
        out["now"] = self.now.isoformat() if self.now else None
        out["hubs"] = list(self.hubs)
        out["client_secret"] = "***" if self.client_secret else None
        out["aviationstack_access_key"] = "***" if self.aviationstack_access_key else None
        out["airlabs_api_key"] = "***" if self.airlabs_api_key else None
        out["opensky_client_secret"] = "***" if self.opensky_client_secret else None
        return out
