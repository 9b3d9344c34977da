"""A process the scratch-file tests kill with SIGKILL: it does one piece of pipeline work that needs a scratch
file, stops at a chosen moment, prints ``READY <detail>`` and waits to be killed.

    python scratch_child.py MODE [MYSQL_CONFIG_JSON]

Modes (the moment of the kill):

- ``load-writing``: ``stage_frames`` (LOAD DATA path) while the load file is being written (a frame is in it,
  the next is being produced);
- ``load-written``: the load file is complete, ``LOAD DATA LOCAL INFILE`` not yet sent;
- ``load-reading``: the server is reading the file (PyMySQL has opened the name the server echoed back), inside
  the load's transaction;
- ``clean-writing``: ``CleanZoneWriter`` has written Parquet, the upload has not happened;
- ``clean-reading``: ``iter_clean_tables`` has downloaded the object and yielded its first row group.

``--no-proc`` and ``--no-tmpfile`` force the fallbacks of :mod:`aerolake.core.scratch` (no ``/proc``; no
``O_TMPFILE``). The temp directory is whatever ``TMPDIR`` says. Test doubles (the frames, a fake S3) live here.
"""

from __future__ import annotations

import io
import json
import os
import sys
import time
from types import SimpleNamespace


def ready(detail: str = "") -> None:
    print(f"READY {detail}".strip(), flush=True)
    time.sleep(600)
    sys.exit("not killed")


def positions(n: int, start: int = 0):
    import pandas as pd

    from aerolake.schema import FLIGHT_POSITIONS, conform

    return conform(pd.DataFrame({
        "icao24": [f"{i:06x}" for i in range(start, start + n)],
        "observed_at": pd.Timestamp("2026-03-01 10:00:00"),
        "airline_code": "LH", "flight_number": [str(i % 9000 + 1) for i in range(n)], "dep_airport": "FRA",
        "arr_airport": "JFK", "registration": "D-AIXA", "aircraft_code": "359",
        "latitude": [50 + i / 1e6 for i in range(n)], "longitude": 8.5, "altitude_m": 10000.0, "heading": 290.0,
        "speed_kmh": 880.0, "vertical_speed": 0.0, "on_ground": False, "source": "test",
        "updated_at": pd.Timestamp("2026-03-01 10:05:00"),
    }), FLIGHT_POSITIONS)


def load(mode: str, cfg_json: str) -> None:
    import pymysql

    from aerolake.core.connections import MySqlConfig
    from aerolake.schema import FLIGHT_POSITIONS
    from aerolake.stores.mysql import load as load_module
    from aerolake.stores.mysql.db import connection

    cfg = MySqlConfig(**json.loads(cfg_json))

    def frames():
        yield positions(100_000)
        if mode == "load-writing":
            ready()
        yield positions(100_000, start=100_000)

    if mode == "load-written":
        write = load_module._write_load_file

        def write_then_stop(*args, **kwargs):
            rows = write(*args, **kwargs)
            ready(str(rows))
        load_module._write_load_file = write_then_stop
    if mode == "load-reading":
        def send_data(self):
            name = self.filename.decode() if isinstance(self.filename, bytes) else self.filename
            with open(name, "rb") as handle:
                head = handle.read(64)
            ready(f"{name} {len(head)}")
        pymysql.connections.LoadLocalFile.send_data = send_data

    with connection(cfg) as conn:
        load_module.stage_frames(conn, FLIGHT_POSITIONS, frames(), use_load_data=True)
    sys.exit("the load finished: it should have been killed")


def clean(mode: str) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    from aerolake.stores.lake import CleanZoneWriter, Partition, iter_clean_tables

    frame = positions(100_000)
    if mode == "clean-writing":
        s3 = SimpleNamespace(put_object=lambda **kwargs: ready(str(len(kwargs["Body"]))))
        writer = CleanZoneWriter(SimpleNamespace(s3=s3, bucket="b", partition=Partition("test", "2026-03-01")),
                                 "positions", "flight_positions")
        writer.write(frame)
        writer.write(positions(100_000, start=100_000))
        writer.close()
    else:
        body = io.BytesIO()
        pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), body, row_group_size=10_000)
        s3 = SimpleNamespace(head_object=lambda **kwargs: {},
                             download_fileobj=lambda bucket, key, fileobj: fileobj.write(body.getvalue()))
        where = SimpleNamespace(s3=s3, bucket="b", partition=Partition("test", "2026-03-01"))
        for table in iter_clean_tables(where, "positions"):
            ready(str(table.num_rows))
    sys.exit("not killed")


def main(argv: list[str]) -> None:
    from aerolake.core import scratch

    if "--no-proc" in argv:
        scratch.PROC_FD_DIR = None
    if "--no-tmpfile" in argv and hasattr(os, "O_TMPFILE"):
        del os.O_TMPFILE
    mode, *rest = [a for a in argv if not a.startswith("--")]
    if mode.startswith("load-"):
        load(mode, rest[0])
    else:
        clean(mode)


if __name__ == "__main__":
    main(sys.argv[1:])
