"""Run the mock API in the foreground: ``python -m aerolake.mockapi --port 8090``.

Stops cleanly on SIGINT or SIGTERM.  The credentials it accepts can come from the environment, so they do
not show in the process list: ``AEROLAKE_MOCK_CLIENT_ID`` / ``AEROLAKE_MOCK_CLIENT_SECRET`` (Lufthansa),
``AEROLAKE_MOCK_AIRLABS_API_KEY`` (Airlabs) and ``AEROLAKE_MOCK_AVIATIONSTACK_ACCESS_KEY`` (Aviation Stack);
the two keys default to the offline key (``aerolake.core.settings.OFFLINE_API_KEY``). docker-compose sets
them to the keys of its connections (``AIRLABS_API_KEY`` / ``AVIATIONSTACK_ACCESS_KEY`` of ``.env``).
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
from collections.abc import Sequence
from datetime import date

from aerolake.mockapi.config import MockConfig
from aerolake.mockapi.server import MockApi


def _rate(text: str) -> float:
    value = float(text)
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1, got {text}")
    return value


def build_parser() -> argparse.ArgumentParser:
    defaults = MockConfig()
    p = argparse.ArgumentParser(prog="python -m aerolake.mockapi", description=__doc__.splitlines()[0])
    p.add_argument("--host", default=defaults.host)
    p.add_argument("--port", type=int, default=8090, help="0 picks a free port (default 8090)")
    p.add_argument("--seed", type=int, default=defaults.seed)
    p.add_argument("--flights-per-hub", type=int, default=defaults.flights_per_hub)
    p.add_argument(
        "--hubs", default=",".join(defaults.hubs), help="comma list searched by flight-number look-ups"
    )
    p.add_argument("--token-ttl", type=int, default=defaults.token_ttl, help="seconds")
    p.add_argument(
        "--qps-limit", type=float, default=defaults.qps_limit, help="calls/s per token; 0 disables"
    )
    p.add_argument("--error-rate", type=_rate, default=0.0, help="fraction answered 500/502/503")
    p.add_argument("--rate-limit-rate", type=_rate, default=0.0, help="fraction answered 403 over-QPS")
    p.add_argument("--latency-ms", type=int, default=0)
    p.add_argument("--truncate-rate", type=_rate, default=0.0, help="fraction of 200 bodies cut in half")
    p.add_argument("--malformed-path", action="append", default=[], metavar="REGEX",
                   help="200 responses whose path+query match are always truncated (repeatable)")  # fmt: skip
    p.add_argument("--anomalies", action="store_true", help="inject the documented bad records")
    p.add_argument("--today", type=date.fromisoformat, default=None,
                   help="YYYY-MM-DD; flight status then serves only today-1 .. today+5")  # fmt: skip
    p.add_argument("--now", default=None,
                   help="ISO 8601 UTC time the real-time answers are for (default: the wall clock)")  # fmt: skip
    p.add_argument("--aviationstack-access-key",
                   default=os.environ.get("AEROLAKE_MOCK_AVIATIONSTACK_ACCESS_KEY", defaults.aviationstack_access_key),
                   help="the access_key Aviation Stack accepts; empty accepts any "
                        "(env AEROLAKE_MOCK_AVIATIONSTACK_ACCESS_KEY)")  # fmt: skip
    p.add_argument("--aviationstack-monthly-limit", type=int, default=None,
                   help="Aviation Stack calls per month (mock clock) before 429 usage_limit_reached")  # fmt: skip
    p.add_argument("--aviationstack-minute-limit", type=int, default=None,
                   help="Aviation Stack calls per 60 s before 429 rate_limit_reached")  # fmt: skip
    p.add_argument("--aviationstack-restrict-dates", action="store_true",
                   help="refuse a flight_date other than today or yesterday (403, as the free plan)")  # fmt: skip
    p.add_argument("--airlabs-api-key", default=os.environ.get("AEROLAKE_MOCK_AIRLABS_API_KEY",
                                                                defaults.airlabs_api_key),
                   help="the api_key Airlabs accepts; empty accepts any (env AEROLAKE_MOCK_AIRLABS_API_KEY)")  # fmt: skip
    p.add_argument("--airlabs-key-expired", action="store_true",
                   help="Airlabs answers expired_api_key for the accepted key")  # fmt: skip
    p.add_argument("--airlabs-minute-limit", type=int, default=None,
                   help="Airlabs calls per sliding minute before minute_limit_exceeded")  # fmt: skip
    p.add_argument("--airlabs-hour-limit", type=int, default=None,
                   help="Airlabs calls per sliding hour before hour_limit_exceeded")  # fmt: skip
    p.add_argument("--airlabs-month-limit", type=int, default=None,
                   help="Airlabs calls since start or reset before month_limit_exceeded")  # fmt: skip
    p.add_argument("--airlabs-max-limit", type=int, default=defaults.airlabs_max_limit,
                   help="largest limit an Airlabs schedules page honours")  # fmt: skip
    p.add_argument("--airlabs-errors-as-200", action="store_true",
                   help="send every Airlabs error body with HTTP 200")  # fmt: skip
    p.add_argument("--opensky-token-ttl", type=int, default=defaults.opensky_token_ttl,
                   help="seconds an OpenSky access token lives")  # fmt: skip
    p.add_argument("--opensky-daily-credits", type=int, default=defaults.opensky_daily_credits,
                   help="OpenSky credits a day of a registered caller (UTC, mock clock)")  # fmt: skip
    p.add_argument("--opensky-anonymous-credits", type=int, default=defaults.opensky_anonymous_credits,
                   help="OpenSky credits a day of an anonymous caller")  # fmt: skip
    p.add_argument("--client-id", default=os.environ.get("AEROLAKE_MOCK_CLIENT_ID"))
    p.add_argument("--client-secret", default=os.environ.get("AEROLAKE_MOCK_CLIENT_SECRET"))
    p.add_argument("--log-level", default="INFO")
    return p


def config_from_args(args: argparse.Namespace) -> MockConfig:
    """The server's knobs from parsed command-line arguments (and the environment defaults they carry)."""
    return MockConfig(
        host=args.host,
        port=args.port,
        seed=args.seed,
        flights_per_hub=args.flights_per_hub,
        hubs=args.hubs,
        token_ttl=args.token_ttl,
        qps_limit=args.qps_limit,
        error_rate=args.error_rate,
        rate_limit_rate=args.rate_limit_rate,
        latency_ms=args.latency_ms,
        truncate_rate=args.truncate_rate,
        malformed_paths=args.malformed_path,
        anomalies=args.anomalies,
        today=args.today,
        now=args.now,
        client_id=args.client_id,
        client_secret=args.client_secret,
        aviationstack_access_key=args.aviationstack_access_key,
        aviationstack_monthly_limit=args.aviationstack_monthly_limit,
        aviationstack_minute_limit=args.aviationstack_minute_limit,
        aviationstack_restrict_dates=args.aviationstack_restrict_dates,
        airlabs_api_key=args.airlabs_api_key,
        airlabs_key_expired=args.airlabs_key_expired,
        airlabs_minute_limit=args.airlabs_minute_limit,
        airlabs_hour_limit=args.airlabs_hour_limit,
        airlabs_month_limit=args.airlabs_month_limit,
        airlabs_max_limit=args.airlabs_max_limit,
        airlabs_errors_as_200=args.airlabs_errors_as_200,
        opensky_token_ttl=args.opensky_token_ttl,
        opensky_daily_credits=args.opensky_daily_credits,
        opensky_anonymous_credits=args.opensky_anonymous_credits,
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    config = config_from_args(args)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    with MockApi(config) as api:
        _ = api.world.ref  # load reference data now, not on the first request
        print(f"aerolake mock API on {api.base_url}  (Lufthansa: {api.lufthansa_url}, "
              f"Aviation Stack: {api.aviationstack_url}, Airlabs: {api.airlabs_url}, "
              f"OpenSky: {api.opensky_url})", flush=True)
        while not stop.wait(0.5):
            pass
        print("shutting down", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
