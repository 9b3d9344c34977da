"""The curated zone: the date's flights as one deterministic Avro container file, replaced on rerun."""

from __future__ import annotations

import io

import fastavro
import pytest

from aerolake.stores.mysql.db import connection
from aerolake.streaming import write_curated
from aerolake.streaming.curated import SYNC_MARKER, curated_key
from aerolake.streaming.records import message_key

from .conftest import DT, NEXT_DT, expected_records

pytestmark = pytest.mark.mysql

BUCKET = "aerolake-test"


def _read(s3, key: str) -> tuple[bytes, list[dict]]:
    body = s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()
    return body, list(fastavro.reader(io.BytesIO(body)))


def _keys(s3, prefix: str) -> list[str]:
    return [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET, Prefix=prefix).get("Contents", [])]


def test_curated_reads_back_to_the_rows(make_ctx, s3, flights_db) -> None:
    counts = write_curated(make_ctx(DT))
    key = f"curated/flights/dt={DT}/part-00000.avro"
    assert curated_key(DT) == key
    body, rows = _read(s3, key)
    assert counts == {"flights": 5, "bytes": len(body), "stale_removed": 0}
    assert {message_key(r): r for r in rows} == expected_records(flights_db, DT)
    header = fastavro.reader(io.BytesIO(body))
    assert header.writer_schema["name"] == "io.aerolake.flights.Flight"
    assert header.metadata["avro.codec"] == "deflate"
    assert header.metadata["aerolake.schema.version"] == "2"
    assert SYNC_MARKER in body
    # another date is its own partition
    assert write_curated(make_ctx(NEXT_DT))["flights"] == 1
    assert _keys(s3, "curated/flights/") == [key, f"curated/flights/dt={NEXT_DT}/part-00000.avro"]


def test_rerun_replaces_the_partition_with_identical_bytes(make_ctx, s3, flights_db) -> None:
    write_curated(make_ctx(DT))
    first, _ = _read(s3, curated_key(DT))
    s3.put_object(Bucket=BUCKET, Key=f"curated/flights/dt={DT}/part-00001.avro", Body=b"stale")
    counts = write_curated(make_ctx(DT, run_id="run-2"))
    again, rows = _read(s3, curated_key(DT))
    assert again == first
    assert counts["stale_removed"] == 1
    assert _keys(s3, f"curated/flights/dt={DT}/") == [curated_key(DT)]
    assert len(rows) == 5
    # a changed row changes the file, still one object
    with connection(flights_db) as conn, conn.cursor() as cur:
        cur.execute("UPDATE flights SET dep_gate = 'A1' WHERE airline_code = 'LH' AND flight_number = '2000'")
        conn.commit()
    write_curated(make_ctx(DT, run_id="run-3"))
    changed, rows = _read(s3, curated_key(DT))
    assert changed != first
    assert {message_key(r): r["dep_gate"] for r in rows}["LH_2000_2026-03-01_FRA"] == "A1"
    assert _keys(s3, f"curated/flights/dt={DT}/") == [curated_key(DT)]


def test_empty_date_writes_an_empty_container(make_ctx, s3) -> None:
    counts = write_curated(make_ctx("2026-04-01"))
    body, rows = _read(s3, curated_key("2026-04-01"))
    assert counts["flights"] == 0 and rows == [] and len(body) == counts["bytes"] > 0
