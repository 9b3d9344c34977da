"""A MongoDB stand-in in its own process: mongomock behind a small wire-protocol (OP_MSG) server.

    /work/main/.venv/bin/python bench/mongo_standin.py [--port 0]      # prints "listening on 127.0.0.1:<port>"

Why: with mongomock in the pipeline's process, the day's documents (~550 MiB of Python objects for 100,000
records) are charged to the pipeline's RSS, and every read is mongomock's filter and deep copy running on the
pipeline's own interpreter. A real MongoDB is another process that the pipeline reaches through pymongo. This
server gives the benchmark that shape: the pipeline talks to it with pymongo (the production code path of
``stages.iter_documents``, BSON decoding included), and mongomock's memory and CPU are this process's.

Semantics are mongomock's (filters, indexes, inserts, deletes, aggregation), with shortcuts that keep
mongomock's slowest paths out of the reads without changing what they return:

* each inserted document's BSON is kept as received (keyed by ``_id``) and served as is, as a real server
  returns what it stored; documents never change in place here (no update commands), so it cannot go stale;
* ``find`` filters the stored documents directly (a filter of plain text equalities on
  dotted paths is matched here, anything else by mongomock's ``filter_applies``) and sorts in Python when the
  sort values have one type each (else mongomock's own cursor and sort); an inclusion projection is applied
  here too (other projections are mongomock's);
* the ``count_documents`` pipeline is counted the same way instead of aggregated;
* an aggregation of ``$match`` (as above), ``$sort`` and a ``$project`` of field paths as text (what
  ``aerolake.projection.FieldPaths.stage`` writes, the clean stage's read of flight records) is matched and
  sorted the same way and projected with ``FieldPaths.project``, which follows MongoDB's field path and
  conversion rules (mongomock knows neither ``$switch`` nor ``$type``, and its aggregation took 75 s for a
  day); batch by batch, as a server fills each ``getMore``. An
  aggregation's ``batchSize: 0`` gives an empty first batch, as MongoDB does (pymongo's raw batches ask it).

It answers what pymongo and the pipeline send: hello/isMaster, ping, buildInfo, endSessions, insert, delete,
find, getMore, killCursors, aggregate, count, createIndexes, listIndexes, listCollections, drop,
dropDatabase; and ``standinStats`` (this server's busy seconds per command, for the benchmark's accounting).
No authentication, no sessions, no transactions: a benchmark fixture, not a database.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import logging
import socket
import socketserver
import struct
import sys
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import bson
import mongomock
from mongomock.filtering import filter_applies

from aerolake.projection import FieldPaths, text_expression

log = logging.getLogger("mongo_standin")

OP_MSG = 2013
HEADER = struct.Struct("<iiii")  # messageLength, requestID, responseTo, opCode
INT32 = struct.Struct("<i")
MAX_BATCH_BYTES = 16 * 1024 * 1024
DEFAULT_FIRST_BATCH = 101
#: Commands that touch no data: answered without waiting for the data lock (pymongo's heartbeats).
LOCK_FREE = frozenset({"hello", "ismaster", "ping", "buildinfo", "endsessions", "standinstats"})


class CommandError(Exception):
    def __init__(self, message: str, code: int = 2):
        super().__init__(message)
        self.code = code


class Standin:
    """The command layer: one mongomock client behind one lock (mongomock is not thread-safe), the BSON of
    every document as inserted, open cursors, and busy time per command."""

    def __init__(self) -> None:
        self.client = mongomock.MongoClient()
        self.lock = threading.Lock()
        self.raw: dict[tuple[str, str], dict[Any, bytes]] = defaultdict(dict)
        self.cursors: dict[int, tuple[Iterator[Any], str]] = {}
        self._cursor_ids = itertools.count(1)
        self._connection_ids = itertools.count(1)
        self.busy: dict[str, float] = defaultdict(float)
        self.calls: dict[str, int] = defaultdict(int)

    def connection_id(self) -> int:
        return next(self._connection_ids)

    # -- dispatch ----------------------------------------------------------------------------------------
    def run(self, body: dict[str, Any], sequences: dict[str, list[tuple[dict, bytes]]],
            connection_id: int) -> dict[str, Any] | bytes:
        """The reply to one command: a document, or its BSON when already encoded (cursor batches)."""
        name = next(iter(body))
        key = name.lower()
        handler = getattr(self, f"cmd_{key}", None)
        if handler is None:
            return {"ok": 0.0, "errmsg": f"no such command: '{name}' (mongo_standin)", "code": 59,
                    "codeName": "CommandNotFound"}
        t0 = time.perf_counter()
        try:
            if key in LOCK_FREE:
                reply = handler(body, sequences, connection_id)
            else:
                with self.lock:
                    reply = handler(body, sequences, connection_id)
        except CommandError as exc:
            reply = {"ok": 0.0, "errmsg": str(exc), "code": exc.code}
        except Exception as exc:  # an error answer, as a server gives, instead of a dropped socket
            log.exception("command %s failed", name)
            reply = {"ok": 0.0, "errmsg": f"{type(exc).__name__}: {exc}", "code": 1}
        finally:
            self.busy[name] += time.perf_counter() - t0
            self.calls[name] += 1
        return reply

    def collection(self, body: dict[str, Any], name: str) -> tuple[Any, dict[Any, bytes]]:
        db, coll = body["$db"], body[name]
        return self.client[db][coll], self.raw[(db, coll)]

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
        return {"busy_seconds": dict(self.busy), "calls": dict(self.calls), "ok": 1.0}

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
            if index not in failed and "_id" in doc:  # an _id made by mongomock is not in the received bytes
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

    def __init__(self, address: tuple[str, int]):
        super().__init__(address, _Handler)
        self.standin = Standin()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port (default)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    with _Server((args.host, args.port)) as server:
        host, port = server.server_address[:2]
        print(f"listening on {host}:{port}", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
