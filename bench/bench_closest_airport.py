"""Benchmark: closest-airport queries, in process and over HTTP, next to the brute-force scans they replace.

Over every IATA airport of ``airportsdata`` (loaded into a fresh MariaDB database ``aerolake_bench_<hex>``,
dropped at the end), in the same run:

- in process, one query at a time: the old system's pandas ``apply`` scan, a numpy vectorized haversine scan,
  and the API's index (``aerolake.api.nearest``: k-d tree on unit vectors, built from MySQL);
- over HTTP: ``python -m aerolake.api`` (uvicorn, one process) serving ``POST /closest_airport``, loaded from a
  second process by a small open-loop load generator (threads, keep-alive connections, requests scheduled at a
  fixed rate; latency measured from each request's scheduled time, so a stalled server cannot hide queueing),
  at 500 requests/s; then the saturation throughput with closed-loop clients.

Targets (issue 4): index >= 1,000x the pandas scan in process; HTTP p99 < 10 ms at 500 requests/s.
Results: printed, and written to ``bench/results/closest_airport-<date>.json``.
"""

from __future__ import annotations

import argparse
import http.client
import json
import math
import os
import platform
import random
import statistics
import subprocess
import sys
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"
R_KM = 6371.0088


# ----------------------------------------------------------------------------- data
def random_points(n: int, seed: int) -> list[tuple[float, float]]:
    """Points uniform on the sphere (latitude from asin of a uniform z)."""
    rng = random.Random(seed)
    return [(math.degrees(math.asin(rng.uniform(-1, 1))), rng.uniform(-180, 180)) for _ in range(n)]


def create_database() -> Any:
    import airportsdata

    from aerolake.core.connections import MySqlConfig
    from aerolake.gapfill import airport_from_gazetteer, country_rows
    from aerolake.stores.mysql.db import connection
    from aerolake.stores.mysql.migrate import migrate

    cfg = MySqlConfig(database=f"aerolake_bench_{uuid.uuid4().hex[:10]}")
    migrate(cfg)
    now = datetime(2026, 3, 1)
    airports = [a for a in (airport_from_gazetteer(c, now) for c in sorted(airportsdata.load("IATA"))) if a]
    countries = country_rows((a["country_code"] for a in airports), (), now)
    with connection(cfg) as conn, conn.cursor() as cur:
        for table, rows in (("countries", countries), ("airports", airports)):
            cols = list(rows[0])
            cur.executemany(f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join(['%s'] * len(cols))})",
                            [tuple(r[c] for c in cols) for r in rows])
        conn.commit()
    return cfg, len(airports)


def drop_database(cfg: Any) -> None:
    from aerolake.sql import quote_identifier
    from aerolake.stores.mysql.db import connection

    with connection(cfg, database=False, autocommit=True) as conn, conn.cursor() as cur:
        cur.execute(f"DROP DATABASE IF EXISTS {quote_identifier(cfg.database)}")


# ----------------------------------------------------------------------------- in process
def pandas_apply_scan(frame: Any, lat: float, lon: float) -> str:
    """The old system: a Python haversine applied to every row, per request."""

    def haversine(row: Any) -> float:
        p1, p2 = math.radians(lat), math.radians(row["latitude"])
        a = (math.sin((p2 - p1) / 2) ** 2
             + math.cos(p1) * math.cos(p2) * math.sin(math.radians(row["longitude"] - lon) / 2) ** 2)
        return 2 * R_KM * math.asin(math.sqrt(a))

    return frame.loc[frame.apply(haversine, axis=1).idxmin(), "airport_code"]


def numpy_scan(codes: Any, lat_r: Any, lon_r: Any, lat: float, lon: float) -> str:
    import numpy as np

    p, lam = math.radians(lat), math.radians(lon)
    a = np.sin((lat_r - p) / 2) ** 2 + math.cos(p) * np.cos(lat_r) * np.sin((lon_r - lam) / 2) ** 2
    return codes[int(np.argmin(a))]


def rate(fn: Any, points: list[tuple[float, float]]) -> tuple[float, list[str]]:
    started = time.perf_counter()
    answers = [fn(lat, lon) for lat, lon in points]
    return len(points) / (time.perf_counter() - started), answers


def in_process(cfg: Any, args: argparse.Namespace) -> dict[str, Any]:
    import numpy as np
    import pandas as pd

    from aerolake.api import store
    from aerolake.api.nearest import AirportIndex

    started = time.perf_counter()
    index = AirportIndex(lambda: store.airports_for_index(cfg), lambda: store.airports_signature(cfg))
    snapshot = index.snapshot()
    build_ms = (time.perf_counter() - started) * 1000
    rows = snapshot.all.rows
    frame = pd.DataFrame({"airport_code": [r["airport_code"] for r in rows],
                          "latitude": [r["latitude"] for r in rows], "longitude": [r["longitude"] for r in rows]})
    codes = frame["airport_code"].to_numpy()
    lat_r, lon_r = np.radians(frame["latitude"].to_numpy()), np.radians(frame["longitude"].to_numpy())

    out: dict[str, Any] = {"airports": len(rows), "index_build_ms_incl_mysql_read": round(build_ms, 1)}
    pandas_qps, pandas_answers = rate(lambda la, lo: pandas_apply_scan(frame, la, lo),
                                      random_points(args.pandas_queries, 1))
    numpy_qps, numpy_answers = rate(lambda la, lo: numpy_scan(codes, lat_r, lon_r, la, lo),
                                    random_points(args.numpy_queries, 2))
    index_qps, index_answers = rate(lambda la, lo: snapshot.nearest(la, lo, 1)[0].airport["airport_code"],
                                    random_points(args.index_queries, 3))
    # the three agree (the same points through each)
    check = random_points(args.pandas_queries, 1)
    agree = sum(a == snapshot.nearest(la, lo, 1)[0].airport["airport_code"] == numpy_scan(codes, lat_r, lon_r, la, lo)
                for a, (la, lo) in zip(pandas_answers, check, strict=True))
    out.update({
        "pandas_apply_qps": round(pandas_qps, 1), "numpy_vectorized_qps": round(numpy_qps, 1),
        "kdtree_index_qps": round(index_qps, 1), "kdtree_vs_pandas": round(index_qps / pandas_qps, 1),
        "kdtree_vs_numpy": round(index_qps / numpy_qps, 1),
        "queries": {"pandas": args.pandas_queries, "numpy": args.numpy_queries, "kdtree": args.index_queries},
        "answers_agree": f"{agree}/{len(check)}",
    })
    assert len(numpy_answers) == args.numpy_queries
    assert len(index_answers) == args.index_queries
    return out


# ----------------------------------------------------------------------------- over HTTP
def start_server(cfg: Any) -> tuple[subprocess.Popen, int]:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {**os.environ, "AEROLAKE_MYSQL_DATABASE": cfg.database, "AEROLAKE_API_PORT": str(port),
           "AEROLAKE_API_LOG_LEVEL": "warning", "AEROLAKE_API_INDEX_CHECK_SECONDS": "30"}
    env.pop("AIRFLOW_CONN_AEROLAKE_MYSQL", None)
    server = subprocess.Popen([sys.executable, "-m", "aerolake.api"], env=env)
    deadline = time.monotonic() + 60
    while True:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            conn.request("POST", "/closest_airport", body=json.dumps({"latitude": 1, "longitude": 1}),
                         headers={"Content-Type": "application/json"})
            if conn.getresponse().status == 200:  # the first query builds the index
                return server, port
        except OSError:
            pass
        if time.monotonic() > deadline or server.poll() is not None:
            server.kill()
            raise RuntimeError("the API server did not come up")
        time.sleep(0.2)


def load_generator(port: int, rate_per_s: float, seconds: float, threads: int, closed_loop: bool) -> dict[str, Any]:
    """Runs in its own process: requests to /closest_airport, open loop at ``rate_per_s`` (or closed loop)."""
    total = int(rate_per_s * seconds) if not closed_loop else None
    points = random_points(50_000, 4)
    bodies = [json.dumps({"latitude": la, "longitude": lo}).encode() for la, lo in points]
    counter = iter(range(10**9))
    lock = threading.Lock()
    latencies: list[float] = []
    service: list[float] = []
    errors = [0]
    start = time.perf_counter() + 0.2
    stop_at = start + seconds

    def worker() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        mine, mine_service = [], []
        while True:
            with lock:
                i = next(counter)
            if closed_loop:
                due = time.perf_counter()
                if due >= stop_at:
                    break
            else:
                if i >= total:
                    break
                due = start + i / rate_per_s
                delay = due - time.perf_counter()
                if delay > 0:
                    time.sleep(delay)
            sent = time.perf_counter()
            try:
                conn.request("POST", "/closest_airport", body=bodies[i % len(bodies)],
                             headers={"Content-Type": "application/json"})
                response = conn.getresponse()
                response.read()
                ok = response.status == 200
            except (OSError, http.client.HTTPException):
                ok = False
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            done = time.perf_counter()
            if not ok:
                with lock:
                    errors[0] += 1
            mine.append(done - due)
            mine_service.append(done - sent)
        with lock:
            latencies.extend(mine)
            service.extend(mine_service)

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    elapsed = time.perf_counter() - start

    def pct(values: list[float], q: float) -> float:
        ordered = sorted(values)
        return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000, 3)

    return {"requests": len(latencies), "errors": errors[0], "seconds": round(elapsed, 2),
            "achieved_rps": round(len(latencies) / elapsed, 1), "threads": threads,
            "latency_ms": {"p50": pct(latencies, 0.50), "p90": pct(latencies, 0.90), "p99": pct(latencies, 0.99),
                           "max": round(max(latencies) * 1000, 3), "mean": round(statistics.fmean(latencies) * 1000, 3)},
            "service_time_ms": {"p50": pct(service, 0.50), "p99": pct(service, 0.99)}}


def run_loadgen(port: int, rate_per_s: float, seconds: float, threads: int, closed: bool) -> dict[str, Any]:
    """The load generator in a second process (this script with ``--loadgen``)."""
    cmd = [sys.executable, __file__, "--loadgen", str(port), "--rate", str(rate_per_s), "--seconds", str(seconds),
           "--threads", str(threads)] + (["--closed-loop"] if closed else [])
    result = subprocess.run(cmd, capture_output=True, text=True, check=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


# ----------------------------------------------------------------------------- main
def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pandas-queries", type=int, default=30)
    parser.add_argument("--numpy-queries", type=int, default=3000)
    parser.add_argument("--index-queries", type=int, default=100_000)
    parser.add_argument("--rate", type=float, default=500.0)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--threads", type=int, default=16)
    parser.add_argument("--loadgen", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--closed-loop", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.loadgen:
        print(json.dumps(load_generator(args.loadgen, args.rate, args.seconds, args.threads, args.closed_loop)))
        return 0

    import logging

    logging.basicConfig(level=logging.WARNING)
    cfg, n = create_database()
    try:
        print(f"{n} IATA airports in {cfg.database}")
        local = in_process(cfg, args)
        print(json.dumps(local, indent=2))
        server, port = start_server(cfg)
        try:
            steady = run_loadgen(port, args.rate, args.seconds, args.threads, closed=False)
            print("open loop:", json.dumps(steady, indent=2))
            saturation = run_loadgen(port, 0, 10.0, 8, closed=True)
            print("closed loop:", json.dumps(saturation, indent=2))
        finally:
            server.terminate()
            server.wait(timeout=10)
    finally:
        drop_database(cfg)

    targets = {
        "in_process_1000x_pandas": local["kdtree_vs_pandas"] >= 1000,
        "http_p99_under_10ms_at_500rps": steady["latency_ms"]["p99"] < 10 and steady["errors"] == 0
        and steady["achieved_rps"] >= 0.97 * args.rate,
    }
    result = {"run_at": datetime.now(UTC).isoformat(timespec="seconds"), "machine": {
        "cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "in_process": local, "http_open_loop": {"target_rps": args.rate, **steady},
        "http_closed_loop_saturation": saturation, "targets_met": targets}
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"closest_airport-{datetime.now(UTC):%Y-%m-%d}.json"
    path.write_text(json.dumps(result, indent=2) + "\n")
    print(f"\ntargets: {targets}\nwritten to {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
