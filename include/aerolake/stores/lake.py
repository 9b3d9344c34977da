"""The S3 data lake: layout, raw pages, manifests, quarantine and the clean zone.

Layout (docs/architecture.md)::

    raw/source={source}/endpoint={endpoint}/dt={YYYY-MM-DD}/[snapshot={HHMM}/]part-{NNNNN}.json.gz
    raw/.../_manifest.json
    quarantine/source={source}/endpoint={endpoint}/dt={YYYY-MM-DD}/[snapshot=.../]stage={stage}.jsonl.gz
    clean/source={source}/entity={entity}/dt={YYYY-MM-DD}/[snapshot=.../]part-00000.parquet

Raw parts hold the API response bytes exactly as received (gzip with a fixed mtime, so the same bytes give
the same object). The manifest is written last: a partition without one is incomplete and is re-fetched.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Protocol

from aerolake.core.errors import MissingInput
from aerolake.core.scratch import ScratchFile
from aerolake.schema import TABLES, conform

log = logging.getLogger(__name__)

MANIFEST_NAME = "_manifest.json"


@dataclass(frozen=True)
class Partition:
    """One unit of work: a source's data for one date (and, for real-time sources, one snapshot)."""

    source: str
    dt: str  # YYYY-MM-DD
    snapshot: str | None = None  # HHMM

    @property
    def key(self) -> str:
        return self.dt if self.snapshot is None else f"{self.dt}/{self.snapshot}"

    def _suffix(self) -> str:
        return f"dt={self.dt}/" + (f"snapshot={self.snapshot}/" if self.snapshot else "")

    def raw_prefix(self, endpoint: str) -> str:
        return f"raw/source={self.source}/endpoint={endpoint}/{self._suffix()}"

    def manifest_key(self, endpoint: str) -> str:
        return self.raw_prefix(endpoint) + MANIFEST_NAME

    def part_key(self, endpoint: str, number: int) -> str:
        return f"{self.raw_prefix(endpoint)}part-{number:05d}.json.gz"

    def quarantine_key(self, endpoint: str, stage: str) -> str:
        return f"quarantine/source={self.source}/endpoint={endpoint}/{self._suffix()}stage={stage}.jsonl.gz"

    def clean_key(self, entity: str) -> str:
        return f"clean/source={self.source}/entity={entity}/{self._suffix()}part-00000.parquet"


def gzip_bytes(body: bytes) -> bytes:
    """Deterministic gzip: the same body always gives the same object bytes."""
    return gzip.compress(body, compresslevel=6, mtime=0)


def sha256_hex(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def ensure_bucket(s3: Any, bucket: str) -> None:
    """Create ``bucket`` if it does not exist (a no-op on an existing bucket)."""
    from botocore.exceptions import ClientError

    try:
        s3.head_bucket(Bucket=bucket)
    except ClientError as exc:
        code = str(exc.response.get("Error", {}).get("Code", ""))
        if code not in {"404", "NoSuchBucket", "NotFound"}:
            raise
        log.info("Creating bucket %s", bucket)
        s3.create_bucket(Bucket=bucket)


def object_exists(s3: Any, bucket: str, key: str) -> bool:
    from botocore.exceptions import ClientError

    try:
        s3.head_object(Bucket=bucket, Key=key)
    except ClientError as exc:
        if str(exc.response.get("Error", {}).get("Code", "")) in {"404", "NoSuchKey", "NotFound"}:
            return False
        raise
    return True


def put_bytes(s3: Any, bucket: str, key: str, body: bytes, content_type: str) -> None:
    s3.put_object(Bucket=bucket, Key=key, Body=body, ContentType=content_type)


def get_bytes(s3: Any, bucket: str, key: str) -> bytes:
    return s3.get_object(Bucket=bucket, Key=key)["Body"].read()


def list_keys(s3: Any, bucket: str, prefix: str) -> list[str]:
    keys: list[str] = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        keys.extend(obj["Key"] for obj in page.get("Contents", []))
    return keys


def read_manifest(s3: Any, bucket: str, partition: Partition, endpoint: str) -> dict[str, Any] | None:
    """The partition's manifest, or None when the partition was never completely fetched."""
    key = partition.manifest_key(endpoint)
    if not object_exists(s3, bucket, key):
        return None
    return json.loads(get_bytes(s3, bucket, key))


def write_manifest(s3: Any, bucket: str, partition: Partition, endpoint: str, manifest: dict[str, Any]) -> str:
    key = partition.manifest_key(endpoint)
    body = json.dumps(manifest, indent=2, sort_keys=True).encode()
    put_bytes(s3, bucket, key, body, "application/json")
    return key


def delete_stale_parts(s3: Any, bucket: str, partition: Partition, endpoint: str, keep: set[str]) -> int:
    """Remove part objects a previous, larger fetch left behind (a refetch may return fewer pages)."""
    prefix = partition.raw_prefix(endpoint)
    stale = [k for k in list_keys(s3, bucket, prefix) if k not in keep and not k.endswith(MANIFEST_NAME)]
    # only this partition's own parts: never objects of a deeper (snapshot) prefix
    stale = [k for k in stale if "/" not in k[len(prefix):]]
    for start in range(0, len(stale), 1000):
        s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": k} for k in stale[start:start + 1000]]})
    return len(stale)


def iter_raw_parts(s3: Any, bucket: str, manifest: dict[str, Any]) -> Iterator[tuple[dict[str, Any], bytes]]:
    """Each part of a manifest with its decompressed body, checked against the manifest's sha256."""
    for part in manifest["parts"]:
        body = gzip.decompress(get_bytes(s3, bucket, part["key"]))
        if sha256_hex(body) != part["sha256"]:
            raise ValueError(
                f"{part['key']}: content does not match the manifest's sha256; the lake object was changed "
                "after it was fetched. Re-fetch the partition (conf refetch=true)."
            )
        yield part, body


def write_quarantine(
    s3: Any, bucket: str, partition: Partition, endpoint: str, stage: str, items: list[dict[str, Any]]
) -> str | None:
    """Replace the partition's quarantine file of ``stage``; returns its key (None when nothing was rejected)."""
    key = partition.quarantine_key(endpoint, stage)
    if not items:
        if object_exists(s3, bucket, key):
            s3.delete_object(Bucket=bucket, Key=key)
        return None
    lines = "".join(json.dumps(item, sort_keys=True, default=str) + "\n" for item in items)
    put_bytes(s3, bucket, key, gzip_bytes(lines.encode()), "application/x-ndjson")
    return key


def read_quarantine(s3: Any, bucket: str, partition: Partition, endpoint: str, stage: str) -> list[dict]:
    key = partition.quarantine_key(endpoint, stage)
    if not object_exists(s3, bucket, key):
        return []
    return [json.loads(line) for line in gzip.decompress(get_bytes(s3, bucket, key)).splitlines() if line]


# -- the clean zone: one Parquet object per entity and partition, what ``clean`` writes and ``load_to_mysql``
# reads back, row group by row group ---------------------------------------------------------------------
class LakePartition(Protocol):
    s3: Any
    bucket: str
    partition: Partition


class CleanZoneWriter:
    """Writes one entity's cleaned rows as a Parquet object in the clean zone, chunk by chunk, through a
    scratch file without a name (:mod:`aerolake.core.scratch`: a killed process leaves nothing behind)."""

    def __init__(self, where: LakePartition, entity: str, table_name: str):
        self.ctx, self.entity, self.table = where, entity, TABLES[table_name]
        self._tmp = ScratchFile(f"aerolake-{entity}-", ".parquet")
        self._writer = None
        self.rows = 0

    def write(self, frame: Any) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        table = pa.Table.from_pandas(conform(frame, self.table), preserve_index=False)
        if self._writer is None:
            self._writer = pq.ParquetWriter(self._tmp.path, table.schema, compression="zstd")
        self._writer.write_table(table)
        self.rows += len(frame)

    def close(self) -> int:
        """Upload (an empty frame still writes a schema-only file, so the load sees "no rows", not "no file")."""
        import pandas as pd

        if self._writer is None:
            self.write(pd.DataFrame({c: pd.Series(dtype="object") for c in self.table.load_columns}))
            self.rows = 0
        self._writer.close()
        with open(self._tmp.path, "rb") as handle:
            put_bytes(self.ctx.s3, self.ctx.bucket, self.ctx.partition.clean_key(self.entity), handle.read(),
                      "application/vnd.apache.parquet")
        self._tmp.close()
        return self.rows

    def discard(self) -> None:
        """Drop what was written, uploading nothing."""
        if self._writer is not None:
            self._writer.close()
        self._tmp.close()


def iter_clean_tables(where: LakePartition, entity: str) -> Iterator[Any]:
    """The clean zone's rows of ``entity`` as Arrow tables, one per row group (bounded memory), read from a
    scratch file without a name."""
    import pyarrow.parquet as pq

    key = where.partition.clean_key(entity)
    if not object_exists(where.s3, where.bucket, key):
        raise MissingInput(f"{where.partition.source} {where.partition.key}: no clean data at s3://{where.bucket}/{key}; "
                           "run the clean task for this date first")
    with ScratchFile(f"aerolake-{entity}-", ".parquet") as tmp:
        where.s3.download_fileobj(where.bucket, key, tmp.handle)
        tmp.flush()
        parquet = pq.ParquetFile(tmp.path)
        for group in range(parquet.num_row_groups):
            yield parquet.read_row_group(group)


def iter_clean_frames(where: LakePartition, entity: str) -> Iterator[Any]:
    """The clean zone's rows of ``entity`` as pandas frames, one per row group."""
    for table in iter_clean_tables(where, entity):
        yield table.to_pandas()
