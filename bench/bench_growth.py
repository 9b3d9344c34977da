"""Benchmark: what one more run costs as history grows (N = 0, 30, 90 days of world-scale history in MySQL).

    .venv/bin/python bench/bench_growth.py                      # N = 0 30 90, world scale (about 1 h 45 min)
    .venv/bin/python bench/bench_growth.py --days 0 30 --label q   # a shorter run
    .venv/bin/python bench/bench_growth.py --quick              # a tiny world: the harness itself (seconds)

**The day measured.** Two partitions of day D (2026-03-01), fetched from the mock API, staged and cleaned once
before the clock starts (the lake and MongoDB do not grow with MySQL's history):

* ``lufthansa`` D: the daily flight status of FRA and MUC, 25,000 flights per hub and direction (about 90,000
  flights after the hubs' duplicates, plus codeshares and references): ``load_to_mysql``, ``check_quality``,
  ``write_curated`` and ``publish_to_kafka`` (the day's first publication: every flight of D is new);
* ``opensky`` D/1150, D/1200 and D/1210: three real-time snapshots of the box around ten hubs (about 10,000
  state vectors each, the size of OpenSky's world answer): every stage, ``extract_to_s3`` to
  ``publish_to_kafka``. Each ``publish_to_kafka`` is the steady state of a 10-minute schedule (only the changed
  flights: those whose latest position moved). D/1150 is the snapshot the schedule ran before D/1200: the
  first to run after the history was written, it reads from disk the pages of the day before D's flights
  that every snapshot links against (from N = 1 on; at N = 0 D's own load has just written the few there are),
  which in production the previous snapshots, ten minutes apart, keep in the buffer pool. It is measured and
  reported (its ratios over the limit apart, as ``cold_over_limit``), and the target is judged on D/1200 and
  D/1210, the state a 10-minute schedule runs in.

Then the web API answers ``/status``, ``/flights`` (newest day, and one airport's), ``/stats`` (its default
30 days: one day's worth at N = 0, thirty from N = 29 on; and ``days=1``, the same window at every N) and
``/positions/latest`` (best of 3 after one warm-up request each).

**The history.** N days before D, written straight into MySQL with ``LOAD DATA LOCAL INFILE`` (not through the
pipeline): each day a copy of D's flights and codeshares moved to that day (about 84,000 flights), 144
snapshots of 10,000 positions each (1.44 million positions a day, each linked to one of the day's flights but
3% unlinked, as aircraft without a known flight are), one Kafka publication per flight, and the runs and quality
results of a day's schedule (144 OpenSky snapshot runs and a Lufthansa day). ``table_stats`` is recounted after
each fill. Between measurements D's own rows are deleted (``flights``, ``flight_codeshares``, its positions,
its publications cascade), so every N measures the same new day; before the clock starts InnoDB has purged them
and the tables' dirty pages are on disk (``settle``), as a day after the last load. Each stage also reports the
pages it read from disk and from the buffer pool and the pages written meanwhile (``innodb``).

At N = 0 the day runs once unmeasured first (imports, caches, reference rows). At every N it is then measured
``--repeats`` times (3), and each stage's median counts (every run's seconds are kept under ``repeats``).
``--big-pool-mib`` repeats the last N with ``innodb_buffer_pool_size`` raised (``SET GLOBAL``; restored after).

Written to ``bench/results/growth-<date>[-<label>].json``; the database (``aerolake_bench_growth`` unless
``--database``) is dropped at the end unless ``--keep``. See ``bench/README.md``, "Growth".
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import sys
import tempfile
import time
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "include"))
sys.path.insert(0, str(ROOT / "bench"))

from bench_lufthansa import drop_database, machine_info, mock_api  # noqa: E402

from aerolake.core.flow import STAGES, STREAMING  # noqa: E402

log = logging.getLogger("bench")
DAY = date(2026, 3, 1)
LUFTHANSA_HUBS = ("FRA", "MUC")
OPENSKY_HUBS = ("FRA", "MUC", "LHR", "CDG", "AMS", "IST", "MAD", "FCO", "ZRH", "VIE")
SNAPSHOTS = ("1150", "1200", "1210")
#: the first snapshot after the history was written: its pages cold (module docstring), not judged
COLD_SNAPSHOT = SNAPSHOTS[0]
SNAPSHOT_STAGES = STAGES + STREAMING
LUFTHANSA_STAGES = SNAPSHOT_STAGES[3:]  # the daily run's stages after clean (prepare ran the first three)
API_REQUESTS = {"status": "/status", "flights": "/flights", "flights_airport": "/flights?airport=FRA",
                "stats": "/stats", "stats_one_day": "/stats?days=1", "positions_latest": "/positions/latest"}
GROWING = ("flights", "flight_codeshares", "flight_positions", "kafka_publications", "pipeline_runs",
           "data_quality_results", "table_stats")
MIB = 1 << 20


@dataclass(frozen=True)
class Scale:
    lufthansa_per_hub: int = 25_000
    opensky_per_hub: int = 5_300
    snapshots_per_day: int = 144
    positions_per_snapshot: int = 10_000
    unlinked_share: float = 0.03


QUICK = Scale(lufthansa_per_hub=150, opensky_per_hub=40, snapshots_per_day=6, positions_per_snapshot=200)


# -- the world: mock APIs, lake, MongoDB, MySQL -----------------------------------------------------------------
def set_clock(base_url: str, now: str) -> None:
    """The mock's and the pipeline's simulated clock (``AEROLAKE_NOW``), as ``make demo`` sets them per run."""
    import requests

    requests.post(f"{base_url}/_mock/config", json={"now": now}, timeout=10).raise_for_status()
    os.environ["AEROLAKE_NOW"] = now


class World:
    """The stage contexts of the measured partitions, all on one database, bucket and MongoDB."""

    def __init__(self, database: str, lufthansa_url: str, opensky_url: str, s3: Any, mongo: Any):
        from aerolake.core.connections import MySqlConfig
        from aerolake.core.settings import Budget, Settings

        self.cfg = MySqlConfig(database=database)
        unpaced = {"lufthansa": 0, "opensky": 0}
        base = Settings(bucket="aerolake-bench-growth", mongo_db="aerolake_bench_growth", mysql_database=database,
                        hubs={"lufthansa": LUFTHANSA_HUBS, "opensky": OPENSKY_HUBS}, calls_per_second=unpaced,
                        calls_per_hour={"lufthansa": None, "opensky": None},
                        budgets={"lufthansa": Budget(), "opensky": Budget()})
        self.settings = {"lufthansa": replace(base, mock_api_url=lufthansa_url),
                         "opensky": replace(base, mock_api_url=opensky_url)}
        self.opensky_url = opensky_url
        self.s3, self.mongo = s3, mongo
        self.api_wait = ApiWait()

    def ctx(self, source: str, snapshot: str | None, run_id: str) -> Any:
        from aerolake.pipeline.stages import StageContext
        from aerolake.stores.lake import Partition
        from aerolake.stores.mysql.ledger import RunInfo

        run = RunInfo(f"{source}_lakehouse", run_id, Partition(source, DAY.isoformat(), snapshot))
        return StageContext(run, self.settings[source], self.s3, self.mongo, self.cfg)


def stage_function(name: str) -> Any:
    from aerolake import streaming
    from aerolake.pipeline import stages

    return getattr(streaming if name in STREAMING else stages, name)


def timed(fn: Any, *args: Any, **kwargs: Any) -> tuple[float, Any]:
    started = time.perf_counter()
    result = fn(*args, **kwargs)
    return time.perf_counter() - started, result


#: InnoDB's server-wide counters a stage's work moves (``SHOW GLOBAL STATUS``, on MySQL 8 and MariaDB): pages it
#: had to read from disk (misses of the buffer pool), pages it asked the pool for, and pages written to disk.
INNODB_COUNTERS = {"pool_reads": "Innodb_buffer_pool_reads", "pool_requests": "Innodb_buffer_pool_read_requests",
                   "pages_written": "Innodb_pages_written"}


def innodb_counters(cfg: Any) -> dict[str, int]:
    from aerolake.stores.mysql.db import connection

    with connection(cfg, database=False, autocommit=True) as conn, conn.cursor() as cur:
        cur.execute("SHOW GLOBAL STATUS WHERE Variable_name IN %s", (tuple(INNODB_COUNTERS.values()),))
        values = {name: int(value) for name, value in cur.fetchall()}
    return {key: values.get(name, 0) for key, name in INNODB_COUNTERS.items()}


def counted(cfg: Any, fn: Any, *args: Any, **kwargs: Any) -> tuple[float, Any, dict[str, int]]:
    """``timed``, and how far the stage moved ``INNODB_COUNTERS`` (read outside the clock; the whole server's,
    so nothing else should run on it meanwhile)."""
    before = innodb_counters(cfg)
    seconds, result = timed(fn, *args, **kwargs)
    after = innodb_counters(cfg)
    return seconds, result, {key: after[key] - before[key] for key in before}


def settle(cfg: Any, timeout: float = 300.0) -> dict[str, float]:
    """Wait until InnoDB has purged the rows ``forget_day`` deleted, then write the growing tables' dirty pages to
    disk (``FLUSH TABLES ... FOR EXPORT``, released at once), as both are long done before a daily load the day
    after: else a run pays for part of the previous one's cleanup (one N's Lufthansa load varied by up to 18%,
    and ran 15% slower at N = 0). Changes no server setting. Returns the seconds it took and the undo history left
    (a warning if ``timeout`` passed first)."""
    from aerolake.sql import quote_identifier
    from aerolake.stores.mysql.db import connection

    started = time.perf_counter()
    with connection(cfg, autocommit=True) as conn, conn.cursor() as cur:
        while True:
            cur.execute("SHOW ENGINE INNODB STATUS")
            found = re.search(r"History list length (\d+)", cur.fetchone()[2])
            history = int(found.group(1)) if found else 0
            if history <= 100:
                break
            if time.perf_counter() - started > timeout:
                log.warning("InnoDB's purge left %d undo logs after %.0f s", history, timeout)
                break
            time.sleep(0.5)
        tables = ", ".join(quote_identifier(t) for t in (*GROWING, "flight_day_stats"))
        cur.execute(f"FLUSH TABLES {tables} FOR EXPORT")
        cur.execute("UNLOCK TABLES")
    return {"seconds": round(time.perf_counter() - started, 1), "history": history}


def prepare(world: World) -> dict[str, Any]:
    """Fetch, stage and clean the measured partitions once (the lake and MongoDB keep them for every N)."""
    from aerolake.pipeline import stages

    out: dict[str, Any] = {}
    set_clock(world.settings["lufthansa"].mock_api_url, f"{DAY.isoformat()}T23:00:00Z")
    ctx = world.ctx("lufthansa", None, "bench_prepare")
    for name in ("extract_to_s3", "load_to_mongo", "clean"):
        seconds, result = timed(getattr(stages, name), ctx)
        out[f"lufthansa.{name}"] = {"seconds": round(seconds, 2), "counts": result}
        log.info("prepare lufthansa %s: %.1f s", name, seconds)
    return out


class ApiWait(logging.Handler):
    """Seconds the clients waited for the API's answers (``aerolake.http``'s ``-> 200 in N ms`` lines): the mock
    computing a world-sized ``/states/all`` is the mock's time, not the pipeline's."""

    PATTERN = re.compile(r" -> \d+ in (\d+) ms")

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.seconds = 0.0
        http = logging.getLogger("aerolake.http")
        http.setLevel(logging.INFO)
        http.propagate = False
        http.addHandler(self)

    def emit(self, record: logging.LogRecord) -> None:
        match = self.PATTERN.search(record.getMessage())
        if match:
            self.seconds += int(match.group(1)) / 1000


def run_day(world: World, tag: str) -> dict[str, Any]:
    """Day D's measured work (module docstring): seconds per stage, and the stages' counts. A snapshot's
    ``pipeline`` is its ``total`` less ``api_wait``, the time its extract waited for the mock's answer."""
    out: dict[str, Any] = {"seconds": {}, "counts": {}, "innodb": {}}
    wait = world.api_wait
    ctx = world.ctx("lufthansa", None, f"bench_{tag}")
    for name in LUFTHANSA_STAGES:
        seconds, result, moved = counted(world.cfg, stage_function(name), ctx)
        out["seconds"][f"lufthansa.{name}"] = round(seconds, 3)
        out["counts"][f"lufthansa.{name}"] = result if isinstance(result, dict) else len(result)
        out["innodb"][f"lufthansa.{name}"] = moved
    for snapshot in SNAPSHOTS:
        set_clock(world.opensky_url, f"{DAY.isoformat()}T{snapshot[:2]}:{snapshot[2:]}:30Z")
        ctx = world.ctx("opensky", snapshot, f"bench_{tag}_{snapshot}")
        total, wait.seconds = 0.0, 0.0
        for name in SNAPSHOT_STAGES:
            kwargs = {"refetch": True} if name == "extract_to_s3" else {}
            seconds, result, moved = counted(world.cfg, stage_function(name), ctx, **kwargs)
            total += seconds
            out["seconds"][f"opensky_{snapshot}.{name}"] = round(seconds, 3)
            out["counts"][f"opensky_{snapshot}.{name}"] = result if isinstance(result, dict) else len(result)
            out["innodb"][f"opensky_{snapshot}.{name}"] = moved
        out["seconds"][f"opensky_{snapshot}.total"] = round(total, 3)
        out["seconds"][f"opensky_{snapshot}.api_wait"] = round(wait.seconds, 3)
        out["seconds"][f"opensky_{snapshot}.pipeline"] = round(total - wait.seconds, 3)
    return out


def api_requests(cfg: Any) -> tuple[dict[str, float], dict[str, int]]:
    """Seconds per web API request, best of 3 after one warm-up; and the bytes of each answer (``/stats``' grows
    with the days of its window that hold flights: a point per day and status)."""
    from fastapi.testclient import TestClient

    from aerolake.api.app import create_app
    from aerolake.api.config import ApiSettings
    from aerolake.core.settings import Settings

    seconds_of: dict[str, float] = {}
    bytes_of: dict[str, int] = {}
    with TestClient(create_app(ApiSettings(mysql=cfg, base=Settings(mysql_database=cfg.database)))) as client:
        for name, path in API_REQUESTS.items():
            best = None
            for attempt in range(4):
                started = time.perf_counter()
                response = client.get(path)
                seconds = time.perf_counter() - started
                if response.status_code != 200:
                    raise RuntimeError(f"{path}: HTTP {response.status_code}: {response.text[:300]}")
                if attempt:
                    best = seconds if best is None else min(best, seconds)
            seconds_of[name] = round(best or 0.0, 4)
            bytes_of[name] = len(response.content)
    return seconds_of, bytes_of


# -- MySQL: the history, and day D's rows out again ------------------------------------------------------------
def execute(cfg: Any, statement: str, params: Any = None) -> int:
    from aerolake.stores.mysql.db import connection

    with connection(cfg, autocommit=True) as conn, conn.cursor() as cur:
        return cur.execute(statement, params)


def frame(cfg: Any, statement: str, params: Any = None) -> pd.DataFrame:
    from aerolake.stores.mysql.db import connection

    with connection(cfg, autocommit=True) as conn, conn.cursor() as cur:
        cur.execute(statement, params)
        columns = [d[0] for d in cur.description]
        return pd.DataFrame(list(cur.fetchall()), columns=columns)


def forget_day(cfg: Any) -> None:
    """Delete day D's own rows (flights, codeshares, positions; publications cascade) and their stats: D's month
    holds no history (the history is before D), so its ``table_stats`` rows go; D's ``flight_day_stats`` too."""
    from aerolake.stores.mysql import stats
    from aerolake.stores.mysql.db import connection

    d = DAY.isoformat()
    execute(cfg, "DELETE FROM flight_codeshares WHERE departure_date = %s", (d,))
    execute(cfg, "DELETE FROM flight_positions WHERE observed_at >= %s AND observed_at < %s",
            (d, (DAY + timedelta(days=1)).isoformat()))
    execute(cfg, "DELETE FROM flights WHERE departure_date = %s", (d,))
    execute(cfg, "DELETE FROM table_stats WHERE period = %s", (DAY.strftime("%Y-%m"),))
    with connection(cfg) as conn, conn.cursor() as cur:
        stats.refresh_flight_days(cur, [DAY])
        conn.commit()


@dataclass
class Templates:
    """Day D's rows as the pipeline wrote them: what every history day copies."""

    flights: pd.DataFrame
    codeshares: pd.DataFrame
    runs: pd.DataFrame
    quality: pd.DataFrame
    topic: str


def templates(cfg: Any) -> Templates:
    d = DAY.isoformat()
    flights = frame(cfg, "SELECT * FROM flights WHERE departure_date = %s ORDER BY flight_id", (d,))
    codeshares = frame(cfg, "SELECT * FROM flight_codeshares WHERE departure_date = %s", (d,))
    # one snapshot run and the day's run: each history day repeats them on its schedule
    measured = (f"bench_warmup_{SNAPSHOTS[0]}", "bench_warmup")
    runs = frame(cfg, "SELECT * FROM pipeline_runs WHERE run_id IN %s", (measured,))
    quality = frame(cfg, "SELECT * FROM data_quality_results WHERE run_id IN %s", (measured,))
    topics = frame(cfg, "SELECT DISTINCT topic FROM kafka_publications")
    if flights.empty or topics.empty:
        raise RuntimeError("day D left no flights or no publications to copy: the measured run did not complete")
    return Templates(flights, codeshares, runs, quality, str(topics["topic"].iloc[0]))


def _shift(df: pd.DataFrame, days: int, drop: tuple[str, ...] = ()) -> pd.DataFrame:
    out = df.drop(columns=[c for c in drop if c in df.columns]).copy()
    delta = pd.Timedelta(days=days)
    for column in out.columns:
        values = out[column]
        if column.endswith("_date"):
            out[column] = (pd.to_datetime(values) - delta).dt.strftime("%Y-%m-%d")
        elif column.endswith("_at") or column.startswith(("scheduled_", "estimated_", "actual_")):
            out[column] = pd.to_datetime(values) - delta
    return out


def _tsv(df: pd.DataFrame, path: str) -> None:
    for column in df.columns:
        if df[column].dtype == bool:
            df[column] = df[column].astype("int8")
    df.to_csv(path, sep="\t", header=False, index=False, na_rep="\\N", date_format="%Y-%m-%d %H:%M:%S.%f",
              lineterminator="\n")


def load_tsv(cfg: Any, table: str, df: pd.DataFrame, *, ignore: bool = False) -> int:
    """``LOAD DATA LOCAL INFILE`` of ``df`` into ``table`` (its columns by name); the rows it added. ``ignore``:
    rows whose key the table holds are skipped (at most 1%), else every row must be added."""
    from aerolake.sql import quote_identifier
    from aerolake.stores.mysql.db import connection

    with tempfile.NamedTemporaryFile("w", suffix=".tsv", delete=False) as handle:
        path = handle.name
    try:
        _tsv(df, path)
        columns = ", ".join(quote_identifier(c) for c in df.columns)
        with connection(cfg) as conn, conn.cursor() as cur:
            cur.execute("SET SESSION unique_checks = 0")
            added = cur.execute(f"LOAD DATA LOCAL INFILE %s {'IGNORE ' if ignore else ''}INTO TABLE {quote_identifier(table)} "
                                "FIELDS TERMINATED BY '\\t' LINES TERMINATED BY '\\n' "
                                f"({columns})", (path,))
            conn.commit()
    finally:
        os.unlink(path)
    if added != len(df) and not (ignore and added >= 0.99 * len(df)):
        raise RuntimeError(f"{table}: LOAD DATA added {added} of {len(df)} rows")
    return added


def positions_of_day(flights: pd.DataFrame, day: date, scale: Scale, rng: np.random.Generator) -> pd.DataFrame:
    """``scale.snapshots_per_day`` snapshots of ``positions_per_snapshot`` aircraft each, in primary-key order."""
    n = len(flights)
    per = min(scale.positions_per_snapshot, n)
    picks = np.concatenate([rng.choice(n, size=per, replace=False) for _ in range(scale.snapshots_per_day)])
    snapshot = np.repeat(np.arange(scale.snapshots_per_day), per)
    start = np.datetime64(day.isoformat(), "s")
    observed = start + (snapshot * (86_400 // scale.snapshots_per_day) + rng.integers(0, 60, picks.size)).astype(
        "timedelta64[s]")
    chosen = flights.iloc[picks].reset_index(drop=True)
    unlinked = rng.random(picks.size) < scale.unlinked_share
    df = pd.DataFrame({
        "icao24": [f"{i:06x}" for i in (picks + 0x3C0000)],
        "observed_at": observed,
        "flight_id": chosen["flight_id"].astype("Int64").mask(unlinked),
        "airline_code": chosen["airline_code"].mask(unlinked),
        "flight_number": chosen["flight_number"].mask(unlinked),
        "dep_airport": chosen["dep_airport"],
        "arr_airport": chosen["arr_airport"],
        "registration": chosen["registration"],
        "aircraft_code": chosen["aircraft_code"],
        "latitude": np.round(rng.uniform(35, 60, picks.size), 5),
        "longitude": np.round(rng.uniform(-10, 30, picks.size), 5),
        "altitude_m": np.round(rng.uniform(0, 12_000, picks.size), 1),
        "heading": np.round(rng.uniform(0, 360, picks.size), 1),
        "speed_kmh": np.round(rng.uniform(200, 950, picks.size), 1),
        "vertical_speed": np.round(rng.normal(0, 3, picks.size), 2),
        "on_ground": 0,
        "source": "opensky",
        "updated_at": observed + np.timedelta64(120, "s"),
    })
    return df.sort_values(["observed_at", "icao24"], kind="stable")


def _runs_of_day(t: Templates, day: date, scale: Scale) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The day's pipeline_runs and data_quality_results: the measured runs' rows, once per scheduled run."""
    k = (DAY - day).days
    runs, quality = [], []
    for i in range(scale.snapshots_per_day):
        stamp = f"{day.isoformat()}T{i * 10 // 60:02d}:{i * 10 % 60:02d}"
        for source, frames in (("runs", runs), ("quality", quality)):
            template = t.runs if source == "runs" else t.quality
            rows = template[template["dag_id"] == "opensky_lakehouse"]
            if rows.empty:
                continue
            rows = _shift(rows, k, drop=("result_id", "quarantined", "duplicates"))
            rows["run_id"] = f"scheduled__{stamp}:00+00:00"
            rows["partition_key"] = f"{day.isoformat()}/{stamp[-5:].replace(':', '')}"
            frames.append(rows)
    for source, frames in (("runs", runs), ("quality", quality)):
        template = t.runs if source == "runs" else t.quality
        rows = template[template["dag_id"] == "lufthansa_lakehouse"]
        if not rows.empty:
            rows = _shift(rows, k, drop=("result_id", "quarantined", "duplicates"))
            rows["run_id"] = f"scheduled__{day.isoformat()}T00:00:00+00:00"
            rows["partition_key"] = day.isoformat()
            frames.append(rows)
    return (pd.concat(runs, ignore_index=True) if runs else pd.DataFrame(),
            pd.concat(quality, ignore_index=True) if quality else pd.DataFrame())


def fill_day(cfg: Any, t: Templates, day: date, scale: Scale, rng: np.random.Generator) -> dict[str, int]:
    """One history day: flights, codeshares, positions, publications, runs and quality results."""
    k = (DAY - day).days
    flights = _shift(t.flights, k, drop=("flight_id",))
    # the day before D also holds flights D's load wrote (departures of the evening before): a few keys meet
    added = {"flights": load_tsv(cfg, "flights", flights, ignore=True)}
    if not t.codeshares.empty:
        added["flight_codeshares"] = load_tsv(cfg, "flight_codeshares", _shift(t.codeshares, k, drop=("codeshare_id",)),
                                              ignore=True)
    ids = frame(cfg, "SELECT flight_id, airline_code, flight_number, dep_airport, arr_airport, registration, "
                     "aircraft_code FROM flights WHERE departure_date = %s", (day.isoformat(),))
    added["flight_positions"] = load_tsv(cfg, "flight_positions", positions_of_day(ids, day, scale, rng))
    published = datetime.combine(day, datetime.min.time()) + timedelta(hours=23)
    publications = pd.DataFrame({
        "topic": t.topic, "flight_id": ids["flight_id"], "departure_date": day.isoformat(),
        "message_key": ids["airline_code"] + ids["flight_number"] + "-" + day.isoformat() + "-" + ids["dep_airport"],
        "fingerprint": [f"{i:064x}" for i in ids["flight_id"]], "kafka_partition": 0,
        "kafka_offset": ids["flight_id"], "published_at": published, "last_status": "delivered",
        "last_error": None, "attempted_at": published})
    added["kafka_publications"] = load_tsv(cfg, "kafka_publications", publications)
    runs, quality = _runs_of_day(t, day, scale)
    if not runs.empty:
        added["pipeline_runs"] = load_tsv(cfg, "pipeline_runs", runs)
    if not quality.empty:
        added["data_quality_results"] = load_tsv(cfg, "data_quality_results", quality)
    return added


def fill(cfg: Any, t: Templates, days: list[date], scale: Scale, seed: int) -> dict[str, Any]:
    """Fill ``days`` (oldest first); positions per second of the whole fill."""
    from aerolake.schema import TABLES
    from aerolake.stores.mysql import partitions, stats

    if not days:
        return {"days": 0}
    partitions.ensure_months(cfg, TABLES["flight_positions"], days[0], days[-1])
    started = time.perf_counter()
    totals: dict[str, int] = {}
    for i, day in enumerate(days):
        t0 = time.perf_counter()
        added = fill_day(cfg, t, day, scale, np.random.default_rng(seed + (DAY - day).days))
        for table, rows in added.items():
            totals[table] = totals.get(table, 0) + rows
        log.info("history %s (%d/%d): %s in %.1f s", day, i + 1, len(days), added, time.perf_counter() - t0)
    seconds = time.perf_counter() - started
    t0 = time.perf_counter()
    stats.recount(cfg)
    return {"days": len(days), "rows": totals, "seconds": round(seconds, 1),
            "positions_per_second": round(totals.get("flight_positions", 0) / seconds),
            "recount_seconds": round(time.perf_counter() - t0, 1)}


def history_days(cfg: Any, flights_a_day: int) -> set[date]:
    """The days before D the history holds: those with at least half a day's flights (a fresh database holds
    only the few flights of the evening before D that D's own load writes)."""
    days = frame(cfg, "SELECT departure_date, COUNT(*) AS n FROM flights WHERE departure_date < %s "
                      "GROUP BY departure_date", (DAY.isoformat(),))
    return {d for d, n in zip(days.get("departure_date", []), days.get("n", []), strict=True)
            if n >= flights_a_day / 2}


def sizes(cfg: Any) -> dict[str, dict[str, Any]]:
    """Rows (InnoDB's estimate) and data and index MiB of the tables that grow."""
    from aerolake.stores.mysql.db import connection

    with connection(cfg, autocommit=True) as conn, conn.cursor() as cur:
        for table in GROWING:
            cur.execute(f"ANALYZE TABLE {table}")
            cur.fetchall()
        cur.execute("SELECT TABLE_NAME, TABLE_ROWS, DATA_LENGTH, INDEX_LENGTH FROM information_schema.TABLES "
                    "WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME IN %s", (GROWING,))
        return {name: {"rows_estimate": int(rows or 0), "data_mib": round(data / MIB, 1),
                       "index_mib": round(index / MIB, 1)} for name, rows, data, index in cur.fetchall()}


def set_buffer_pool(cfg: Any, size: int) -> int:
    """Resize InnoDB's buffer pool (dynamic on MySQL 8 and MariaDB 10.11); the size it had."""
    from aerolake.stores.mysql.db import connection

    with connection(cfg, database=False, autocommit=True) as conn, conn.cursor() as cur:
        cur.execute("SELECT @@innodb_buffer_pool_size")
        before = int(cur.fetchone()[0])
        cur.execute("SET GLOBAL innodb_buffer_pool_size = %s", (size,))
        for _ in range(120):  # the resize runs in the background
            cur.execute("SELECT @@innodb_buffer_pool_size")
            if int(cur.fetchone()[0]) == size:
                break
            time.sleep(1)
    return before


# -- the run ------------------------------------------------------------------------------------------------------
def measure(world: World, tag: str, repeats: int, settle_timeout: float) -> dict[str, Any]:
    """Day D run ``repeats`` times (its rows deleted and InnoDB settled before each): per stage the median seconds
    and pages (``innodb``), and every run's seconds under ``repeats``. One run of the same N varied by 20 to 40%
    on this machine before ``settle`` (a snapshot's load 0.41 to 0.71 s), too much to judge a 1.25x limit by; the
    median of three is not moved by one slow run."""
    runs, settled = [], []
    for i in range(repeats):
        forget_day(world.cfg)
        settled.append(settle(world.cfg, settle_timeout))
        runs.append(run_day(world, tag if i == 0 else f"{tag}_r{i}"))
    result = {"seconds": median_seconds([run["seconds"] for run in runs]), "counts": runs[-1]["counts"],
              "innodb": {stage: {key: int(np.median([run["innodb"][stage][key] for run in runs]))
                                 for key in INNODB_COUNTERS} for stage in runs[-1]["innodb"]},
              "settled": settled}
    if repeats > 1:
        result["repeats"] = [run["seconds"] for run in runs]
    result["api"], result["api_bytes"] = api_requests(world.cfg)
    evening = full_day_records(world.cfg)
    if evening is not None:
        result["seconds"]["streaming.records_of_a_full_day"] = round(evening[0], 3)
        result["counts"]["streaming.records_of_a_full_day"] = evening[1]
    log.info("%s: %s; api %s", tag, result["seconds"], result["api"])
    return result


def median_seconds(runs: list[dict[str, float]]) -> dict[str, float]:
    """Per key, the median of the runs' seconds (of those that have the key)."""
    keys = dict.fromkeys(k for run in runs for k in run)
    return {k: round(float(np.median([run[k] for run in runs if k in run])), 3) for k in keys}


def full_day_records(cfg: Any) -> tuple[float, int] | None:
    """Seconds to read the streaming records of the day before D, whose 1.44 million positions the history holds:
    what ``write_curated`` and ``publish_to_kafka`` read each snapshot by the end of a day (D itself holds only
    its two snapshots): (seconds, records). None at N = 0."""
    from aerolake.streaming.records import identified_flight_records

    before = DAY - timedelta(days=1)
    held = frame(cfg, "SELECT 1 AS held FROM flight_positions WHERE observed_at >= %s AND observed_at < %s LIMIT 1",
                 (before.isoformat(), DAY.isoformat()))
    if held.empty:
        return None
    seconds, records = timed(identified_flight_records, cfg, before)
    log.info("records of %s (a full day of positions): %d flights in %.2f s", before, len(records), seconds)
    return seconds, len(records)


def best_seconds(point: dict[str, Any]) -> dict[str, float]:
    """Per stage, the fastest of the point's runs (``repeats``; its seconds when it ran once). A run is slowed,
    never sped up, by what else the machine does: a shared VM's CPU-only ``clean`` of one snapshot took 0.41 to
    1.18 s within minutes (tenth session), more than the 1.25x a median of three or five should judge."""
    runs = point.get("repeats") or [point["seconds"]]
    return {k: min([run[k] for run in runs if k in run] or [v]) for k, v in point["seconds"].items()}


def ratios(points: dict[str, Any], limit: float) -> dict[str, Any]:
    """Each stage's and request's seconds at every N over N = 0's (the medians, and each stage's best run), and
    which exceed ``limit``: the judged ones, and the cold snapshot's apart (module docstring)."""
    base, base_best = points["0"], best_seconds(points["0"])
    cold = f"opensky_{COLD_SNAPSHOT}."
    out: dict[str, Any] = {}
    for n, point in points.items():
        if n == "0" or "seconds" not in point:
            continue
        stage = {k: round(v / base["seconds"][k], 2) for k, v in point["seconds"].items()
                 if base["seconds"].get(k)}
        best = {k: round(v / base_best[k], 2) for k, v in best_seconds(point).items() if base_best.get(k)}
        api = {k: round(v / base["api"][k], 2) for k, v in point["api"].items() if base["api"].get(k)}
        over = sorted(k for k, v in {**stage, **{f"api.{a}": r for a, r in api.items()}}.items() if v > limit)
        out[n] = {"seconds": stage, "best": best, "api": api,
                  "over_limit": [k for k in over if not k.startswith(cold)],
                  "cold_over_limit": [k for k in over if k.startswith(cold)],
                  "best_over_limit": sorted(k for k, v in best.items() if v > limit and not k.startswith(cold))}
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, nargs="+", default=[0, 30, 90])
    parser.add_argument("--quick", action="store_true", help="a tiny world (the smoke test)")
    parser.add_argument("--database", default="aerolake_bench_growth")
    parser.add_argument("--big-pool-mib", type=int, default=0,
                        help="then repeat the largest N with this innodb_buffer_pool_size (0: no)")
    parser.add_argument("--repeats", type=int, default=3,
                        help="run day D this many times at each N; its median seconds per stage count")
    parser.add_argument("--settle-timeout", type=float, default=300.0,
                        help="seconds to wait before each run for InnoDB to purge the day deleted (see settle)")
    parser.add_argument("--keep", action="store_true", help="keep the database")
    parser.add_argument("--resume", action="store_true",
                        help="go on from the days a --keep run filled (its N = 0 is not measured again)")
    parser.add_argument("--combine", nargs="+", default=[], metavar="JSON",
                        help="no run: the points of these results (a later file's win), their ratios and report")
    parser.add_argument("--measure-only", action="store_true",
                        help="measure the database a --keep run left (its N: the days of history it holds), no fill")
    parser.add_argument("--label", default="")
    parser.add_argument("--json-out", default="")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--recount", action="store_true", help="recount the kept database's stats first")
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args(argv)
    if sorted(args.days) != args.days or (args.days[0] != 0 and not args.resume):
        parser.error("--days: ascending, starting with 0 (unless --resume)")
    if args.repeats < 1:
        parser.error("--repeats: at least 1")
    if args.combine:
        return combine(args.combine, args.json_out)
    scale = QUICK if args.quick else Scale()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for name in ("aerolake", "botocore", "boto3", "urllib3", "moto", "httpx", "airflow"):
        logging.getLogger(name).setLevel(logging.INFO if args.verbose else logging.WARNING)

    import boto3
    import mongomock
    from moto import mock_aws

    from aerolake.core.connections import MySqlConfig

    cfg = MySqlConfig(database=args.database)
    if not (args.measure_only or args.resume):
        drop_database(cfg)  # else the days it holds count (history_days); missing ones are filled
    result: dict[str, Any] = {"date": datetime.now(UTC).date().isoformat(), "label": args.label,
                              "repeats": args.repeats, "scale": scale.__dict__, "machine": machine_info(cfg),
                              "points": {}}
    started = time.perf_counter()
    try:
        with mock_aws(), \
                mock_api(scale.lufthansa_per_hub, LUFTHANSA_HUBS, False, False, f"{DAY}T23:00:00Z") as lh_url, \
                mock_api(scale.opensky_per_hub, OPENSKY_HUBS, False, False, f"{DAY}T12:00:30Z") as os_url:
            s3 = boto3.client("s3", region_name="us-east-1")
            world = World(args.database, lh_url, os_url, s3, mongomock.MongoClient()["aerolake_bench_growth"])
            result["prepare"] = prepare(world)
            run_day(world, "warmup")  # imports, caches and the reference rows: not measured
            t = templates(world.cfg)
            if args.recount:
                from aerolake.stores.mysql.stats import recount

                seconds, _ = timed(recount, world.cfg)
                result["recount_seconds"] = round(seconds, 1)
                log.info("recount: %.1f s", seconds)
            held = history_days(world.cfg, len(t.flights))
            filled = len(held)
            for n in [filled] if args.measure_only else args.days:
                if n < filled:
                    log.warning("N = %d skipped: the database already holds %d days", n, filled)
                    continue
                point: dict[str, Any] = {}
                days = [DAY - timedelta(days=k) for k in range(n, 0, -1) if DAY - timedelta(days=k) not in held]
                if days:
                    point["fill"] = fill(world.cfg, t, days, scale, args.seed)
                    held |= set(days)
                filled = n
                point.update(measure(world, f"n{n}", args.repeats, args.settle_timeout))
                point["sizes"] = sizes(world.cfg)
                result["points"][str(n)] = point
            if args.big_pool_mib:
                before = set_buffer_pool(world.cfg, args.big_pool_mib * MIB)
                try:
                    run_day(world, "bigpool_warmup")  # a bigger pool starts empty: one run to warm it
                    point = measure(world, f"n{filled}_bigpool", args.repeats, args.settle_timeout)
                    point["innodb_buffer_pool_mib"] = args.big_pool_mib
                    result["points"][f"{filled}_bigpool_{args.big_pool_mib}mib"] = point
                finally:
                    set_buffer_pool(world.cfg, before)
    finally:
        os.environ.pop("AEROLAKE_NOW", None)
        if not args.keep:
            drop_database(cfg)
    result["ratios"] = ratios({k: v for k, v in result["points"].items() if "bigpool" not in k}, 1.25) \
        if "0" in result["points"] else {}
    result["seconds"] = round(time.perf_counter() - started, 1)
    report(result)
    out = Path(args.json_out) if args.json_out else (
        ROOT / "bench" / "results" / f"growth-{result['date']}{'-' + args.label if args.label else ''}.json")
    out.write_text(json.dumps(result, indent=2, default=str) + "\n")
    print(f"written to {out}")
    return 0


def combine(paths: list[str], json_out: str) -> int:
    """One result of several runs' points (for example a fresh N = 0 and a --resume run of the same code)."""
    runs = [json.loads(Path(p).read_text()) for p in paths]
    points: dict[str, Any] = {}
    for run in runs:
        points.update(run["points"])
    points = dict(sorted(points.items(), key=lambda item: (int(item[0].split("_")[0]), item[0])))
    result = {**runs[-1], "points": points, "combined_from": paths,
              "ratios": ratios({k: v for k, v in points.items() if "bigpool" not in k}, 1.25)}
    report(result)
    Path(json_out).write_text(json.dumps(result, indent=2, default=str) + "\n")
    print(f"written to {json_out}")
    return 0


def report(result: dict[str, Any]) -> None:
    points = result["points"]
    first = next(iter(points.values()))
    names = list(dict.fromkeys(k for point in points.values() for k in point["seconds"]))
    names += [f"api.{a}" for a in first["api"]]
    header = "".join(f"{'N=' + n:>16}" for n in points)
    print(f"\n{'seconds':<40}{header}")
    for name in names:
        cells = []
        for point in points.values():
            value = point["api"].get(name[4:]) if name.startswith("api.") else point["seconds"].get(name)
            base = first["api"].get(name[4:]) if name.startswith("api.") else first["seconds"].get(name)
            ratio = f" ({value / base:.2f}x)" if value is not None and base else ""
            cells.append(f"{(f'{value:.3f}' if value is not None else '-') + ratio:>16}")
        print(f"{name:<40}{''.join(cells)}")
    for name in first.get("api_bytes", {}):
        cells = "".join(f"{point.get('api_bytes', {}).get(name, '-'):>16}" for point in points.values())
        print(f"{'bytes: api.' + name:<40}{cells}")
    # the stages that read pages from disk (buffer pool misses) at some N: reads per run (median)
    read = [k for k in first.get("innodb", {})
            if any(point.get("innodb", {}).get(k, {}).get("pool_reads") for point in points.values())]
    for name in read:
        cells = "".join(f"{point.get('innodb', {}).get(name, {}).get('pool_reads', '-'):>16}"
                        for point in points.values())
        print(f"{'pool reads: ' + name:<40}{cells}")
    for n, r in result["ratios"].items():
        print(f"N={n}: over 1.25x: {', '.join(r['over_limit']) or 'none'}"
              f" (the cold snapshot {COLD_SNAPSHOT}: {', '.join(r['cold_over_limit']) or 'none'});"
              f" best runs over 1.25x: {', '.join(r['best_over_limit']) or 'none'}")


if __name__ == "__main__":
    sys.exit(main())
