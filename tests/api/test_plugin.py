"""The Airflow plugin imports, registers the app under /aerolake and links the pages from the UI."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from fastapi import FastAPI
from fastapi.testclient import TestClient

PLUGIN = Path(__file__).resolve().parents[2] / "plugins" / "aerolake_plugin.py"


def load_plugin_module():
    spec = importlib.util.spec_from_file_location("aerolake_plugin", PLUGIN)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_plugin_exposes_the_app_and_the_links(seeded_db, monkeypatch) -> None:
    monkeypatch.setenv("AEROLAKE_MYSQL_DATABASE", seeded_db.database)
    module = load_plugin_module()
    plugin = module.AerolakePlugin
    assert plugin.name == "aerolake"
    [entry] = plugin.fastapi_apps
    assert entry["url_prefix"] == "/aerolake" and isinstance(entry["app"], FastAPI)
    views = {v["name"]: v for v in plugin.external_views}
    assert views["Airport map"]["href"] == "/aerolake/" and views["Airport map"]["url_route"] == "aerolake-map"
    assert views["Flight dashboard"]["href"] == "/aerolake/dashboard"
    assert all(v["destination"] == "nav" and v["category"] == "aerolake" for v in views.values())
    assert all(not v.get("url_route", "x").startswith("/") for v in views.values())

    # Mounted like the Airflow API server does (app.mount(url_prefix, subapp)): pages and API answer there,
    # and the pages point at assets under the prefix.
    host = FastAPI()
    host.mount(entry["url_prefix"], entry["app"])
    with TestClient(host) as client:
        page = client.get("/aerolake/")
        assert page.status_code == 200 and 'data-base="/aerolake"' in page.text
        assert "/aerolake/static/vendor/leaflet/leaflet.js" in page.text
        assert client.get("/aerolake/static/map.js").status_code == 200
        assert "/aerolake/vendor/plotly.min.js" in client.get("/aerolake/dashboard").text
        nearest = client.post("/aerolake/closest_airport", json={"latitude": 50.03, "longitude": 8.57})
        assert nearest.status_code == 200 and nearest.json()["airports"][0]["airport_code"] == "FRA"


def test_airflow_validates_the_plugin_entries() -> None:
    """The entries pass the Airflow API server's own serializers of plugin UI items and apps."""
    from airflow.api_fastapi.core_api.datamodels.plugins import ExternalViewResponse, FastAPIAppResponse

    module = load_plugin_module()
    for view in module.AerolakePlugin.external_views:
        ExternalViewResponse.model_validate(view)
    FastAPIAppResponse.model_validate({**module.aerolake_app, "app": "aerolake.api.app"})


def test_airflow_loads_the_plugin_from_the_plugins_folder(tmp_path) -> None:
    """``airflow plugins`` (Airflow's own plugin manager) finds the plugin with its app and views."""
    import json
    import os
    import subprocess
    import sys

    env = {**os.environ, "AIRFLOW_HOME": str(tmp_path), "AIRFLOW__CORE__PLUGINS_FOLDER": str(PLUGIN.parent),
           "AIRFLOW__CORE__LOAD_EXAMPLES": "False"}
    airflow = Path(sys.executable).with_name("airflow")
    result = subprocess.run([str(airflow), "plugins", "--output", "json"], env=env, capture_output=True, text=True,
                            timeout=180, check=True)
    plugins = {p["name"]: p for p in json.loads(result.stdout[result.stdout.index("["):])}
    aerolake = plugins["aerolake"]
    assert aerolake["fastapi_apps"] == [{"app": "fastapi.applications.FastAPI", "url_prefix": "/aerolake",
                                         "name": "aerolake web API and pages"}]
    assert [v["url_route"] for v in aerolake["external_views"] if "url_route" in v] == ["aerolake-map",
                                                                                        "aerolake-dashboard"]
