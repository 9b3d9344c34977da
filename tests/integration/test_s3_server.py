"""The dev stack's local S3 (``aerolake.devstack.s3_server``): what a client wrote survives a restart.

Each test runs the server as a subprocess on a free port with a temporary data directory, writes through
boto3 (path-style, as the stack's clients do), stops it (SIGTERM, or SIGKILL right after acknowledged
writes), starts it again on the same directory and reads everything back.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import select
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from aerolake.stores import lake
from aerolake.stores.lake import Partition

ROOT = Path(__file__).resolve().parents[2]
BUCKET = "aerolake-lake"
LAKE_KEY = "raw/source=lufthansa/endpoint=airports/dt=2026-03-01/part-00000.json.gz"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class S3Server:
    """One ``python -m aerolake.devstack.s3_server`` process at a time on a fixed port and data directory."""

    def __init__(self, data_dir: Path | None, log_path: Path) -> None:
        self.data_dir = data_dir
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        self.proc: subprocess.Popen | None = None
        self.started_in = 0.0

    def start(self, timeout: float = 60) -> None:
        argv = [sys.executable, "-m", "aerolake.devstack.s3_server", "--host", "127.0.0.1",
                "--port", str(self.port)]
        if self.data_dir is not None:
            argv += ["--data-dir", str(self.data_dir)]
        env = {**os.environ, "PYTHONPATH": str(ROOT / "include")}
        began = time.monotonic()
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=log, env=env, text=True)
        line = self._read_line(timeout)
        assert line == f"listening on {self.url}\n", line
        self.started_in = time.monotonic() - began
        with urllib.request.urlopen(f"{self.url}/moto-api/", timeout=5) as response:
            assert response.status == 200

    def _read_line(self, timeout: float) -> str:
        assert self.proc is not None and self.proc.stdout is not None
        ready, _, _ = select.select([self.proc.stdout], [], [], timeout)
        if not ready:
            raise TimeoutError(f"no 'listening on' line in {timeout} s; see {self.log_path}")
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"the server exited ({self.proc.wait()}); see {self.log_path}")
        return line

    def stop(self, sig: int = signal.SIGTERM) -> int:
        assert self.proc is not None
        self.proc.send_signal(sig)
        try:
            code = self.proc.wait(timeout=30)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()
            self.proc.stdout.close()  # type: ignore[union-attr]
        self.proc = None
        return code

    def restart(self, sig: int = signal.SIGTERM) -> None:
        code = self.stop(sig)
        assert code == (0 if sig == signal.SIGTERM else -signal.SIGKILL), f"exit code {code}"
        self.start()

    def client(self) -> Any:
        import boto3
        from botocore.config import Config

        return boto3.client(
            "s3", endpoint_url=self.url, region_name="us-east-1", aws_access_key_id="local",
            aws_secret_access_key="local", config=Config(s3={"addressing_style": "path"},
                                                         retries={"max_attempts": 1}),
        )

    def server_log(self) -> str:
        return self.log_path.read_text()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[S3Server]:
    srv = S3Server(tmp_path / "s3", tmp_path / "s3-server.log")
    srv.start()
    try:
        yield srv
    finally:
        if srv.proc is not None:
            srv.stop()


def _all_objects(s3: Any, bucket: str, page_size: int = 1000) -> dict[str, dict]:
    objects: dict[str, dict] = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket,
                                                             PaginationConfig={"PageSize": page_size}):
        for obj in page.get("Contents", []):
            objects[obj["Key"]] = {"ETag": obj["ETag"], "Size": obj["Size"], "LastModified": obj["LastModified"]}
    return objects


def _snapshot(s3: Any, bucket: str) -> dict[str, dict]:
    """Every object's listing entry, body, ContentType, user metadata and headers, as a client sees them."""
    snap = _all_objects(s3, bucket, page_size=7)
    for key, entry in snap.items():
        got = s3.get_object(Bucket=bucket, Key=key)
        entry.update(Body=got["Body"].read(), ContentType=got["ContentType"], Metadata=got["Metadata"],
                     GetETag=got["ETag"], ContentEncoding=got.get("ContentEncoding"),
                     CacheControl=got.get("CacheControl"), GetLastModified=got["LastModified"])
    return snap


def test_objects_survive_a_sigterm_restart_byte_for_byte(server: S3Server) -> None:
    s3 = server.client()
    s3.create_bucket(Bucket=BUCKET)
    keys = {
        LAKE_KEY: (lake.gzip_bytes(b'{"airports": []}'), "application/gzip"),
        "raw/source=lufthansa/endpoint=airports/dt=2026-03-01/_manifest.json": (b"{}", "application/json"),
        "quarantine/with spaces/and + plus/stage=clean.jsonl.gz": (b"q", "application/x-ndjson"),
        "unicode/Zürich–Genève/空港/✈.json": ("{\"city\": \"Zürich\"}".encode(), "application/json"),
        "percent%2Fnot-a-slash/100%.txt": (b"literal percent signs", "text/plain; charset=utf-8"),
        "folder/": (b"", "application/x-directory"),
        "deep//double//slashes/x": (b"d", "binary/octet-stream"),
        "to-delete/one": (b"1", "text/plain"),
        "to-delete/batch-0": (b"b0", "text/plain"),
        "to-delete/batch-1": (b"b1", "text/plain"),
        "overwritten": (b"first version", "text/plain"),
        "at@sign/a@b": (b"@", "text/plain"),
        "long/" + "segment=value/" * 25 + "part-00000.json.gz": (b"a key too long for a file name", "application/gzip"),
    }
    for key, (body, content_type) in keys.items():
        s3.put_object(Bucket=BUCKET, Key=key, Body=body, ContentType=content_type)
    s3.put_object(Bucket=BUCKET, Key="with-metadata.csv", Body=b"a,b\n1,2\n", ContentType="text/csv",
                  Metadata={"source": "lufthansa", "rows": "1"}, ContentEncoding="identity",
                  CacheControl="no-cache")
    big = os.urandom(9 * 1024 * 1024 + 12345)  # above boto3's 8 MB threshold: a multipart upload
    s3.upload_fileobj(io.BytesIO(big), BUCKET, "clean/big/part-00000.parquet",
                      ExtraArgs={"ContentType": "application/vnd.apache.parquet"})
    s3.copy_object(Bucket=BUCKET, Key="copied/manifest.json",
                   CopySource={"Bucket": BUCKET, "Key": "raw/source=lufthansa/endpoint=airports/dt=2026-03-01/_manifest.json"})
    s3.delete_object(Bucket=BUCKET, Key="to-delete/one")
    result = s3.delete_objects(Bucket=BUCKET, Delete={"Objects": [{"Key": "to-delete/batch-0"},
                                                                  {"Key": "to-delete/batch-1"}]})
    assert len(result["Deleted"]) == 2
    s3.put_object(Bucket=BUCKET, Key="overwritten", Body=b"second version", ContentType="text/markdown")
    # an aborted multipart upload leaves nothing behind
    upload = s3.create_multipart_upload(Bucket=BUCKET, Key="aborted")
    s3.upload_part(Bucket=BUCKET, Key="aborted", UploadId=upload["UploadId"], PartNumber=1, Body=b"x")
    s3.abort_multipart_upload(Bucket=BUCKET, Key="aborted", UploadId=upload["UploadId"])

    before = _snapshot(s3, BUCKET)
    assert before["clean/big/part-00000.parquet"]["Body"] == big
    assert before["clean/big/part-00000.parquet"]["ETag"].endswith('-2"')  # it was multipart
    assert "to-delete/one" not in before and "to-delete/batch-0" not in before and "aborted" not in before

    server.restart()
    s3 = server.client()
    after = _snapshot(s3, BUCKET)
    assert after == before
    assert after["overwritten"]["Body"] == b"second version"
    assert after["overwritten"]["ContentType"] == "text/markdown"
    assert after["with-metadata.csv"]["Metadata"] == {"source": "lufthansa", "rows": "1"}
    assert after["with-metadata.csv"]["CacheControl"] == "no-cache"
    assert after["unicode/Zürich–Genève/空港/✈.json"]["ContentType"] == "application/json"
    # a second restart with no writes in between changes nothing either
    server.restart()
    assert _snapshot(server.client(), BUCKET) == before


def test_virtual_hosted_requests_are_mirrored_too(server: S3Server) -> None:
    """A client addressing the bucket by host name (``<bucket>.localhost``), as moto reads it."""
    import http.client

    s3 = server.client()
    s3.create_bucket(Bucket=BUCKET)
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        for method, path, body in [("PUT", "/dt%3D2026-03-01/a%20b.json", b"virtual"), ("PUT", "/gone", b"x"),
                                   ("DELETE", "/gone", b"")]:
            # moto answers an unsigned DELETE with 403: a SigV4-shaped header (moto checks no signature)
            conn.request(method, path, body=body, headers={
                "Host": f"{BUCKET}.localhost:{server.port}", "Content-Type": "application/json",
                "Authorization": "AWS4-HMAC-SHA256 Credential=local/20260301/us-east-1/s3/aws4_request, "
                                 "SignedHeaders=host, Signature=0"})
            response = conn.getresponse()
            response.read()
            assert response.status in (200, 204), (method, path, response.status)
    finally:
        conn.close()
    server.restart(signal.SIGKILL)
    s3 = server.client()
    assert list(_all_objects(s3, BUCKET)) == ["dt=2026-03-01/a b.json"]
    got = s3.get_object(Bucket=BUCKET, Key="dt=2026-03-01/a b.json")
    assert (got["Body"].read(), got["ContentType"]) == (b"virtual", "application/json")


def test_every_acknowledged_write_survives_kill_9(server: S3Server) -> None:
    s3 = server.client()
    s3.create_bucket(Bucket=BUCKET)
    for number in range(50):
        s3.put_object(Bucket=BUCKET, Key=f"seq/part-{number:05d}.json", Body=f"{number}".encode(),
                      ContentType="application/json")
    s3.delete_object(Bucket=BUCKET, Key="seq/part-00000.json")
    s3.put_object(Bucket=BUCKET, Key="seq/part-00001.json", Body=b"rewritten", ContentType="text/plain")

    def write(number: int) -> str:
        key = f"concurrent/{number % 20}/obj"  # several threads overwrite the same keys
        s3.put_object(Bucket=BUCKET, Key=key, Body=f"{number}".encode(), ContentType="text/plain")
        return key

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(write, range(200)))
    last = s3.put_object(Bucket=BUCKET, Key="last-before-kill", Body=b"acknowledged", ContentType="text/plain")
    before = _snapshot(s3, BUCKET)

    server.restart(signal.SIGKILL)  # no chance to flush anything: only what was on disk at the ack counts
    after = _snapshot(server.client(), BUCKET)
    assert after == before
    assert after["last-before-kill"]["ETag"] == last["ETag"]
    assert "seq/part-00000.json" not in after and after["seq/part-00001.json"]["Body"] == b"rewritten"
    assert len([k for k in after if k.startswith("concurrent/")]) == 20


def test_buckets_persist_even_empty_and_deletions_too(server: S3Server) -> None:
    s3 = server.client()
    s3.create_bucket(Bucket="empty-bucket")
    s3.create_bucket(Bucket="short-lived")
    s3.put_object(Bucket="short-lived", Key="k", Body=b"v")
    s3.delete_object(Bucket="short-lived", Key="k")
    s3.delete_bucket(Bucket="short-lived")
    s3.create_bucket(Bucket="eu-bucket", CreateBucketConfiguration={"LocationConstraint": "eu-central-1"})
    created = {b["Name"]: b["CreationDate"] for b in s3.list_buckets()["Buckets"]}

    server.restart(signal.SIGKILL)
    s3 = server.client()
    assert {b["Name"]: b["CreationDate"] for b in s3.list_buckets()["Buckets"]} == created
    assert set(created) == {"empty-bucket", "eu-bucket"}
    assert s3.list_objects_v2(Bucket="empty-bucket")["KeyCount"] == 0
    assert s3.get_bucket_location(Bucket="eu-bucket")["LocationConstraint"] == "eu-central-1"
    lake.ensure_bucket(s3, "empty-bucket")  # an existing bucket: no error


def test_a_restart_with_2000_objects_is_quick(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """2,000 lake parts, written in-process (moto + the mirror's full sync: over HTTP they take ~20 ms each
    on a busy two-core machine), then served: the restart's load time is reported."""
    import boto3
    from moto import mock_aws

    from aerolake.devstack.s3_server import DiskMirror, Target

    keys = [Partition("lufthansa", f"2026-03-{day:02d}").part_key(f"endpoint{endpoint}", number)
            for day in range(1, 11) for endpoint in range(4) for number in range(50)]
    assert len(keys) == 2000
    data_dir = tmp_path / "s3"
    with mock_aws():
        local = boto3.client("s3", region_name="us-east-1")
        local.create_bucket(Bucket=BUCKET)
        for key in keys:
            local.put_object(Bucket=BUCKET, Key=key, Body=lake.gzip_bytes(key.encode() * 20),
                             ContentType="application/gzip")
        before = _all_objects(local, BUCKET)
        mirror = DiskMirror(data_dir)
        mirror.load()
        began = time.monotonic()
        mirror.sync(Target())
        synced_in = time.monotonic() - began
        began = time.monotonic()
        mirror.sync(Target())  # nothing changed: nothing is written
        resynced_in = time.monotonic() - began
    assert sorted(before) == sorted(keys)
    assert len(list((data_dir / BUCKET).iterdir())) == 1 + 2 * 2000

    server = S3Server(data_dir, tmp_path / "s3-server.log")
    server.start()
    try:
        loaded = [line for line in server.server_log().splitlines() if "Loaded" in line][-1]
        s3 = server.client()
        after = _all_objects(s3, BUCKET)  # 2 pages of 1000
        assert after == before
        for key in keys[::97]:
            got = s3.get_object(Bucket=BUCKET, Key=key)
            assert got["ContentType"] == "application/gzip"
            assert gzip.decompress(got["Body"].read()) == key.encode() * 20
        s3.put_object(Bucket=BUCKET, Key=keys[0], Body=b"rewritten over HTTP")
        s3.delete_object(Bucket=BUCKET, Key=keys[1])
        began = time.monotonic()
        server.restart()
        restarted_in = time.monotonic() - began
        s3 = server.client()
        assert len(_all_objects(s3, BUCKET)) == 1999
        assert s3.get_object(Bucket=BUCKET, Key=keys[0])["Body"].read() == b"rewritten over HTTP"
    finally:
        if server.proc is not None:
            server.stop()
    with capsys.disabled():
        print(f"\n2,000 objects: full sync to disk {synced_in:.2f} s, no-op resync {resynced_in * 1000:.1f} ms; "
              f"start to 'listening' {server.started_in:.2f} s ({loaded.split(': ', 1)[1]}); "
              f"SIGTERM stop + start {restarted_in:.2f} s")
    assert server.started_in < 30  # generous: the figure is reported, not held to a tight bound


def test_the_lake_functions_against_the_server(server: S3Server) -> None:
    s3 = server.client()
    lake.ensure_bucket(s3, BUCKET)
    partition = Partition("lufthansa", "2026-03-01")
    pages = [json.dumps({"page": n, "airports": [{"code": "FRA"}]}).encode() for n in range(3)]
    parts = []
    for number, page in enumerate(pages):
        key = partition.part_key("airports", number)
        lake.put_bytes(s3, BUCKET, key, lake.gzip_bytes(page), "application/gzip")
        parts.append({"key": key, "sha256": lake.sha256_hex(page)})
    # a part a previous, larger fetch left behind, and one of a deeper (snapshot) prefix to keep
    stale = partition.part_key("airports", 7)
    snapshot = Partition("lufthansa", "2026-03-01", "0930").part_key("airports", 0)
    lake.put_bytes(s3, BUCKET, stale, lake.gzip_bytes(b"old"), "application/gzip")
    lake.put_bytes(s3, BUCKET, snapshot, lake.gzip_bytes(b"snap"), "application/gzip")
    assert lake.delete_stale_parts(s3, BUCKET, partition, "airports", {p["key"] for p in parts}) == 1
    assert lake.read_manifest(s3, BUCKET, partition, "airports") is None
    manifest_key = lake.write_manifest(s3, BUCKET, partition, "airports", {"parts": parts, "pages": 3})

    server.restart(signal.SIGKILL)
    s3 = server.client()
    assert lake.object_exists(s3, BUCKET, manifest_key)
    assert not lake.object_exists(s3, BUCKET, stale)
    assert lake.object_exists(s3, BUCKET, snapshot)
    manifest = lake.read_manifest(s3, BUCKET, partition, "airports")
    assert manifest == {"parts": parts, "pages": 3}
    assert [body for _, body in lake.iter_raw_parts(s3, BUCKET, manifest)] == pages
    assert s3.head_object(Bucket=BUCKET, Key=manifest_key)["ContentType"] == "application/json"
    lake.write_quarantine(s3, BUCKET, partition, "airports", "clean", [{"record": 1, "why": "no code"}])
    server.restart()
    assert lake.read_quarantine(server.client(), BUCKET, partition, "airports", "clean") == [
        {"record": 1, "why": "no code"}]


def test_without_a_data_dir_it_is_memory_only(tmp_path: Path) -> None:
    srv = S3Server(None, tmp_path / "s3-server.log")
    srv.start()
    try:
        srv.client().create_bucket(Bucket=BUCKET)
        srv.restart()
        assert srv.client().list_buckets()["Buckets"] == []
    finally:
        srv.stop()
    assert list(tmp_path.iterdir()) == [tmp_path / "s3-server.log"]


def test_interrupted_writes_leave_the_previous_state(server: S3Server) -> None:
    """What a crash between the body and the sidecar write leaves (an orphan body, a bucket directory
    without its marker) is cleaned up on start and never shows as an object."""
    s3 = server.client()
    s3.create_bucket(Bucket=BUCKET)
    s3.put_object(Bucket=BUCKET, Key="kept", Body=b"old", ContentType="text/plain")
    server.stop(signal.SIGKILL)
    assert server.data_dir is not None
    (server.data_dir / BUCKET / "kept@0123456789abcdef0123456789abcdef").write_bytes(b"new, never committed")
    (server.data_dir / "half-deleted").mkdir()
    (server.data_dir / "half-deleted" / "x@meta.json").write_text("{}")
    server.start()
    s3 = server.client()
    assert [b["Name"] for b in s3.list_buckets()["Buckets"]] == [BUCKET]
    assert s3.get_object(Bucket=BUCKET, Key="kept")["Body"].read() == b"old"
    assert sorted(p.name for p in (server.data_dir / BUCKET).iterdir()) == [
        "@bucket.json", "kept@" + s3.head_object(Bucket=BUCKET, Key="kept")["ETag"].strip('"'), "kept@meta.json"]


def test_a_write_the_disk_refused_is_not_acknowledged(tmp_path: Path) -> None:
    """In process (moto's S3 app behind the middleware): when the mirror cannot write, the client gets a
    500 InternalError, never a 200 for a write that would be lost on restart."""
    from moto import mock_aws
    from werkzeug.test import Client

    from aerolake.devstack.s3_server import DiskMirror, MirroringMiddleware, S3Dispatcher

    class FullDisk(DiskMirror):
        def _write(self, path: Path, data: bytes) -> None:
            if "@bucket.json" not in path.name:
                raise OSError(28, "No space left on device")
            super()._write(path, data)

    auth = {"Authorization": "AWS4-HMAC-SHA256 Credential=local/20260301/us-east-1/s3/aws4_request, "
                             "SignedHeaders=host, Signature=0"}
    with mock_aws():
        mirror = FullDisk(tmp_path / "s3")
        mirror.load()
        client = Client(MirroringMiddleware(S3Dispatcher(), mirror))
        assert client.put(f"/{BUCKET}", headers=auth).status_code == 200
        refused = client.put(f"/{BUCKET}/{LAKE_KEY}", data=b"x", headers=auth)
        assert refused.status_code == 500
        assert b"<Code>InternalError</Code>" in refused.data and b"No space left" in refused.data
        assert client.get(f"/{BUCKET}/{LAKE_KEY}", headers=auth).status_code == 200  # moto has it in memory
    assert sorted(p.name for p in (tmp_path / "s3" / BUCKET).iterdir()) == ["@bucket.json"]
