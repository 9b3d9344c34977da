// The flight dashboard: plotly.js served by the app, data from /stats and /status.
(function () {
  "use strict";
  const base = window.AEROLAKE_BASE || "";
  const $ = (id) => document.getElementById(id);
  const esc = (s) => String(s ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
  const layout = (extra) => Object.assign({ margin: { t: 10, r: 10, b: 50, l: 50 }, legend: { orientation: "h" } }, extra || {});
  const config = { displaylogo: false, responsive: true };
  const STATUS_COLORS = { scheduled: "#8aa4bd", active: "#1f6fb2", landed: "#2e8b57", cancelled: "#b00020", diverted: "#e4a72e", incident: "#6a1b9a", unknown: "#999" };

  async function getJson(path) {
    const response = await fetch(base + path);
    const body = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error(body.detail || ("HTTP " + response.status));
    return body;
  }

  async function plot(id, traces, extra) {
    const el = $(id);
    await Plotly.react(el, traces, layout(extra), config);
    el.dataset.points = traces.reduce((n, t) => n + (t.x ? t.x.length : 0), 0);
    el.dataset.rendered = "true";
  }

  function byStatus(rows) {
    const statuses = [...new Set(rows.map((r) => r.status))];
    return statuses.map((s) => {
      const mine = rows.filter((r) => r.status === s);
      return { type: "bar", name: s, x: mine.map((r) => r.departure_date), y: mine.map((r) => r.flights), marker: { color: STATUS_COLORS[s] } };
    });
  }

  function delays(rows) {
    return [{ type: "bar", x: rows.map((r) => r.code), y: rows.map((r) => r.mean_delay_min),
      text: rows.map((r) => r.flights + " flights"), hovertemplate: "%{x}: %{y:.1f} min (%{text})<extra></extra>", marker: { color: "#1f6fb2" } }];
  }

  async function render() {
    const days = $("days").value;
    const [stats, status] = await Promise.all([getJson("/stats?days=" + days), getJson("/status")]);
    $("range").textContent = stats.date_from ? `${stats.date_from} – ${stats.date_to}` : "no flights yet";
    await plot("chart-flights", byStatus(stats.per_day_and_status), { barmode: "stack", xaxis: { type: "category" } });
    await plot("chart-delay-airport", delays(stats.delays_by_airport), { xaxis: { type: "category" } });
    await plot("chart-delay-airline", delays(stats.delays_by_airline), { xaxis: { type: "category" } });
    await plot("chart-on-time", [{ type: "scatter", mode: "lines+markers", x: stats.on_time.map((r) => r.departure_date),
      y: stats.on_time.map((r) => (100 * r.on_time) / r.flights), hovertemplate: "%{x}: %{y:.1f}%<extra></extra>" }],
      { yaxis: { range: [0, 100], ticksuffix: "%" }, xaxis: { type: "category" } });
    const now = Date.parse(status.checked_at);
    const fresh = stats.freshness.filter((r) => r.newest);
    await plot("chart-freshness", [{ type: "bar", orientation: "h",
      y: fresh.map((r) => r.table + " · " + r.source), x: fresh.map((r) => (now - Date.parse(r.newest)) / 3.6e6),
      text: fresh.map((r) => r.rows + " rows"), hovertemplate: "%{y}: %{x:.1f} h (%{text})<extra></extra>",
      marker: { color: fresh.map((r) => ((now - Date.parse(r.newest)) / 3.6e6 > status.stale_after_hours ? "#b00020" : "#2e8b57")) } }],
      { margin: { t: 10, r: 10, b: 40, l: 190 } });
    const body = $("dag-table").querySelector("tbody");
    body.innerHTML = status.dags.map((d) => `<tr data-dag="${esc(d.dag_id)}"><td>${esc(d.dag_id)}</td><td>${esc(d.run_id)}</td>` +
      `<td>${esc(d.partition_key)}</td><td>${esc(d.state)}</td><td>${esc(d.last_stage)}</td><td>${d.counts.fetched}</td>` +
      `<td>${d.counts.loaded}</td><td>${d.counts.quarantined}</td><td>${esc(d.finished_at || "")}</td><td>${d.stale ? "stale" : ""}</td></tr>`).join("")
      || `<tr><td colspan="10" class="muted">No pipeline run recorded yet.</td></tr>`;
    $("status-line").textContent = status.stale.length ? "stale: " + status.stale.join(", ") : "all data fresh";
  }

  function run() {
    render().catch((err) => { const el = $("dashboard-error"); el.textContent = err.message; el.hidden = false; });
  }
  $("days").addEventListener("change", run);
  run();
})();
