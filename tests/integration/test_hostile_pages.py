"""A hostile answer never costs more than the record it is in (tests/fixtures/hostile/pages.json).

Each case is served, as the API's answer to every request of one listing, to the source's real client; then
``extract_to_s3`` and ``load_to_mongo`` run. The run finishes; the page is in the lake byte for byte; the good
records are staged; each bad one (or the page whole, when it is not JSON or not the expected shape) is in
quarantine with its reason; and ``fetched = staged + quarantined + duplicates``.
"""

from __future__ import annotations

import gzip
import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import requests

from aerolake.core.connections import ApiCredentials
from aerolake.core.errors import QualityCheckFailed
from aerolake.core.settings import Budget, Settings
from aerolake.http import Request, RetryPolicy
from aerolake.pipeline import stages
from aerolake.pipeline.stages import StageContext
from aerolake.sources import source
from aerolake.sources.airlabs.client import AirlabsClient
from aerolake.sources.aviationstack.client import AviationstackClient
from aerolake.sources.lufthansa.client import LufthansaClient
from aerolake.sources.opensky.client import OpenSkyClient
from aerolake.stores import lake
from aerolake.stores.lake import Partition
from aerolake.stores.mysql.ledger import RunInfo, run_counts

CORPUS = json.loads((Path(__file__).parents[1] / "fixtures" / "hostile" / "pages.json").read_text())["cases"]
BASE = "https://api.invalid"
NOW = datetime(2026, 3, 1, 12, 0)  # the moment the answers are served: every partition below is servable
PARTITIONS = {"lufthansa": Partition("lufthansa", "2026-03-01"), "airlabs": Partition("airlabs", "2026-03-01", "1200"),
              "aviationstack": Partition("aviationstack", "2026-03-01"),
              "opensky": Partition("opensky", "2026-03-01", "1200")}
PAGE_SIZES = {"lufthansa": 80, "airlabs": 500, "aviationstack": 100, "opensky": 0}


def body_of(case: dict[str, Any]) -> bytes:
    return case["body"].replace("<5MB>", "G" * 5_000_000).encode().replace(b"<FF>", b"\xff")


#: how each API answers the page after a listing's last one
END_OF_LISTING = {
    "lufthansa": (404, (Path(__file__).parents[1] / "fixtures" / "lufthansa" / "error_404.json").read_bytes()),
    "airlabs": (200, b'{"request": {"has_more": false}, "response": []}'),
    "aviationstack": (200, b'{"pagination": {"limit": 100, "offset": 0, "count": 0, "total": 0}, "data": []}'),
    "opensky": (404, b""),  # one request, no paging: never asked
}


class Answering:
    """A requests session answering a listing's first ``pages`` requests with one body (retries included),
    then with the end of the listing; a token request (Lufthansa's, OpenSky's auth server) gets an OAuth2 token."""

    def __init__(self, status: int, body: bytes, pages: int, end: tuple[int, bytes]):
        self.status, self.body, self.pages, self.end = status, body, pages, end
        self.offsets: set[Any] = set()

    def request(self, method: str, url: str, params: Any = None, **_: Any) -> requests.Response:
        response = requests.Response()
        response.url = url
        if url.endswith(("/oauth/token", "/openid-connect/token")):
            response.status_code = 200
            response._content = b'{"access_token": "t", "token_type": "bearer", "expires_in": 3600}'
            return response
        offset = (params or {}).get("offset", 0)
        self.offsets.add(offset)
        hostile = sorted(self.offsets).index(offset) < self.pages
        response.status_code, response._content = (self.status, self.body) if hostile else self.end
        return response


def client_for(name: str, session: Answering) -> Any:
    kwargs = {"calls_per_second": 0, "retry": RetryPolicy(max_attempts=2, base_delay=0.0, max_delay=0.0),
              "sleep": lambda _s: None}
    client = {"lufthansa": lambda: LufthansaClient(ApiCredentials(BASE, "id", "secret"), **kwargs),
              "airlabs": lambda: AirlabsClient(ApiCredentials(BASE, None, "k" * 20), **kwargs),
              "aviationstack": lambda: AviationstackClient(ApiCredentials(BASE, None, "k" * 20), **kwargs),
              "opensky": lambda: OpenSkyClient(ApiCredentials(BASE, "id", "secret"),
                                               token_url=f"{BASE}/protocol/openid-connect/token", **kwargs)}[name]()
    client.http.session = session
    return client


@pytest.mark.parametrize("case", CORPUS, ids=[c["name"] for c in CORPUS])
def test_a_hostile_answer_costs_at_most_its_record(case, s3, mongo, mysql_cfg, monkeypatch) -> None:
    name, endpoint = case["source"], case["endpoint"]
    src = source(name)
    request = Request(endpoint, endpoint, {}, PAGE_SIZES[name])
    monkeypatch.setattr(src, "partition_plan",
                        lambda _p, _s: {e: [request] if e == endpoint else [] for e in src.SPEC.endpoints})
    partition = PARTITIONS[name]
    settings = Settings(bucket="aerolake-test", budgets={name: Budget()})
    ctx = StageContext(RunInfo(f"{name}_lakehouse", "hostile", partition), settings, s3, mongo, mysql_cfg)
    body = body_of(case)

    fetched = stages.extract_to_s3(ctx, client=client_for(name, Answering(case["status"], body, case["pages"], END_OF_LISTING[name])), now=NOW)
    staged = stages.load_to_mongo(ctx)[endpoint]

    manifest = lake.read_manifest(ctx.s3, ctx.bucket, partition, endpoint)
    first = ctx.s3.get_object(Bucket=ctx.bucket, Key=manifest["parts"][0]["key"])["Body"].read()
    assert gzip.decompress(first) == body  # stored as received, before anything was parsed
    assert staged["staged"] == case["staged"]
    assert staged["duplicates_at_staging"] == case["duplicates"]
    reasons = [q["reason"] for q in lake.read_quarantine(ctx.s3, ctx.bucket, partition, endpoint, "load_to_mongo")]
    assert len(reasons) == len(case["reasons"]), reasons
    for expected in case["reasons"]:
        assert any(r.startswith(expected) for r in reasons), (expected, reasons)
    assert mongo["quarantine"].count_documents({"endpoint": endpoint, "stage": "load_to_mongo"}) == len(reasons)
    total = fetched[endpoint]["fetched"]
    assert total == staged["staged"] + staged["quarantined_at_staging"] + staged["duplicates_at_staging"]
    assert total == manifest["records_total"] >= 1

    # the rest of the run: the staged records are cleaned (the bad ones refused with their rule) and published,
    # unless nothing publishable is left, which the row-count gate refuses to publish as a day
    cleaned = stages.clean(ctx)[endpoint]
    clean_reasons = [q["reason"] for q in lake.read_quarantine(ctx.s3, ctx.bucket, partition, endpoint, "clean")]
    assert len(clean_reasons) == len(case.get("clean_reasons", [])), clean_reasons
    for expected in case.get("clean_reasons", []):
        assert any(r.startswith(expected) for r in clean_reasons), (expected, clean_reasons)
    assert staged["staged"] == cleaned["cleaned"] + cleaned["quarantined_at_cleaning"] + cleaned["duplicates_at_cleaning"]
    gated = any(check.name == "row_count" for check in src.SPEC.quality)  # a day without flights is refused
    if not gated or (endpoint in {p.endpoint for p in src.SPEC.publish if p.table == "flights"} and cleaned["cleaned"]):
        stages.load_to_mysql(ctx)
        row = next(r for r in run_counts(mysql_cfg, ctx.run) if r["endpoint"] == endpoint)
        assert row["fetched"] == row["loaded"] + row["quarantined"] + row["duplicates"] == total, row
    else:
        with pytest.raises(QualityCheckFailed, match="row_count"):
            stages.load_to_mysql(ctx)
