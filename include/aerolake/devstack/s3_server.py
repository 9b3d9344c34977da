"""A local S3 for the dev stack: moto's S3 server whose buckets and objects are mirrored to a directory.

``python -m aerolake.devstack.s3_server --host 127.0.0.1 --port 5055 --data-dir .aerolake/s3`` loads the
directory into moto, prints ``listening on http://HOST:PORT`` once it accepts connections and stops cleanly
on SIGTERM or SIGINT. moto's ``/moto-api/`` endpoint keeps answering (health checks use it). Without
``--data-dir`` it is plain moto: memory only.

What it is: moto's S3 (its request parsing, listing, paging, multipart, error codes) run in this process,
behind a WSGI middleware. After every PUT, POST or DELETE that succeeded, and before the response leaves,
the middleware writes what changed to disk; so every write a client saw acknowledged survives a stop, a
restart and a ``kill -9`` of the server. A stop/start of the stack gets its lake back, like MinIO in compose.

What it is not: production storage, or a faithful S3. Compose runs MinIO; this is for the local stack only.

- moto's semantics, moto's gaps: no authentication or signature checks, no bucket policies enforced.
- Persisted per object: the body, ETag (multipart ETags included), Last-Modified, Content-Type, the other
  stored headers (Content-Encoding, Cache-Control, ...) and user metadata, storage class and checksum.
  Per bucket: its existence, region, account and creation date.
- Not persisted: object versions (only the latest version survives; delete markers read as deletions),
  tags, ACLs, object lock, bucket configuration (versioning, policy, CORS, lifecycle, notifications),
  multipart uploads in progress.
- Writes are atomic (temp file + rename) and land before the response, but are not fsynced: they survive
  the server's death, not the machine's (a power cut may lose the last writes).
- Disk updates are serialized (one lock): fine for a developer's pipeline, not a throughput server.
- ``POST /moto-api/reset`` empties the mirror too: the disk follows moto's state.

Layout of the data directory (the sidecar JSON is the commit record: it names the body file it belongs to,
so a crash between the two writes leaves the previous object intact and, at worst, an orphan body that the
next start removes)::

    DIR/<bucket>/@bucket.json              the bucket exists (region, account, creation date)
    DIR/<bucket>/<quoted key>@<etag>       the object's bytes
    DIR/<bucket>/<quoted key>@meta.json    key, body file name, ETag, Last-Modified, headers, metadata
    DIR/@tmp/                              temporary files of writes in flight

``<quoted key>`` is the key percent-quoted with no safe characters (so ``/`` is ``%2F``; ``@`` never
appears in it); a key whose quoted form is too long for a file name is named ``#<sha256 of the key>``.
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import logging
import os
import re
import shutil
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

log = logging.getLogger(__name__)

MUTATING_METHODS = frozenset({"PUT", "POST", "DELETE"})
BUCKET_FILE = "@bucket.json"
META_SUFFIX = "@meta.json"
TMP_DIR = "@tmp"
# a file name holds 255 bytes: the quoted key, "@", an ETag (32 hex + "-N") and room to spare
MAX_QUOTED_KEY = 180
# names we can use as a directory unchanged (S3 bucket names are a subset)
_BUCKET_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,254}$")


class MirrorError(RuntimeError):
    """The data directory could not be brought in line with moto's state."""


@dataclass(frozen=True)
class _OnDisk:
    """What the mirror holds for one key: the moto object and state it was written from, its files' names."""

    obj: Any
    signature: tuple[Any, ...]
    body: str
    stem: str


@dataclass(frozen=True)
class Target:
    """What a mutating request may have changed: every bucket, one bucket, or one object."""

    bucket: str | None = None
    key: str | None = None


def _stem(key: str) -> str:
    quoted = quote(key, safe="")
    if len(quoted) <= MAX_QUOTED_KEY:
        return quoted
    return "#" + hashlib.sha256(key.encode()).hexdigest()


def _signature(obj: Any) -> tuple[Any, ...]:
    """The persisted state of a moto FakeKey: equal signatures need no disk write."""
    return (
        obj.etag,
        obj.last_modified.isoformat(),
        tuple(sorted(obj.metadata.items())),
        obj.storage_class,
        obj.checksum_algorithm,
        obj.checksum_value,
        obj.checksum_type,
        obj.checksum_parts,
    )


def _s3_backends() -> Any:
    from moto.s3.models import s3_backends

    return s3_backends


class DiskMirror:
    """Keeps ``data_dir`` equal to moto's buckets and objects, writing only what changed.

    ``_on_disk`` is the map of what the directory holds (bucket -> key -> state), so a sync compares
    in memory and touches only the objects whose state differs.
    """

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self._tmp = data_dir / TMP_DIR
        self._lock = threading.Lock()
        self._on_disk: dict[str, dict[str, _OnDisk]] = {}
        self._counter = 0

    # -- start: disk -> moto -------------------------------------------------------------------------

    def load(self) -> tuple[int, int]:
        """Put the directory's buckets and objects into moto; returns (buckets, objects) loaded."""
        from moto.utilities.utils import get_partition

        self.data_dir.mkdir(parents=True, exist_ok=True)
        shutil.rmtree(self._tmp, ignore_errors=True)
        self._tmp.mkdir()
        s3_backends = _s3_backends()
        objects = 0
        for bucket_dir in sorted(p for p in self.data_dir.iterdir() if p.is_dir() and p.name != TMP_DIR):
            marker = bucket_dir / BUCKET_FILE
            if not marker.exists():
                # a bucket whose deletion (or creation) was cut short: it was never acknowledged as existing
                log.warning("Removing %s: no %s (an interrupted create or delete)", bucket_dir, BUCKET_FILE)
                shutil.rmtree(bucket_dir)
                continue
            info = json.loads(marker.read_text())
            backend = s3_backends[info["account_id"]][get_partition(info["region"])]
            bucket = backend.create_bucket(info["name"], info["region"])
            bucket.creation_date = datetime.datetime.fromisoformat(info["created"])
            entries = self._on_disk[bucket.name] = {}
            for meta_path in bucket_dir.glob("*" + META_SUFFIX):
                meta = json.loads(meta_path.read_text())
                body = (bucket_dir / meta["body"]).read_bytes()
                obj = backend.put_object(
                    bucket.name, meta["key"], body, storage=meta["storage_class"], etag=meta["etag"],
                    checksum_value=meta["checksum_value"], disable_notification=True,
                )
                obj.set_metadata(dict(meta["metadata"]))
                obj.checksum_algorithm = meta["checksum_algorithm"]
                obj.checksum_type, obj.checksum_parts = meta["checksum_type"], meta["checksum_parts"]
                obj.last_modified = datetime.datetime.fromisoformat(meta["last_modified"])
                entries[meta["key"]] = _OnDisk(obj, _signature(obj), meta["body"], meta_path.name[: -len(META_SUFFIX)])
            objects += len(entries)
            referenced = {e.body for e in entries.values()}
            for path in bucket_dir.iterdir():
                name = path.name
                if name != BUCKET_FILE and not name.endswith(META_SUFFIX) and name not in referenced:
                    log.warning("Removing %s: a body no sidecar names (a write cut short)", path)
                    path.unlink()
        return len(self._on_disk), objects

    # -- after a request: moto -> disk ---------------------------------------------------------------

    def sync(self, target: Target) -> None:
        """Bring what ``target`` names on disk in line with moto's current state."""
        with self._lock:
            if target.bucket is None:
                for name in sorted(set(_s3_backends().bucket_accounts) | set(self._on_disk)):
                    self._sync_bucket(name)
            elif target.key is None:
                self._sync_bucket(target.bucket)
            else:
                self._sync_object(target.bucket, target.key)

    def _live_bucket(self, name: str) -> Any:
        s3_backends = _s3_backends()
        where = s3_backends.bucket_accounts.get(name)
        if where is None:
            return None
        partition, account_id = where
        return s3_backends[account_id][partition].buckets.get(name)

    def _mirrored_bucket(self, name: str) -> Any:
        """The live bucket ``name``, its directory ensured; None (its directory removed) if it is gone."""
        bucket = self._live_bucket(name)
        if bucket is None:
            if name in self._on_disk:
                self._remove_bucket(name)
            return None
        self._ensure_bucket(bucket)
        return bucket

    def _sync_bucket(self, name: str) -> None:
        bucket = self._mirrored_bucket(name)
        if bucket is None:
            return
        entries = self._on_disk[name]
        live = list(bucket.keys)
        for key in live:
            # an object already written is skipped without computing its state: a request that changes
            # an object in place names that object, and its own sync compares the state in full
            current = entries.get(key)
            if current is None or current.obj is not bucket.keys.get(key):
                self._sync_key(bucket, key)
        for key in set(entries) - set(live):
            self._sync_key(bucket, key)

    def _sync_object(self, bucket_name: str, key: str) -> None:
        bucket = self._mirrored_bucket(bucket_name)
        if bucket is None:
            return
        self._sync_key(bucket, key)
        if len(bucket.keys) != len(self._on_disk[bucket_name]):
            # the request changed more than the key its URL names (or we read the URL differently from
            # moto), or a concurrent request is between moto and its own sync: compare the whole bucket
            # rather than miss a write (cheap: unchanged objects are recognized by identity)
            self._sync_bucket(bucket_name)

    def _ensure_bucket(self, bucket: Any) -> None:
        if bucket.name in self._on_disk:
            return
        if not _BUCKET_NAME.match(bucket.name):
            raise MirrorError(f"bucket {bucket.name!r}: the name cannot be used as a directory name")
        bucket_dir = self.data_dir / bucket.name
        if bucket_dir.exists():  # left over from an interrupted delete: never resurrect its objects
            shutil.rmtree(bucket_dir)
        bucket_dir.mkdir()
        info = {"name": bucket.name, "region": bucket.region_name, "account_id": bucket.account_id,
                "created": bucket.creation_date.isoformat()}
        self._write(bucket_dir / BUCKET_FILE, json.dumps(info, indent=1).encode())
        self._on_disk[bucket.name] = {}

    def _remove_bucket(self, name: str) -> None:
        bucket_dir = self.data_dir / name
        (bucket_dir / BUCKET_FILE).unlink(missing_ok=True)  # the bucket is gone from here on
        shutil.rmtree(bucket_dir)
        del self._on_disk[name]

    def _sync_key(self, bucket: Any, key: str) -> None:
        from moto.s3.models import FakeKey

        entries = self._on_disk[bucket.name]
        current = entries.get(key)
        bucket_dir = self.data_dir / bucket.name
        for _attempt in range(5):
            obj = bucket.keys.get(key)
            if not isinstance(obj, FakeKey):  # absent, or a delete marker
                if current is not None:
                    (bucket_dir / (current.stem + META_SUFFIX)).unlink(missing_ok=True)
                    (bucket_dir / current.body).unlink(missing_ok=True)
                    del entries[key]
                return
            try:
                signature = _signature(obj)
                if current is not None and current.signature == signature:
                    return
                etag = obj.etag.strip('"')
                stem = current.stem if current is not None else _stem(key)
                body_name = f"{stem}@{etag}"
                if current is None or current.body != body_name:
                    self._write(bucket_dir / body_name, obj.value)
            except ValueError:
                # moto disposes (closes) a key's buffer when a concurrent request overwrites it: read the new one
                if obj.disposed:
                    continue
                raise
            meta = {
                "key": key, "body": body_name, "etag": etag, "last_modified": obj.last_modified.isoformat(),
                "metadata": dict(obj.metadata), "storage_class": obj.storage_class, "size": obj.size,
                "checksum_algorithm": obj.checksum_algorithm, "checksum_value": obj.checksum_value,
                "checksum_type": obj.checksum_type, "checksum_parts": obj.checksum_parts,
            }
            self._write(bucket_dir / (stem + META_SUFFIX), json.dumps(meta, indent=1).encode())
            if current is not None and current.body != body_name:
                (bucket_dir / current.body).unlink(missing_ok=True)
            entries[key] = _OnDisk(obj, signature, body_name, stem)
            return
        raise MirrorError(f"s3://{bucket.name}/{key}: overwritten while being mirrored, five times in a row")

    def _write(self, path: Path, data: bytes) -> None:
        self._counter += 1
        tmp = self._tmp / f"{os.getpid()}-{self._counter}"
        with open(tmp, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)


def request_target(environ: dict[str, Any]) -> Target | None:
    """The bucket and key a request addresses, read the way moto's S3 reads them (path or virtual host).

    None when the request names no bucket (nothing S3 changes at ``/``).
    """
    from moto.core.request import Request
    from moto.s3.responses import S3Response
    from moto.s3.utils import bucket_name_from_url

    request = Request(environ)
    path = unquote(request.raw_path)
    if path.startswith("/moto-api"):
        return Target()  # e.g. /moto-api/reset: compare every bucket
    if S3Response.subdomain_based_buckets(request):
        bucket, key = bucket_name_from_url(request.url), path[1:]
    else:
        bucket, _, key = path[1:].partition("/")
    if not bucket:
        return None
    return Target(bucket, key or None)


class MirroringMiddleware:
    """WSGI middleware: after a successful mutating request, sync the mirror before the response leaves."""

    def __init__(self, app: Callable[..., Iterable[bytes]], mirror: DiskMirror | None) -> None:
        self.app = app
        self.mirror = mirror
        self._active = 0
        self._idle = threading.Condition()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if self.mirror is None or environ["REQUEST_METHOD"] not in MUTATING_METHODS:
            return self.app(environ, start_response)
        target = request_target(environ)
        if target is None:
            return self.app(environ, start_response)
        with self._idle:
            self._active += 1
        try:
            return self._mirrored(environ, start_response, target)
        finally:
            with self._idle:
                self._active -= 1
                self._idle.notify_all()

    def _mirrored(self, environ: dict[str, Any], start_response: Callable[..., Any],
                  target: Target) -> Iterable[bytes]:
        # hold the response back until the disk has the write: start_response only once the sync is done
        started: list[Any] = []
        early_writes: list[bytes] = []

        def deferred_start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            started[:] = [status, headers, exc_info]
            return early_writes.append

        body = self.app(environ, deferred_start)
        if started and started[0][:1] == "2":
            assert self.mirror is not None
            try:
                self.mirror.sync(target)
            except (OSError, MirrorError) as exc:
                log.exception("Could not mirror %s %s to %s", environ["REQUEST_METHOD"],
                              environ.get("PATH_INFO"), self.mirror.data_dir)
                if hasattr(body, "close"):
                    body.close()
                message = f"the local S3 could not write its data directory: {exc}".replace("&", "and")
                error = (f"<?xml version='1.0' encoding='UTF-8'?><Error><Code>InternalError</Code>"
                         f"<Message>{message.replace('<', '(').replace('>', ')')}</Message></Error>").encode()
                start_response("500 Internal Server Error",
                               [("Content-Type", "application/xml"), ("Content-Length", str(len(error)))])
                return [error]
        write = start_response(*started)
        for chunk in early_writes:
            write(chunk)
        return body

    def wait_idle(self, timeout: float) -> bool:
        """Wait until no mirrored request is in flight; False when ``timeout`` passed first."""
        with self._idle:
            return self._idle.wait_for(lambda: self._active == 0, timeout)


class S3Dispatcher:
    """moto's S3 app for every request, its ``moto_api`` app for ``/moto-api/``: the two this server offers.

    moto's own DomainDispatcherApplication serves every AWS service, and finding the service costs it
    some 180 ``stat`` calls per request (``list_of_moto_modules``): about half of a request's time here.
    """

    def __init__(self) -> None:
        from moto.moto_server.werkzeug_app import create_backend_app

        self.s3 = create_backend_app("s3")
        self.moto_api = create_backend_app("moto_api")

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        app = self.moto_api if path.startswith("/moto-api") or path == "/favicon.ico" else self.s3
        return app(environ, start_response)


def serve(host: str, port: int, data_dir: Path | None) -> None:
    """Load ``data_dir`` (when given), listen on ``host:port`` and serve until SIGTERM or SIGINT."""
    from moto.moto_server.werkzeug_app import MotoRequestHandler
    from werkzeug.serving import make_server

    mirror = None
    if data_dir is not None:
        started = time.monotonic()
        mirror = DiskMirror(data_dir)
        buckets, objects = mirror.load()
        log.info("Loaded %d buckets, %d objects from %s in %.2f s", buckets, objects, data_dir,
                 time.monotonic() - started)
    app = MirroringMiddleware(S3Dispatcher(), mirror)
    server = make_server(host, port, app, threaded=True, request_handler=MotoRequestHandler)
    os.environ.setdefault("MOTO_PORT", str(server.port))  # as moto.server does: moto builds some URLs with it

    stop = threading.Event()

    def request_stop(signum: int, _frame: Any) -> None:
        log.info("Stopping on %s", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, name="s3-server",
                              daemon=True)
    thread.start()
    print(f"listening on http://{host}:{server.port}", flush=True)
    while not stop.wait(0.1):
        pass
    server.shutdown()  # no new requests; then let the ones in flight finish their disk writes
    if not app.wait_idle(timeout=30):
        log.warning("Stopping with requests still in flight after 30 s")
    server.server_close()
    log.info("Stopped")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m aerolake.devstack.s3_server", description=__doc__.split("\n")[0])
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=5055, help="port to bind; 0 picks a free one (default 5055)")
    parser.add_argument("--data-dir", type=Path, default=None,
                        help="directory the buckets are mirrored to and loaded from; without it, memory only")
    parser.add_argument("--verbose", action="store_true", help="log every request")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if not args.verbose:
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
    serve(args.host, args.port, args.data_dir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
