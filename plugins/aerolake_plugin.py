"""Airflow 3 plugin: the aerolake web API and pages inside the Airflow API server, linked from its UI.

- ``fastapi_apps`` mounts the app (``aerolake.api.create_app``) at ``/aerolake`` of the API server: the map at
  ``/aerolake/``, the dashboard at ``/aerolake/dashboard``, the API under ``/aerolake/...`` (its OpenAPI schema at
  ``/aerolake/openapi.json``). The app checks its own token for ``run_data_import``; Airflow's auth does not
  cover plugin apps.
- ``external_views`` adds an "aerolake" menu to the Airflow UI's navigation with the map and the dashboard,
  rendered inside the UI (``url_route``) in an iframe.

Importing this module reads settings from the environment only: MySQL, MongoDB, S3 and Airflow connections
are looked up on first use, never at import. A bad setting (e.g. ``AEROLAKE_API_TRUSTED_PROXIES``) makes the
import fail with a message naming it, and Airflow reports the plugin as failed to load.

**Client addresses.** A mounted app sees the ASGI scope the Airflow API server gives it: its ``client`` is
the TCP peer unless the server was started with ``--proxy-headers``, in which case uvicorn has already
replaced it with an ``X-Forwarded-For`` address, believing the peers in ``FORWARDED_ALLOW_IPS`` (uvicorn's
default 127.0.0.1; Airflow's gunicorn server type: every peer). The app cannot undo that. Without
``--proxy-headers`` (Airflow's default, and compose's) the app applies its own rule on top of the real peer:
forwarded headers only from ``AEROLAKE_API_TRUSTED_PROXIES``. :func:`airflow_client_address_policy` says which
case holds; it is logged when the plugin loads, as a warning when the server trusts forwarded headers itself.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Mapping, Sequence

from airflow.plugins_manager import AirflowPlugin

from aerolake.api import create_app

log = logging.getLogger(__name__)

URL_PREFIX = "/aerolake"


def airflow_client_address_policy(argv: Sequence[str], environ: Mapping[str, str],
                                  server_type: str = "uvicorn") -> tuple[bool, str]:
    """(the Airflow API server rewrites the client address itself, what the aerolake app trusts), for an API
    server process started with ``argv`` in ``environ`` (its ``[api] server_type``)."""
    own = environ.get("AEROLAKE_API_TRUSTED_PROXIES", "").strip()
    ours = (f"forwarded headers only from AEROLAKE_API_TRUSTED_PROXIES={own}" if own
            else "forwarded headers from nobody (AEROLAKE_API_TRUSTED_PROXIES is empty)")
    if "--proxy-headers" not in argv:
        return False, f"the aerolake app sees the TCP peer of the Airflow API server and believes {ours}"
    allowed = environ.get("FORWARDED_ALLOW_IPS") or ("*" if server_type == "gunicorn" else "127.0.0.1")
    return True, (f"the Airflow API server runs with --proxy-headers: it replaces the client address with "
                  f"X-Forwarded-For from peers in FORWARDED_ALLOW_IPS={allowed} before the aerolake app sees it "
                  f"(then the app believes {ours}). Set FORWARDED_ALLOW_IPS to exactly your reverse proxies "
                  "(never *), or drop --proxy-headers and list them in AEROLAKE_API_TRUSTED_PROXIES")


def _log_client_address_policy() -> None:
    from airflow.configuration import conf

    rewrites, text = airflow_client_address_policy(sys.argv, os.environ,
                                                   conf.get("api", "server_type", fallback="uvicorn").lower())
    (log.warning if rewrites else log.info)("aerolake plugin: %s", text)


_log_client_address_policy()

aerolake_app = {"app": create_app(), "url_prefix": URL_PREFIX, "name": "aerolake web API and pages"}

map_view = {
    "name": "Airport map",
    "href": f"{URL_PREFIX}/",
    "destination": "nav",
    "category": "aerolake",
    "url_route": "aerolake-map",
}
dashboard_view = {
    "name": "Flight dashboard",
    "href": f"{URL_PREFIX}/dashboard",
    "destination": "nav",
    "category": "aerolake",
    "url_route": "aerolake-dashboard",
}
api_docs_view = {
    "name": "aerolake API",
    "href": f"{URL_PREFIX}/docs",
    "destination": "nav",
    "category": "aerolake",
}


class AerolakePlugin(AirflowPlugin):
    """Mounts the aerolake FastAPI app and links its pages from the Airflow UI."""

    name = "aerolake"
    fastapi_apps = [aerolake_app]
    external_views = [map_view, dashboard_view, api_docs_view]
