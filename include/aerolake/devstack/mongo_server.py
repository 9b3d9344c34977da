"""A MongoDB stand-in for the local stack: mongomock's semantics behind MongoDB's wire protocol (OP_MSG).

    python -m aerolake.devstack.mongo_server --host 127.0.0.1 --port 27017 --data-dir DIR [--fsync]
    # prints "listening on HOST:PORT" once ready; SIGTERM (or Ctrl-C) stops it cleanly

What it is: one process that every process of the local stack (scheduler, Celery workers, ``airflow tasks
test``, the benchmark) reaches with pymongo, or Airflow's ``MongoHook`` (a ``mongo`` connection to
``mongo://HOST:PORT``), the way they reach a real MongoDB; MongoDB cannot be installed on the development
machines. Its data lives in one mongomock client, so filters, indexes (``unique`` and ``sparse`` included,
checked on insert), inserts, deletes, updates and aggregations behave as mongomock's do, with shortcuts that
keep mongomock's slowest paths out of the reads without changing what they return:

* each inserted document's BSON is kept as received (keyed by ``_id``) and served as is, as a real server
  returns what it stored; an update drops the kept BSON of the documents it may change (they are encoded
  again from mongomock's store when read);
* ``find`` filters the stored documents directly (a filter of plain text equalities on dotted paths is
  matched here, anything else by mongomock's ``filter_applies``) and sorts in Python when the sort values
  have one type each (else mongomock's own cursor and sort); an inclusion projection is applied here too
  (other projections are mongomock's);
* the ``count_documents`` pipeline is counted the same way instead of aggregated;
* an aggregation of ``$match`` (as above), ``$sort`` and a ``$project`` of field paths as text (what
  ``aerolake.projection.FieldPaths.stage`` writes, the clean stage's read of flight records) is matched and
  sorted the same way and projected with ``FieldPaths.project``, which follows MongoDB's field path and
  conversion rules (mongomock knows neither ``$switch`` nor ``$type``, and its aggregation took 75 s for a
  day); batch by batch, as a server fills each ``getMore``. An aggregation's ``batchSize: 0`` gives an empty
  first batch, as MongoDB does (pymongo's raw batches ask it).

The commands it answers: hello/isMaster, ping, buildInfo, endSessions, listDatabases, listCollections,
listIndexes, insert, delete, update, create, createIndexes, drop, dropDatabase, find, getMore, killCursors,
aggregate, count; and ``standinStats`` (this server's busy seconds and calls per command, for the
benchmark's accounting). Any other command is answered ``CommandNotFound`` (code 59). Commands run one at a
time (one lock over the data: mongomock is not thread-safe), whatever the number of client connections;
only the handshake, ping and the stats run beside them.

Persistence (``--data-dir``; without it everything lives in memory, as the benchmark wants):

* every write command (insert, delete, update, create, createIndexes, drop, dropDatabase) is appended to
  ``journal-<generation>.bin`` as it was received (an OP_MSG body and its document sequences, framed by
  length and CRC-32) *before* it is applied and answered, in the order it is applied. The record is handed
  to the operating system before the reply is sent, so an acknowledged write survives a ``kill -9`` of the
  server; with ``--fsync`` each record is also forced to disk (survives a power loss; slower);
* on start: the latest ``snapshot.bin`` is loaded (every collection's documents, as BSON, and its index
  specs), then its generation's journal is replayed, command by command; a torn last record (the server
  killed in the middle of writing it) fails its length or CRC check and is ignored, with a log line. Then,
  if anything was replayed, the state is compacted: a new snapshot is written to a temporary file, fsynced
  and moved into place with ``os.replace``, and a new, empty journal of the next generation replaces the
  old one (a journal of another generation than the snapshot's is stale and is removed). A journal that
  grows beyond ``--compact-mb`` is compacted the same way while the server runs (clients wait meanwhile);
* SIGTERM (or SIGINT) stops it cleanly: it stops listening, waits for the command being applied, compacts
  and forces the journal to disk; commands that arrive meanwhile are refused (``ShutdownInProgress``);
* a record that fails its check in the middle of a journal (a damaged disk, not a kill) cannot be told from
  a torn tail: it and everything after it are ignored, and the log line says how many bytes;
* a second server on the same directory is refused (an exclusive lock on ``DIR/LOCK``).

Limits: the whole data set is held in memory (as mongomock objects plus their BSON); a start loads every
document: with 100,000 flight-shaped ones (51 MiB of BSON) it listens 1.3-1.5 s after it is started when
they are in a snapshot (measured on a quiet machine; up to 5-10 s on a busy one), while replaying them from
a journal (after a ``kill -9``; a SIGTERM compacts on the way out) goes at mongomock's insert speed, 5-6 s
(22 s busy); a snapshot of them is written in 0.2-0.5 s. An insert of
documents without ``_id`` gets them here (an ObjectId, journaled with the document, so a replay gives the
same one); a command that failed when it was sent fails again, the same way, when it is replayed. Cursors,
sessions and connection ids do not survive a restart.

What it is not: no authentication, no TLS, no sessions or transactions (``lsid`` is accepted and ignored),
no replication, change streams, ``$out``/``$merge`` or update pipelines, no write concern but the above
(``w: 0`` gets no reply, anything else the same one), no query planner (indexes are mongomock's: declared,
``unique`` enforced, no speed-up). A development and test fixture, not a database: production and the
docker-compose stack use a real MongoDB.
"""

from __future__ import annotations

import argparse
import fcntl
import gc
import itertools
import logging
import os
import signal
import socket
import socketserver
import struct
import sys
import threading
import time
import zlib
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO

import bson
import mongomock
from bson.objectid import ObjectId
from mongomock import helpers
from mongomock.filtering import filter_applies

from aerolake.cleaning import gc_paused
from aerolake.projection import FieldPaths, text_expression

log = logging.getLogger("aerolake.devstack.mongo_server")

OP_MSG = 2013
MORE_TO_COME = 1 << 1  # an OP_MSG flag: the sender expects no reply
HEADER = struct.Struct("<iiii")  # messageLength, requestID, responseTo, opCode
INT32 = struct.Struct("<i")
RECORD = struct.Struct("<II")  # a journal or snapshot record: payload length, CRC-32 of the payload
MAX_BATCH_BYTES = 16 * 1024 * 1024
DEFAULT_FIRST_BATCH = 101
#: Commands that touch no data: answered without waiting for the data lock (pymongo's heartbeats).
LOCK_FREE = frozenset({"hello", "ismaster", "ping", "buildinfo", "endsessions", "standinstats"})
#: Commands that change data: journaled before they are applied (with ``--data-dir``).
WRITES = frozenset({"insert", "delete", "update", "create", "createindexes", "drop", "dropdatabase"})
SNAPSHOT = "snapshot.bin"
SNAPSHOT_FORMAT = "aerolake-mongo-snapshot/1"
LOAD_CHUNK = 10_000


class CommandError(Exception):
    def __init__(self, message: str, code: int = 2):
        super().__init__(message)
        self.code = code


class Standin:
    """The command layer: one mongomock client behind one lock (mongomock is not thread-safe), the BSON of
    every document as inserted, open cursors, busy time per command, and (with a data directory) the journal
    every write goes to before it is applied."""

    def __init__(self) -> None:
        self.client = mongomock.MongoClient()
        self.lock = threading.Lock()
        self.raw: dict[tuple[str, str], dict[Any, bytes]] = defaultdict(dict)
        self.cursors: dict[int, tuple[Iterator[Any], str]] = {}
        self._cursor_ids = itertools.count(1)
        self._connection_ids = itertools.count(1)
        self._stats_lock = threading.Lock()
        self.busy: dict[str, float] = defaultdict(float)
        self.calls: dict[str, int] = defaultdict(int)
        self.data_dir: Path | None = None
        self.journal: Journal | None = None
        self.generation = 0
        self.fsync = False
        self.compact_bytes = sys.maxsize
        self.closed = False
        self._dir_lock: BinaryIO | None = None

    def connection_id(self) -> int:
        return next(self._connection_ids)

    # -- dispatch ----------------------------------------------------------------------------------------
    def run(self, body: dict[str, Any], sequences: dict[str, list[tuple[dict, bytes]]],
            connection_id: int) -> dict[str, Any] | bytes:
        """The reply to one command: a document, or its BSON when already encoded (cursor batches). A write
        is journaled (when there is a journal) before it is applied, under the same lock, so the journal's
        order is the order the writes were applied in."""
        name = next(iter(body))
        key = name.lower()
        handler = getattr(self, f"cmd_{key}", None)
        if handler is None:
            return {"ok": 0.0, "errmsg": f"no such command: '{name}' (aerolake mongo_server)", "code": 59,
                    "codeName": "CommandNotFound"}
        t0 = time.perf_counter()
        try:
            if key in LOCK_FREE:
                reply = handler(body, sequences, connection_id)
            else:
                with self.lock:
                    if self.closed:
                        raise CommandError("the server is shutting down", 91)
                    if key in WRITES:
                        if key == "insert":
                            body, sequences = _with_ids(body, sequences)
                        if self.journal is not None:
                            self.journal.append(body, sequences)
                    reply = handler(body, sequences, connection_id)
                    if key in WRITES and self.journal is not None and self.journal.size >= self.compact_bytes:
                        self._compact_while_running()
        except CommandError as exc:
            reply = {"ok": 0.0, "errmsg": str(exc), "code": exc.code}
        except Exception as exc:  # an error answer, as a server gives, instead of a dropped socket
            log.exception("command %s failed", name)
            reply = {"ok": 0.0, "errmsg": f"{type(exc).__name__}: {exc}", "code": 1}
        finally:
            with self._stats_lock:
                self.busy[name] += time.perf_counter() - t0
                self.calls[name] += 1
        return reply

    def collection(self, body: dict[str, Any], name: str) -> tuple[Any, dict[Any, bytes]]:
        db, coll = body["$db"], body[name]
        return self.client[db][coll], self.raw[(db, coll)]

    # -- persistence -------------------------------------------------------------------------------------
    def open_data_dir(self, path: Path, fsync: bool = False, compact_bytes: int = sys.maxsize) -> None:
        """Load ``path``'s snapshot, replay its journal, compact when anything was replayed, and journal every
        write from now on."""
        path.mkdir(parents=True, exist_ok=True)
        self._dir_lock = open(path / "LOCK", "ab")  # noqa: SIM115 (held for the server's lifetime)
        try:
            fcntl.flock(self._dir_lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise SystemExit(f"mongo_server: another server is using {path} (it holds {path / 'LOCK'})") from None
        self.data_dir, self.fsync, self.compact_bytes = path, fsync, compact_bytes
        (path / f"{SNAPSHOT}.tmp").unlink(missing_ok=True)  # a compaction that did not finish
        t0 = time.monotonic()
        snapshot = path / SNAPSHOT
        self.generation, documents = _load_snapshot(self, snapshot) if snapshot.exists() else (0, 0)
        loaded = time.monotonic()
        journal = path / _journal_name(self.generation)
        for stale in sorted(path.glob("journal-*.bin")):
            if stale != journal:  # its commands are in the snapshot already (a compaction stopped after it)
                log.info("%s: stale journal of another generation than the snapshot's (%d); removed", stale,
                         self.generation)
                stale.unlink()
        replayed = failed = 0
        if journal.exists():
            reader = RecordReader(journal)
            for payload in reader:
                body, sequences = _parse_op_msg(payload)
                failed += not self._replay(body, sequences)
                replayed += 1
            if reader.torn:
                log.warning("%s: torn last record at byte %d (%d bytes, the server stopped while writing it); "
                            "ignored", journal, reader.good_end, reader.torn)
            with open(journal, "r+b") as handle:  # nothing may follow a torn record
                handle.truncate(reader.good_end)
        log.info("%s: snapshot generation %d, %d documents loaded in %.2f s; %d journaled commands replayed "
                 "(%d answered with an error, as when they were sent) in %.2f s", path, self.generation,
                 documents, loaded - t0, replayed, failed, time.monotonic() - loaded)
        if replayed:
            self.compact()
        else:
            self.journal = Journal(journal, fsync)
        gc.freeze()  # what was loaded stays: the collector need not walk it again and again

    def _replay(self, body: dict[str, Any], sequences: dict[str, list[tuple[dict, bytes]]]) -> bool:
        """Apply one journaled command again; whether it succeeded."""
        key = next(iter(body)).lower()
        try:
            reply = getattr(self, f"cmd_{key}")(body, sequences, 0)
        except Exception:  # it failed the same way when it was sent
            log.debug("replayed %s failed", key, exc_info=True)
            return False
        return not isinstance(reply, dict) or (reply.get("ok") == 1.0 and "writeErrors" not in reply)

    def compact(self) -> None:
        """Write the whole state as the next generation's snapshot (atomically), then start its empty journal
        and remove the previous one. The caller holds the lock (or nothing else runs yet)."""
        if self.data_dir is None:
            return
        t0 = time.monotonic()
        generation = self.generation + 1
        documents = _write_snapshot(self, self.data_dir / SNAPSHOT, generation)
        journal = Journal(self.data_dir / _journal_name(generation), self.fsync, truncate=True)
        _fsync_dir(self.data_dir)
        previous, self.journal, self.generation = self.journal, journal, generation
        if previous is not None:
            previous.close()
        (self.data_dir / _journal_name(generation - 1)).unlink(missing_ok=True)
        log.info("%s: compacted into snapshot generation %d (%d documents) in %.2f s", self.data_dir, generation,
                 documents, time.monotonic() - t0)

    def _compact_while_running(self) -> None:
        try:
            self.compact()
        except Exception:  # the write itself is journaled and applied: answer it; the journal keeps growing
            log.exception("%s: compaction failed; the journal stays as it is", self.data_dir)

    def close(self) -> None:
        """Stop answering data commands, compact (so the next start loads a snapshot instead of replaying
        commands), force the journal to disk and release the data directory."""
        with self.lock:
            self.closed = True
            if self.journal is not None and self.journal.size:
                self._compact_while_running()
            if self.journal is not None:
                self.journal.close()
                self.journal = None
            if self._dir_lock is not None:
                self._dir_lock.close()
                self._dir_lock = None

    # -- handshake and admin -----------------------------------------------------------------------------
    def cmd_hello(self, body: dict, seqs: dict, connection_id: int) -> dict[str, Any]:
        return {"isWritablePrimary": True, "ismaster": True, "helloOk": True, "maxBsonObjectSize": 16 * 1024 * 1024,
                "maxMessageSizeBytes": 48_000_000, "maxWriteBatchSize": 100_000, "localTime": datetime.now(UTC),
                "connectionId": connection_id, "minWireVersion": 0, "maxWireVersion": 21, "readOnly": False,
                "ok": 1.0}

    cmd_ismaster = cmd_hello

    def cmd_ping(self, body: dict, seqs: dict, connection_id: int) -> dict[str, Any]:
        return {"ok": 1.0}

    cmd_endsessions = cmd_ping

    def cmd_buildinfo(self, body: dict, seqs: dict, connection_id: int) -> dict[str, Any]:
        return {"version": "7.0.0", "versionArray": [7, 0, 0, 0], "gitVersion": "mongomock", "ok": 1.0}

    def cmd_standinstats(self, body: dict, seqs: dict, connection_id: int) -> dict[str, Any]:
        with self._stats_lock:
            return {"busy_seconds": dict(self.busy), "calls": dict(self.calls), "ok": 1.0}

    def cmd_listdatabases(self, body: dict, seqs: dict, connection_id: int) -> dict[str, Any]:
        names = self.client.list_database_names()
        databases = [{"name": n} if body.get("nameOnly") else {"name": n, "sizeOnDisk": 0, "empty": False}
                     for n in names]
        return {"databases": databases, "totalSize": 0, "ok": 1.0}

    # -- writes ------------------------------------------------------------------------------------------
    def cmd_insert(self, body: dict, seqs: dict, connection_id: int) -> dict[str, Any]:
        coll, raw = self.collection(body, "insert")
        pairs = seqs.get("documents") or [(doc, bson.encode(doc)) for doc in body.get("documents", [])]
        docs = [doc for doc, _ in pairs]
        failed: set[int] = set()
        reply: dict[str, Any] = {"n": len(docs), "ok": 1.0}
        try:
            coll.insert_many(docs, ordered=body.get("ordered", True))
        except mongomock.BulkWriteError as exc:
            errors = exc.details.get("writeErrors", [])
            failed = {e.get("index", 0) for e in errors}
            if body.get("ordered", True) and errors:  # an ordered insert stops at its first error
                failed |= set(range(min(failed), len(docs)))
            reply = {"n": exc.details.get("nInserted", 0), "ok": 1.0,
                     "writeErrors": [{"index": e.get("index", 0), "code": e.get("code", 11000),
                                      "errmsg": e.get("errmsg", "duplicate key")} for e in errors]}
        for index, (doc, data) in enumerate(pairs):
            if index not in failed and "_id" in doc:  # (run gives every document its _id before it is sent here)
                raw[doc["_id"]] = data
        return reply

    def cmd_delete(self, body: dict, seqs: dict, connection_id: int) -> dict[str, Any]:
        coll, raw = self.collection(body, "delete")
        deleted = 0
        specs = [doc for doc, _ in seqs["deletes"]] if "deletes" in seqs else body.get("deletes", [])
        for spec in specs:
            ids = [doc["_id"] for doc in _matching(coll, spec["q"])]  # in store order, as mongomock deletes
            if spec.get("limit", 0) == 1:
                ids = ids[:1]
                deleted += coll.delete_one(spec["q"]).deleted_count
            else:
                deleted += coll.delete_many(spec["q"]).deleted_count
            for doc_id in ids:
                raw.pop(doc_id, None)
        return {"n": deleted, "ok": 1.0}

    def cmd_update(self, body: dict, seqs: dict, connection_id: int) -> dict[str, Any]:
        """Updates (operators), replacements and upserts, one statement after another, by mongomock."""
        coll, raw = self.collection(body, "update")
        specs = [doc for doc, _ in seqs["updates"]] if "updates" in seqs else body.get("updates", [])
        ordered = body.get("ordered", True)
        matched = modified = 0
        upserted: list[dict[str, Any]] = []
        errors: list[dict[str, Any]] = []
        for index, spec in enumerate(specs):
            query, update = spec.get("q") or {}, spec.get("u")
            multi, upsert = bool(spec.get("multi")), bool(spec.get("upsert"))
            for doc in _matching(coll, query):  # their BSON as inserted is stale once they change
                raw.pop(doc["_id"], None)
            try:
                if isinstance(update, list) or not isinstance(update, dict):
                    raise CommandError("update pipelines are not supported by the aerolake mongo_server", 9)
                if update and all(k.startswith("$") for k in update):
                    method = coll.update_many if multi else coll.update_one
                    result = method(query, update, upsert=upsert)
                elif multi:
                    raise CommandError("a replacement document cannot be applied with multi: true", 9)
                else:
                    result = coll.replace_one(query, update, upsert=upsert)
            except (CommandError, mongomock.OperationFailure) as exc:
                errors.append({"index": index, "code": getattr(exc, "code", None) or 2, "errmsg": str(exc)})
                if ordered:
                    break
                continue
            matched += result.matched_count
            modified += result.modified_count
            if result.upserted_id is not None:
                upserted.append({"index": index, "_id": result.upserted_id})
        reply: dict[str, Any] = {"n": matched + len(upserted), "nModified": modified, "ok": 1.0}
        if upserted:
            reply["upserted"] = upserted
        if errors:
            reply["writeErrors"] = errors
        return reply

    def cmd_create(self, body: dict, seqs: dict, connection_id: int) -> dict[str, Any]:
        db = self.client[body["$db"]]
        if body["create"] in db.list_collection_names():
            raise CommandError(f"Collection {body['$db']}.{body['create']} already exists.", 48)
        db.create_collection(body["create"])
        return {"ok": 1.0}

    def cmd_createindexes(self, body: dict, seqs: dict, connection_id: int) -> dict[str, Any]:
        coll, _raw = self.collection(body, "createIndexes")
        existed = body["createIndexes"] in coll.database.list_collection_names()
        before = len(coll.index_information()) if existed else 1
        for spec in body["indexes"]:
            options = {k: v for k, v in spec.items() if k in ("name", "unique", "sparse")}
            coll.create_index(list(spec["key"].items()), **options)
        return {"createdCollectionAutomatically": not existed, "numIndexesBefore": before,
                "numIndexesAfter": len(coll.index_information()), "ok": 1.0}

    def cmd_drop(self, body: dict, seqs: dict, connection_id: int) -> dict[str, Any]:
        coll, raw = self.collection(body, "drop")
        coll.drop()
        raw.clear()
        return {"ok": 1.0}

    def cmd_dropdatabase(self, body: dict, seqs: dict, connection_id: int) -> dict[str, Any]:
        self.client.drop_database(body["$db"])
        for key in [k for k in self.raw if k[0] == body["$db"]]:
            del self.raw[key]
        return {"ok": 1.0}

    # -- reads -------------------------------------------------------------------------------------------
    def cmd_find(self, body: dict, seqs: dict, connection_id: int) -> dict[str, Any]:
        coll, raw = self.collection(body, "find")
        spec, sort = body.get("filter") or {}, list((body.get("sort") or {}).items())
        projection, skip, limit = body.get("projection"), int(body.get("skip", 0)), int(body.get("limit", 0))
        tree = _inclusion_tree(projection) if projection else None
        docs = _sorted(_matching(coll, spec), sort) if not projection or tree else None
        if docs is None:  # another projection, or a sort over mixed types: mongomock's cursor, results at once
            cursor = coll.find(spec, projection)
            if sort:
                cursor = cursor.sort(sort)
            docs, raw = cursor._compute_results(), {}
        docs = docs[skip:skip + limit] if limit else docs[skip:]
        ns = f"{body['$db']}.{body['find']}"
        if tree:
            encoded = (bson.encode(_project(doc, tree)) for doc in docs)
        else:
            encoded = (raw.get(doc.get("_id")) or bson.encode(doc) for doc in docs)
        return self._first_batch(encoded, ns, body.get("batchSize", DEFAULT_FIRST_BATCH),
                                 single=bool(body.get("singleBatch")))

    def cmd_getmore(self, body: dict, seqs: dict, connection_id: int) -> bytes:
        cursor_id = int(body["getMore"])
        if cursor_id not in self.cursors:
            raise CommandError(f"cursor id {cursor_id} not found", 43)
        docs, ns = self.cursors[cursor_id]
        batch, more = _batch(docs, body.get("batchSize"))
        if not more:
            del self.cursors[cursor_id]
        return _cursor_reply(cursor_id if more else 0, ns, "nextBatch", batch)

    def cmd_killcursors(self, body: dict, seqs: dict, connection_id: int) -> dict[str, Any]:
        killed = [c for c in body.get("cursors", []) if self.cursors.pop(int(c), None) is not None]
        return {"cursorsKilled": killed, "cursorsNotFound": [], "cursorsAlive": [], "cursorsUnknown": [],
                "ok": 1.0}

    def cmd_aggregate(self, body: dict, seqs: dict, connection_id: int) -> dict[str, Any]:
        coll, _raw = self.collection(body, "aggregate")
        pipeline = body["pipeline"]
        if (len(pipeline) == 2 and set(pipeline[0]) == {"$match"}
                and pipeline[1] == {"$group": {"_id": 1, "n": {"$sum": 1}}}):  # pymongo's count_documents
            n = sum(1 for _ in _matching(coll, pipeline[0]["$match"]))
            docs = [{"_id": 1, "n": n}] if n else []
        elif (flat := _field_path_pipeline(pipeline)) is not None and (
                (docs := _sorted(_matching(coll, flat[0]), flat[1])) is not None):
            ns = f"{body['$db']}.{body['aggregate']}"
            encoded = (bson.encode(flat[2].project(doc)) for doc in docs)  # lazily, batch by batch
            return self._first_batch(encoded, ns, (body.get("cursor") or {}).get("batchSize", DEFAULT_FIRST_BATCH),
                                     zero_is_empty=True)
        else:
            docs = list(coll.aggregate(pipeline))
        ns = f"{body['$db']}.{body['aggregate']}"
        return self._first_batch(map(bson.encode, docs), ns,
                                 (body.get("cursor") or {}).get("batchSize", DEFAULT_FIRST_BATCH), zero_is_empty=True)

    def cmd_count(self, body: dict, seqs: dict, connection_id: int) -> dict[str, Any]:
        coll, _raw = self.collection(body, "count")
        return {"n": sum(1 for _ in _matching(coll, body.get("query") or {})), "ok": 1.0}

    def cmd_listcollections(self, body: dict, seqs: dict, connection_id: int) -> dict[str, Any]:
        names = self.client[body["$db"]].list_collection_names()
        docs = [{"name": n, "type": "collection", "options": {}, "info": {"readOnly": False}} for n in names]
        return self._first_batch(map(bson.encode, docs), f"{body['$db']}.$cmd.listCollections", 0)

    def cmd_listindexes(self, body: dict, seqs: dict, connection_id: int) -> dict[str, Any]:
        coll, _raw = self.collection(body, "listIndexes")
        if body["listIndexes"] not in coll.database.list_collection_names():
            raise CommandError(f"ns does not exist: {body['$db']}.{body['listIndexes']}", 26)
        docs = [{"v": 2, "key": dict(info["key"]), "name": name, **({"unique": True} if info.get("unique") else {})}
                for name, info in coll.index_information().items()]
        return self._first_batch(map(bson.encode, docs), f"{body['$db']}.{body['listIndexes']}", 0)

    def _first_batch(self, encoded: Iterator[bytes], ns: str, batch_size: int | None,
                     single: bool = False, zero_is_empty: bool = False) -> bytes:
        """The first batch of a cursor; an aggregation's ``batchSize: 0`` asks for an empty one (pymongo's
        raw batches do), a find's means the default."""
        if zero_is_empty and batch_size == 0:
            batch, more = [], True
        else:
            batch, more = _batch(encoded, batch_size or None)
        cursor_id = 0
        if more and not single:
            cursor_id = next(self._cursor_ids)
            self.cursors[cursor_id] = (encoded, ns)
        return _cursor_reply(cursor_id, ns, "firstBatch", batch)


def _matching(coll: Any, spec: dict[str, Any]) -> list[dict]:
    """The stored documents (not copies) matching ``spec``. A filter of plain text equalities on dotted paths
    is matched here (a path through a list goes to mongomock, which knows array semantics); any other filter
    is mongomock's."""
    docs = list(coll._store.documents)
    if not spec or not all(isinstance(v, str) and not k.startswith("$") for k, v in spec.items()):
        return [doc for doc in docs if filter_applies(spec, doc)]
    paths = [(k.split("."), v) for k, v in spec.items()]
    out = []
    for doc in docs:
        for parts, wanted in paths:
            verdict = _text_equal(doc, parts, wanted)
            if verdict is None:
                if filter_applies(spec, doc):
                    out.append(doc)
                break
            if not verdict:
                break
        else:
            out.append(doc)
    return out


def _text_equal(doc: dict[str, Any], parts: list[str], wanted: str) -> bool | None:
    """Whether the value at ``parts`` is the text ``wanted``; None when the path meets a list."""
    value: Any = doc
    for part in parts:
        if isinstance(value, dict):
            value = value.get(part)
        elif isinstance(value, list):
            return None
        else:
            return False
    if isinstance(value, list):
        return None
    return isinstance(value, str) and value == wanted


def _inclusion_tree(projection: dict[str, Any]) -> dict[str, Any] | None:
    """An inclusion projection (``{"a.b": 1, ...}``, ``_id`` shown unless ``"_id": 0``) as a tree of field
    names; None for any other projection (mongomock's then)."""
    tree: dict[str, Any] = {"_id": True}
    for path, value in projection.items():
        if path == "_id" and value in (0, False):
            del tree["_id"]
            continue
        if value not in (1, True) or path.startswith("$") or ".$" in path:
            return None
        node = tree
        *parents, leaf = path.split(".")
        for part in parents:
            child = node.get(part)
            if child is True:
                break  # a parent already included whole
            node = node.setdefault(part, {})
        else:
            node[leaf] = True
    return tree if set(tree) - {"_id"} else None  # only "_id": 0 is an exclusion projection


def _project(value: Any, tree: dict[str, Any]) -> Any:
    """MongoDB's inclusion projection of one value: a document keeps the named fields in its own order; an
    array projects its documents and drops anything else; a field that is not a document where the path
    goes deeper is left out."""
    if isinstance(value, list):
        return [_project(v, tree) for v in value if isinstance(v, dict | list)]
    out = {}
    for key, item in value.items():
        sub = tree.get(key)
        if sub is True:
            out[key] = item
        elif sub is not None and isinstance(item, dict | list):
            out[key] = _project(item, sub)
    return out


def _field_path_pipeline(pipeline: list[dict[str, Any]]) -> tuple[dict, list, FieldPaths] | None:
    """``[{"$match": …}, {"$sort": …}, {"$project": {"_id": 1, name: text_expression("a.b"), …}}]``
    (``$sort`` optional), as ``aerolake.projection.FieldPaths.stage`` writes it, as (filter, sort, paths);
    None for any other pipeline (mongomock's then)."""
    stages = [next(iter(stage)) for stage in pipeline]
    if stages not in (["$match", "$sort", "$project"], ["$match", "$project"]) or any(len(s) != 1 for s in pipeline):
        return None
    spec, project = pipeline[0]["$match"], dict(pipeline[-1]["$project"])
    sort = list(pipeline[1]["$sort"].items()) if len(pipeline) == 3 else []
    if project.pop("_id", 1) not in (1, True):
        return None
    paths = {name: _text_path(value) for name, value in project.items()}
    if not all(paths.values()) or any("." in name for name in paths):
        return None
    return spec, sort, FieldPaths(paths, compact=False)  # the names as the client gave them


def _text_path(value: Any) -> str | None:
    """``a.b`` of ``text_expression("a.b")`` (what ``FieldPaths.stage`` writes); None for anything else."""
    try:
        path = value["$switch"]["branches"][0]["then"]
    except (TypeError, KeyError, IndexError):
        return None
    ok = isinstance(path, str) and path.startswith("$") and not path.startswith("$$")
    return path[1:] if ok and value == text_expression(path[1:]) else None


def _sorted(docs: list[dict], sort: list[tuple[str, int]]) -> list[dict] | None:
    """``docs`` ordered by ``sort`` (stable passes, last key first); None when one key's values are not all of
    one type (mongomock's BSON-order sort then decides)."""
    for field, direction in reversed(sort):
        parts = field.split(".")
        values = [_dotted(doc, parts) for doc in docs]
        kinds = {type(v) for v in values}
        if kinds == {type(None)}:
            continue  # all equal
        if len(kinds) > 1:
            return None
        order = sorted(range(len(docs)), key=values.__getitem__, reverse=direction < 0)
        docs = [docs[i] for i in order]
    return docs


def _dotted(doc: Any, parts: list[str]) -> Any:
    for part in parts:
        doc = doc.get(part) if isinstance(doc, dict) else None
    return doc


def _batch(encoded: Iterator[bytes], batch_size: int | None) -> tuple[list[bytes], bool]:
    """Up to ``batch_size`` documents (all when None or 0) and at most 16 MiB; and whether more remain."""
    out: list[bytes] = []
    size = 0
    limit = batch_size or sys.maxsize
    for data in encoded:
        out.append(data)
        size += len(data)
        if len(out) >= limit or size >= MAX_BATCH_BYTES:
            break
    else:
        return out, False
    return out, True


def _document(elements: bytes) -> bytes:
    return INT32.pack(len(elements) + 5) + elements + b"\0"


def _cursor_reply(cursor_id: int, ns: str, key: str, batch: list[bytes]) -> bytes:
    """``{"cursor": {"id": cursor_id, "ns": ns, key: batch}, "ok": 1.0}`` as BSON, the batch's documents
    copied in as they are (encoding a list of ``RawBSONDocument`` costs a Python call per document)."""
    array = _document(b"".join(b"\x03%d\0%s" % (i, data) for i, data in enumerate(batch)))
    name = ns.encode()
    cursor = _document(b"\x12id\0" + struct.pack("<q", cursor_id) + b"\x02ns\0" + INT32.pack(len(name) + 1) + name
                       + b"\0\x04" + key.encode() + b"\0" + array)
    return _document(b"\x03cursor\0" + cursor + b"\x01ok\0" + struct.pack("<d", 1.0))


# -- persistence ------------------------------------------------------------------------------------------
def _with_ids(body: dict[str, Any], sequences: dict[str, list[tuple[dict, bytes]]]
              ) -> tuple[dict[str, Any], dict[str, list[tuple[dict, bytes]]]]:
    """An insert's documents as one sequence, each with its ``_id`` (an ObjectId first, as MongoDB adds it,
    where the client sent none), so that the journal holds what is stored and a replay inserts the same."""
    pairs = sequences.get("documents")
    if pairs is None:
        pairs = [(doc, bson.encode(doc)) for doc in body.get("documents", [])]
        body = {k: v for k, v in body.items() if k != "documents"}
    if not all("_id" in doc for doc, _ in pairs):
        pairs = [(doc, data) if "_id" in doc else _with_id(doc) for doc, data in pairs]
    return body, {**sequences, "documents": pairs}


def _with_id(doc: dict[str, Any]) -> tuple[dict, bytes]:
    doc = {"_id": ObjectId(), **doc}
    return doc, bson.encode(doc)


def _op_msg(body: dict[str, Any], sequences: dict[str, list[tuple[dict, bytes]]]) -> bytes:
    """A command as an OP_MSG's flags and sections (what :func:`_parse_op_msg` reads): the journal's payload.
    A sequence's documents go as the bytes they were received as."""
    parts = [b"\0\0\0\0\0", bson.encode(body)]
    for name, pairs in sequences.items():
        ident = name.encode() + b"\0"
        docs = b"".join(data for _, data in pairs)
        parts += [b"\x01", INT32.pack(4 + len(ident) + len(docs)), ident, docs]
    return b"".join(parts)


def _record(payload: bytes) -> bytes:
    return RECORD.pack(len(payload), zlib.crc32(payload)) + payload


def _journal_name(generation: int) -> str:
    return f"journal-{generation:08d}.bin"


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class Journal:
    """The write commands since the last snapshot, appended record by record (length, CRC-32, payload)."""

    def __init__(self, path: Path, fsync: bool, truncate: bool = False):
        self.path, self.fsync = path, fsync
        flags = os.O_WRONLY | os.O_CREAT | os.O_APPEND | (os.O_TRUNC if truncate else 0)
        self.fd = os.open(path, flags, 0o644)
        self.size = os.fstat(self.fd).st_size

    def append(self, body: dict[str, Any], sequences: dict[str, list[tuple[dict, bytes]]]) -> None:
        """Hand one command to the operating system (and to the disk with ``fsync``) before it is applied; a
        failed append is cut off again, so that no torn record is followed by whole ones."""
        record = _record(_op_msg(body, sequences))
        view = memoryview(record)
        try:
            while view:
                view = view[os.write(self.fd, view):]
            if self.fsync:
                os.fsync(self.fd)
        except BaseException:
            os.ftruncate(self.fd, self.size)
            raise
        self.size += len(record)

    def close(self) -> None:
        os.fsync(self.fd)
        os.close(self.fd)


class RecordReader:
    """The whole records of a journal or snapshot file, in order; ``good_end`` is the byte after the last
    whole one and ``torn`` the number of bytes after it (a record cut short, or one whose CRC fails)."""

    def __init__(self, path: Path):
        self.path = path
        self.good_end = 0
        self.torn = 0

    def __iter__(self) -> Iterator[bytes]:
        size = self.path.stat().st_size
        with open(self.path, "rb", buffering=1024 * 1024) as handle:
            while True:
                header = handle.read(RECORD.size)
                if not header:
                    return
                if len(header) == RECORD.size:
                    length, crc = RECORD.unpack(header)
                    if self.good_end + RECORD.size + length <= size:
                        payload = handle.read(length)
                        if zlib.crc32(payload) == crc:
                            self.good_end += RECORD.size + length
                            yield payload
                            continue
                self.torn = size - self.good_end
                return


def _write_snapshot(standin: Standin, path: Path, generation: int) -> int:
    """Every collection (its index specs, then its documents' BSON in store order) into ``path``, atomically
    (a temporary file, fsynced, then ``os.replace``); returns the number of documents."""
    tmp = path.with_name(path.name + ".tmp")
    documents = collections = 0
    with open(tmp, "wb", buffering=1024 * 1024) as handle:
        handle.write(_record(bson.encode({"format": SNAPSHOT_FORMAT, "generation": generation,
                                          "written_at": datetime.now(UTC)})))
        for db_name in standin.client.list_database_names():
            db = standin.client[db_name]
            for name in db.list_collection_names():
                coll, raw = db[name], standin.raw.get((db_name, name), {})
                docs = list(coll._store.documents)
                indexes = [{"key": list(info["key"]), "name": index_name,
                            **{k: info[k] for k in ("unique", "sparse") if info.get(k)}}
                           for index_name, info in coll.index_information().items() if index_name != "_id_"]
                handle.write(_record(bson.encode({"collection": name, "db": db_name, "count": len(docs),
                                                  "indexes": indexes})))
                for doc in docs:
                    handle.write(_record(raw.get(doc["_id"]) or bson.encode(doc)))
                documents += len(docs)
                collections += 1
        handle.write(_record(bson.encode({"end": True, "collections": collections, "documents": documents})))
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
    _fsync_dir(path.parent)
    return documents


def _put_stored(coll: Any, docs: list[dict[str, Any]]) -> None:
    """Documents read back from a snapshot, straight into mongomock's store (in order). They passed
    mongomock's insert checks when they were first inserted, and BSON decodes them as mongomock stores them
    (plain dicts, naive UTC datetimes in milliseconds), so its insert's work per document (key checks,
    encoding, a copy with datetimes patched) is skipped: 100,000 flight records load in about a fifth of the
    time. Unique indexes are created afterwards, which checks them once."""
    store = coll._store
    for doc in docs:
        key = doc["_id"]
        store[helpers.hashdict(key) if isinstance(key, dict) else key] = doc


def _load_snapshot(standin: Standin, path: Path) -> tuple[int, int]:
    """Load a snapshot of :func:`_write_snapshot` into ``standin``; returns (generation, documents). A
    snapshot is replaced whole, never torn: one that does not read to its end is refused."""
    records = iter(RecordReader(path))
    header = bson.decode(next(records, b"\5\0\0\0\0"))
    if header.get("format") != SNAPSHOT_FORMAT:
        raise SystemExit(f"mongo_server: {path} is not a snapshot of this server ({header.get('format')!r})")
    documents = 0
    for payload in records:
        meta = bson.decode(payload)
        if meta.get("end"):
            if meta["documents"] != documents:
                break
            return header["generation"], documents
        db_name, name = meta["db"], meta["collection"]
        coll, raw = standin.client[db_name].create_collection(name), standin.raw[(db_name, name)]
        remaining = meta["count"]
        while remaining:
            chunk = list(itertools.islice(records, min(remaining, LOAD_CHUNK)))
            if not chunk:
                break
            with gc_paused():  # many containers per document: see cleaning.gc_paused
                docs = [bson.decode(data) for data in chunk]
                _put_stored(coll, docs)
            raw.update((doc["_id"], data) for doc, data in zip(docs, chunk, strict=True))
            remaining -= len(chunk)
            documents += len(chunk)
        for spec in meta["indexes"]:
            options = {k: v for k, v in spec.items() if k in ("name", "unique", "sparse")}
            coll.create_index([tuple(pair) for pair in spec["key"]], **options)
    raise SystemExit(f"mongo_server: {path} ends early or is damaged ({documents} documents read); it is replaced "
                     "whole when written, so the disk lost it: restore it, or move the directory away to start empty")


# -- the wire ---------------------------------------------------------------------------------------------
def _split_documents(data: bytes) -> list[tuple[dict, bytes]]:
    """A run of BSON documents (an OP_MSG document sequence): each decoded, with its bytes."""
    docs = bson.decode_all(data)
    pairs, pos = [], 0
    for doc in docs:
        size = INT32.unpack_from(data, pos)[0]
        pairs.append((doc, data[pos:pos + size]))
        pos += size
    return pairs


def _parse_op_msg(data: bytes) -> tuple[dict[str, Any], dict[str, list[tuple[dict, bytes]]]]:
    flags = struct.unpack_from("<I", data, 0)[0]
    end = len(data) - (4 if flags & 1 else 0)  # checksumPresent
    pos, body, sequences = 4, None, {}
    while pos < end:
        kind = data[pos]
        pos += 1
        size = INT32.unpack_from(data, pos)[0]
        if kind == 0:
            body = bson.decode(data[pos:pos + size])
        elif kind == 1:
            name_end = data.index(b"\0", pos + 4)
            sequences[data[pos + 4:name_end].decode()] = _split_documents(data[name_end + 1:pos + size])
        else:
            raise ValueError(f"unknown OP_MSG section kind {kind}")
        pos += size
    if body is None:
        raise ValueError("OP_MSG without a body section")
    return body, sequences


class _Handler(socketserver.BaseRequestHandler):
    server: _Server

    def handle(self) -> None:
        sock: socket.socket = self.request
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        standin, connection_id = self.server.standin, self.server.standin.connection_id()
        reply_id = itertools.count(1)
        while True:
            header = _recv_exactly(sock, HEADER.size)
            if header is None:
                return
            length, request_id, _response_to, opcode = HEADER.unpack(header)
            data = _recv_exactly(sock, length - HEADER.size)
            if data is None:
                return
            if opcode != OP_MSG:
                log.error("unsupported opcode %d; closing the connection", opcode)
                return
            body, sequences = _parse_op_msg(data)
            reply = standin.run(body, sequences, connection_id)
            if struct.unpack_from("<I", data, 0)[0] & MORE_TO_COME:
                continue  # an unacknowledged write (w: 0): the client reads no reply
            if not isinstance(reply, bytes):
                reply = bson.encode(reply)
            payload = struct.pack("<IB", 0, 0) + reply
            sock.sendall(HEADER.pack(HEADER.size + len(payload), next(reply_id), request_id, OP_MSG) + payload)


def _recv_exactly(sock: socket.socket, n: int) -> bytes | None:
    buf = bytearray(n)
    view, got = memoryview(buf), 0
    while got < n:
        try:
            received = sock.recv_into(view[got:], min(n - got, 4 * 1024 * 1024))
        except ConnectionError:
            return None
        if not received:
            return None
        got += received
    return bytes(buf)


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], standin: Standin):
        self.standin = standin
        super().__init__(address, _Handler)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m aerolake.devstack.mongo_server",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port (default)")
    parser.add_argument("--data-dir", type=Path, help="keep the data here (snapshot and journal); "
                                                      "without it, in memory only")
    parser.add_argument("--fsync", action="store_true", help="force every journaled write to disk before "
                        "answering it (default: hand it to the operating system, which survives kill -9 of "
                        "the server but not a power loss)")
    parser.add_argument("--compact-mb", type=int, default=1024,
                        help="compact when the journal grows beyond this many MiB (default 1024)")
    parser.add_argument("--log-level", default="INFO")
    args = parser.parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    standin = Standin()
    if args.data_dir is not None:
        standin.open_data_dir(args.data_dir, fsync=args.fsync, compact_bytes=args.compact_mb * 1024 * 1024)
    server = _Server((args.host, args.port), standin)

    def stop(signum: int, _frame: Any) -> None:
        log.info("%s: stopping", signal.Signals(signum).name)
        threading.Thread(target=server.shutdown, daemon=True).start()  # shutdown waits for serve_forever

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    host, port = server.server_address[:2]
    print(f"listening on {host}:{port}", flush=True)
    try:
        server.serve_forever()
    finally:
        server.server_close()
        standin.close()  # waits for the command being applied, then forces the journal to disk
        log.info("stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
