"""Flat flight rows from MongoDB (``$project`` of field paths) and the same in Python, for mongomock.

The clean stage asks MongoDB for one flat row per Lufthansa flight record instead of the nested record. These
tests hold the two ways of getting them to one answer: ``FieldPaths.project`` against mongomock's own
aggregation, and ``stages.iter_projected`` through pymongo against wire-protocol servers (``nx-27017``, as
the ``tasks test`` end-to-end run uses, and the benchmark's stand-in) against the in-process path, down to
the cleaned frame.
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
import pymongo
import pytest

from aerolake import stages
from aerolake.cleaning import decode_keys, encode_keys
from aerolake.lake import Partition
from aerolake.projection import FieldPaths, path_value
from aerolake.runs import RunInfo
from aerolake.settings import Settings
from aerolake.sources.lufthansa import (
    FLIGHT_FIELDS,
    FLIGHT_PATHS,
    FLIGHTSTATUS,
    extract_records,
    flight_frame,
    flight_rows,
    natural_key,
)

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
    docs = []
    for index, record in enumerate(records + odd + [leaf]):
        key = natural_key(FLIGHTSTATUS, record) if index < len(records) else f"odd-{index}"
        docs.append({"_id": f"{key}|{index}", "_key": key,
                     "_lake": {"partition": PARTITION.key, "s3_key": "raw/part-00000.json.gz", "index": index,
                               "fetched_at": "2026-03-02T06:00:00Z"},
                     **encode_keys(record)})
    return docs


def context(mongo: Any) -> stages.StageContext:
    return stages.StageContext(RunInfo("lufthansa_lakehouse", "run-1", PARTITION), Settings(), None, mongo, None)


def test_python_projection_equals_mongomocks_aggregation() -> None:
    docs = flight_docs()
    collection = mongomock.MongoClient()["projection"][f"lufthansa_{FLIGHTSTATUS}"]
    collection.insert_many(copy.deepcopy(docs))
    served = list(collection.aggregate([{"$match": {"_lake.partition": PARTITION.key}},
                                        {"$sort": {"_lake.index": 1}}, FLIGHT_PATHS.stage()]))
    assert len(served) == len(docs) == 20
    assert served[:14] + served[15:] == flight_rows(docs[:14] + docs[15:])
    served = [FLIGHT_PATHS.named(row) for row in served]
    mine = [FLIGHT_PATHS.named(row) for row in flight_rows(docs)]
    # through an array whose document lacks the field, MongoDB gives an empty array; mongomock, null
    assert {k: v for k, v in served[14].items() if v != mine[14][k]} == {"act_dep_local": None, "act_dep_utc": None}
    assert mine[14]["act_dep_local"] == mine[14]["act_dep_utc"] == []
    odd = {row["_id"].split("|")[0]: row for row in mine[14:]}
    assert odd["odd-14"]["dep_airport"] == ["FRA"]  # a path through an array: the array of what it holds
    assert odd["odd-15"]["arr_airport"] is None  # through text: missing, and $ifNull makes it null
    assert odd["odd-16"]["airline_code"] is None
    assert odd["odd-18"]["status_code"] is None
    assert odd["odd-19"]["dep_airport"] == ["FRA", "MUC"]
    assert odd["odd-19"]["sched_arr_utc"] == {"@nil": "true"}


def test_path_values_follow_mongodb_through_arrays() -> None:
    doc = {"a": [{"b": 1}, {"c": 2}, 3, [{"b": 4}], {"b": [5, 6]}], "n": None, "t": "x"}
    assert path_value(doc, ["a", "b"]) == [1, [4], [5, 6]]
    assert path_value(doc, ["n"]) is None
    assert path_value(doc, ["n", "x"]) is path_value(doc, ["t", "x"]) is path_value(doc, ["zz"])
    paths = FieldPaths({"ab": "a.b", "whole": "a", "deep": "a.b.c", "tx": "t.x"})
    row = paths.project(doc)
    assert row == {"_id": None, "a": [1, [4], [5, 6]], "b": doc["a"], "c": [[], []], "d": None}
    assert paths.named(row) == {"_id": None, "ab": [1, [4], [5, 6]], "whole": doc["a"], "deep": [[], []],
                                "tx": None}
    assert paths.stage() == {"$project": {"_id": 1, "a": {"$ifNull": ["$a.b", None]}, "b": {"$ifNull": ["$a", None]},
                                          "c": {"$ifNull": ["$a.b.c", None]}, "d": {"$ifNull": ["$t.x", None]}}}
    assert FieldPaths({"ab": "a.b"}, compact=False).project(doc) == {"_id": None, "ab": [1, [4], [5, 6]]}
    assert paths.columns([row, {"_id": 2, "a": 1}]) == [[row["a"], 1], [row["b"], None], [row["c"], None],
                                                       [None, None]]
    with pytest.raises(ValueError, match="_id"):
        FieldPaths({"_id": "x"})


def test_flight_frame_treats_what_is_not_text_or_a_number_as_unknown() -> None:
    frame = flight_frame(flight_rows(flight_docs()))
    odd = frame.iloc[14:]
    assert odd["dep_airport"].isna().tolist() == [True, False, False, False, False, True]
    assert odd["arr_airport"].isna().tolist() == [False, True, False, False, False, False]
    assert odd["airline_code"].isna().tolist() == [False, False, True, False, False, False]
    assert odd["aircraft_code"].isna().tolist() == [False, False, False, True, False, False]
    assert odd["status_code"].isna().tolist() == [False, False, False, False, True, False]
    assert odd["sched_arr_utc"].isna().tolist() == [False, True, False, False, False, True]
    assert frame["flight_number"].iloc[:3].tolist() == ["400", "400", "400"]  # 400, "0400", "400"


def test_flight_frame_takes_rows_without_the_missing_fields() -> None:
    """A server that leaves a missing value out instead of sending null gives the same frame."""
    rows = flight_rows(flight_docs())
    sparse = [{k: v for k, v in row.items() if v is not None} for row in rows]
    pd.testing.assert_frame_equal(flight_frame(sparse), flight_frame(rows))
    empty = flight_frame([])
    assert list(empty.columns) == list(FLIGHT_FIELDS) and len(empty) == 0


ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module", params=["nx-27017", "bench-standin"])
def wire_mongo(request, tmp_path_factory) -> Any:
    """MongoDB over the wire: the nx-27017 server (on SQLite), or the benchmark's stand-in
    (``bench/mongo_standin.py``, mongomock behind the wire protocol), on a free port."""
    sys.path.insert(0, str(ROOT / "tests" / "e2e"))
    from e2e_support import BIN, free_port, stop_process, wait_for_port

    data = tmp_path_factory.mktemp("wire")
    port = free_port()
    if request.param == "nx-27017":
        command = [str(BIN / "nx-27017"), "--data-dir", str(data), "-p", str(port), "--log-file",
                   str(data / "nx.log"), "--pid-file", str(data / "nx.pid")]
    else:
        command = [sys.executable, str(ROOT / "bench" / "mongo_standin.py"), "--port", str(port)]
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    client = None
    try:
        wait_for_port(port, server)
        client = pymongo.MongoClient("127.0.0.1", port, serverSelectionTimeoutMS=10_000)
        yield client["projection"]
    finally:
        if client is not None:
            client.close()
        stop_process(server)


def test_iter_projected_over_the_wire_equals_the_in_process_path(wire_mongo) -> None:
    docs = flight_docs()
    other = copy.deepcopy(docs[0])
    other["_id"], other["_lake"]["partition"] = "another-partition", "2026-03-03"
    local = mongomock.MongoClient()["projection"]
    for db in (local, wire_mongo):
        db[f"lufthansa_{FLIGHTSTATUS}"].drop()
        db[f"lufthansa_{FLIGHTSTATUS}"].insert_many(copy.deepcopy([*reversed(docs), other]))

    wire_chunks = list(stages.iter_projected(context(wire_mongo), FLIGHTSTATUS, FLIGHT_PATHS, chunk=8))
    local_chunks = list(stages.iter_projected(context(local), FLIGHTSTATUS, FLIGHT_PATHS, chunk=8))

    assert [len(c) for c in wire_chunks] == [len(c) for c in local_chunks] == [8, 8, 4]
    wire_rows = [row for chunk in wire_chunks for row in chunk]
    local_rows = [row for chunk in local_chunks for row in chunk]
    assert [row["_id"] for row in wire_rows] == [row["_id"] for row in local_rows] == [d["_id"] for d in docs]
    # servers differ in how they show a path through an array (MongoDB and mongomock: an array; nx-27017:
    # null); the frame reads both as unknown, so the cleaned rows agree
    pd.testing.assert_frame_equal(flight_frame(wire_rows), flight_frame(local_rows))

    wanted = [docs[3]["_id"], docs[17]["_id"], "no-such-id"]
    for db in (local, wire_mongo):
        found = stages.documents_by_id(context(db), FLIGHTSTATUS, wanted)
        assert set(found) == set(wanted[:2])
        assert found[docs[17]["_id"]]["Equipment"] == 744  # the whole document, as stored


def test_rejected_rows_reach_quarantine_as_whole_documents() -> None:
    from aerolake.cleaning import Rejects
    from aerolake.sources.lufthansa import _quarantine_flights

    docs = flight_docs()
    db = mongomock.MongoClient()["projection"]
    db[f"lufthansa_{FLIGHTSTATUS}"].insert_many(copy.deepcopy(docs))
    rejects = Rejects()
    _quarantine_flights(context(db), [("bad airport", docs[5]["_id"]), ("bad number", docs[2]["_id"])], rejects)
    assert [(item["reason"], item["key"]) for item in rejects.items] == [
        ("bad airport", docs[5]["_key"]), ("bad number", docs[2]["_key"])]
    assert rejects.items[0]["record"] == decode_keys(docs[5])  # the raw record, as the lake has it
    assert rejects.items[0]["record"]["Departure"] == docs[5]["Departure"]
    with pytest.raises(RuntimeError, match="left MongoDB while it was cleaned"):
        _quarantine_flights(context(db), [("bad", "gone|0")], Rejects())
