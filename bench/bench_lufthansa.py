"""Benchmark: one synthetic Lufthansa day, extract through load, and the MySQL load three ways.

    /work/main/.venv/bin/python bench/bench_lufthansa.py [--flights-per-hub 25000] [--hubs FRA,MUC]
        [--mongo standin|mongomock] [--skip-row-by-row-rows N] [--repeat N] [--profile]

What runs (all in this process unless noted):

* the mock API (``python -m aerolake.mockapi`` in a child process by default, so its CPU and memory are
  not the pipeline's; ``--mock-in-process`` runs ``MockApi`` in a thread instead), no QPS limit;
* MongoDB: by default the stand-in ``aerolake.devstack.mongo_server`` (mongomock behind the wire protocol,
  in memory only) in a child process, reached with pymongo as a real server is, so its store and its work
  are not the pipeline's process's (its busy seconds and RSS are reported apart); ``--mongo mongomock`` puts mongomock in this process instead;
* moto ``mock_aws`` S3 and a fresh MariaDB database ``aerolake_bench_<random>`` (dropped at the end);
  ``Settings(calls_per_second={"lufthansa": 0})`` so the client does not throttle;
* the stages ``extract_to_s3``, ``load_to_mongo``, ``clean``, ``load_to_mysql`` (new partition into empty
  tables) and ``load_to_mysql`` again (rerun over the same rows), each timed (wall and CPU seconds), with
  the process RSS sampled every 10 ms (psutil) for a per-stage peak;
* diagnostics that take the fakes out: reading the clean parquet back, reading the partition from Mongo,
  and ``clean`` again with ``stores.mongo.iter_documents`` serving those documents from memory;
* the MySQL comparison on the cleaned flight rows of the clean zone: (a) one INSERT + COMMIT per row on the
  first N rows, (b) the project's load (the stage figures, plus ``stage_frames`` + ``publish_staging`` of
  flights alone, new and rerun, and with the executemany fallback), (c) ``LOAD DATA LOCAL INFILE`` of a TSV
  into an empty copy of ``flights`` (no staging, no upsert; the file is written before the clock starts);
  with ``--repeat N`` every load but (a) runs N times (fresh database or table each time), best kept;
* unless ``--no-rss-scaling``: the same stages on a smaller day (``--scaling-fraction``, half by default)
  in a child process, to show whether the process's peak and each stage's working memory grow with the
  day's size;
* with ``--profile``: ``clean`` (as is, and with the documents in memory) and ``load_to_mysql`` (new and
  rerun, into another fresh database) again under cProfile; the top functions are printed, and the
  ``.prof`` files and pstats text kept in ``bench/results/``.

Results are printed as tables with PASS/MISS against the targets of the issue and written as JSON to
``bench/results/lufthansa-<date>.json``. Only ``bench/`` is written; the project's code is not changed
(the in-memory diagnostic swaps ``stores.mongo.iter_documents`` inside this process only, and puts it back).
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import ctypes
import dataclasses
import gc
import io
import json
import logging
import os
import platform
import pstats
import re
import resource
import secrets
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "include"))

import psutil  # noqa: E402

MIB = 1024 * 1024
GIB = 1024 * MIB
RESULTS_DIR = ROOT / "bench" / "results"

#: Targets of the issue.
TARGET_MYSQL_NEW_VS_C = 2.0  # load_to_mysql (new partition) within 2x of LOAD DATA into an empty table
TARGET_MYSQL_RERUN_VS_C = 3.0  # ... and within 3x on a rerun
TARGET_CLEAN_RPS = 50_000  # clean stage, flight-status records per second
TARGET_PEAK_RSS = 1 * GIB
#: "Not growing with the day's size": from the smaller day of the scaling run to the full one, a stage's
#: working memory (peak RSS during the stage minus RSS at its start), and the process's peak above its RSS
#: before the first stage, may grow by at most this share of what linear growth would add, plus slack.
RSS_GROWTH_SHARE = 0.25
RSS_GROWTH_SLACK = 32 * MIB

log = logging.getLogger("bench")


# -- measurement ------------------------------------------------------------------------------------------
class RssSampler:
    """Samples this process's RSS in a daemon thread; ``reset()`` starts a new peak window."""

    def __init__(self, interval: float = 0.01):
        self._proc = psutil.Process()
        self._interval = interval
        self._peak = self.rss()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)

    def rss(self) -> int:
        return self._proc.memory_info().rss

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            rss = self.rss()
            if rss > self._peak:
                self._peak = rss

    def start(self) -> RssSampler:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)

    def reset(self) -> int:
        rss = self.rss()
        self._peak = rss
        return rss

    def peak(self) -> int:
        return max(self._peak, self.rss())


def maxrss_bytes() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux


def release_memory() -> None:
    """Collect garbage and hand free heap pages back to the OS, so a stage's RSS starts from what is live."""
    gc.collect()
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)


@contextlib.contextmanager
def measure(sampler: RssSampler, store: dict[str, Any], name: str, ctx: Any = None,
            server: psutil.Process | None = None) -> Iterator[dict[str, Any]]:
    """Time a block and record RSS at its start, its peak during, and at its end, and this process's CPU
    seconds. With ``ctx`` on the Mongo stand-in, also the stand-in's busy seconds during the block (asked
    before and after the clock) and, with ``server``, its RSS at the end."""
    record: dict[str, Any] = {}
    release_memory()
    busy_before = standin_busy(ctx) if ctx is not None else None
    start_rss = sampler.reset()
    cpu0, t0 = time.process_time(), time.perf_counter()
    try:
        yield record
    finally:
        seconds, cpu = time.perf_counter() - t0, time.process_time() - cpu0
        peak, end = sampler.peak(), sampler.rss()
        record.update({
            "seconds": round(seconds, 3),
            "cpu_s": round(cpu, 3),  # this process only (user + system): less sensitive to a busy machine
            "rss_start_mib": round(start_rss / MIB, 1),
            "rss_peak_mib": round(peak / MIB, 1),
            "rss_end_mib": round(end / MIB, 1),
            "working_mib": round((peak - start_rss) / MIB, 1),  # what the stage needed on top of its start
            "retained_mib": round((end - start_rss) / MIB, 1),  # what stayed (fakes' stores, caches)
        })
        if busy_before is not None:
            record["mongo_server_busy_s"] = round(standin_busy(ctx) - busy_before, 3)
        if server is not None:
            record["mongo_server_rss_mib"] = round(server.memory_info().rss / MIB, 1)
        rows = record.get("rows")
        if rows:
            record["rows_per_s"] = round(rows / seconds) if seconds > 0 else None
        store[name] = record


# -- environment ------------------------------------------------------------------------------------------

def _stop_child(proc: subprocess.Popen) -> None:
    """Terminate a child process, killing it if it does not exit within 15 s."""
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()

@contextlib.contextmanager
def mock_api(flights_per_hub: int, hubs: tuple[str, ...], anomalies: bool, in_process: bool,
             now: str | None = None) -> Iterator[str]:
    """The mock API's base URL, the server running for the duration of the block (``now``: its clock)."""
    if in_process:
        from aerolake.mockapi import MockApi, MockConfig

        config = MockConfig(flights_per_hub=flights_per_hub, qps_limit=None, anomalies=anomalies, hubs=hubs, now=now)
        with MockApi(config) as api:
            yield api.base_url
        return
    cmd = [sys.executable, "-m", "aerolake.mockapi", "--port", "0", "--flights-per-hub", str(flights_per_hub),
           "--hubs", ",".join(hubs), "--qps-limit", "0", "--log-level", "WARNING"]
    if anomalies:
        cmd.append("--anomalies")
    if now:
        cmd += ["--now", now]
    env = {**os.environ, "PYTHONPATH": str(ROOT / "include")}
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, env=env)
    try:
        line = proc.stdout.readline() if proc.stdout else ""
        match = re.search(r"on (http://\S+)", line)
        if not match:
            raise RuntimeError(f"mock API did not start: {line!r} (exit code {proc.poll()})")
        yield match.group(1)
    finally:
        _stop_child(proc)


def mock_stats(base_url: str) -> dict[str, Any] | None:
    import requests

    try:
        return requests.get(f"{base_url}/_mock/stats", timeout=10).json()
    except (requests.RequestException, ValueError):
        return None


def machine_info(mysql_cfg: Any) -> dict[str, Any]:
    from aerolake.stores.mysql.db import connection

    cpu = "unknown"
    with contextlib.suppress(OSError), open("/proc/cpuinfo") as handle:
        for line in handle:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    info: dict[str, Any] = {
        "cpu": cpu, "cpus": os.cpu_count(), "memory_gib": round(psutil.virtual_memory().total / GIB, 1),
        "python": platform.python_version(), "platform": platform.platform(),
    }
    with connection(mysql_cfg, database=False, autocommit=True) as conn, conn.cursor() as cur:
        cur.execute("SELECT VERSION(), @@innodb_buffer_pool_size, @@innodb_flush_log_at_trx_commit, "
                    "@@log_bin, @@sync_binlog, @@innodb_log_file_size, @@local_infile")
        version, pool, flush, log_bin, sync_binlog, log_file, local_infile = cur.fetchone()
    info["mysql"] = {"version": version, "innodb_buffer_pool_mib": int(pool) // MIB,
                     "innodb_flush_log_at_trx_commit": int(flush), "log_bin": int(log_bin),
                     "sync_binlog": int(sync_binlog), "innodb_log_file_mib": int(log_file) // MIB,
                     "local_infile": int(local_infile)}
    from importlib.metadata import PackageNotFoundError, version

    with contextlib.suppress(PackageNotFoundError):
        info["libs"] = {name: version(name) for name in ("pandas", "pyarrow", "pymongo", "pymongoarrow", "PyMySQL", "moto",
                                                         "mongomock")}
    return info


def drop_database(cfg: Any) -> None:
    from aerolake.sql import quote_identifier
    from aerolake.stores.mysql.db import connection

    with connection(cfg, database=False, autocommit=True) as conn, conn.cursor() as cur:
        cur.execute(f"DROP DATABASE IF EXISTS {quote_identifier(cfg.database)}")


@contextlib.contextmanager
def mongo_server(kind: str) -> Iterator[tuple[Any, psutil.Process | None]]:
    """The MongoDB the stages use, as (client, server process): the stand-in (``aerolake.devstack.mongo_server``
    without a data directory: mongomock behind the wire protocol, in a child process; reached with pymongo
    like a real server), or in-process mongomock (the pipeline's offline default, whose store then counts as this process's memory)."""
    if kind == "mongomock":
        import mongomock

        yield mongomock.MongoClient(), None
        return
    import pymongo

    cmd = [sys.executable, "-m", "aerolake.devstack.mongo_server", "--port", "0", "--log-level", "warning"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline() if proc.stdout else ""
        match = re.search(r"listening on (\S+):(\d+)", line)
        if not match:
            raise RuntimeError(f"Mongo stand-in did not start: {line!r} (exit code {proc.poll()})")
        client = pymongo.MongoClient(match.group(1), int(match.group(2)), serverSelectionTimeoutMS=10_000)
        try:
            yield client, psutil.Process(proc.pid)
        finally:
            client.close()
    finally:
        _stop_child(proc)


def standin_busy(ctx: Any) -> float | None:
    """Seconds the Mongo stand-in has spent serving commands so far (None for in-process mongomock)."""
    if type(ctx.mongo).__module__.startswith("mongomock"):
        return None
    return sum(ctx.mongo.command("standinStats")["busy_seconds"].values())


def make_context(base_url: str, hubs: tuple[str, ...], day: str, database: str, mongo_client: Any) -> Any:
    import boto3

    from aerolake.core.connections import MySqlConfig
    from aerolake.core.settings import Settings
    from aerolake.pipeline import stages
    from aerolake.stores.lake import Partition
    from aerolake.stores.mysql.ledger import RunInfo

    settings = Settings(bucket="aerolake-bench", mongo_db="aerolake_bench", mysql_database=database,
                        hubs={"lufthansa": hubs}, calls_per_second={"lufthansa": 0}, mock_api_url=base_url)
    run = RunInfo("lufthansa_lakehouse", f"bench__{datetime.now(UTC):%Y%m%dT%H%M%S}",
                  Partition("lufthansa", day))
    s3 = boto3.client("s3", region_name="us-east-1")
    return stages.StageContext(run, settings, s3, mongo_client[settings.mongo_db], MySqlConfig(database=database))


def quiet_logging(verbose: bool) -> None:
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    level = logging.INFO if verbose else logging.WARNING
    for name in ("aerolake", "botocore", "boto3", "urllib3", "moto", "airflow", "responses"):
        logging.getLogger(name).setLevel(level)
    logging.getLogger("aerolake.http").setLevel(logging.WARNING)
    logging.getLogger("bench").setLevel(logging.INFO)


def warm_up(ctx: Any) -> None:
    """Imports a running Airflow worker already has (pandas, pyarrow, the Airflow SDK behind the connection
    lookup) and static caches, so they are not charged to the first stage that touches them."""
    import pandas  # noqa: F401
    import pyarrow.parquet  # noqa: F401

    from aerolake.cleaning import airportsdata_iata, valid_timezones
    from aerolake.core.connections import api_credentials
    from aerolake.sources import spec_of

    api_credentials(spec_of("lufthansa").api, ctx.settings)
    airportsdata_iata()
    valid_timezones()


def best_of(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The fastest of repeated runs, with every run's seconds."""
    best = dict(min(runs, key=lambda r: r["seconds"]))
    if len(runs) > 1:
        best["runs_seconds"] = [r["seconds"] for r in runs]
    return best


def bucket_bytes(ctx: Any, prefix: str) -> int:
    total = 0
    for page in ctx.s3.get_paginator("list_objects_v2").paginate(Bucket=ctx.bucket, Prefix=prefix):
        total += sum(obj["Size"] for obj in page.get("Contents", []))
    return total


def with_database(ctx: Any, database: str) -> Any:
    return dataclasses.replace(ctx, mysql=dataclasses.replace(ctx.mysql, database=database))


def preread_documents(ctx: Any) -> dict[str, Any]:
    """What the clean stage reads, per endpoint: the flat flight rows of ``stages.iter_projected`` for
    flight status (one Arrow table), the documents of ``stores.mongo.iter_documents`` for the others (a list)
    (what the reading costs, measured apart)."""
    import pyarrow as pa

    from aerolake.pipeline import stages
    from aerolake.sources.lufthansa.normalize import FLIGHT_PATHS
    from aerolake.sources.lufthansa.spec import FLIGHTSTATUS

    return {endpoint: (pa.concat_tables(stages.iter_projected(ctx, endpoint, FLIGHT_PATHS))
                       if endpoint == FLIGHTSTATUS else
                       [doc for chunk in stages.iter_documents(ctx, endpoint) for doc in chunk])
            for endpoint in ctx.source.SPEC.endpoints}


@contextlib.contextmanager
def documents_from_memory(docs: dict[str, Any]) -> Iterator[dict[str, int]]:
    """``stores.mongo.iter_documents`` and ``stores.mongo.iter_projected`` (what the sources read through) serving ``docs`` (from
    :func:`preread_documents`) in the same chunks, MongoDB out of the picture."""
    from aerolake.stores import mongo

    originals = mongo.iter_documents, mongo.iter_projected
    used = {"calls": 0}

    def iter_documents(ctx: Any, endpoint: str, chunk: int = mongo.CLEAN_CHUNK) -> Iterator[Any]:
        used["calls"] += 1
        rows = docs[endpoint]
        for start in range(0, len(rows), chunk):
            yield rows[start:start + chunk]  # a list's or an Arrow table's slice

    def iter_projected(ctx: Any, endpoint: str, paths: Any, chunk: int = mongo.CLEAN_CHUNK) -> Iterator[Any]:
        return iter_documents(ctx, endpoint, chunk)

    mongo.iter_documents, mongo.iter_projected = iter_documents, iter_projected
    try:
        yield used
    finally:
        mongo.iter_documents, mongo.iter_projected = originals


# -- the pipeline -----------------------------------------------------------------------------------------
def run_stages(ctx: Any, sampler: RssSampler, repeat: int = 1, server: psutil.Process | None = None) -> dict[str, Any]:
    from aerolake.pipeline import stages
    from aerolake.sources.lufthansa.spec import FLIGHTSTATUS
    from aerolake.stores import lake

    out: dict[str, Any] = {}
    with measure(sampler, out, "extract_to_s3") as rec:
        result = stages.extract_to_s3(ctx)
        rec["rows"] = result[FLIGHTSTATUS]["fetched"]
        rec["api_calls"] = sum(r["api_calls"] for r in result.values())
        rec["records_all_endpoints"] = sum(r["fetched"] for r in result.values())
    rec["raw_zone_mib"] = round(bucket_bytes(ctx, "raw/") / MIB, 1)  # what moto keeps in this process
    log.info("extract_to_s3: %s", rec)
    mongo = {"ctx": ctx, "server": server} if server is not None else {}
    with measure(sampler, out, "load_to_mongo", **mongo) as rec:
        result = stages.load_to_mongo(ctx)
        rec["rows"] = result[FLIGHTSTATUS]["staged"]
        rec["duplicates"] = result[FLIGHTSTATUS]["duplicates_at_staging"]
        rec["quarantined"] = result[FLIGHTSTATUS]["quarantined_at_staging"]
    log.info("load_to_mongo: %s", rec)
    cleans: list[dict[str, Any]] = []
    for i in range(repeat):  # clean is idempotent: each run rewrites the same clean zone
        tmp = {}
        with measure(sampler, tmp, "clean", **mongo) as rec:
            result = stages.clean(ctx)
            rec["rows"] = out["load_to_mongo"]["rows"]  # flight-status documents read and cleaned
            rec["cleaned"] = result[FLIGHTSTATUS]["cleaned"]
            rec["duplicates"] = result[FLIGHTSTATUS]["duplicates_at_cleaning"]
            rec["quarantined"] = result[FLIGHTSTATUS]["quarantined_at_cleaning"]
        if rec.get("mongo_server_busy_s") is not None:
            # pymongo waits for each answer: the stand-in's busy time is time the stage sat waiting for it
            rec["seconds_without_server"] = round(rec["seconds"] - rec["mongo_server_busy_s"], 3)
            rec["rows_per_s_without_server"] = round(rec["rows"] / rec["seconds_without_server"])
        cleans.append(rec)
        log.info("clean #%d: %s", i + 1, rec)
    out["clean"] = best_of(cleans)
    if len(cleans) > 1 and "seconds_without_server" in cleans[0]:
        out["clean"]["runs_seconds_without_server"] = [r["seconds_without_server"] for r in cleans]
    # load_to_mysql: the first run into this run's database (tables empty), then again over the same rows;
    # with --repeat, more runs each into a fresh database (migrated before the clock starts)
    from aerolake.stores.mysql.migrate import migrate

    runs: dict[str, list[dict[str, Any]]] = {"load_to_mysql_new": [], "load_to_mysql_rerun": []}
    for i in range(repeat):
        rctx = ctx if i == 0 else with_database(ctx, f"{ctx.mysql.database}_r{i}")
        try:
            if i:
                migrate(rctx.mysql)
            for name, store in runs.items():
                tmp: dict[str, Any] = {}
                with measure(sampler, tmp, name) as rec:
                    result = stages.load_to_mysql(rctx)
                    rec["rows"] = result[FLIGHTSTATUS]["loaded"]
                    rec["rows_all_tables"] = sum(r["loaded"] for r in result.values())
                store.append(tmp[name])
                log.info("%s #%d: %s", name, i + 1, rec)
        finally:
            if i:
                drop_database(rctx.mysql)
    for name, store in runs.items():
        out[name] = best_of(store)
    out["pipeline_maxrss_mib"] = round(maxrss_bytes() / MIB, 1)

    # diagnostics: what the fakes cost inside the stages (not part of the pipeline's own work)
    with measure(sampler, out, "diag_read_clean_parquet_flights") as rec:
        rec["rows"] = sum(len(frame) for frame in lake.iter_clean_frames(ctx, "flights"))
    with measure(sampler, out, "diag_mongo_read_partition", **mongo) as rec:
        # what clean reads, alone: on the stand-in, its query, sort and projection plus decoding the rows into Arrow;
        # on in-process mongomock, its query, sort and deep copy, and the projection in Python
        docs = preread_documents(ctx)
        rec["rows"] = len(docs[FLIGHTSTATUS])
    with measure(sampler, out, "diag_mongo_read_nested", **mongo) as rec:
        # the flight documents whole, as clean read them before MongoDB flattened them (and json_normalize's input)
        nested = [doc for chunk in stages.iter_documents(ctx, FLIGHTSTATUS) for doc in chunk]
        rec["rows"] = len(nested)
    with measure(sampler, out, "diag_mongo_count_documents", **mongo) as rec:
        # what clean's guard against an empty MongoDB partition costs (a scan per endpoint on the fakes)
        rec["endpoints"] = {e: ctx.collection(e).count_documents(ctx.partition_filter())
                            for e in ctx.source.SPEC.endpoints}
        rec["rows"] = rec["endpoints"][FLIGHTSTATUS]
    with measure(sampler, out, "diag_clean_docs_in_memory", **mongo) as rec, documents_from_memory(docs) as used:
        result = stages.clean(ctx)
        rec["rows"] = len(docs[FLIGHTSTATUS])
        rec["cleaned"] = result[FLIGHTSTATUS]["cleaned"]
    rec["valid"] = used["calls"] > 0  # False if clean no longer reads through stages.iter_documents
    log.info("clean with documents in memory: %s", rec)
    # the baseline the issue quotes: plain pd.json_normalize of the same documents (flattening only, no types)
    import pandas as pd

    with measure(sampler, out, "diag_json_normalize_baseline") as rec:
        rec["rows"] = len(pd.json_normalize(nested))
    log.info("pd.json_normalize of the same documents: %s", rec)
    del docs, nested
    return out


# -- the three-way MySQL comparison -----------------------------------------------------------------------
def _copy_table(conn: Any, name: str, like: str = "flights") -> None:
    from aerolake.sql import quote_identifier

    with conn.cursor() as cur:
        cur.execute(f"DROP TABLE IF EXISTS {quote_identifier(name)}")
        # LIKE copies columns, keys, indexes and CHECK constraints, not foreign keys
        cur.execute(f"CREATE TABLE {quote_identifier(name)} LIKE {quote_identifier(like)}")
    conn.commit()


def _count(conn: Any, name: str) -> int:
    from aerolake.sql import quote_identifier

    with conn.cursor() as cur:
        cur.execute(f"SELECT COUNT(*) FROM {quote_identifier(name)}")
        return int(cur.fetchone()[0])


def _python_rows(frames: Iterator[Any], columns: list[str], limit: int | None) -> list[tuple]:
    rows: list[tuple] = []
    for frame in frames:
        records = frame[columns].astype(object).where(frame[columns].notna(), None)
        for row in records.itertuples(index=False, name=None):
            rows.append(tuple(v.to_pydatetime() if hasattr(v, "to_pydatetime") else v for v in row))
            if limit is not None and len(rows) >= limit:
                return rows
    return rows


def write_tsv(frames: Iterator[Any], table: Any, path: str) -> int:
    """The rows as a plain MySQL tab-separated file (backslash escapes, ``\\N`` for NULL), for (c).

    Written here, not with the project's formatter, so the ceiling does not depend on the code it judges.
    """
    rows = 0
    with open(path, "w", encoding="utf-8", newline="") as handle:
        for frame in frames:
            if frame.empty:
                continue
            columns = []
            for name in table.load_columns:
                kind, series = table.column(name).kind, frame[name]
                if kind == "datetime":
                    text = series.dt.strftime("%Y-%m-%d %H:%M:%S")
                elif kind == "date":
                    text = series.dt.strftime("%Y-%m-%d")
                elif kind == "str":
                    text = series.astype("string")
                    for raw, escaped in (("\\", "\\\\"), ("\t", "\\t"), ("\n", "\\n"), ("\r", "\\r")):
                        text = text.str.replace(raw, escaped, regex=False)
                elif kind == "bool":
                    text = series.astype("Int8").astype("string")
                else:
                    text = series.astype("string")
                columns.append(text.fillna("\\N").astype(object))
            handle.write("\n".join(columns[0].str.cat(columns[1:], sep="\t")))
            handle.write("\n")
            rows += len(frame)
    return rows


def compare_mysql(ctx: Any, sampler: RssSampler, row_by_row_rows: int, repeat: int = 1) -> dict[str, Any]:
    from aerolake.schema import FLIGHTS
    from aerolake.sources import authorities
    from aerolake.sql import quote_identifier
    from aerolake.stores import lake
    from aerolake.stores.mysql.db import connection
    from aerolake.stores.mysql.load import publish_staging, stage_frames

    out: dict[str, Any] = {}
    columns = FLIGHTS.load_columns
    col_sql = ", ".join(quote_identifier(c) for c in columns)
    total = sum(len(f) for f in lake.iter_clean_frames(ctx, "flights"))
    out["clean_flight_rows"] = total

    with connection(ctx.mysql) as conn:
        # (a) one INSERT and one COMMIT per row, as the replaced systems did
        if row_by_row_rows != 0:
            limit = None if row_by_row_rows < 0 else row_by_row_rows
            values = _python_rows(lake.iter_clean_frames(ctx, "flights"), columns, limit)
            _copy_table(conn, "bench_flights_a")
            statement = f"INSERT INTO `bench_flights_a` ({col_sql}) VALUES ({', '.join(['%s'] * len(columns))})"
            with measure(sampler, out, "a_row_by_row_insert_commit") as rec, conn.cursor() as cur:
                for row in values:
                    cur.execute(statement, row)
                    conn.commit()
                rec["rows"] = len(values)
            assert _count(conn, "bench_flights_a") == len(values)
            del values

        # (b) the project's staging + upsert, flights alone, into an empty copy; then the same rows again;
        # and with the executemany fallback (no LOCAL INFILE), new partition
        def project_load(table: Any, store: dict[str, Any], name: str, use_load_data: bool | None = None) -> None:
            with measure(sampler, store, name) as rec:
                t0 = time.perf_counter()
                staging, rows = stage_frames(conn, table, lake.iter_clean_frames(ctx, "flights"),
                                             use_load_data=use_load_data)
                t1 = time.perf_counter()
                affected = publish_staging(conn, table, staging, authorities=authorities())
                conn.commit()
                rec.update(rows=rows, affected=affected, stage_frames_s=round(t1 - t0, 3),
                           publish_commit_s=round(time.perf_counter() - t1, 3))

        runs: dict[str, list[dict[str, Any]]] = {k: [] for k in (
            "b_flights_stage_publish_new", "b_flights_stage_publish_rerun", "b_flights_executemany_publish_new",
            "c_load_data_infile")}
        table_b = dataclasses.replace(FLIGHTS, name="bench_flights_b")
        table_em = dataclasses.replace(FLIGHTS, name="bench_flights_em")
        fd, path = tempfile.mkstemp(prefix="aerolake-bench-", suffix=".tsv")
        os.close(fd)
        try:
            # (c) LOAD DATA LOCAL INFILE of the same rows into an empty copy: no staging, no upsert. The file
            # is written once, before the clock starts.
            with measure(sampler, out, "c_write_tsv") as rec:
                rec["rows"] = write_tsv(lake.iter_clean_frames(ctx, "flights"), FLIGHTS, path)
                rec["bytes"] = os.path.getsize(path)
            load_c = (f"LOAD DATA LOCAL INFILE %s INTO TABLE `bench_flights_c` CHARACTER SET utf8mb4 "
                      f"FIELDS TERMINATED BY '\\t' ESCAPED BY '\\\\' LINES TERMINATED BY '\\n' ({col_sql})")
            for i in range(repeat):
                tmp: dict[str, Any] = {}
                _copy_table(conn, table_b.name)
                project_load(table_b, tmp, "b_flights_stage_publish_new")
                project_load(table_b, tmp, "b_flights_stage_publish_rerun")
                _copy_table(conn, table_em.name)
                project_load(table_em, tmp, "b_flights_executemany_publish_new", use_load_data=False)
                _copy_table(conn, "bench_flights_c")
                with measure(sampler, tmp, "c_load_data_infile") as rec, conn.cursor() as cur:
                    cur.execute(load_c, (path,))
                    loaded = cur.rowcount
                    cur.execute("SHOW COUNT(*) WARNINGS")
                    warnings = cur.fetchone()[0]
                    conn.commit()
                    rec["rows"] = loaded
                if loaded != total or warnings:
                    raise RuntimeError(f"(c) LOAD DATA loaded {loaded} of {total} rows with {warnings} warnings")
                for name, rec in tmp.items():
                    runs[name].append(rec)
                log.info("comparison #%d: %s", i + 1,
                         {name: rec.get("rows_per_s") for name, rec in tmp.items()})
        finally:
            os.unlink(path)
        for name, store in runs.items():
            out[name] = best_of(store)
        for name in (table_b.name, table_em.name):
            if _count(conn, name) != total:
                raise RuntimeError(f"{name}: {_count(conn, name)} rows, expected {total}")
        # the same contents in every copy (surrogate ids aside)
        digest = ", ".join(f"IFNULL({quote_identifier(c)}, '~')" for c in columns)
        sums = {}
        with conn.cursor() as cur:
            for name in ("bench_flights_b", "bench_flights_em", "bench_flights_c"):
                cur.execute(f"SELECT COUNT(*), SUM(CRC32(CONCAT_WS('|', {digest}))) FROM {quote_identifier(name)}")
                count, crc = cur.fetchone()
                sums[name] = [int(count), int(crc or 0)]
        out["content_digests"] = sums
        out["contents_equal"] = len({tuple(v) for v in sums.values()}) == 1
        if not out["contents_equal"]:
            log.warning("the copies differ: %s", sums)
        with conn.cursor() as cur:
            for name in ("bench_flights_a", "bench_flights_b", "bench_flights_em", "bench_flights_c"):
                cur.execute(f"DROP TABLE IF EXISTS {quote_identifier(name)}")
        conn.commit()
    return out


# -- profiles ---------------------------------------------------------------------------------------------
def _hotspots(profile: cProfile.Profile, top: int) -> tuple[list[dict[str, Any]], str]:
    stats = pstats.Stats(profile)
    rows = []
    for (filename, line, func), (_cc, ncalls, tottime, cumtime, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        rows.append({"function": f"{Path(filename).name}:{line}({func})", "calls": ncalls,
                     "tottime_s": round(tottime, 3), "cumtime_s": round(cumtime, 3)})
    rows.sort(key=lambda r: r["cumtime_s"], reverse=True)
    text = io.StringIO()
    pstats.Stats(profile, stream=text).sort_stats("cumulative").print_stats(top)
    pstats.Stats(profile, stream=text).sort_stats("tottime").print_stats(top)
    return rows[:top], text.getvalue()


def profile_stages(ctx: Any, stamp: str, top: int) -> dict[str, Any]:
    """clean (as is, and with the documents already in memory), and load_to_mysql (new into a second fresh
    database, then rerun) under cProfile."""
    from aerolake.pipeline import stages
    from aerolake.stores.mysql.migrate import migrate

    pctx = with_database(ctx, f"{ctx.mysql.database}_prof")
    out: dict[str, Any] = {}

    def run(name: str, func: Any, target: Any, docs: dict[str, list[dict]] | None = None) -> None:
        profile = cProfile.Profile()
        t0 = time.perf_counter()
        if docs is None:
            profile.runcall(func, target)
        else:
            with documents_from_memory(docs):
                profile.runcall(func, target)
        seconds = time.perf_counter() - t0
        path = RESULTS_DIR / f"lufthansa-{stamp}-{name}.prof"
        profile.dump_stats(path)
        rows, text = _hotspots(profile, top)
        (RESULTS_DIR / f"lufthansa-{stamp}-{name}.txt").write_text(text)
        out[name] = {"seconds_under_profiler": round(seconds, 3), "prof_file": str(path.relative_to(ROOT)),
                     "top_cumulative": rows}
        log.info("profiled %s: %.1f s", name, seconds)

    run("clean", stages.clean, ctx)
    run("clean_docs_in_memory", stages.clean, ctx, preread_documents(ctx))
    try:
        migrate(pctx.mysql)  # as extract_to_s3 would have
        run("load_to_mysql_new", stages.load_to_mysql, pctx)
        run("load_to_mysql_rerun", stages.load_to_mysql, pctx)
    finally:
        drop_database(pctx.mysql)
    return out


# -- report -----------------------------------------------------------------------------------------------
SCALED_STAGES = ("extract_to_s3", "load_to_mongo", "clean", "diag_clean_docs_in_memory", "load_to_mysql_new",
                 "load_to_mysql_rerun")
#: Stages not judged with in-process mongomock: load_to_mongo hands the day to it, which keeps it in this
#: process, and clean reads it through mongomock's cursor, which materializes and sorts the whole partition
#: (clean is then judged through the diagnostic run with the documents already in memory). With the stand-in
#: in its own process every stage is judged. moto keeps the raw zone (gzip pages, ~7 MiB per 100,000 records)
#: and the clean zone in this process whatever the mode.
MONGOMOCK_UNJUDGED = ("load_to_mongo", "clean")


def _rate(rec: dict[str, Any] | None) -> float | None:
    return rec.get("rows_per_s") if rec else None


def flat(small_mib: float, full_mib: float, size_ratio: float) -> bool:
    """Memory "not growing with the day's size": from the smaller day to the full one it grows by at most a
    quarter of what linear growth would add, plus some slack (linear: ``full = size_ratio * small``)."""
    return full_mib <= small_mib + RSS_GROWTH_SHARE * (size_ratio - 1) * max(small_mib, 0) + RSS_GROWTH_SLACK / MIB


def scaling_summary(small: dict[str, Any], full: dict[str, Any]) -> dict[str, Any]:
    ratio = full["stages"]["extract_to_s3"]["rows"] / max(small["stages"]["extract_to_s3"]["rows"], 1)
    unjudged = MONGOMOCK_UNJUDGED if full["mongo"] == "mongomock" else ()
    rows = {}
    for stage in SCALED_STAGES:
        q, f = small["stages"].get(stage), full["stages"].get(stage)
        if not q or not f:
            continue
        rows[stage] = {"small_work_mib": q["working_mib"], "full_work_mib": f["working_mib"],
                       "small_kept_mib": q["retained_mib"], "full_kept_mib": f["retained_mib"],
                       "small_rows_per_s": q.get("rows_per_s"), "full_rows_per_s": f.get("rows_per_s"),
                       "passed": None if stage in unjudged else flat(q["working_mib"], f["working_mib"], ratio)}
    # the process as a whole: its peak above what it held before the first stage (imports, warm-up)
    small_peak = small["stages"]["pipeline_maxrss_mib"] - small["rss_before_stages_mib"]
    full_peak = full["stages"]["pipeline_maxrss_mib"] - full["rss_before_stages_mib"]
    return {"small_flights_per_hub": small["flights_per_hub"], "small_rows": small["stages"]["extract_to_s3"]["rows"],
            "size_ratio": round(ratio, 3), "small_maxrss_mib": small["stages"]["pipeline_maxrss_mib"],
            "small_peak_above_start_mib": round(small_peak, 1), "full_peak_above_start_mib": round(full_peak, 1),
            "process_passed": None if full["mongo"] == "mongomock" else flat(small_peak, full_peak, ratio),
            "stages": rows}


def evaluate(result: dict[str, Any]) -> list[dict[str, Any]]:
    st, cmp = result["stages"], result.get("comparison") or {}
    checks: list[dict[str, Any]] = []
    ceiling = _rate(cmp.get("c_load_data_infile"))
    for stage, limit in (("load_to_mysql_new", TARGET_MYSQL_NEW_VS_C), ("load_to_mysql_rerun", TARGET_MYSQL_RERUN_VS_C)):
        rate = _rate(st.get(stage))
        ratio = ceiling / rate if ceiling and rate else None
        checks.append({"target": f"{stage} within {limit:g}x of (c) LOAD DATA", "observed":
                       f"{ratio:.2f}x slower ({rate:,.0f} vs {ceiling:,.0f} rows/s)" if ratio else "n/a (no comparison)",
                       "passed": ratio is not None and ratio <= limit})
    clean = st.get("clean") or {}
    clean_rate = _rate(clean)
    source = "reading from the Mongo stand-in" if result["mongo"] == "standin" else "reading from in-process mongomock"
    checks.append({"target": f"clean >= {TARGET_CLEAN_RPS:,} records/s ({source}, end to end)",
                   "observed": f"{clean_rate:,.0f} records/s" if clean_rate else "n/a",
                   "passed": bool(clean_rate and clean_rate >= TARGET_CLEAN_RPS)})
    if clean.get("rows_per_s_without_server"):
        rate = clean["rows_per_s_without_server"]
        checks.append({"target": f"clean >= {TARGET_CLEAN_RPS:,} records/s without the stand-in server's own busy "
                                 f"time ({clean['mongo_server_busy_s']:.2f} s of {clean['seconds']:.2f} s; receiving and "
                                 "decoding its answers stay in)", "observed": f"{rate:,.0f} records/s",
                       "passed": rate >= TARGET_CLEAN_RPS})
    diag = st.get("diag_clean_docs_in_memory")
    if diag and diag.get("valid"):
        rate = _rate(diag)
        checks.append({"target": f"(diagnostic) clean with its rows already in memory >= {TARGET_CLEAN_RPS:,}"
                                 " records/s", "observed": f"{rate:,.0f} records/s",
                       "passed": bool(rate and rate >= TARGET_CLEAN_RPS)})
    peak = st["pipeline_maxrss_mib"]
    holds = ("moto's S3 store" if result["mongo"] == "standin"
             else "moto's S3 store and mongomock's copy of the day")
    checks.append({"target": f"pipeline process peak RSS < 1 GiB (maxrss during the stages; includes {holds})",
                   "observed": f"{peak:,.0f} MiB", "passed": peak * MIB < TARGET_PEAK_RSS})
    scaling = result.get("rss_scaling")
    if scaling:
        rule = f"at most {RSS_GROWTH_SHARE:g} of linear growth + {RSS_GROWTH_SLACK // MIB} MiB"
        size = f"{scaling['small_rows']:,} -> {st['extract_to_s3']['rows']:,} records"
        if scaling["process_passed"] is not None:
            checks.append({"target": f"pipeline process peak above its start not growing with the day ({size}; "
                                     f"{rule})",
                           "observed": f"{scaling['small_peak_above_start_mib']:,.0f} -> "
                                       f"{scaling['full_peak_above_start_mib']:,.0f} MiB "
                                       f"(maxrss {scaling['small_maxrss_mib']:,.0f} -> {peak:,.0f} MiB)",
                           "passed": scaling["process_passed"]})
        for stage, row in scaling["stages"].items():
            if row["passed"] is None:
                continue
            checks.append({"target": f"{stage}: working RSS not growing with the day ({rule})",
                           "observed": f"{row['small_work_mib']:,.0f} -> {row['full_work_mib']:,.0f} MiB",
                           "passed": row["passed"]})
    return checks


def print_report(result: dict[str, Any]) -> None:
    st, cmp = result["stages"], result.get("comparison") or {}
    p = print
    p()
    p(f"aerolake Lufthansa benchmark  {result['started_at']}  flights_per_hub={result['flights_per_hub']} "
      f"hubs={','.join(result['hubs'])}  day={result['day']}  repeat={result['repeat']}")
    m = result["machine"]
    p(f"machine: {m['cpu']} x{m['cpus']}, {m['memory_gib']} GiB RAM, MariaDB {m['mysql']['version']} "
      f"(buffer pool {m['mysql']['innodb_buffer_pool_mib']} MiB, flush_log_at_trx_commit="
      f"{m['mysql']['innodb_flush_log_at_trx_commit']}, log_bin={m['mysql']['log_bin']}), Python {m['python']}")
    p(f"mock API: {'in-process thread' if result['mock_in_process'] else 'child process'}, "
      f"{result.get('mock_requests')} requests served; MongoDB: "
      f"{'stand-in (mongomock behind the wire protocol) in a child process, via pymongo' if result['mongo'] == 'standin' else 'in-process mongomock'}"
      f"; load average (1/5/15 min) at start {result.get('loadavg_start')}, at end {result.get('loadavg_end')}")
    p()
    header = (f"{'stage':<36}{'rows':>9}{'seconds':>9}{'rows/s':>9}{'cpu s':>7}{'RSS start':>10}{'peak':>7}"
              f"{'work':>6}{'kept':>6}")
    p("Pipeline stages (rows = flight-status records; cpu s = this process's CPU seconds; RSS in MiB: work = "
      "peak - start, kept = end - start; mongo = the stand-in's own busy seconds and RSS)")
    p(header)
    p("-" * len(header))

    def line(label: str, rec: dict[str, Any] | None) -> None:
        if not rec:
            return
        rate = rec.get("rows_per_s")
        runs = f"  (runs: {', '.join(f'{x:.2f}' for x in rec['runs_seconds'])} s)" if rec.get("runs_seconds") else ""
        mongo = (f"  (mongo: {rec['mongo_server_busy_s']:.2f} s busy, {rec.get('mongo_server_rss_mib', 0):,.0f} MiB)"
                 if rec.get("mongo_server_busy_s") is not None else "")
        p(f"{label:<36}{rec.get('rows', 0):>9,}{rec['seconds']:>9.2f}{(f'{rate:,.0f}' if rate else '-'):>9}"
          f"{rec.get('cpu_s', 0):>7.2f}{rec['rss_start_mib']:>10,.0f}{rec['rss_peak_mib']:>7,.0f}"
          f"{rec['working_mib']:>6,.0f}{rec['retained_mib']:>6,.0f}{runs}{mongo}")

    for name in ("extract_to_s3", "load_to_mongo", "clean", "load_to_mysql_new", "load_to_mysql_rerun"):
        line(name, st.get(name))
    line("  diag: read clean parquet (flights)", st.get("diag_read_clean_parquet_flights"))
    line("  diag: read the flat flight rows", st.get("diag_mongo_read_partition"))
    line("  diag: read the nested documents", st.get("diag_mongo_read_nested"))
    line("  diag: Mongo count_documents", st.get("diag_mongo_count_documents"))
    line("  diag: clean, rows in memory", st.get("diag_clean_docs_in_memory"))
    line("  diag: pd.json_normalize only (same docs)", st.get("diag_json_normalize_baseline"))
    ex, cl = st.get("extract_to_s3", {}), st.get("clean", {})
    p(f"extract: {ex.get('api_calls')} API calls, {ex.get('records_all_endpoints', 0):,} records of all endpoints; "
      f"load_to_mongo: {st['load_to_mongo'].get('duplicates', 0):,} duplicate flight records; clean: "
      f"{cl.get('cleaned', 0):,} flights kept, {cl.get('duplicates', 0):,} duplicates, "
      f"{cl.get('quarantined', 0):,} quarantined")
    if cl.get("rows_per_s_without_server"):
        p(f"clean without the stand-in server's busy time ({cl['mongo_server_busy_s']:.2f} s): "
          f"{cl['rows_per_s_without_server']:,.0f} records/s")
    lm = st["load_to_mongo"]
    where = (f"the Mongo stand-in holds {lm.get('mongo_server_rss_mib', 0):,.0f} MiB in its own process"
             if result["mongo"] == "standin" else
             f"mongomock keeps ~{lm.get('retained_mib', 0):,.0f} MiB of staged documents in this process")
    p(f"RSS: {result['rss_baseline_mib']:,.0f} MiB at start, {result.get('rss_before_stages_mib', 0):,.0f} MiB after "
      f"imports and warm-up (pandas, pyarrow, moto, pymongo, Airflow SDK); peak during the stages (maxrss) "
      f"{st['pipeline_maxrss_mib']:,.0f} MiB, of which moto S3 keeps ~{ex.get('retained_mib', 0):,.0f} MiB "
      f"(raw zone: {ex.get('raw_zone_mib', 0):,.0f} MiB of gzip objects); {where}")

    if cmp:
        ceiling = _rate(cmp.get("c_load_data_infile"))
        p()
        p(f"MySQL load of the same {cmp['clean_flight_rows']:,} cleaned flight rows "
          f"(vs (c) = how many times slower than (c); best of {result['repeat']} except (a))")
        header = f"{'method':<58}{'rows':>9}{'seconds':>9}{'rows/s':>10}{'vs (c)':>8}"
        p(header)
        p("-" * len(header))

        def cline(label: str, rec: dict[str, Any] | None, extra: str = "") -> None:
            if not rec:
                return
            rate = rec.get("rows_per_s")
            ratio = f"{ceiling / rate:.2f}x" if ceiling and rate else "-"
            p(f"{label:<58}{rec['rows']:>9,}{rec['seconds']:>9.2f}{(f'{rate:,.0f}' if rate else '-'):>10}{ratio:>8}"
              + (f"  {extra}" if extra else ""))

        a = cmp.get("a_row_by_row_insert_commit")
        cline("(a) INSERT + COMMIT per row" + ("" if a and a["rows"] == cmp["clean_flight_rows"]
                                               else " (first rows only)"), a)
        cline("(b) load_to_mysql stage, new partition (all tables)", st.get("load_to_mysql_new"))
        cline("(b) load_to_mysql stage, rerun (all tables)", st.get("load_to_mysql_rerun"))
        for key, label in (("b_flights_stage_publish_new", "(b) flights alone: stage_frames+publish, new"),
                           ("b_flights_stage_publish_rerun", "(b) flights alone: stage_frames+publish, rerun"),
                           ("b_flights_executemany_publish_new", "(b') flights alone, executemany staging, new")):
            rec = cmp.get(key)
            if rec:
                cline(label, rec, f"stage {rec['stage_frames_s']:.2f}s + publish {rec['publish_commit_s']:.2f}s")
        cline("(c) LOAD DATA LOCAL INFILE into empty copy (ceiling)", cmp.get("c_load_data_infile"))
        cline("    writing that TSV (bench's formatter, not in (c))", cmp.get("c_write_tsv"))
        p(f"contents of the (b), (b') and (c) tables equal: {cmp.get('contents_equal')}")

    scaling = result.get("rss_scaling")
    if scaling:
        p()
        verdict = {True: "PASS", False: "MISS", None: "not judged (mongomock holds the day in-process)"}
        p(f"RSS vs the day's size: {scaling['small_rows']:,} records ({scaling['small_flights_per_hub']} flights/hub,"
          f" child process) -> {st['extract_to_s3']['rows']:,}; process peak (maxrss) {scaling['small_maxrss_mib']:,.0f}"
          f" -> {st['pipeline_maxrss_mib']:,.0f} MiB, above its RSS before the first stage "
          f"{scaling['small_peak_above_start_mib']:,.0f} -> {scaling['full_peak_above_start_mib']:,.0f} MiB   "
          f"{verdict[scaling['process_passed']]}")
        p(f"  {'stage':<28}{'work MiB':>16}{'kept MiB':>16}{'rows/s':>20}   judged")
        for stage, row in scaling["stages"].items():
            qr, fr = row["small_rows_per_s"] or 0, row["full_rows_per_s"] or 0
            p(f"  {stage:<28}{row['small_work_mib']:>6,.0f} -> {row['full_work_mib']:>6,.0f}"
              f"{row['small_kept_mib']:>7,.0f} -> {row['full_kept_mib']:>6,.0f}{qr:>10,.0f} -> {fr:>7,.0f}   "
              f"{verdict[row['passed']]}")

    p()
    p("Targets")
    for check in result["checks"]:
        p(f"  {'PASS' if check['passed'] else 'MISS'}  {check['target']}: {check['observed']}")

    prof = result.get("profiles")
    if prof:
        p()
        p("Profiles (cProfile; times inflated by the profiler; top by cumulative time; full text and .prof in "
          "bench/results/)")
        for name, data in prof.items():
            p(f"  {name} ({data['seconds_under_profiler']:.2f} s under the profiler):")
            for row in data["top_cumulative"][:20]:
                p(f"    {row['cumtime_s']:>8.2f} s cum {row['tottime_s']:>8.2f} s own {row['calls']:>9}  "
                  f"{row['function']}")


# -- main -------------------------------------------------------------------------------------------------
def smaller_run(args: argparse.Namespace) -> dict[str, Any]:
    """The stages on a smaller day (``--scaling-fraction`` of the size), in a child process (its own RSS
    history), with the same Mongo and mock set-up."""
    flights = max(1, round(args.flights_per_hub * args.scaling_fraction))
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as tmp:
        out_path = tmp.name
    cmd = [sys.executable, str(Path(__file__).resolve()), "--flights-per-hub", str(flights), "--hubs",
           ",".join(args.hubs), "--day", args.day, "--mongo", args.mongo, "--no-comparison", "--no-rss-scaling",
           "--json-out", out_path]
    if args.mock_in_process:
        cmd.append("--mock-in-process")
    if not args.anomalies:
        cmd.append("--no-anomalies")
    log.info("RSS scaling: the stages at %d flights/hub in a child process", flights)
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"smaller-day run failed (exit {done.returncode}):\n{done.stdout}\n{done.stderr}")
        data = json.loads(Path(out_path).read_text())
    finally:
        os.unlink(out_path)
    return data


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--flights-per-hub", type=int, default=25_000,
                        help="departures and arrivals per hub and day in the mock (default 25000: "
                             "2 hubs x 2 directions x 25000 = 100,000 flight-status records)")
    parser.add_argument("--hubs", default="FRA,MUC", type=lambda s: tuple(h.strip().upper() for h in s.split(",") if h.strip()))
    parser.add_argument("--day", default="2026-03-01", help="the partition's date (default 2026-03-01)")
    parser.add_argument("--skip-row-by-row-rows", type=int, default=20_000, metavar="N",
                        help="run (a) row-by-row INSERT+COMMIT on the first N rows only (default 20000; "
                             "0 skips (a), -1 runs it on all rows)")
    parser.add_argument("--no-anomalies", dest="anomalies", action="store_false",
                        help="mock without the documented bad records (default: with them)")
    parser.add_argument("--mock-in-process", action="store_true",
                        help="run the mock API in a thread of this process (default: a child process)")
    parser.add_argument("--no-comparison", dest="comparison", action="store_false",
                        help="skip the three-way MySQL comparison")
    parser.add_argument("--mongo", choices=("standin", "mongomock"), default="standin",
                        help="standin (default): aerolake.devstack.mongo_server in a child process, reached with pymongo like a "
                             "real MongoDB; mongomock: in this process (the pipeline's offline default)")
    parser.add_argument("--no-rss-scaling", dest="rss_scaling", action="store_false",
                        help="skip the smaller-day run that checks RSS growth")
    parser.add_argument("--scaling-fraction", type=float, default=0.5, metavar="F",
                        help="size of the smaller day of the RSS scaling run (default 0.5: 50,000 records)")
    parser.add_argument("--repeat", type=int, default=1, metavar="N",
                        help="run clean and the MySQL loads (stage new/rerun, (b), (b'), (c)) N times and keep the "
                             "best; (a) runs once (default 1)")
    parser.add_argument("--profile", action="store_true",
                        help="afterwards, run clean and load_to_mysql under cProfile and print the hotspots")
    parser.add_argument("--profile-top", type=int, default=30)
    parser.add_argument("--json-out", help="where to write the JSON (default bench/results/lufthansa-<date>.json)")
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args(argv)
    quiet_logging(args.verbose)

    from moto import mock_aws

    from aerolake.core.connections import MySqlConfig

    started = datetime.now(UTC)
    stamp = f"{started:%Y-%m-%d}"
    database = f"aerolake_bench_{secrets.token_hex(4)}"
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    result: dict[str, Any] = {
        "benchmark": "lufthansa", "started_at": started.isoformat(timespec="seconds"),
        "flights_per_hub": args.flights_per_hub, "hubs": list(args.hubs), "day": args.day,
        "expected_flight_status_records": args.flights_per_hub * len(args.hubs) * 2,
        "anomalies": args.anomalies, "mock_in_process": args.mock_in_process,
        "row_by_row_rows": args.skip_row_by_row_rows, "database": database, "repeat": args.repeat,
        "mongo": args.mongo,
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
    }
    if args.rss_scaling:
        result["_smaller"] = smaller_run(args)  # replaced by the summary below

    result["loadavg_start"] = [round(x, 2) for x in os.getloadavg()]
    sampler = RssSampler().start()
    result["rss_baseline_mib"] = round(sampler.rss() / MIB, 1)
    result["machine"] = machine_info(MySqlConfig(database=database))
    try:
        with mock_aws(), mock_api(args.flights_per_hub, args.hubs, args.anomalies, args.mock_in_process) as url, \
                mongo_server(args.mongo) as (mongo_client, mongo_process):
            ctx = make_context(url, args.hubs, args.day, database, mongo_client)
            warm_up(ctx)
            quiet_logging(args.verbose)  # the Airflow SDK import may have reconfigured logging
            result["rss_before_stages_mib"] = round(sampler.rss() / MIB, 1)
            log.info("stages: %d flight-status records expected from %s into database %s",
                     result["expected_flight_status_records"], url, database)
            result["stages"] = run_stages(ctx, sampler, args.repeat, mongo_process)
            stats = mock_stats(url)
            result["mock_requests"] = stats.get("total") if stats else None
            if args.comparison:
                log.info("MySQL comparison")
                result["comparison"] = compare_mysql(ctx, sampler, args.skip_row_by_row_rows, args.repeat)
            result["final_maxrss_mib"] = round(maxrss_bytes() / MIB, 1)
            if args.profile:
                log.info("profiling clean and load_to_mysql")
                result["profiles"] = profile_stages(ctx, stamp, args.profile_top)
    finally:
        sampler.stop()
        drop_database(MySqlConfig(database=database))

    smaller = result.pop("_smaller", None)
    if smaller:
        result["rss_scaling"] = scaling_summary(smaller, result)
    result["loadavg_end"] = [round(x, 2) for x in os.getloadavg()]
    result["checks"] = evaluate(result)
    result["finished_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    out_path = Path(args.json_out) if args.json_out else RESULTS_DIR / f"lufthansa-{stamp}.json"
    out_path.write_text(json.dumps(result, indent=2, default=str) + "\n")
    print_report(result)
    print(f"\nresults: {out_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
