"""Benchmark: OpenSky state vectors per second, for a world-sized ``/states/all`` answer.

    .venv/bin/python bench/bench_opensky.py [--flights-per-hub 2000] [--repeat 3] [--label ...]

The mock API (in this process, no HTTP: its ``OpenskySource``) answers ``/states/all`` with ``extended=1`` and no
box for a world of ten hubs (FRA, MUC, LHR, CDG, AMS, IST, MAD, FCO, ZRH, VIE) at 12:00 UTC: about 10,000 state
vectors, 1.3 MB of JSON, the size of OpenSky's own world answer. The pipeline's work on that one answer is timed,
``--repeat`` times, best run kept:

* ``parse``: the body to JSON (``aerolake.http.parse_body``, as ``load_to_mongo`` reads a raw part);
* ``extract``: the arrays to named records (``client.extract_records``);
* ``keys``: each record's natural key and the staged document around it (what ``load_to_mongo`` inserts);
* ``clean``: the documents to ``flight_positions`` rows (``normalize.clean_states``: units, callsigns, checks);
* ``conform``: the rows to the table's typed columns (``schema.conform``, what the load stages).

Written to ``bench/results/opensky-<date>[-<label>].json``; nothing outside ``bench/`` is changed.

Results (2 vCPU shared machine, 2026-12-06, best of 3): 9,642 state vectors (1.29 MB), 9,147 staged (495 repeat
an aircraft and time: the mock world reuses airframes), 9,055 positions and 92 rejected (no position): parse
0.029 s, extract 0.022 s, keys 0.084 s, clean 0.185 s, conform 0.024 s: **about 26,300 positions per second**
from the answer's bytes to typed rows (0.34 s a world snapshot); the clean step alone about 48,800 per second.
A 10-minute schedule has 600 s per snapshot, and the box around the hubs holds a few hundred aircraft: the
normalizer is not what limits it. ``bench/results/opensky-2026-12-06.json`` has every run.
"""

from __future__ import annotations

import argparse
import gc
import json
import sys
import time
from datetime import UTC, datetime
from email.message import Message
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "include"))

HUBS = ("FRA", "MUC", "LHR", "CDG", "AMS", "IST", "MAD", "FCO", "ZRH", "VIE")
NOW = "2026-03-01T12:00:00Z"


def world_answer(flights_per_hub: int) -> bytes:
    """The mock's ``/states/all?extended=1`` body for the whole world (no box) at :data:`NOW`."""
    from aerolake.mockapi import MockConfig
    from aerolake.mockapi.server import MockServer, Request

    server = MockServer(MockConfig(flights_per_hub=flights_per_hub, hubs=HUBS, qps_limit=None, now=NOW,
                                   opensky_daily_credits=None))
    source = next(s for s in server.sources if s.name == "opensky")
    request = Request("GET", "/opensky/api/states/all", "states/all", [("extended", "1")], Message(), b"", "")
    return source.handle(request).body


def one_run(body: bytes) -> dict[str, Any]:
    from aerolake.cleaning import Rejects, encode_keys
    from aerolake.http import parse_body
    from aerolake.schema import FLIGHT_POSITIONS, conform
    from aerolake.sources.opensky.client import extract_records
    from aerolake.sources.opensky.normalize import clean_states, natural_key

    seconds: dict[str, float] = {}
    gc.collect()
    started = time.perf_counter()
    payload = parse_body(body)
    seconds["parse"] = time.perf_counter() - started

    started = time.perf_counter()
    records, _ = extract_records("states", payload)
    seconds["extract"] = time.perf_counter() - started

    started = time.perf_counter()
    lake = {"source": "opensky", "endpoint": "states", "dt": "2026-03-01", "snapshot": "1200",
            "partition": "2026-03-01/1200", "s3_key": "raw/part-00000.json.gz", "fetched_at": NOW}
    docs, seen = [], set()
    for index, record in enumerate(records):
        key = natural_key("states", record)
        if key is None or key in seen:
            continue
        seen.add(key)
        docs.append({"_id": f"{key}|2026-03-01/1200", "_key": key, "_lake": {**lake, "index": index},
                     **encode_keys(record)})
    seconds["keys"] = time.perf_counter() - started

    started = time.perf_counter()
    rejects = Rejects()
    rows, duplicates = clean_states(docs, rejects)
    seconds["clean"] = time.perf_counter() - started

    started = time.perf_counter()
    typed = conform(rows, FLIGHT_POSITIONS)
    seconds["conform"] = time.perf_counter() - started
    return {"seconds": {k: round(v, 4) for k, v in seconds.items()}, "total_seconds": round(sum(seconds.values()), 4),
            "state_vectors": len(records), "staged": len(docs), "positions": len(typed),
            "rejected": len(rejects), "duplicates": duplicates}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--flights-per-hub", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--label", default="")
    args = parser.parse_args(argv)

    started = time.perf_counter()
    body = world_answer(args.flights_per_hub)
    built = time.perf_counter() - started
    print(f"world answer: {len(body):,} bytes, {len(json.loads(body)['states']):,} state vectors "
          f"(the mock built it in {built:.1f} s)")
    runs = [one_run(body) for _ in range(args.repeat)]
    best = min(runs, key=lambda r: r["total_seconds"])
    result = {
        "date": datetime.now(UTC).date().isoformat(), "label": args.label, "flights_per_hub": args.flights_per_hub,
        "hubs": list(HUBS), "bytes": len(body), "repeat": args.repeat, "runs": runs, "best": best,
        "positions_per_second": round(best["positions"] / best["total_seconds"]),
        "clean_positions_per_second": round(best["positions"] / best["seconds"]["clean"]),
    }
    for name, value in best["seconds"].items():
        print(f"  {name:<8} {value:.3f} s")
    print(f"{best['staged']:,} staged of {best['state_vectors']:,}; "
          f"{best['positions']:,} positions ({best['rejected']} rejected, {best['duplicates']} duplicates) in "
          f"{best['total_seconds']:.3f} s: {result['positions_per_second']:,} positions/s "
          f"(clean alone {result['clean_positions_per_second']:,}/s)")
    out = ROOT / "bench" / "results" / f"opensky-{result['date']}{'-' + args.label if args.label else ''}.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"written to {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
