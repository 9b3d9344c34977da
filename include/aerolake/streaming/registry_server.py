"""A Schema Registry for the local stack, speaking the Confluent REST API that confluent-kafka's clients use.

    python -m aerolake.streaming.registry_server --host 127.0.0.1 --port 8081 --data-dir .aerolake/registry

Prints ``listening on http://HOST:PORT`` once it accepts connections (``--port 0``: a free port, the line
says which); SIGTERM or SIGINT stops it cleanly (exit 0).

**What it is**: a development stand-in, so that Airflow tasks in separate processes and a consumer share one
registry: Avro schemas registered under subjects, global ids, versions, compatibility levels. It implements
the subset of the Schema Registry v1 API that ``SchemaRegistryClient``, ``AvroSerializer`` and
``AvroDeserializer`` call, with the real status codes and error bodies (``{"error_code": 40401, "message":
...}``, 409 for an incompatible schema, 42201 for an invalid one) and content type
``application/vnd.schemaregistry.v1+json``. Compatibility (NONE, BACKWARD, FORWARD, FULL and their
``_TRANSITIVE`` forms; BACKWARD when none is set) is judged by the same checker as the offline mock
(:func:`aerolake.streaming.registry.incompatibilities`, Apache Avro's reader/writer checker).

**What it is not**: Confluent's Schema Registry, nor a replacement for it in production. No authentication
(credentials sent by a client are ignored) or TLS, Avro only (no JSON Schema or Protobuf), no schema
references, metadata, rule sets, contexts, modes or GUIDs, no normalization beyond removing whitespace.
A schema is returned as the text first registered with it. Any other path answers 404 (error_code 404): the
serializer of confluent-kafka 2.16 first asks ``/associations/...`` and takes a 404 as "no association",
falling back to the topic-name subject (``<topic>-value``).

**State**: one SQLite file, ``DIR/registry.sqlite3``. Each request runs in one transaction
(``BEGIN IMMEDIATE``), so concurrent clients registering the same schema get one id, and state survives a
restart. Ids are global, never reused, and the same for an identical schema under any subject.
"""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sqlite3
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from confluent_kafka.schema_registry.schema_registry_client import ConfigCompatibilityLevel

from aerolake.streaming.registry import (
    DEFAULT_LEVEL,
    incompatibilities,
    incompatible_message,
    version_incompatibilities,
)

log = logging.getLogger("aerolake.streaming.registry_server")

CONTENT_TYPE = "application/vnd.schemaregistry.v1+json"
DB_FILE = "registry.sqlite3"
GLOBAL = "global"  # the config scope of the global level; a subject's scope is "subject:<name>"

SCHEMA_DDL = """
CREATE TABLE IF NOT EXISTS schemas (
    id INTEGER PRIMARY KEY AUTOINCREMENT,  -- AUTOINCREMENT: an id is never reused
    schema_type TEXT NOT NULL,
    canonical TEXT NOT NULL,               -- the schema's JSON without whitespace: its identity
    schema TEXT NOT NULL,                  -- the text as first registered, returned to clients
    UNIQUE (schema_type, canonical)
);
CREATE TABLE IF NOT EXISTS versions (
    subject TEXT NOT NULL,
    version INTEGER NOT NULL,
    schema_id INTEGER NOT NULL REFERENCES schemas (id),
    deleted INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (subject, version)
);
CREATE TABLE IF NOT EXISTS config (
    scope TEXT PRIMARY KEY,
    compatibility TEXT NOT NULL
);
"""


class RegistryError(Exception):
    """An error answer: HTTP status, the registry's ``error_code`` and message."""

    def __init__(self, status: int, code: int, message: str):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def subject_not_found(subject: str) -> RegistryError:
    return RegistryError(404, 40401, f"Subject '{subject}' not found.")


def parse_level(value: Any) -> ConfigCompatibilityLevel:
    try:
        return ConfigCompatibilityLevel(str(value).upper())
    except ValueError:
        raise RegistryError(422, 42203, "Invalid compatibility level. Valid values are none, backward, forward, "
                                        "full, backward_transitive, forward_transitive, and full_transitive") from None


def parse_version(value: str) -> int | None:
    """A version path segment: a number from 1, or ``latest`` / ``-1`` (returned as None)."""
    if value in ("latest", "-1"):
        return None
    if value.isdigit() and 1 <= int(value) <= 2**31 - 1:
        return int(value)
    raise RegistryError(422, 42202, f"The specified version '{value}' is not a valid version id. Allowed values "
                                    "are between [1, 2^31-1] and the string \"latest\"")


def validated_schema(body: Any) -> tuple[str, str]:
    """(text, canonical form) of the Avro schema in a request body; 42201 when it is not one."""
    import avro.errors
    import avro.schema

    if not isinstance(body, dict) or not isinstance(body.get("schema"), str):
        raise RegistryError(422, 42201, "Invalid schema: the request needs a \"schema\" string")
    schema_type = body.get("schemaType") or "AVRO"
    if schema_type != "AVRO":
        raise RegistryError(422, 42201, f"Invalid schema: schema type {schema_type} is not supported by this "
                                        "development registry (AVRO only)")
    if body.get("references"):
        raise RegistryError(422, 42201, "Invalid schema: schema references are not supported by this development "
                                        "registry")
    text = body["schema"]
    try:
        avro.schema.parse(text)
    except (avro.errors.AvroException, ValueError, TypeError) as exc:
        raise RegistryError(422, 42201, f"Invalid schema {text[:200]}, details: {exc}") from None
    return text, json.dumps(json.loads(text), separators=(",", ":"))


class SchemaStore:
    """Subjects, versions, schemas and compatibility levels in one SQLite file; every method is one transaction."""

    def __init__(self, data_dir: Path):
        data_dir.mkdir(parents=True, exist_ok=True)
        self.path = data_dir / DB_FILE
        # one connection, used under a lock (the HTTP server's threads); BEGIN IMMEDIATE also serializes
        # against a second server process started on the same directory by mistake
        self._db = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
        self._lock = threading.Lock()
        with self._lock:
            self._db.executescript(SCHEMA_DDL)  # IF NOT EXISTS: a no-op on a restart
        count = self._db.execute("SELECT COUNT(*) FROM schemas").fetchone()[0]
        log.info("schema store %s: %d schema(s)", self.path, count)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    # -- reads inside a transaction --------------------------------------------------------------------------
    @staticmethod
    def _level(db: sqlite3.Connection, subject: str | None) -> ConfigCompatibilityLevel:
        for scope in ([f"subject:{subject}"] if subject is not None else []) + [GLOBAL]:
            row = db.execute("SELECT compatibility FROM config WHERE scope = ?", (scope,)).fetchone()
            if row:
                return ConfigCompatibilityLevel(row[0])
        return DEFAULT_LEVEL

    @staticmethod
    def _history(db: sqlite3.Connection, subject: str, deleted: bool = False) -> list[tuple[int, int, str]]:
        """(version, schema id, schema text) of the subject, oldest first."""
        return db.execute(
            "SELECT v.version, s.id, s.schema FROM versions v JOIN schemas s ON s.id = v.schema_id "
            "WHERE v.subject = ? AND (? OR v.deleted = 0) ORDER BY v.version", (subject, deleted)).fetchall()

    def _one(self, db: sqlite3.Connection, subject: str, version: int | None,
             deleted: bool = False) -> tuple[int, int, str]:
        history = self._history(db, subject, deleted)
        if not history:
            raise subject_not_found(subject)
        if version is None:
            return history[-1]
        for row in history:
            if row[0] == version:
                return row
        raise RegistryError(404, 40402, f"Version {version} not found.")

    # -- the API ---------------------------------------------------------------------------------------------
    def register(self, subject: str, text: str, canonical: str) -> dict[str, Any]:
        """The subject's version of the schema: the existing one, or a new version after the compatibility
        check (409 when it fails). The schema keeps its id across subjects."""
        with self._transaction() as db:
            row = db.execute("SELECT id FROM schemas WHERE schema_type = 'AVRO' AND canonical = ?",
                             (canonical,)).fetchone()
            history = self._history(db, subject)
            if row is not None:
                for version, schema_id, schema in history:
                    if schema_id == row[0]:
                        return {"id": schema_id, "subject": subject, "version": version, "schema": schema}
            level = self._level(db, subject)
            problems = incompatibilities(level, text, [schema for _v, _id, schema in history])
            if problems:
                raise RegistryError(409, 409, incompatible_message(subject, problems))
            if row is None:
                schema_id = db.execute("INSERT INTO schemas (schema_type, canonical, schema) VALUES ('AVRO', ?, ?)",
                                       (canonical, text)).lastrowid
                schema = text
            else:
                schema_id = row[0]
                schema = db.execute("SELECT schema FROM schemas WHERE id = ?", (schema_id,)).fetchone()[0]
            version = db.execute("SELECT COALESCE(MAX(version), 0) + 1 FROM versions WHERE subject = ?",
                                 (subject,)).fetchone()[0]
            db.execute("INSERT INTO versions (subject, version, schema_id) VALUES (?, ?, ?)",
                       (subject, version, schema_id))
        log.info("registered subject %s version %d: schema id %d (compatibility %s)", subject, version, schema_id,
                 level.value)
        return {"id": schema_id, "subject": subject, "version": version, "schema": schema}

    def lookup(self, subject: str, canonical: str, deleted: bool) -> dict[str, Any]:
        with self._transaction() as db:
            history = self._history(db, subject, deleted)
            if not history:
                raise subject_not_found(subject)
            row = db.execute("SELECT id FROM schemas WHERE schema_type = 'AVRO' AND canonical = ?",
                             (canonical,)).fetchone()
            for version, schema_id, schema in reversed(history):
                if row is not None and schema_id == row[0]:
                    return {"id": schema_id, "subject": subject, "version": version, "schema": schema}
        raise RegistryError(404, 40403, "Schema not found")

    def schema_by_id(self, schema_id: int) -> dict[str, Any]:
        with self._transaction() as db:
            row = db.execute("SELECT schema FROM schemas WHERE id = ?", (schema_id,)).fetchone()
        if row is None:
            raise RegistryError(404, 40403, f"Schema {schema_id} not found")
        return {"schema": row[0]}

    def schema_versions(self, schema_id: int) -> list[dict[str, Any]]:
        self.schema_by_id(schema_id)
        with self._transaction() as db:
            rows = db.execute("SELECT subject, version FROM versions WHERE schema_id = ? AND deleted = 0 "
                              "ORDER BY subject, version", (schema_id,)).fetchall()
        return [{"subject": s, "version": v} for s, v in rows]

    def subjects(self, deleted: bool) -> list[str]:
        with self._transaction() as db:
            rows = db.execute("SELECT DISTINCT subject FROM versions WHERE ? OR deleted = 0 ORDER BY subject",
                              (deleted,)).fetchall()
        return [r[0] for r in rows]

    def versions(self, subject: str, deleted: bool) -> list[int]:
        with self._transaction() as db:
            history = self._history(db, subject, deleted)
        if not history:
            raise subject_not_found(subject)
        return [v for v, _id, _schema in history]

    def version(self, subject: str, version: int | None, deleted: bool) -> dict[str, Any]:
        with self._transaction() as db:
            number, schema_id, schema = self._one(db, subject, version, deleted)
        return {"subject": subject, "version": number, "id": schema_id, "schema": schema}

    def delete_subject(self, subject: str, permanent: bool) -> list[int]:
        """Soft delete (versions hidden, numbers kept), or permanent delete of a soft-deleted subject."""
        with self._transaction() as db:
            rows = db.execute("SELECT version, deleted FROM versions WHERE subject = ? ORDER BY version",
                              (subject,)).fetchall()
            if not rows:
                raise subject_not_found(subject)
            live = [v for v, d in rows if not d]
            if permanent:
                if live:
                    raise RegistryError(404, 40405, f"Subject '{subject}' was not deleted first before being "
                                                    "permanently deleted")
                db.execute("DELETE FROM versions WHERE subject = ?", (subject,))
                db.execute("DELETE FROM config WHERE scope = ?", (f"subject:{subject}",))
                gone = [v for v, _d in rows]
            else:
                if not live:
                    raise RegistryError(404, 40404, f"Subject '{subject}' was soft deleted. Set permanent=true to "
                                                    "delete permanently")
                db.execute("UPDATE versions SET deleted = 1 WHERE subject = ?", (subject,))
                gone = live
        log.info("deleted subject %s (%s): versions %s", subject, "permanent" if permanent else "soft", gone)
        return gone

    def get_config(self, subject: str | None, default_to_global: bool) -> dict[str, Any]:
        with self._transaction() as db:
            if subject is not None and not default_to_global:
                row = db.execute("SELECT compatibility FROM config WHERE scope = ?", (f"subject:{subject}",)).fetchone()
                if row is None:
                    raise RegistryError(404, 40408, f"Subject '{subject}' does not have subject-level compatibility "
                                                    "configured")
                return {"compatibilityLevel": row[0]}
            return {"compatibilityLevel": self._level(db, subject).value}

    def set_config(self, subject: str | None, level: ConfigCompatibilityLevel) -> dict[str, Any]:
        scope = GLOBAL if subject is None else f"subject:{subject}"
        with self._transaction() as db:
            db.execute("INSERT INTO config (scope, compatibility) VALUES (?, ?) ON CONFLICT (scope) "
                       "DO UPDATE SET compatibility = excluded.compatibility", (scope, level.value))
        return {"compatibility": level.value}

    def delete_config(self, subject: str | None) -> dict[str, Any]:
        """Remove a level; returns the one in force before (a subject then follows the global level)."""
        scope = GLOBAL if subject is None else f"subject:{subject}"
        with self._transaction() as db:
            before = self._level(db, subject).value
            if db.execute("DELETE FROM config WHERE scope = ?", (scope,)).rowcount == 0 and subject is not None:
                raise RegistryError(404, 40408, f"Subject '{subject}' does not have subject-level compatibility "
                                                "configured")
        return {"compatibilityLevel": before}

    def test_compatibility(self, subject: str, version: int | str | None, text: str, verbose: bool) -> dict[str, Any]:
        """``version``: a number or None (latest) tests against that one version; ``"all"`` tests as a
        registration would (every version for a transitive level, else the latest)."""
        with self._transaction() as db:
            level = self._level(db, subject)
            history = [schema for _v, _id, schema in self._history(db, subject)]
            if version == "all":
                problems = incompatibilities(level, text, history)
            elif not history and version is None:
                problems = []  # nothing registered yet: anything is compatible with "latest"
            else:
                problems = version_incompatibilities(level, text, self._one(db, subject, version)[2])
        answer: dict[str, Any] = {"is_compatible": not problems}
        if verbose:
            answer["messages"] = problems
        return answer


# -- HTTP -----------------------------------------------------------------------------------------------------
Handler = Callable[[SchemaStore, list[str], dict[str, str], Any], Any]


def _flag(query: dict[str, str], name: str) -> bool:
    return query.get(name, "false").lower() == "true"


def _schema_id(value: str) -> int:
    if not value.isdigit():
        raise RegistryError(404, 40403, f"Schema {value} not found")
    return int(value)


def _register(store: SchemaStore, args: list[str], query: dict[str, str], body: Any) -> Any:
    return store.register(args[0], *validated_schema(body))


def _lookup(store: SchemaStore, args: list[str], query: dict[str, str], body: Any) -> Any:
    return store.lookup(args[0], validated_schema(body)[1], _flag(query, "deleted"))


def _test_version(store: SchemaStore, args: list[str], query: dict[str, str], body: Any) -> Any:
    return store.test_compatibility(args[0], parse_version(args[1]), validated_schema(body)[0],
                                    _flag(query, "verbose"))


def _test_all(store: SchemaStore, args: list[str], query: dict[str, str], body: Any) -> Any:
    return store.test_compatibility(args[0], "all", validated_schema(body)[0], _flag(query, "verbose"))


def _put_config(store: SchemaStore, subject: str | None, body: Any) -> Any:
    if not isinstance(body, dict) or "compatibility" not in body:
        raise RegistryError(422, 42203, "Invalid compatibility level: the request needs \"compatibility\"")
    return store.set_config(subject, parse_level(body["compatibility"]))


#: (method, path segments with "*" for a captured one, handler)
ROUTES: list[tuple[str, tuple[str, ...], Handler]] = [
    ("GET", (), lambda store, a, q, b: {}),
    ("GET", ("schemas", "types"), lambda store, a, q, b: ["AVRO"]),
    ("GET", ("schemas", "ids", "*"), lambda store, a, q, b: store.schema_by_id(_schema_id(a[0]))),
    ("GET", ("schemas", "ids", "*", "versions"), lambda store, a, q, b: store.schema_versions(_schema_id(a[0]))),
    ("GET", ("subjects",), lambda store, a, q, b: store.subjects(_flag(q, "deleted"))),
    ("POST", ("subjects", "*"), _lookup),
    ("DELETE", ("subjects", "*"), lambda store, a, q, b: store.delete_subject(a[0], _flag(q, "permanent"))),
    ("GET", ("subjects", "*", "versions"), lambda store, a, q, b: store.versions(a[0], _flag(q, "deleted"))),
    ("POST", ("subjects", "*", "versions"), _register),
    ("GET", ("subjects", "*", "versions", "*"),
     lambda store, a, q, b: store.version(a[0], parse_version(a[1]), _flag(q, "deleted"))),
    ("GET", ("subjects", "*", "versions", "*", "schema"),
     lambda store, a, q, b: json.loads(store.version(a[0], parse_version(a[1]), _flag(q, "deleted"))["schema"])),
    ("GET", ("config",), lambda store, a, q, b: store.get_config(None, True)),
    ("PUT", ("config",), lambda store, a, q, b: _put_config(store, None, b)),
    ("DELETE", ("config",), lambda store, a, q, b: store.delete_config(None)),
    ("GET", ("config", "*"), lambda store, a, q, b: store.get_config(a[0], _flag(q, "defaultToGlobal"))),
    ("PUT", ("config", "*"), lambda store, a, q, b: _put_config(store, a[0], b)),
    ("DELETE", ("config", "*"), lambda store, a, q, b: store.delete_config(a[0])),
    ("POST", ("compatibility", "subjects", "*", "versions", "*"), _test_version),
    ("POST", ("compatibility", "subjects", "*", "versions"), _test_all),
]


def route(method: str, parts: list[str]) -> tuple[Handler, list[str]]:
    """The handler of a request and its captured path segments; 404 / 405 as the registry answers them."""
    known_path = False
    for verb, pattern, handler in ROUTES:
        if len(pattern) != len(parts) or any(p not in ("*", v) for p, v in zip(pattern, parts, strict=True)):
            continue
        known_path = True
        if verb == method:
            return handler, [v for p, v in zip(pattern, parts, strict=True) if p == "*"]
    if known_path:
        raise RegistryError(405, 405, "HTTP 405 Method Not Allowed")
    raise RegistryError(404, 404, "HTTP 404 Not Found")


class RegistryHandler(BaseHTTPRequestHandler):
    server: RegistryHTTPServer
    protocol_version = "HTTP/1.1"  # keep-alive: the clients reuse their connections

    def _handle(self) -> None:
        status, payload = 200, None
        try:
            url = urlsplit(self.path)
            parts = [unquote(p) for p in url.path.strip("/").split("/")] if url.path.strip("/") else []
            query = {k: v[-1] for k, v in parse_qs(url.query).items()}
            handler, args = route(self.command, parts)
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            try:
                body = json.loads(raw) if raw else None
            except ValueError:
                raise RegistryError(400, 400, "Unexpected character: the request body is not JSON") from None
            payload = handler(self.server.store, args, query, body)
        except RegistryError as exc:
            status, payload = exc.status, {"error_code": exc.code, "message": exc.message}
        except Exception as exc:  # a bug or a storage failure: answered as the registry's store error
            log.exception("%s %s failed", self.command, self.path)
            status, payload = 500, {"error_code": 50001, "message": f"Error in the backend data store: {exc}"}
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", CONTENT_TYPE)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_DELETE = _handle

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s %s", self.address_string(), format % args)


class RegistryHTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], store: SchemaStore):
        self.store = store
        super().__init__(address, RegistryHandler)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m aerolake.streaming.registry_server",
                                     description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8081, help="port (default 8081; 0 = a free one)")
    parser.add_argument("--data-dir", type=Path, required=True, help=f"directory of the state ({DB_FILE})")
    parser.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=args.log_level, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    store = SchemaStore(args.data_dir)
    server = RegistryHTTPServer((args.host, args.port), store)
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    serving = threading.Thread(target=server.serve_forever, name="registry-http", daemon=True)
    serving.start()
    host, port = server.server_address[:2]
    print(f"listening on http://{host}:{port}", flush=True)
    stop.wait()
    server.shutdown()
    server.server_close()
    store.close()
    log.info("schema registry on %s:%s stopped", host, port)
    return 0


if __name__ == "__main__":
    sys.exit(main())
