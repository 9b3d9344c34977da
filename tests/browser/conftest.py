"""Fixtures of the browser tests: the app served by uvicorn on a free port against a seeded test database,
and Debian's headless Chromium driven by Playwright. Screenshots go to ``tests/artifacts/`` (git-ignored)."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from aerolake.api import ApiSettings, create_app
from aerolake.api.server import ServerThread
from aerolake.core.connections import MySqlConfig
from aerolake.sql import quote_identifier
from aerolake.stores.mysql.db import connection
from aerolake.stores.mysql.migrate import migrate

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
CHROMIUM = os.environ.get("AEROLAKE_TEST_CHROMIUM", "/usr/bin/chromium")
#: Europe's airports (a few hundred: one SVG element each on the map) plus the hubs the flights use.
COUNTRIES = {"DE", "AT", "CH"}


def _database(countries: set[str] | None) -> Iterator[MySqlConfig]:
    from api.seed import seed

    cfg = MySqlConfig(os.environ.get("AEROLAKE_TEST_MYSQL_HOST", "127.0.0.1"),
                      int(os.environ.get("AEROLAKE_TEST_MYSQL_PORT", "3306")),
                      os.environ.get("AEROLAKE_TEST_MYSQL_USER", "root"),
                      os.environ.get("AEROLAKE_TEST_MYSQL_PASSWORD", ""), f"aerolake_test_{uuid.uuid4().hex[:12]}")
    try:
        migrate(cfg)
        seed(cfg, countries)
        yield cfg
    finally:
        with connection(cfg, database=False, autocommit=True) as conn, conn.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS {quote_identifier(cfg.database)}")


@pytest.fixture(scope="module")
def europe_db() -> Iterator[MySqlConfig]:
    yield from _database(COUNTRIES)


@pytest.fixture(scope="module")
def world_db() -> Iterator[MySqlConfig]:
    yield from _database(None)


def _serve(cfg: MySqlConfig) -> Iterator[str]:
    with ServerThread(create_app(ApiSettings(mysql=cfg, stale_after_hours=1e7))) as server:
        yield server.base_url


@pytest.fixture(scope="module")
def europe_url(europe_db: MySqlConfig) -> Iterator[str]:
    yield from _serve(europe_db)


@pytest.fixture(scope="module")
def world_url(world_db: MySqlConfig) -> Iterator[str]:
    yield from _serve(world_db)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}: apt-get install -y chromium (scripts/ensure-system.sh)")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                              args=["--no-sandbox", "--disable-gpu"])
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser) -> Iterator[object]:
    """A fresh page (1400x900) that records every request it makes and every console error."""
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.requests = []
    page.errors = []
    page.on("request", lambda request: page.requests.append(request.url))
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    page.on("console", lambda msg: page.errors.append(msg.text) if msg.type == "error" else None)
    yield page
    context.close()


def screenshot(page, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 10_000
    return path


def clean_artifacts() -> None:  # pragma: no cover - manual helper
    shutil.rmtree(ARTIFACTS, ignore_errors=True)
