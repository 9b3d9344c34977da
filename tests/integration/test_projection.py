"""Flat flight rows of text from MongoDB (``$project`` of field paths as text) and the same in Python.

The clean stage asks MongoDB for one flat row per Lufthansa flight record instead of the nested record, every
field text or null, and decodes the batches straight into Arrow (PyMongoArrow). These tests hold the two ways
of getting them to one answer: ``FieldPaths.project`` against mongomock's field paths, and
``stores.mongo.iter_projected`` through pymongo against wire-protocol servers (``nx-27017``, and the local stack's
stand-in ``aerolake.devstack.mongo_server``, which the ``tasks test`` end-to-end run and the benchmark use)
against the in-process path, down to the cleaned frame.
"""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import mongomock
import pandas as pd
import pyarrow as pa
import pytest

from aerolake.cleaning import decode_keys, encode_keys
from aerolake.core.settings import Settings
from aerolake.pipeline import stages
from aerolake.projection import FieldPaths, as_text, text_expression
from aerolake.sources.lufthansa.client import extract_records
from aerolake.sources.lufthansa.normalize import (
    FLIGHT_FIELDS,
    FLIGHT_PATHS,
    flight_frame,
    flight_table,
    natural_key,
)
from aerolake.sources.lufthansa.spec import FLIGHTSTATUS
from aerolake.stores import mongo
from aerolake.stores.lake import Partition
from aerolake.stores.mysql.ledger import RunInfo

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "lufthansa"
PARTITION = Partition("lufthansa", "2026-03-02")


def flight_docs() -> list[dict[str, Any]]:
    """The fixture flights as staged documents, plus one of each shape a member can wrongly have."""
    records = []
    for name in ("flightstatus_single.json", "flightstatus_page.json"):
        records += extract_records(FLIGHTSTATUS, json.loads((FIXTURES / name).read_text(encoding="utf-8")))[0]
    base = records[0]
    odd = []
    for member, value in (("Departure", [copy.deepcopy(base["Departure"])]), ("Arrival", "JFK"),
                          ("MarketingCarrier", None), ("Equipment", 744), ("FlightStatus", {"@nil": "true"})):
        record = copy.deepcopy(base)
        record[member] = value
        odd.append(record)
    leaf = copy.deepcopy(base)
    leaf["Departure"]["AirportCode"] = ["FRA", "MUC"]
    leaf["Arrival"]["ScheduledTimeUTC"] = {"DateTime": {"@nil": "true"}}
    numbers = copy.deepcopy(base)  # numbers where text belongs: whole ones are text, others unknown
    numbers["MarketingCarrier"]["FlightNumber"] = 400.0
    numbers["OperatingCarrier"]["FlightNumber"] = 2**40
    numbers["Equipment"]["AircraftCode"] = 74.5
    numbers["Departure"]["Terminal"]["Name"] = True
    docs = []
    for index, record in enumerate(records + odd + [leaf, numbers]):
        key = natural_key(FLIGHTSTATUS, record) if index < len(records) else f"odd-{index}"
        docs.append({"_id": f"{key}|{index}", "_key": key,
                     "_lake": {"partition": PARTITION.key, "s3_key": "raw/part-00000.json.gz", "index": index,
                               "fetched_at": "2026-03-02T06:00:00Z"},
                     **encode_keys(record)})
    return docs


def context(mongo: Any) -> stages.StageContext:
    return stages.StageContext(RunInfo("lufthansa_lakehouse", "run-1", PARTITION), Settings(), None, mongo, None)


def test_python_projection_follows_mongomocks_field_paths() -> None:
    """``FieldPaths.project`` is mongomock's ``$project`` of the same field paths, each value as text."""
    docs = flight_docs()
    collection = mongomock.MongoClient()["projection"][f"lufthansa_{FLIGHTSTATUS}"]
    collection.insert_many(copy.deepcopy(docs))
    raw = {"$project": {"_id": 1, **{FLIGHT_PATHS.wire[name]: {"$ifNull": [f"${path}", None]}
                                     for name, path in FLIGHT_PATHS.fields.items()}}}
    served = list(collection.aggregate([{"$match": {"_lake.partition": PARTITION.key}},
                                        {"$sort": {"_lake.index": 1}}, raw]))
    assert len(served) == len(docs) == 21
    assert [{k: (v if k == "_id" else as_text(v)) for k, v in row.items()} for row in served] == [
        FLIGHT_PATHS.project(doc) for doc in docs]


def test_values_are_text_or_null() -> None:
    assert [as_text(v) for v in ("x", " 04 ", 400, 2**40, 400.0, -3.0, 1.5, float("nan"), float("inf"), 1e300,
                                 True, None, {"@nil": "true"}, [1], ["x"])] == [
        "x", " 04 ", "400", "1099511627776", "400", "-3", None, None, None, None, None, None, None, None, None]
    doc = {"a": [{"b": "1"}, {"c": 2}], "n": None, "t": "x", "o": {"b": 7, "c": {"d": 2.0}}}
    paths = FieldPaths({"ab": "a.b", "whole": "a", "tx": "t.x", "n": "n", "ob": "o.b", "ocd": "o.c.d"})
    assert paths.project(doc) == {"_id": None, "a": None, "b": None, "c": None, "d": None, "e": "7", "f": "2"}
    assert paths.stage()["$project"] == {"_id": 1, **{key: text_expression(path) for key, path in zip(
        "abcdef", ["a.b", "a", "t.x", "n", "o.b", "o.c.d"], strict=True)}}
    table = paths.table([{"_id": "1", "e": "7"}, paths.project({"_id": "2", "t": "y"})])
    assert table.column_names == ["_id", "ab", "whole", "tx", "n", "ob", "ocd"]
    assert table.to_pylist()[0] == {"_id": "1", "ab": None, "whole": None, "tx": None, "n": None, "ob": "7",
                                    "ocd": None}
    assert table.schema.field("ob").type == pa.string() and table.num_rows == 2
    with pytest.raises(ValueError, match="_id"):
        FieldPaths({"_id": "x"})


def test_flight_frame_treats_what_is_not_text_or_a_whole_number_as_unknown() -> None:
    frame = flight_frame(flight_table(flight_docs()))
    odd = frame.iloc[14:]
    assert odd["dep_airport"].isna().tolist() == [True, False, False, False, False, True, False]
    assert odd["arr_airport"].isna().tolist() == [False, True, False, False, False, False, False]
    assert odd["airline_code"].isna().tolist() == [False, False, True, False, False, False, False]
    assert odd["aircraft_code"].isna().tolist() == [False, False, False, True, False, False, True]
    assert odd["status_code"].isna().tolist() == [False, False, False, False, True, False, False]
    assert odd["sched_arr_utc"].isna().tolist() == [False, True, False, False, False, True, False]
    assert frame["flight_number"].iloc[:3].tolist() == ["400", "400", "400"]  # 400, "0400", "400"
    numbers = frame.iloc[20]
    assert (numbers["flight_number"], numbers["operating_flight_number"]) == ("400", "1099511627776")
    assert pd.isna(numbers["dep_terminal"]) and numbers["arr_terminal"] == "1"  # true is not a terminal


def test_flight_table_takes_rows_without_the_missing_fields() -> None:
    """A server that leaves a null out of a row gives the same table."""
    rows = [FLIGHT_PATHS.project(doc) for doc in flight_docs()]
    sparse = [{k: v for k, v in row.items() if v is not None} for row in rows]
    assert FLIGHT_PATHS.table(sparse).equals(flight_table(flight_docs()))
    empty = flight_frame(flight_table([]))
    assert list(empty.columns) == list(FLIGHT_FIELDS) and len(empty) == 0


ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module", params=["nx-27017", "devstack-mongo-server"])
def wire_mongo(request, tmp_path_factory) -> Any:
    """MongoDB over the wire: the nx-27017 server (on SQLite), or the local stack's stand-in
    (``aerolake.devstack.mongo_server``, mongomock behind the wire protocol, with a data directory), on a
    free port."""
    sys.path.insert(0, str(ROOT / "tests" / "e2e"))
    from e2e_support import free_port, mongo_client, mongo_server, nx_27017

    data = tmp_path_factory.mktemp("wire")
    port = free_port()
    server = nx_27017(port, data) if request.param == "nx-27017" else mongo_server(port, data / "mongo",
                                                                                     data / "mongo.log")
    for client in mongo_client(port, server):
        yield client["projection"]


def test_iter_projected_over_the_wire_equals_the_in_process_path(wire_mongo) -> None:
    docs = flight_docs()
    other = copy.deepcopy(docs[0])
    other["_id"], other["_lake"]["partition"] = "another-partition", "2026-03-03"
    local = mongomock.MongoClient()["projection"]
    for db in (local, wire_mongo):
        db[f"lufthansa_{FLIGHTSTATUS}"].drop()
        db[f"lufthansa_{FLIGHTSTATUS}"].insert_many(copy.deepcopy([*reversed(docs), other]))

    wire_chunks = list(mongo.iter_projected(context(wire_mongo), FLIGHTSTATUS, FLIGHT_PATHS, chunk=8))
    local_chunks = list(mongo.iter_projected(context(local), FLIGHTSTATUS, FLIGHT_PATHS, chunk=8))

    assert [c.num_rows for c in wire_chunks] == [c.num_rows for c in local_chunks] == [8, 8, 5]
    wire_rows, local_rows = pa.concat_tables(wire_chunks), pa.concat_tables(local_chunks)
    assert wire_rows.column("_id").to_pylist() == [d["_id"] for d in docs]
    # the server's text conversion ($switch on $type) is Python's as_text, value for value
    assert wire_rows.equals(local_rows), (wire_rows.to_pylist(), local_rows.to_pylist())
    pd.testing.assert_frame_equal(flight_frame(wire_rows), flight_frame(local_rows))

    wanted = [docs[3]["_id"], docs[17]["_id"], "no-such-id"]
    for db in (local, wire_mongo):
        found = mongo.documents_by_id(context(db), FLIGHTSTATUS, wanted)
        assert set(found) == set(wanted[:2])
        assert found[docs[17]["_id"]]["Equipment"] == 744  # the whole document, as stored


def test_rejected_rows_reach_quarantine_as_whole_documents() -> None:
    from aerolake.cleaning import Rejects
    from aerolake.pipeline.clean import PartitionClean
    from aerolake.sources.lufthansa.normalize import _quarantine_flights
    from aerolake.sources.lufthansa.spec import SPEC

    docs = flight_docs()
    db = mongomock.MongoClient()["projection"]
    db[f"lufthansa_{FLIGHTSTATUS}"].insert_many(copy.deepcopy(docs))
    rejects = Rejects()
    run = PartitionClean(context(db), SPEC)
    _quarantine_flights(run, [("bad airport", docs[5]["_id"]), ("bad number", docs[2]["_id"])], rejects)
    assert [(item["reason"], item["key"]) for item in rejects.items] == [
        ("bad airport", docs[5]["_key"]), ("bad number", docs[2]["_key"])]
    assert rejects.items[0]["record"] == decode_keys(docs[5])  # the raw record, as the lake has it
    assert rejects.items[0]["record"]["Departure"] == docs[5]["Departure"]
    with pytest.raises(RuntimeError, match="left MongoDB while it was cleaned"):
        _quarantine_flights(run, [("bad", "gone|0")], Rejects())


def test_pymongoarrow_matches_the_locked_pyarrow() -> None:
    """PyMongoArrow's wheel is built against one pyarrow release; another one warns of a binary mismatch at
    import (and may crash): the lock must pair them."""
    result = subprocess.run([sys.executable, "-W", "error", "-c", "import pymongoarrow.lib"],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr[-2000:]
