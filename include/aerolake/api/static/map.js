// The airport map: vendored Leaflet, no tile server (land outline + graticule), airports and latest
// positions from the API, search by code or name, click to find the nearest airports.
(function () {
  "use strict";
  const base = window.AEROLAKE_BASE || "";
  const $ = (id) => document.getElementById(id);
  const esc = (s) => String(s ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
  const wrapLon = (lon) => ((((lon + 180) % 360) + 360) % 360) - 180;

  const map = L.map("map", { worldCopyJump: true, minZoom: 2, maxZoom: 12, zoomSnap: 0.5 }).setView([30, 10], 2);
  map.attributionControl.addAttribution("Land: Natural Earth");
  window.aerolakeMap = map; // for debugging from the console (and the browser tests)
  const markers = {};
  let clickLayer = L.layerGroup().addTo(map);

  function showError(message) { const el = $("map-error"); el.textContent = message; el.hidden = false; }

  async function getJson(path, options) {
    const response = await fetch(base + path, options);
    const body = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error(body.detail || ("HTTP " + response.status));
    return body;
  }

  function graticule() {
    const lines = [];
    for (let lat = -60; lat <= 60; lat += 30) lines.push([[lat, -180], [lat, 180]]);
    for (let lon = -180; lon <= 180; lon += 30) lines.push([[-85, lon], [85, lon]]);
    L.polyline(lines, { color: "#8aa4bd", weight: 0.6, interactive: false }).addTo(map);
  }

  async function land() {
    const geo = await getJson("/static/vendor/land-110m.geojson");
    L.geoJSON(geo, { style: { color: "#9fb39a", weight: 0.8, fillColor: "#e9eee2", fillOpacity: 1 }, interactive: false }).addTo(map);
  }

  function airportPopup(a) {
    return `<strong>${esc(a.airport_code)}</strong> ${esc(a.name)}<br>${esc(a.country_code || "")}` +
      ` · ${Number(a.latitude).toFixed(4)}, ${Number(a.longitude).toFixed(4)}` + (a.location_type ? ` · ${esc(a.location_type)}` : "");
  }

  async function airports() {
    const data = await getJson("/airports");
    // SVG keeps one DOM element per airport (inspectable, testable); canvas when there are very many.
    const renderer = data.count > 3000 ? L.canvas({ padding: 0.5 }) : L.svg();
    for (const a of data.airports) {
      markers[a.airport_code] = L.circleMarker([a.latitude, a.longitude], {
        renderer, radius: 3, weight: 1, color: "#1f6fb2", fillOpacity: 0.7, className: "airport-marker",
      }).bindPopup(airportPopup(a)).on("click", () => showAirport(a.airport_code)).addTo(map);
    }
    $("airport-count").textContent = data.count;
  }

  async function positions() {
    const data = await getJson("/positions/latest?window_minutes=60");
    for (const p of data.positions) {
      L.circleMarker([p.latitude, p.longitude], { radius: 4, color: "#e4572e", weight: 1, fillOpacity: 0.9, className: "position-marker" })
        .bindPopup(`<strong>${esc((p.airline_code || "") + (p.flight_number || ""))}</strong> ${esc(p.icao24)}<br>` +
          `${esc(p.dep_airport || "?")} → ${esc(p.arr_airport || "?")} · ${p.altitude_m == null ? "" : Math.round(p.altitude_m) + " m"}<br>` +
          `<span class="muted">${esc(p.observed_at)} UTC</span>`).addTo(map);
    }
    $("position-count").textContent = data.count;
    $("positions-time").textContent = data.newest_observed_at ? `(newest ${data.newest_observed_at} UTC)` : "";
  }

  async function showAirport(code) {
    const a = await getJson("/airports/" + encodeURIComponent(code));
    const box = $("airport-details");
    box.innerHTML = `<h3>${esc(a.airport_code)} · ${esc(a.name)}</h3>` +
      `<p>${esc(a.city_name || a.city_code || "")} ${esc(a.country_name || a.country_code || "")}<br>` +
      `ICAO ${esc(a.icao_code || "–")} · ${esc(a.timezone || "")} · ${esc(a.location_type || "")}<br>` +
      `${Number(a.latitude).toFixed(4)}, ${Number(a.longitude).toFixed(4)}</p>`;
    box.hidden = false;
    box.dataset.code = a.airport_code;
    map.setView([a.latitude, a.longitude], Math.max(map.getZoom(), 6), { animate: false });
    if (markers[a.airport_code]) markers[a.airport_code].openPopup();
  }

  $("search-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const q = $("search").value.trim();
    const list = $("search-results");
    list.innerHTML = "";
    if (!q) return;
    try {
      const data = await getJson("/airports?limit=20&q=" + encodeURIComponent(q));
      if (!data.count) { list.innerHTML = `<li class="muted">No airport matches “${esc(q)}”.</li>`; return; }
      for (const a of data.airports) {
        const li = document.createElement("li");
        li.dataset.code = a.airport_code;
        li.innerHTML = `<strong>${esc(a.airport_code)}</strong> ${esc(a.name)} <span class="muted">${esc(a.country_code || "")}</span>`;
        li.addEventListener("click", () => showAirport(a.airport_code));
        list.appendChild(li);
      }
      await showAirport(data.airports[0].airport_code);
    } catch (err) { showError("Search failed: " + err.message); }
  });

  map.on("click", async (event) => {
    const lat = event.latlng.lat, lon = wrapLon(event.latlng.lng);
    clickLayer.clearLayers();
    L.circleMarker(event.latlng, { radius: 5, color: "#222", className: "click-marker" }).addTo(clickLayer);
    try {
      const data = await getJson("/closest_airport", {
        method: "POST", headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ latitude: lat, longitude: lon, k: 3 }),
      });
      const list = $("nearest");
      list.innerHTML = "";
      for (const a of data.airports) {
        const li = document.createElement("li");
        li.dataset.code = a.airport_code;
        li.innerHTML = `<strong>${esc(a.airport_code)}</strong> ${esc(a.name)} – ${a.distance_km.toFixed(1)} km`;
        li.addEventListener("click", () => showAirport(a.airport_code));
        list.appendChild(li);
      }
      if (data.airports.length) {
        const a = data.airports[0];
        L.polyline([event.latlng, [a.latitude, a.longitude]], { color: "#222", dashArray: "4 4", className: "nearest-line" }).addTo(clickLayer);
      }
    } catch (err) { showError("Nearest airport failed: " + err.message); }
  });

  graticule();
  Promise.all([land().catch((e) => showError("Land outline: " + e.message)), airports(), positions()])
    .then(() => { $("map").dataset.ready = "true"; })
    .catch((err) => { showError(err.message); $("map").dataset.ready = "error"; });
})();
