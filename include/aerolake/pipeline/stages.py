"""The five stages, as plain functions of (stage context): no Airflow needed to run or test them.

``extract_to_s3 -> load_to_mongo -> clean -> load_to_mysql -> check_quality``

Each reads its input from the partition of its run (lake prefix or MongoDB documents) and returns only
counts, so any task can run alone once its upstream partition exists.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from aerolake.cleaning import encode_keys, gc_paused
from aerolake.core.connections import LazyDatabase, MySqlConfig, mongo_database, mysql_config, s3_client
from aerolake.core.errors import CannotServe, MissingInput
from aerolake.core.settings import Settings, load_settings, utcnow, wall_clock
from aerolake.http import ApiError, invalid_text_at, parse_body, read_records
from aerolake.pipeline.clean import clean_partition
from aerolake.schema import TABLES
from aerolake.sources import authorities, budget_of, calls_per_hour_of, source
from aerolake.sources.base import Source
from aerolake.stores import lake
from aerolake.stores.lake import CleanZoneWriter, Partition, iter_clean_tables
from aerolake.stores.mongo import CLEAN_CHUNK, DOCUMENT_ORDER, documents_by_id, iter_documents, iter_projected
from aerolake.stores.mysql import ledger, partitions, quality
from aerolake.stores.mysql.db import connection
from aerolake.stores.mysql.load import (
    changed_flights_span,
    forget_changed_flights,
    link_positions_to_flights,
    publish_staging,
    stage_frames,
)
from aerolake.stores.mysql.migrate import migrate
from aerolake.stores.mysql.pacing import HourlyPace, fetch_lock
from aerolake.stores.mysql.quotas import QuotaLedger
from aerolake.stores.quarantine import COLLECTION as QUARANTINE_COLLECTION
from aerolake.stores.quarantine import replace_quarantine

__all__ = ["CLEAN_CHUNK", "CleanZoneWriter", "StageContext", "check_quality", "clean", "documents_by_id",
           "extract_to_s3", "iter_documents", "iter_projected", "load_to_mongo", "load_to_mysql"]

log = logging.getLogger(__name__)

MONGO_BATCH = 5000


@dataclass
class StageContext:
    """Everything a stage touches: the run, settings and clients of the lake, MongoDB and MySQL."""

    run: ledger.RunInfo
    settings: Settings
    s3: Any
    mongo: Any
    mysql: MySqlConfig

    @property
    def partition(self) -> Partition:
        return self.run.partition

    @property
    def bucket(self) -> str:
        return self.settings.bucket

    @property
    def source(self) -> Source:
        return source(self.partition.source)

    @classmethod
    def from_connections(cls, run: ledger.RunInfo, settings: Settings | None = None, *,
                         in_process_ok: bool = True) -> StageContext:
        """Clients from the Airflow connections of docs/architecture.md, or the offline defaults. MongoDB is opened on
        first use; ``in_process_ok=False`` (the run's tasks in separate processes) refuses mongomock there."""
        settings = settings or load_settings()
        mongo = LazyDatabase(partial(mongo_database, settings, in_process_ok=in_process_ok))
        return cls(run, settings, s3_client(settings), mongo, mysql_config(settings))

    def collection(self, endpoint: str) -> Any:
        return self.mongo[f"{self.partition.source}_{endpoint}"]

    def partition_filter(self) -> dict[str, Any]:
        # one exact string: null-matching differs between MongoDB and its stand-ins
        return {"_lake.partition": self.partition.key}

    def record(self, stage: str, endpoint: str, counts: dict[str, int], started_at: datetime) -> None:
        ledger.record_stage(self.mysql, self.run, stage, endpoint, counts, started_at=started_at)


# -- 1. extract_to_s3 -------------------------------------------------------------------------------------

def extract_to_s3(ctx: StageContext, *, refetch: bool = False, client: Any = None,
                  now: datetime | None = None) -> dict[str, dict[str, Any]]:
    """Fetch every endpoint of the partition into the raw zone, page by page, exactly as received.

    An endpoint whose manifest exists is skipped (no API call) unless ``refetch``; the manifest is written
    last, so an interrupted fetch is simply fetched again. Before any call: a live source that cannot serve
    the partition any more fails saying so (only the lake could replay it), and the source's request budget
    must hold the calls the plan needs (:mod:`aerolake.stores.mysql.quotas`); every request is charged to it
    and paced below the API's hourly allowance. Each endpoint is fetched under a lock shared by every process
    (:mod:`aerolake.stores.mysql.pacing`): a second run of the partition waits, then replays what the first
    one fetched instead of calling the API again.
    """
    started = wall_clock()
    migrate(ctx.mysql)
    src, part = ctx.source, ctx.partition
    lake.ensure_bucket(ctx.s3, ctx.bucket)
    results: dict[str, dict[str, Any]] = {}
    pending: dict[str, list[Any]] = {}
    refetched: set[str] = set()  # endpoints whose complete manifest a refetch replaces
    seen: dict[str, Any] = {}  # the manifest each endpoint had when this run looked
    for endpoint, requests in src.partition_plan(part, ctx.settings).items():
        existing = seen[endpoint] = lake.read_manifest(ctx.s3, ctx.bucket, part, endpoint)
        if existing is not None and not refetch:
            log.info("%s/%s %s: manifest exists (%d records, fetched %s): no API call", part.source, endpoint,
                     part.key, existing["records_total"], existing["fetched_at"])
            results[endpoint] = {"fetched": existing["records_total"], "api_calls": 0, "skipped": True}
            ctx.record("extract_to_s3", endpoint, {"fetched": existing["records_total"], "api_calls": 0}, started)
        else:
            pending[endpoint] = requests
            if existing is not None:
                refetched.add(endpoint)
    if not pending:
        return results
    reason = src.servable(part, now or utcnow())
    if reason:
        raise CannotServe(f"{part.source} {part.key}: the lake has no complete raw partition for "
                          f"{', '.join(pending)} to replay, and the API cannot serve it: {reason}")
    quota = QuotaLedger(ctx.mysql, part.source, budget_of(ctx.settings, part.source), clock=utcnow)
    if quota.limited:
        # a listing's page count is known only once its first page answers: expect what the last fetch of
        # each endpoint took (at least one call per planned listing); every call is charged anyway
        needed = sum(max(len(requests), ledger.last_api_calls(ctx.mysql, part.source, endpoint))
                     for endpoint, requests in pending.items())
        quota.ensure(needed, f"{part.source} {part.key}")
        if ctx.run.schedule:  # a scheduled run: the budget's pace decides whether it calls now
            quota.pace(needed, ctx.run.schedule, f"the scheduled run of {part.key}")
    if client is None:
        client = src.make_client(ctx.settings, before_request=_before_each_request(ctx, quota))
    for endpoint, requests in pending.items():
        with fetch_lock(ctx.mysql, part.source, endpoint, part.key):
            existing = lake.read_manifest(ctx.s3, ctx.bucket, part, endpoint)
            # another run wrote the endpoint since this one looked (a refetch too: it has just refetched it)
            if existing is not None and (not refetch or existing != seen.get(endpoint)):
                log.info("%s/%s %s: fetched by another run meanwhile (%d records): no API call", part.source,
                         endpoint, part.key, existing["records_total"])
                results[endpoint] = {"fetched": existing["records_total"], "api_calls": 0, "skipped": True}
            else:
                results[endpoint] = _fetch_endpoint(ctx, client, endpoint, requests, endpoint in refetched)
        ctx.record("extract_to_s3", endpoint, {k: results[endpoint][k] for k in ("fetched", "api_calls")}, started)
    return results


def _before_each_request(ctx: StageContext, quota: QuotaLedger) -> Any:
    """What runs before every request of the fetch: the hourly pace shared by every process, then the budget's
    charge (a call the budget cannot pay is not made)."""
    per_hour = calls_per_hour_of(ctx.settings, ctx.partition.source)
    hooks = [HourlyPace(ctx.mysql, ctx.partition.source, per_hour).wait_turn] if per_hour else []
    if quota.limited:
        hooks.append(quota.charge)
    if not hooks:
        return None

    def before_request() -> None:
        for hook in hooks:
            hook()

    return before_request


def _fetch_endpoint(ctx: StageContext, client: Any, endpoint: str, requests: list[Any],
                    replaces_manifest: bool) -> dict[str, Any]:
    """Fetch one endpoint's listings into the raw zone and write its manifest last."""
    src, part = ctx.source, ctx.partition
    if replaces_manifest:  # a refetch: the partition is incomplete until its new manifest is written
        ctx.s3.delete_object(Bucket=ctx.bucket, Key=part.manifest_key(endpoint))
    calls_before = client.http.calls
    fetched_at = utcnow().isoformat(timespec="seconds") + "Z"  # the pipeline's clock: simulated when replaying
    parts: list[dict[str, Any]] = []
    extract = partial(src.extract_records, endpoint)
    for request in requests:
        try:
            # page by page: each is written before the next is fetched, memory stays flat
            for page in client.iter_pages(request.path, request.params, request.page_size, extract):
                parts.append(_store_page(ctx, endpoint, len(parts), page))
        except ApiError as exc:
            hint = f" {src.cannot_serve_hint(part)}" if exc.status == 400 else ""
            raise ApiError(f"{part.source}/{endpoint} {part.key}: {exc}.{hint}", exc.status,
                           retryable=exc.retryable) from exc
    lake.delete_stale_parts(ctx.s3, ctx.bucket, part, endpoint, {p["key"] for p in parts})
    api_calls = client.http.calls - calls_before
    manifest = {
        "source": part.source, "endpoint": endpoint, "dt": part.dt, "snapshot": part.snapshot,
        "fetched_at": fetched_at, "run_id": ctx.run.run_id, "api_base": client.public_base_url,
        "parts": parts, "pages": len(parts), "records_total": sum(p["records"] for p in parts),
        "api_calls": api_calls,
    }
    lake.write_manifest(ctx.s3, ctx.bucket, part, endpoint, manifest)
    log.info("%s/%s %s: %d pages, %d records, %d API calls", part.source, endpoint, part.key, len(parts),
             manifest["records_total"], api_calls)
    return {"fetched": manifest["records_total"], "api_calls": api_calls, "skipped": False}


def _store_page(ctx: StageContext, endpoint: str, number: int, page: Any) -> dict[str, Any]:
    """Write one page to the raw zone exactly as received; returns its manifest entry."""
    part = ctx.partition
    key = part.part_key(endpoint, number)
    lake.put_bytes(ctx.s3, ctx.bucket, key, lake.gzip_bytes(page.body), "application/gzip")
    records = 1 if page.malformed else len(page.records)
    log.info("%s/%s %s: part %05d %s offset=%s status=%s records=%d", part.source, endpoint, part.key, number,
             page.url_path, page.params.get("offset"), page.status, records)
    if page.error:
        log.warning("%s/%s %s: part %05d kept as received for quarantine: %s", part.source, endpoint, part.key,
                    number, page.error)
    return {"key": key, "sha256": lake.sha256_hex(page.body), "bytes": len(page.body), "status": page.status,
            "path": page.url_path, "params": page.params, "records": records, "malformed": page.malformed,
            "error": page.error, "total_count": page.total_count}


# -- 2. load_to_mongo -------------------------------------------------------------------------------------
def load_to_mongo(ctx: StageContext) -> dict[str, dict[str, int]]:
    """Replace the partition's documents in MongoDB with the raw zone's records.

    ``_id`` is the natural key plus the partition; a key seen again is a duplicate (counted, not stored); a
    record without its key fields and a page that is not JSON go to quarantine with the reason.
    """
    started = wall_clock()
    part = ctx.partition
    results = {}
    for endpoint in ctx.source.SPEC.endpoints:
        manifest = lake.read_manifest(ctx.s3, ctx.bucket, part, endpoint)
        if manifest is None:
            raise MissingInput(
                f"{part.source}/{endpoint} {part.key}: no raw partition at "
                f"s3://{ctx.bucket}/{part.raw_prefix(endpoint)}; run extract_to_s3 for this date first"
            )
        coll = ctx.collection(endpoint)
        coll.create_index([("_lake.partition", 1), *DOCUMENT_ORDER])  # serves the partition reads in order
        coll.create_index("_key")
        deleted = coll.delete_many(ctx.partition_filter()).deleted_count
        rejected: list[dict] = []
        with gc_paused():  # many small containers per endpoint: see cleaning.gc_paused
            staged, duplicates = _stage_documents(ctx, endpoint, manifest, coll, rejected)
        replace_quarantine(ctx.s3, ctx.bucket, ctx.mongo, part, endpoint, "load_to_mongo", rejected)
        log.info("%s/%s %s: %d documents staged (replaced %d), %d duplicates, %d quarantined", part.source,
                 endpoint, part.key, staged, deleted, duplicates, len(rejected))
        counts = {"staged": staged, "quarantined_at_staging": len(rejected), "duplicates_at_staging": duplicates}
        ctx.record("load_to_mongo", endpoint, counts, started)
        results[endpoint] = counts
    return results


def _stage_documents(ctx: StageContext, endpoint: str, manifest: dict[str, Any], coll: Any,
                     rejected: list[dict]) -> tuple[int, int]:
    """Insert the raw partition's records as documents in batches; returns (staged, duplicates)."""
    src, part = ctx.source, ctx.partition
    seen: set[str] = set()
    batch: list[dict] = []
    staged = duplicates = 0
    extract = partial(src.extract_records, endpoint)
    for part_meta, body in lake.iter_raw_parts(ctx.s3, ctx.bucket, manifest):
        if part_meta["status"] != 200:
            continue  # an empty window (404 "no data") holds no records
        try:
            payload = parse_body(body)
        except ValueError as exc:
            reason = f"malformed JSON page: {exc}"
            payload = None
        else:
            records, _total, reason = read_records(extract, payload)
        if reason is not None:  # the page whole, counted as the one record the manifest says it is
            rejected.append({"reason": reason, "key": None, "s3_key": part_meta["key"],
                             "record": body[:2000].decode("utf-8", errors="replace")})
            continue
        check_text = not _valid_utf8(body)  # the walk for the bad byte only where a page holds one
        for index, record in enumerate(records):
            key, reason = _record_key(src, endpoint, record, check_text)
            if key is None:
                rejected.append({"reason": reason, "key": None, "s3_key": part_meta["key"],
                                 "record": _storable(record)})
                continue
            doc_id = f"{key}|{part.key}"
            if doc_id in seen:
                duplicates += 1
                continue
            seen.add(doc_id)
            batch.append({
                "_id": doc_id, "_key": key,
                "_lake": {"source": part.source, "endpoint": endpoint, "dt": part.dt, "snapshot": part.snapshot,
                          "partition": part.key, "s3_key": part_meta["key"], "index": index,
                          "fetched_at": manifest["fetched_at"], "run_id": ctx.run.run_id},
                **encode_keys(record),
            })
            if len(batch) >= MONGO_BATCH:
                coll.insert_many(batch, ordered=False)
                staged += len(batch)
                batch = []
    if batch:
        coll.insert_many(batch, ordered=False)
        staged += len(batch)
    return staged, duplicates


def _valid_utf8(body: bytes) -> bool:
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _record_key(src: Source, endpoint: str, record: Any, check_text: bool) -> tuple[str | None, str]:
    """``(natural key, "")`` of a record MongoDB can stage, else ``(None, why not)``: an item that is not an
    object, a string holding an invalid UTF-8 byte (looked for when ``check_text``: its page held one), a
    record without its key (or one the key rule fails on)."""
    if not isinstance(record, dict):
        return None, f"not an object: a {type(record).__name__} where a record belongs"
    bad_text = invalid_text_at(record) if check_text else None
    if bad_text is not None:
        return None, f"invalid UTF-8 in {bad_text}"
    try:
        key = src.natural_key(endpoint, record)
    except Exception as exc:  # noqa: BLE001 - a record of a shape the key rule did not foresee
        return None, f"no natural key: {type(exc).__name__}: {str(exc)[:200]}"
    return (key, "") if key is not None else (None, src.missing_key_reason(endpoint, record))


def _storable(record: Any, limit: int = 100_000) -> Any:
    """A rejected record as the quarantine can store it: as sent, or as JSON text (ASCII: an invalid byte
    shows as ``\\udcXX``) when it holds what BSON cannot encode or is larger than ``limit`` characters (cut)."""
    text = json.dumps(record, ensure_ascii=True, default=str)
    if invalid_text_at(record) is None and len(text) <= limit:
        return record
    return text[:limit]


# -- 3. clean ---------------------------------------------------------------------------------------------
def _require_staged(ctx: StageContext, endpoint: str) -> None:
    """Refuse to clean an empty MongoDB partition when the lake holds records for it: that is a missing
    load_to_mongo (or a per-process in-memory MongoDB), and cleaning it would publish nothing."""
    part = ctx.partition
    manifest = lake.read_manifest(ctx.s3, ctx.bucket, part, endpoint)
    if manifest is None:
        raise MissingInput(f"{part.source}/{endpoint} {part.key}: no raw partition in s3://{ctx.bucket}/"
                           f"{part.raw_prefix(endpoint)}; run extract_to_s3 and load_to_mongo first")
    parsable = sum(p["records"] for p in manifest["parts"] if p["status"] == 200 and not p["malformed"])
    if not parsable or ctx.collection(endpoint).count_documents(ctx.partition_filter()):
        return
    # nothing staged: fine if staging quarantined every record (e.g. a snapshot whose one position lacks its key)
    quarantined = ctx.mongo[QUARANTINE_COLLECTION].count_documents(
        {"source": part.source, "endpoint": endpoint, "partition": part.key, "stage": "load_to_mongo"})
    if quarantined < parsable:
        raise MissingInput(
            f"{part.source}/{endpoint} {part.key}: MongoDB has no documents for this partition although the lake "
            f"has {parsable} records; run load_to_mongo first. (Offline, MongoDB is in-process mongomock and "
            "lives only as long as one process: run tasks in one `airflow dags test`, or set aerolake_mongo, e.g. "
            "AIRFLOW_CONN_AEROLAKE_MONGO='mongo://127.0.0.1:27017' with `python -m aerolake.devstack.mongo_server`.)"
        )


def clean(ctx: StageContext) -> dict[str, dict[str, int]]:
    """Normalize, type, validate and dedupe the partition into the clean zone; rejects go to quarantine."""
    started = wall_clock()
    for endpoint in ctx.source.SPEC.endpoints:
        _require_staged(ctx, endpoint)
    results = clean_partition(ctx, ctx.source)
    for endpoint, counts in results.items():
        ctx.record("clean", endpoint, counts, started)
    return results


# -- 4. load_to_mysql -------------------------------------------------------------------------------------
def load_to_mysql(ctx: StageContext) -> dict[str, dict[str, int]]:
    """Publish the clean partition to MySQL: write, audit, publish, in one transaction.

    Every table is staged then upserted, the positions linked to their flights and the load's counts recorded;
    then the source's error-level quality checks judge the partition on this same connection, **before the
    commit**. A failed gate rolls everything back (the previous good state stays what readers see), records
    the gate's results and fails the task with :class:`QualityCheckFailed` (no retry can cure it).
    """
    started = wall_clock()
    migrate(ctx.mysql)
    results: dict[str, dict[str, int]] = {}
    ranks = authorities()  # how the flights merge ranks every source's times against this one's
    part, spec = ctx.partition, ctx.source.SPEC
    # the months this partition's rows may fall in get their partitions first: partition DDL commits implicitly,
    # so it must not run inside the load's transaction (and almost never runs: the maintenance DAG makes them ahead)
    for table_name, made in partitions.ensure_load_window(ctx.mysql, spec.tables, part.dt).items():
        if made:
            log.info("%s %s: %s partitions made before the load: %s", part.source, part.key, table_name,
                     ", ".join(made))
    with connection(ctx.mysql) as conn:
        try:
            # the moments of the positions this load writes; the scheduled departures of the flights it changes
            moments = {"flight_positions": _TimeRange("observed_at")}
            changed = _TimeRange("scheduled_departure")
            for entity, table_name, endpoint, fill_only in spec.publish:
                t0 = time.monotonic()
                table = TABLES[table_name]
                tables = iter_clean_tables(ctx, entity)
                staging, rows = stage_frames(conn, table, moments[table_name].watch(tables) if table_name in moments
                                             else tables)
                affected = publish_staging(conn, table, staging, insert_missing_only=fill_only, authorities=ranks)
                log.info("%s %s: %s <- %d rows (%s, %d affected) in %.2f s", part.source, part.key, table_name,
                         rows, "fill gaps" if fill_only else "upsert", affected, time.monotonic() - t0)
                # entities of one endpoint (flights and their codeshares) add up to its loaded count
                results.setdefault(endpoint, {"loaded": 0})["loaded"] += rows
            if "flights" in spec.tables:  # a rerun changes none: it has no flights' window to link again
                changed.first, changed.last = changed_flights_span(conn)
            for since, until, near_changed_flights in link_windows(moments["flight_positions"], changed):
                linked = link_positions_to_flights(conn, since, until, near_changed_flights=near_changed_flights)
                log.info("%s %s: %d positions linked to their flights (%s observed %s to %s)", part.source,
                         part.key, linked, "those near a flight it changed," if near_changed_flights else "its own,",
                         since, until)
            forget_changed_flights(conn)
            window = link_window(moments["flight_positions"], changed)
            for endpoint, counts in results.items():
                ledger.record_stage(ctx.mysql, ctx.run, "load_to_mysql", endpoint, counts, started, conn=conn)
            # the position checks judge what this load linked: a snapshot's minute, not days of positions
            nothing = (part.dt, part.dt)
            gate = quality.evaluate(conn, ctx.run, quality.gates(spec.quality), linked=window or nothing)
            blocking = [r for r in gate if r.blocks]
            if blocking:
                conn.rollback()
            else:
                conn.commit()
        except Exception:
            conn.rollback()
            log.exception("%s %s: load rolled back; MySQL is unchanged", part.source, part.key)
            raise
    quality.record(ctx.mysql, ctx.run, gate)
    quality.log_results(gate, "gate")
    if blocking:
        names = "; ".join(r.describe() for r in blocking)
        raise quality.QualityCheckFailed(
            f"{part.source} {part.key}: {len(blocking)} error-level quality check(s) failed, so the load was rolled "
            f"back and MySQL still holds the previous state of this partition: {names}. The partition's records are "
            "in the lake and MongoDB; fix the cause (or the check) and rerun load_to_mysql.")
    return results


def link_windows(positions: _TimeRange, flights: _TimeRange) -> list[tuple[datetime, datetime, bool]]:
    """The moments of the unlinked positions a load may link, and whether only those near a flight it added or
    changed: its own positions' (all of them), and those observed while the flights it added or changed could be
    in the air (from an hour before their first scheduled departure to 20 hours after the last: the link's own
    window, ``link_positions_to_flights.sql``; only near those flights). Empty when it wrote neither. A snapshot's
    link then reads minutes or hours of positions, not days of them every 10 minutes, and a rerun that changes
    no flight reads none of the flights' window."""
    windows = []
    if positions.first is not None:
        windows.append((positions.first, positions.last + timedelta(seconds=1), False))
    if flights.first is not None:
        windows.append((flights.first - timedelta(hours=1), flights.last + timedelta(hours=20, seconds=1), True))
    return windows


def link_window(positions: _TimeRange, flights: _TimeRange) -> tuple[datetime, datetime] | None:
    """The moments :func:`link_windows` spans (the gate's position checks judge them); None when it wrote neither."""
    windows = link_windows(positions, flights)
    return (min(w[0] for w in windows), max(w[1] for w in windows)) if windows else None


class _TimeRange:
    """The earliest and latest value of a timestamp column in the Arrow tables passing through :meth:`watch`."""

    def __init__(self, column: str):
        self.column = column
        self.first: datetime | None = None
        self.last: datetime | None = None

    def watch(self, tables: Any) -> Any:
        import pyarrow.compute as pc

        for table in tables:
            if table.num_rows:
                bounds = pc.min_max(table.column(self.column)).as_py()
                low, high = bounds["min"], bounds["max"]
                if low is not None:
                    self.first = low if self.first is None else min(self.first, low)
                    self.last = high if self.last is None else max(self.last, high)
            yield table


# -- 5. check_quality -------------------------------------------------------------------------------------
def check_quality(ctx: StageContext) -> list[quality.CheckResult]:
    """Evaluate the source's warn-level checks on the published partition and record them; log every result of
    the run (the gate's, recorded by ``load_to_mysql``, too). Warnings never fail the task.

    A run whose gate left no results (its load ran before gates existed, or its results were deleted) is
    gated here after the fact: a failed error-level check then fails the task, naming it.
    """
    checks = list(ctx.source.SPEC.quality)
    gate_checks = quality.gates(checks)
    gate = quality.recorded(ctx.mysql, ctx.run, gate_checks)
    if len(gate) < len(gate_checks):
        log.warning("%s %s: the load recorded no gate results for this run; evaluating the error-level checks "
                    "on the published data", ctx.partition.source, ctx.partition.key)
        gate = quality.run_checks(ctx.mysql, ctx.run, gate_checks)
    warned = quality.run_checks(ctx.mysql, ctx.run, quality.warnings(checks))
    quality.log_results(warned, "warn")
    results = gate + warned
    failing = [r for r in results if not r.passed]
    log.info("%s %s: %d quality checks, %d passed, %d blocking, %d warnings", ctx.partition.source,
             ctx.partition.key, len(results), len(results) - len(failing), sum(r.blocks for r in failing),
             sum(not r.blocks for r in failing))
    blocking = [r for r in gate if r.blocks]
    if blocking:
        raise quality.QualityCheckFailed(
            f"{len(blocking)} error-level quality check(s) failed for {ctx.partition.source} {ctx.partition.key}: "
            + "; ".join(r.describe() for r in blocking))
    return results
