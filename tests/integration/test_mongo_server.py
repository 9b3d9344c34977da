"""The local stack's MongoDB stand-in (``aerolake.devstack.mongo_server``) as its clients meet it: a process on a
free port with a data directory of its own, reached with pymongo and Airflow's ``MongoHook``.

The three sources' five stages through it give the rows and documents that in-process mongomock gives; what
pymongo and the stages send is answered as MongoDB answers it; acknowledged writes survive a SIGTERM and a
``kill -9`` of the server, a torn journal tail is ignored, and writes of concurrent processes all land.
"""

from __future__ import annotations

import dataclasses
import json
import signal
import subprocess
import sys
import textwrap
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pymongo
import pytest
from pymongo.errors import BulkWriteError, DuplicateKeyError
from stage_support import run_stages

from aerolake.core.connections import MySqlConfig, mongo_database
from aerolake.core.settings import Settings
from aerolake.mockapi import MockApi, MockConfig
from aerolake.pipeline import stages
from aerolake.schema import DATA_TABLES
from aerolake.sql import quote_identifier
from aerolake.stores.lake import Partition
from aerolake.stores.mysql.db import connection, table_checksums
from aerolake.stores.mysql.ledger import RunInfo, run_counts

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "e2e"))
from e2e_support import free_port, mongo_server, stop_process, wait_for_port

ALL_TABLES = [t.name for t in DATA_TABLES]


class Server:
    """One server on a data directory, started and stopped (cleanly or with ``kill -9``) as a test needs."""

    def __init__(self, data_dir: Path | None):
        self.data_dir = data_dir
        self.log = (data_dir.parent / f"{data_dir.name}.log") if data_dir else None
        self.proc: subprocess.Popen | None = None
        self.client: pymongo.MongoClient | None = None
        self.port = 0

    def start(self) -> pymongo.MongoClient:
        self.port = free_port()
        self.proc = mongo_server(self.port, self.data_dir, self.log)
        wait_for_port(self.port, self.proc)
        self.client = pymongo.MongoClient("127.0.0.1", self.port, serverSelectionTimeoutMS=10_000)
        return self.client

    def stop(self, kill: bool = False) -> None:
        if self.client is not None:
            self.client.close()
            self.client = None
        if self.proc is not None:
            if kill:
                self.proc.send_signal(signal.SIGKILL)
                self.proc.wait(timeout=30)
            else:
                stop_process(self.proc)
                assert self.proc.returncode == 0, self.log_text()
            self.proc = None

    def restart(self, kill: bool = False) -> pymongo.MongoClient:
        self.stop(kill=kill)
        return self.start()

    def log_text(self) -> str:
        return self.log.read_text() if self.log and self.log.exists() else ""


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    srv = Server(tmp_path / "mongo")
    srv.start()
    try:
        yield srv
    finally:
        srv.stop(kill=True)


def dump(db: Any) -> dict[str, tuple[list[dict], dict]]:
    """Every collection of ``db``: its documents (by ``_id``) and its indexes."""
    return {name: (list(db[name].find().sort("_id", 1)), db[name].index_information())
            for name in sorted(db.list_collection_names())}


# -- the stages of the three sources ---------------------------------------------------------------------
SOURCES: dict[str, dict[str, Any]] = {
    "lufthansa": {"dag": "lufthansa_lakehouse", "partition": Partition("lufthansa", "2026-03-01"),
                  "mock": MockConfig(flights_per_hub=40, qps_limit=None), "now": None},
    "airlabs": {"dag": "airlabs_lakehouse", "partition": Partition("airlabs", "2026-03-01", "1200"),
                "mock": MockConfig(seed=5, flights_per_hub=150, qps_limit=None, now="2026-03-01T12:05:00Z"),
                "now": datetime(2026, 3, 1, 12, 5)},
    "aviationstack": {"dag": "aviationstack_lakehouse", "partition": Partition("aviationstack", "2026-03-01"),
                      "mock": MockConfig(flights_per_hub=60, qps_limit=None, anomalies=True,
                                         now="2026-03-01T12:00:00Z"),
                      "now": datetime(2026, 3, 1, 12, 0)},
}


@pytest.fixture
def second_mysql(mysql_cfg: MySqlConfig) -> Iterator[MySqlConfig]:
    cfg = MySqlConfig(mysql_cfg.host, mysql_cfg.port, mysql_cfg.user, mysql_cfg.password,
                      f"aerolake_test_{uuid.uuid4().hex[:12]}")
    yield cfg
    with connection(cfg, database=False, autocommit=True) as conn, conn.cursor() as cur:
        cur.execute(f"DROP DATABASE IF EXISTS {quote_identifier(cfg.database)}")


@pytest.mark.parametrize("source", list(SOURCES))
def test_the_five_stages_through_the_server_give_what_mongomock_gives(
        source: str, server: Server, s3, mongo, mysql_cfg, second_mysql, monkeypatch) -> None:
    spec = SOURCES[source]
    settings = Settings(bucket="aerolake-test", mongo_db=f"aerolake_{source}",
                        calls_per_second=dict.fromkeys(SOURCES, 0))
    # the pipeline's own way to MongoDB: the aerolake_mongo connection, through Airflow's MongoHook
    monkeypatch.setenv("AIRFLOW_CONN_AEROLAKE_MONGO", json.dumps(
        {"conn_type": "mongo", "host": "127.0.0.1", "port": server.port}))
    wire = mongo_database(settings)
    assert type(wire).__module__.startswith("pymongo")
    extra = {"now": spec["now"]} if spec["now"] else {}

    def build(mongo_db: Any, mysql: MySqlConfig, base_url: str) -> stages.StageContext:
        cfg = dataclasses.replace(settings, mock_api_url=base_url)
        return stages.StageContext(RunInfo(spec["dag"], "run-1", spec["partition"]), cfg, s3, mongo_db, mysql)

    with MockApi(spec["mock"]) as api:
        local = build(mongo, mysql_cfg, api.base_url)
        local_results = run_stages(local, **extra)
        calls = api.stats()["total"]
        # the same lake (the manifests stop a second fetch): only MongoDB differs, and the MySQL database
        served = build(wire, second_mysql, api.base_url)
        served_results = run_stages(served, **extra)
        assert api.stats()["total"] == calls

    for stage in ("load_to_mongo", "clean", "load_to_mysql"):
        assert served_results[stage] == local_results[stage], stage
    assert [(r.check_name, r.table_name, r.passed, r.observed_value) for r in served_results["check_quality"]] == [
        (r.check_name, r.table_name, r.passed, r.observed_value) for r in local_results["check_quality"]]
    local_rows, served_rows = table_checksums(mysql_cfg, ALL_TABLES), table_checksums(second_mysql, ALL_TABLES)
    assert served_rows == local_rows
    assert sum(count for count, _ in served_rows.values()) > 100
    ledger = ("endpoint", "fetched", "staged", "cleaned", "loaded", "quarantined", "duplicates", "status")
    assert [{k: r[k] for k in ledger} for r in run_counts(second_mysql, served.run)] == [
        {k: r[k] for k in ledger} for r in run_counts(mysql_cfg, local.run)]
    for row in run_counts(second_mysql, served.run):
        if row["fetched"] is not None:
            assert row["fetched"] == row["loaded"] + row["quarantined"] + row["duplicates"], row
    # the staged documents and the quarantine, document for document; the indexes load_to_mongo made
    assert dump(wire) == dump(mongo)
    assert any(docs for docs, _ in dump(wire).values())


# -- what pymongo and the stages send ---------------------------------------------------------------------
def test_it_answers_what_pymongo_sends_as_mongodb_does(server: Server) -> None:
    client = server.client
    assert client.admin.command("ping")["ok"] == 1.0
    assert client.server_info()["version"].startswith("7.")
    db = client["surface"]
    coll = db["flights"]
    assert coll.create_index([("_lake.partition", 1), ("_lake.s3_key", 1), ("_lake.index", 1)]) == \
        "_lake.partition_1__lake.s3_key_1__lake.index_1"
    coll.create_index("_key", unique=True)
    docs = [{"_id": f"k{n:04d}|p{n % 2}", "_key": f"k{n:04d}", "_lake": {"partition": f"p{n % 2}",
             "s3_key": f"part-{n // 100:05d}", "index": n % 100}, "n": n} for n in range(1000)]
    coll.insert_many(docs[::-1], ordered=False)
    assert db.list_collection_names() == ["flights"] and "surface" in client.list_database_names()
    assert coll.count_documents({"_lake.partition": "p0"}) == 500
    assert coll.estimated_document_count() == 1000
    assert set(coll.index_information()) == {"_id_", "_key_1", "_lake.partition_1__lake.s3_key_1__lake.index_1"}

    # sorted, in batches smaller than the result (getMore)
    order = [("_lake.s3_key", 1), ("_lake.index", 1)]
    with coll.find({"_lake.partition": "p1"}).sort(order).batch_size(37) as cursor:
        assert [d["n"] for d in cursor] == list(range(1, 1000, 2))
    wanted = [docs[3]["_id"], docs[600]["_id"], "no-such-id"]
    assert sorted(d["_id"] for d in coll.find({"_id": {"$in": wanted}})) == sorted(wanted[:2])
    assert coll.find_one({"_id": docs[3]["_id"]}) == docs[3]

    # a duplicate _id (and a duplicate unique key) fails as MongoDB's E11000; the rest of the batch lands
    with pytest.raises(BulkWriteError) as raised:
        coll.insert_many([{"_id": "new-1", "_key": "new-1"}, docs[0], {"_id": "new-2", "_key": docs[1]["_key"]},
                          {"_id": "new-3", "_key": "new-3"}], ordered=False)
    details = raised.value.details
    assert [(e["index"], e["code"]) for e in details["writeErrors"]] == [(1, 11000), (2, 11000)]
    assert details["nInserted"] == 2 and coll.count_documents({"_id": {"$in": ["new-1", "new-3"]}}) == 2
    with pytest.raises(DuplicateKeyError):
        coll.insert_one(docs[5])
    unacknowledged = coll.with_options(write_concern=pymongo.WriteConcern(w=0))
    unacknowledged.insert_one({"_id": "w0", "_key": "w0"})  # no reply is read: none may be sent
    assert coll.find_one({"_id": "w0"}) == {"_id": "w0", "_key": "w0"}
    coll.delete_one({"_id": "w0"})

    # updates and upserts; the document read back is the updated one (not the BSON as first inserted)
    assert coll.update_one({"_id": docs[7]["_id"]}, {"$set": {"n": -7}}).modified_count == 1
    assert coll.find_one({"_id": docs[7]["_id"]})["n"] == -7
    assert coll.replace_one({"_id": "up"}, {"_key": "up", "n": 1}, upsert=True).upserted_id == "up"
    assert coll.update_many({"_lake.partition": "p0"}, {"$inc": {"n": 1000}}).matched_count == 500
    assert coll.find_one({"_id": docs[8]["_id"]})["n"] == 1008

    # a partition replace, as load_to_mongo does it
    assert coll.delete_many({"_lake.partition": "p0"}).deleted_count == 500
    assert coll.count_documents({}) == 1000 + 2 + 1 - 500

    # the clean stage's aggregation of field paths as text, and mongomock's for anything else
    from aerolake.projection import FieldPaths

    paths = FieldPaths({"key": "_key", "part": "_lake.partition", "n": "n"})
    rows = list(coll.aggregate([{"$match": {"_lake.partition": "p1"}}, {"$sort": dict(order)}, paths.stage()]))
    assert rows[0] == {"_id": docs[1]["_id"], "a": "k0001", "b": "p1", "c": "1"} and len(rows) == 500
    assert list(coll.aggregate([{"$match": {"_lake.partition": "p1"}},
                                {"$group": {"_id": "$_lake.partition", "total": {"$sum": "$n"}}}])) == [
        {"_id": "p1", "total": sum(range(1, 1000, 2)) - 7 - 7}]
    with pytest.raises(pymongo.errors.OperationFailure, match="no such command"):
        db.command("collMod", "flights")
    coll.drop()
    assert db.list_collection_names() == []
    assert coll.index_information() == {}


def test_airflows_mongo_hook_reaches_it(server: Server, monkeypatch) -> None:
    from airflow.providers.mongo.hooks.mongo import MongoHook

    monkeypatch.setenv("AIRFLOW_CONN_AEROLAKE_MONGO", f"mongo://127.0.0.1:{server.port}")
    with MongoHook(mongo_conn_id="aerolake_mongo") as hook:
        assert hook.get_conn().admin.command("ping")["ok"] == 1.0
        hook.insert_many("hooked", [{"_id": 1}, {"_id": 2}], mongo_db="airflow")
        assert hook.find("hooked", {"_id": {"$in": [2]}}, find_one=True, mongo_db="airflow") == {"_id": 2}


# -- persistence ------------------------------------------------------------------------------------------
def write_a_bit_of_everything(db: Any, tag: str) -> None:
    flights = db[f"flights_{tag}"]
    flights.create_index([("_lake.partition", 1), ("_lake.s3_key", 1)])
    flights.create_index("_key", unique=True, name="natural_key")
    flights.insert_many([{"_id": f"{tag}-{n}", "_key": f"{tag}-{n}", "_lake": {"partition": "p1" if n % 3 else "p0",
                          "s3_key": f"part-{n % 7}", "fetched_at": datetime(2026, 3, 1, 6, 0, 0, 123000)},
                          "Nested": [{"a": n, "b": None}, 1.5, True], "n": n} for n in range(2500)], ordered=False)
    flights.delete_many({"_lake.partition": "p0"})
    flights.update_one({"_id": f"{tag}-1"}, {"$set": {"n": "updated"}})
    flights.insert_one({"_key": f"{tag}-without-id"})  # the server gives it its ObjectId
    db[f"empty_{tag}"].create_index("x")
    db[f"gone_{tag}"].insert_one({"_id": 1})
    db[f"gone_{tag}"].drop()


def test_documents_and_indexes_survive_a_sigterm_and_a_kill_9(server: Server) -> None:
    db = server.client["persist"]
    write_a_bit_of_everything(db, "a")
    before = dump(db)
    assert len(before["flights_a"][0]) == 2500 - 834 + 1 and "gone_a" not in before and "empty_a" in before

    db = server.restart()["persist"]  # SIGTERM: compacted on the way out
    assert dump(db) == before
    assert "compacted into snapshot" in server.log_text()

    write_a_bit_of_everything(db, "b")  # acknowledged, in the journal only
    before = dump(db)
    db = server.restart(kill=True)["persist"]
    assert dump(db) == before
    assert "journaled commands replayed" in server.log_text()

    server.client.drop_database("persist")
    db = server.restart(kill=True)["persist"]
    assert dump(db) == {}
    assert sorted(p.name for p in server.data_dir.iterdir()) == ["LOCK", "journal-00000003.bin", "snapshot.bin"]


def test_a_torn_journal_tail_is_ignored_and_cut_off(server: Server) -> None:
    def journal() -> Path:
        (path,) = server.data_dir.glob("journal-*.bin")
        return path

    db = server.client["torn"]
    db["c"].insert_many([{"_id": n} for n in range(100)])
    before = dump(db)
    server.stop(kill=True)
    record = journal().read_bytes()
    # the server killed while it wrote a record: the record's header promises more bytes than follow
    with journal().open("ab") as handle:
        handle.write(record[:40])
    db = server.start()["torn"]
    assert dump(db) == before
    assert server.log_text().count("torn last record") == 1

    # a journal holding nothing but a torn record: cut off, so that what is written after it replays
    server.stop(kill=True)
    journal().write_bytes(record[:40])
    db = server.start()["torn"]
    assert dump(db) == before and server.log_text().count("torn last record") == 2
    db["c"].insert_one({"_id": "after"})
    db = server.restart(kill=True)["torn"]
    assert db["c"].count_documents({}) == 101

    # a last record whose bytes are all there but damaged: its CRC fails
    db["c"].insert_one({"_id": "damaged"})
    server.stop(kill=True)
    data = bytearray(journal().read_bytes())
    data[-2] ^= 0xFF
    journal().write_bytes(bytes(data))
    db = server.start()["torn"]
    assert db["c"].count_documents({}) == 101 and db["c"].find_one({"_id": "damaged"}) is None
    assert server.log_text().count("torn last record") == 3


def test_a_second_server_on_the_same_directory_is_refused(server: Server) -> None:
    port = free_port()
    proc = subprocess.run([sys.executable, "-m", "aerolake.devstack.mongo_server", "--port", str(port),
                           "--data-dir", str(server.data_dir)], capture_output=True, text=True, timeout=60,
                          check=False)
    assert proc.returncode != 0 and "another server is using" in proc.stderr


CONCURRENT_WRITER = textwrap.dedent("""
    import sys
    import pymongo

    port, worker = int(sys.argv[1]), int(sys.argv[2])
    coll = pymongo.MongoClient("127.0.0.1", port)["concurrent"]["docs"]
    for batch in range(20):
        coll.insert_many([{"_id": f"{worker}-{batch}-{n}", "worker": worker, "batch": batch} for n in range(100)],
                         ordered=False)
        coll.delete_many({"worker": worker, "batch": batch - 1, "_id": {"$regex": "-(0|1)$"}})
        coll.count_documents({"worker": worker})
""")


def test_writes_of_four_concurrent_processes_all_land(server: Server) -> None:
    writers = [subprocess.Popen([sys.executable, "-c", CONCURRENT_WRITER, str(server.port), str(worker)])
               for worker in range(4)]
    assert [w.wait(timeout=300) for w in writers] == [0, 0, 0, 0]
    coll = server.client["concurrent"]["docs"]
    expected = 4 * (20 * 100 - 19 * 2)
    assert coll.count_documents({}) == expected
    before = dump(server.client["concurrent"])
    # the journal replays them in the order they were applied: the same state after a kill -9
    assert dump(server.restart(kill=True)["concurrent"]) == before


@pytest.fixture
def memory_only() -> Iterator[Callable[[], Server]]:
    started: list[Server] = []

    def start() -> Server:
        srv = Server(None)
        srv.start()
        started.append(srv)
        return srv

    yield start
    for srv in started:
        srv.stop(kill=True)


def test_without_a_data_directory_it_lives_in_memory(memory_only) -> None:
    srv = memory_only()
    srv.client["m"]["c"].insert_one({"_id": 1})
    assert srv.client["m"].command("standinStats")["calls"]["insert"] == 1
    srv.restart()
    assert srv.client.list_database_names() == []
