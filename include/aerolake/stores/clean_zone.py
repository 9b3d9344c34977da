"""The lake's clean zone: one Parquet object per entity and partition, what ``clean`` writes and
``load_to_mysql`` reads (``clean/source=<s>/entity=<e>/dt=<d>/part-00000.parquet``)."""

from __future__ import annotations

import tempfile
from typing import Any, Protocol

from aerolake import lake
from aerolake.lake import Partition
from aerolake.schema import TABLES, conform


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
