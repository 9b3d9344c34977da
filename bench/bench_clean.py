"""Benchmark: how fast each source's normalizers clean, in documents per second.

    .venv/bin/python bench/bench_clean.py [--flights-per-hub 1500] [--repeat 3] [--label after]

For each source, one partition of the mock API (in this process, no QPS limit) goes through ``extract_to_s3``
and ``load_to_mongo`` (moto S3, mongomock, a fresh MariaDB database ``aerolake_bench_<random>``, dropped at
the end). Its staged documents are then read once into memory, and the clean stage
(:func:`aerolake.pipeline.clean.clean_partition`, the one skeleton) runs ``--repeat`` times over them, the
reads served from memory: what is timed is the normalizers and the skeleton (and writing the Parquet to moto),
not MongoDB. Two figures, of the best run: the observations (flights, schedules, positions: the source's
``clean_observations``) per second of that step, and the partition's documents (references too) per second
of the whole stage.

Written to ``bench/results/clean-<date>-<label>.json``; nothing outside ``bench/`` is changed.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import logging
import secrets
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "include"))

DAY = "2026-03-01"
#: source -> (partition snapshot, the mock clock and the pipeline's "now")
PARTITIONS = {
    "lufthansa": (None, datetime(2026, 3, 1, 23, 0)),
    "airlabs": ("1200", datetime(2026, 3, 1, 12, 0)),  # midday: the most flights in the air
    "aviationstack": (None, datetime(2026, 3, 2, 0, 30)),
}


def memory_run(ctx: Any, spec: Any) -> Any:
    """A :class:`PartitionClean` whose reads are served from documents read once, up front."""
    import pyarrow as pa

    from aerolake.pipeline.clean import PartitionClean
    from aerolake.stores import mongo

    class MemoryClean(PartitionClean):
        docs = {e: [d for chunk in mongo.iter_documents(ctx, e) for d in chunk] for e in spec.endpoints}
        tables: dict[tuple[str, Any], Any] = {}

        def documents(self, endpoint: str) -> list[dict[str, Any]]:
            return list(self.docs[endpoint])

        def chunks(self, endpoint: str) -> Iterator[list[dict[str, Any]]]:
            yield list(self.docs[endpoint])

        def projected(self, endpoint: str, paths: Any) -> Iterator[Any]:
            key = (endpoint, paths)
            if key not in self.tables:
                self.tables[key] = pa.concat_tables(list(mongo.iter_projected(ctx, endpoint, paths)))
            yield self.tables[key]

    return MemoryClean


def bench_source(name: str, flights_per_hub: int, repeat: int, mysql_database: str) -> dict[str, Any]:
    import boto3
    import mongomock
    from moto import mock_aws

    from aerolake.core.connections import MySqlConfig
    from aerolake.core.settings import Budget, Settings
    from aerolake.mockapi import MockApi, MockConfig
    from aerolake.pipeline import stages
    from aerolake.pipeline.clean import clean_partition
    from aerolake.sources import source
    from aerolake.stores.lake import Partition
    from aerolake.stores.mysql.ledger import RunInfo

    snapshot, now = PARTITIONS[name]
    config = MockConfig(seed=3, flights_per_hub=flights_per_hub, qps_limit=None, now=now.isoformat() + "Z")
    with MockApi(config) as api, mock_aws():
        settings = Settings(bucket="aerolake-bench", mock_api_url=api.base_url, mysql_database=mysql_database,
                            calls_per_second={"lufthansa": 0, "airlabs": 0}, budgets={"airlabs": Budget(),
                                                                                  "aviationstack": Budget()})
        run = RunInfo(f"{name}_lakehouse", f"bench__{name}", Partition(name, DAY, snapshot))
        ctx = stages.StageContext(run, settings, boto3.client("s3", region_name="us-east-1"),
                                  mongomock.MongoClient()["aerolake_bench"], MySqlConfig(database=mysql_database))
        stages.extract_to_s3(ctx, now=now)
        staged = stages.load_to_mongo(ctx)
        src = source(name)
        run_class = memory_run(ctx, src.SPEC)
        documents = {e: len(run_class.docs[e]) for e in src.SPEC.endpoints}
        observed: list[float] = []

        def timed_observations(run: Any) -> None:
            started = time.perf_counter()
            src.clean_observations(run)
            observed.append(time.perf_counter() - started)

        timed = SimpleNamespace(SPEC=src.SPEC, clean_reference=src.clean_reference,
                                clean_observations=timed_observations)
        runs = []
        for _ in range(repeat):
            gc.collect()  # each run starts from the same heap
            started, cpu = time.perf_counter(), time.process_time()
            counts = clean_partition(ctx, timed, run_class(ctx, src.SPEC))
            runs.append({"seconds": time.perf_counter() - started, "cpu_seconds": time.process_time() - cpu,
                         "observations_seconds": observed[-1]})
    best = min(runs, key=lambda r: r["seconds"])
    total = sum(documents.values())
    references = {endpoint for endpoint, _entity in src.SPEC.references}
    observations = sum(n for e, n in documents.items() if e not in references)
    fastest = min(r["observations_seconds"] for r in runs)
    return {"documents": documents, "documents_total": total, "observations": observations, "runs": runs,
            "best_seconds": round(best["seconds"], 3), "documents_per_second": round(total / best["seconds"]),
            "observations_seconds": round(fastest, 3), "observations_per_second": round(observations / fastest),
            "counts": counts, "staged": {e: c["staged"] for e, c in staged.items()}}


@contextlib.contextmanager
def bench_database() -> Iterator[str]:
    import pymysql

    name = f"aerolake_bench_{secrets.token_hex(4)}"
    conn = pymysql.connect(host="127.0.0.1", user="root", password="")
    try:
        with conn.cursor() as cur:
            cur.execute(f"CREATE DATABASE {name}")
        yield name
    finally:
        with conn.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS {name}")
        conn.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--flights-per-hub", type=int, default=1500)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--label", default="now")
    parser.add_argument("--sources", default="lufthansa,airlabs,aviationstack")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    for logger in ("aerolake", "botocore", "urllib3", "moto"):
        logging.getLogger(logger).setLevel(logging.WARNING)
    result: dict[str, Any] = {"date": datetime.now(UTC).isoformat(timespec="seconds"), "label": args.label,
                              "flights_per_hub": args.flights_per_hub, "repeat": args.repeat, "sources": {}}
    with bench_database() as database:
        for name in args.sources.split(","):
            rec = bench_source(name, args.flights_per_hub, args.repeat, database)
            result["sources"][name] = rec
            print(f"{name:14} observations {rec['observations']:6d} in {rec['observations_seconds']:6.3f} s: "
                  f"{rec['observations_per_second']:7d}/s | stage {rec['documents_total']:6d} documents in "
                  f"{rec['best_seconds']:6.3f} s: {rec['documents_per_second']:7d}/s", flush=True)
    out = ROOT / "bench" / "results" / f"clean-{datetime.now(UTC):%Y-%m-%d}-{args.label}.json"
    out.write_text(json.dumps(result, indent=2, default=str) + "\n")
    print(f"written: {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
