"""Headless Chromium (Debian ``chromium``, driven by Playwright) loads the map and the dashboard served by the
app from a seeded MariaDB database: markers, search, click-to-nearest and charts are asserted on the DOM."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import httpx
from api.seed import DAY, flight_rows

from .conftest import screenshot


def offline_only(page, base_url: str) -> None:
    """Nothing was fetched from anywhere but the app (no CDN, no tile server), and no script error."""
    outside = [u for u in page.requests if not u.startswith(base_url) and not u.startswith("data:")]
    assert outside == []
    assert page.errors == []


def test_map_renders_airports_and_positions(page, europe_url: str) -> None:
    expected = httpx.get(f"{europe_url}/airports").json()["count"]
    assert 100 < expected < 3000
    page.goto(f"{europe_url}/")
    page.wait_for_selector("#map[data-ready=true]", timeout=30_000)
    assert page.locator("#airport-count").inner_text() == str(expected)
    assert page.locator("path.airport-marker").count() == expected  # one SVG circle per airport
    assert page.locator("path.position-marker").count() == 5
    assert page.locator("#position-count").inner_text() == "5"
    assert "2026-03-01T12:10:00Z" in page.locator("#positions-time").inner_text()
    assert page.locator(".leaflet-overlay-pane path").count() > expected + 5  # + land outline and graticule
    screenshot(page, "map")
    offline_only(page, europe_url)


def test_map_search_shows_the_airport(page, europe_url: str) -> None:
    page.goto(f"{europe_url}/")
    page.wait_for_selector("#map[data-ready=true]", timeout=30_000)
    page.fill("#search", "Frankfurt")
    page.press("#search", "Enter")
    page.wait_for_selector("#search-results li[data-code=FRA]")
    page.wait_for_selector("#airport-details[data-code=FRA]")
    details = page.locator("#airport-details").inner_text()
    assert "FRA" in details and "Frankfurt" in details and "EDDF" in details and "Germany" in details
    assert "FRA" in page.locator(".leaflet-popup-content").inner_text()
    screenshot(page, "map-search-frankfurt")
    page.fill("#search", "muc")
    page.press("#search", "Enter")
    page.wait_for_selector("#airport-details[data-code=MUC]")
    assert page.locator("#search-results li").first.get_attribute("data-code") == "MUC"
    page.fill("#search", "no such airport anywhere")
    page.press("#search", "Enter")
    page.wait_for_selector("#search-results li.muted")
    offline_only(page, europe_url)


def test_map_click_finds_the_nearest_airports(page, europe_url: str) -> None:
    page.goto(f"{europe_url}/")
    page.wait_for_selector("#map[data-ready=true]", timeout=30_000)
    page.evaluate("window.aerolakeMap.setView([49.5, 9.5], 7, {animate: false})")
    box = page.locator("#map").bounding_box()
    x, y = box["width"] * 0.5 + 37, box["height"] * 0.5 - 23
    latlng = page.evaluate(f"(() => {{ const p = window.aerolakeMap.containerPointToLatLng([{x}, {y}]);"
                           " return [p.lat, p.lng]; })()")
    page.mouse.click(box["x"] + x, box["y"] + y)
    page.wait_for_selector("#nearest li:nth-child(3)")
    shown = [li.get_attribute("data-code") for li in page.locator("#nearest li").all()]
    expected = httpx.post(f"{europe_url}/closest_airport",
                          json={"latitude": latlng[0], "longitude": latlng[1], "k": 3}).json()["airports"]
    assert shown == [a["airport_code"] for a in expected]
    assert page.locator("path.nearest-line").count() == 1 and page.locator("path.click-marker").count() == 1
    assert "km" in page.locator("#nearest li").first.inner_text()
    screenshot(page, "map-nearest")
    offline_only(page, europe_url)


def test_map_of_the_whole_world_draws_on_canvas(page, world_url: str) -> None:
    page.goto(f"{world_url}/")
    page.wait_for_selector("#map[data-ready=true]", timeout=60_000)
    assert int(page.locator("#airport-count").inner_text()) > 7800
    assert page.locator(".leaflet-overlay-pane canvas").count() == 1  # thousands of airports: one canvas
    screenshot(page, "map-world")
    offline_only(page, world_url)


def test_dashboard_charts_render_with_data(page, europe_url: str) -> None:
    page.goto(f"{europe_url}/dashboard")
    for chart in ("flights", "delay-airport", "delay-airline", "on-time", "freshness"):
        page.wait_for_selector(f"#chart-{chart}[data-rendered=true]", timeout=60_000)
        assert page.locator(f"#chart-{chart} .main-svg").count() >= 1
    assert page.locator(".js-plotly-plot").count() == 5
    rows = flight_rows()
    window = [r for r in rows if r["departure_date"] > DAY - timedelta(days=30)]
    pairs = Counter((r["departure_date"], r["status"]) for r in window)
    assert page.locator("#chart-flights .barlayer .point").count() == len(pairs)  # one bar per day and status
    assert page.locator("#chart-flights .legendtext").count() == len({s for _, s in pairs})
    airports = {r["dep_airport"] for r in window if r["dep_delay_min"] is not None}
    assert page.locator("#chart-delay-airport .barlayer .point").count() == len(airports)
    assert page.locator("#chart-delay-airline .barlayer .point").count() == 3
    assert page.locator("#chart-on-time .scatterlayer .point").count() == 3  # three days
    assert page.locator("#chart-freshness .barlayer .point").count() >= 4
    assert page.locator("#dag-table tbody tr[data-dag]").count() == 2
    assert page.locator("#range").inner_text() == f"{DAY - timedelta(days=29)} – {DAY}"  # 30 days up to the newest
    screenshot(page, "dashboard")
    offline_only(page, europe_url)
