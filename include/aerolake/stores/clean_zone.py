"""The lake's clean zone: one Parquet object per entity and partition, what ``clean`` writes and
``load_to_mysql`` reads back, row group by row group (``clean/source=<s>/entity=<e>/dt=<d>/part-00000.parquet``)."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from typing import Any, Protocol

from aerolake.core.errors import MissingInput
from aerolake.schema import TABLES, conform
from aerolake.stores import lake
from aerolake.stores.lake import Partition


class LakePartition(Protocol):
    s3: Any
    bucket: str
    partition: Partition


class CleanZoneWriter:
    """Writes one entity's cleaned rows as a Parquet object in the clean zone, chunk by chunk."""

    def __init__(self, where: LakePartition, entity: str, table_name: str):
        self.ctx, self.entity, self.table = where, entity, TABLES[table_name]
        self._tmp = tempfile.NamedTemporaryFile(prefix=f"aerolake-{entity}-", suffix=".parquet")  # noqa: SIM115
        self._writer = None
        self.rows = 0

    def write(self, frame: Any) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        table = pa.Table.from_pandas(conform(frame, self.table), preserve_index=False)
        if self._writer is None:
            self._writer = pq.ParquetWriter(self._tmp.name, table.schema, compression="zstd")
        self._writer.write_table(table)
        self.rows += len(frame)

    def close(self) -> int:
        """Upload (an empty frame still writes a schema-only file, so the load sees "no rows", not "no file")."""
        import pandas as pd

        if self._writer is None:
            self.write(pd.DataFrame({c: pd.Series(dtype="object") for c in self.table.load_columns}))
            self.rows = 0
        self._writer.close()
        with open(self._tmp.name, "rb") as handle:
            lake.put_bytes(self.ctx.s3, self.ctx.bucket, self.ctx.partition.clean_key(self.entity), handle.read(),
                           "application/vnd.apache.parquet")
        self._tmp.close()
        return self.rows


def iter_clean_tables(where: LakePartition, entity: str) -> Iterator[Any]:
    """The clean zone's rows of ``entity`` as Arrow tables, one per row group (bounded memory)."""
    import pyarrow.parquet as pq

    key = where.partition.clean_key(entity)
    if not lake.object_exists(where.s3, where.bucket, key):
        raise MissingInput(f"{where.partition.source} {where.partition.key}: no clean data at s3://{where.bucket}/{key}; "
                           "run the clean task for this date first")
    with tempfile.NamedTemporaryFile(suffix=".parquet") as tmp:
        where.s3.download_fileobj(where.bucket, key, tmp)
        tmp.flush()
        parquet = pq.ParquetFile(tmp.name)
        for group in range(parquet.num_row_groups):
            yield parquet.read_row_group(group)


def iter_clean_frames(where: LakePartition, entity: str) -> Iterator[Any]:
    """The clean zone's rows of ``entity`` as pandas frames, one per row group."""
    for table in iter_clean_tables(where, entity):
        yield table.to_pandas()
