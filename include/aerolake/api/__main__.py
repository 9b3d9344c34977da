"""``python -m aerolake.api``: serve the web API and pages with uvicorn.

Host and port from ``AEROLAKE_API_HOST`` / ``AEROLAKE_API_PORT`` (default 127.0.0.1:8000), or ``--host`` /
``--port``; MySQL, MongoDB, S3 and Airflow as configured (offline defaults otherwise).

uvicorn's own proxy-header handling is off (``proxy_headers=False``; by default it would take
``X-Forwarded-For`` from any loopback peer): only the app decides whom to believe, from
``AEROLAKE_API_TRUSTED_PROXIES`` (:mod:`aerolake.api.forwarding`). A bad setting stops the server at start
with a message naming it (exit code 2).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m aerolake.api", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default=os.environ.get("AEROLAKE_API_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("AEROLAKE_API_PORT", "8000")))
    parser.add_argument("--log-level", default=os.environ.get("AEROLAKE_API_LOG_LEVEL", "info"))
    args = parser.parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    import uvicorn

    from aerolake.api import create_app
    from aerolake.core.errors import ConfigurationError

    try:
        app = create_app()
    except (ConfigurationError, ValueError) as exc:
        print(f"python -m aerolake.api: {exc}", file=sys.stderr)
        return 2
    uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level.lower(), proxy_headers=False,
                forwarded_allow_ips="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
