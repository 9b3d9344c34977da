"""A stage that knows N documents exist and reads fewer fails by itself.

nx-27017 (a MongoDB wire-protocol server on SQLite, from PyPI) counts an Airlabs snapshot partition such as
``2026-12-02/0650`` with ``count_documents`` but returns nothing from ``find()`` on the same filter: cleaning
what arrived would publish an empty snapshot as if it were the whole one.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from aerolake.core.errors import IncompleteRead
from aerolake.core.settings import Settings
from aerolake.pipeline import stages
from aerolake.stores import mongo
from aerolake.stores.lake import Partition
from aerolake.stores.mysql.ledger import RunInfo

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "e2e"))
from e2e_support import free_port, mongo_client, nx_27017  # noqa: E402

PART = Partition("airlabs", "2026-12-02", "0650")


@pytest.fixture
def nx_database(tmp_path):
    port = free_port()
    for client in mongo_client(port, nx_27017(port, tmp_path)):
        yield client["aerolake"]


def test_a_partition_the_server_counts_but_does_not_return_fails_the_read(nx_database) -> None:
    docs = [{"_id": f"{n:06x}|{PART.key}", "_key": f"{n:06x}", "hex": f"{n:06x}",
             "_lake": {"partition": PART.key, "s3_key": "raw/part-00000.json.gz", "index": n}} for n in range(7)]
    nx_database["airlabs_flights"].insert_many(docs)
    ctx = stages.StageContext(RunInfo("airlabs_lakehouse", "r1", PART), Settings(), None, nx_database, None)
    assert nx_database["airlabs_flights"].count_documents(ctx.partition_filter()) == 7

    with pytest.raises(IncompleteRead, match=r"airlabs/flights 2026-12-02/0650: MongoDB counts 7 documents in this "
                                             r"partition but its query returned 0"):
        list(mongo.iter_documents(ctx, "flights"))
