"""Airflow 3 plugin: the aerolake web API and pages inside the Airflow API server, linked from its UI.

- ``fastapi_apps`` mounts the app (``aerolake.api.create_app``) at ``/aerolake`` of the API server: the map at
  ``/aerolake/``, the dashboard at ``/aerolake/dashboard``, the API under ``/aerolake/...`` (its OpenAPI schema at
  ``/aerolake/openapi.json``). The app checks its own token for ``run_data_import``; Airflow's auth does not
  cover plugin apps.
- ``external_views`` adds an "aerolake" menu to the Airflow UI's navigation with the map and the dashboard,
  rendered inside the UI (``url_route``) in an iframe.

Importing this module reads settings from the environment only: MySQL, MongoDB, S3 and Airflow connections
are looked up on first use, never at import.
"""

from __future__ import annotations

from airflow.plugins_manager import AirflowPlugin

from aerolake.api import create_app

URL_PREFIX = "/aerolake"

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
