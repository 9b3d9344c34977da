"""The growth benchmark's harness on a tiny world: it fills history, measures every stage and request at each N,
and drops its database (bench/bench_growth.py; the figures themselves are the benchmark's, not a test's)."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from pathlib import Path

from aerolake.stores.mysql.db import connection

ROOT = Path(__file__).resolve().parents[2]


def _bench(*args: str) -> None:
    command = [sys.executable, str(ROOT / "bench" / "bench_growth.py"), "--quick", "--settle-timeout", "20", *args]
    done = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]


def test_growth_benchmark_fills_history_and_measures_each_point(tmp_path: Path, mysql_cfg, monkeypatch) -> None:
    database = f"aerolake_test_growth_{uuid.uuid4().hex[:8]}"
    out, resumed, again = tmp_path / "growth.json", tmp_path / "resumed.json", tmp_path / "again.json"
    _bench("--days", "0", "2", "--repeats", "1", "--database", database, "--json-out", str(out), "--keep")
    _bench("--resume", "--days", "3", "--repeats", "1", "--database", database, "--json-out", str(resumed), "--keep")
    _bench("--measure-only", "--repeats", "3", "--database", database, "--json-out", str(again))  # then drops it
    result = json.loads(out.read_text())

    assert set(result["points"]) == {"0", "2"}
    zero, two = result["points"]["0"], result["points"]["2"]
    stages = {*(f"lufthansa.{n}" for n in ("load_to_mysql", "check_quality", "write_curated", "publish_to_kafka")),
              *(f"opensky_{s}.{n}" for s in ("1150", "1200", "1210") for n in (
                  "extract_to_s3", "load_to_mongo", "clean", "load_to_mysql", "check_quality", "write_curated",
                  "publish_to_kafka", "total", "api_wait", "pipeline"))}
    # with history, also the streaming records of the day before D, a full day of positions
    assert set(zero["seconds"]) == stages
    assert set(two["seconds"]) == {*stages, "streaming.records_of_a_full_day"}
    assert set(two["api"]) == {"status", "flights", "flights_airport", "stats", "stats_one_day", "positions_latest"}
    assert set(two["api_bytes"]) == set(two["api"])
    # /stats' default window holds three days of flights at N = 2, one at N = 0: its answer has more points
    assert two["api_bytes"]["stats"] > two["api_bytes"]["stats_one_day"] > 0
    assert two["api_bytes"]["stats"] > zero["api_bytes"]["stats"]
    assert all(v > 0 for v in two["seconds"].values())
    # two days of history: a copy of the day's flights each, 6 snapshots of 200 positions each, a publication
    # per flight of the day
    flights_a_day = zero["counts"]["lufthansa.load_to_mysql"]["flightstatus"]["loaded"]
    rows = two["fill"]["rows"]
    assert rows["flight_positions"] == 2 * 6 * 200
    assert rows["flights"] >= 2 * flights_a_day * 0.9
    assert rows["kafka_publications"] >= rows["flights"]
    assert two["counts"]["streaming.records_of_a_full_day"] >= flights_a_day * 0.9
    assert two["sizes"]["flight_positions"]["rows_estimate"] > 0
    # the day's run published every flight of the day; the snapshots, the flights their positions changed
    lufthansa = two["counts"]["lufthansa.publish_to_kafka"]
    assert lufthansa["produced"] == lufthansa["delivered"] == lufthansa["flights"] > 0
    assert two["counts"]["lufthansa.write_curated"]["flights"] == lufthansa["flights"]
    assert 0 < two["counts"]["opensky_1200.publish_to_kafka"]["produced"] < lufthansa["flights"]
    assert two["counts"]["opensky_1210.load_to_mysql"]["states"]["loaded"] > 0
    assert set(result["ratios"]) == {"2"}
    # the first snapshot after the history was written (its pages cold) is reported apart from the judged ones
    ratio = result["ratios"]["2"]
    over = {k for k, v in {**ratio["seconds"], **{f"api.{a}": r for a, r in ratio["api"].items()}}.items() if v > 1.25}
    assert set(ratio["over_limit"]) | set(ratio["cold_over_limit"]) == over
    assert all(k.startswith("opensky_1150.") for k in ratio["cold_over_limit"])
    assert not any(k.startswith("opensky_1150.") for k in ratio["over_limit"])
    # each stage's best run over N = 0's best (one run each here: its seconds)
    assert ratio["best"]["lufthansa.load_to_mysql"] == round(
        two["seconds"]["lufthansa.load_to_mysql"] / zero["seconds"]["lufthansa.load_to_mysql"], 2)
    assert set(ratio["best_over_limit"]) == {k for k, v in ratio["best"].items()
                                            if v > 1.25 and not k.startswith("opensky_1150.")}
    snapshot = two["seconds"]
    assert 0 < snapshot["opensky_1200.api_wait"] < snapshot["opensky_1200.extract_to_s3"]
    assert snapshot["opensky_1200.pipeline"] == round(snapshot["opensky_1200.total"] - snapshot["opensky_1200.api_wait"],
                                                      3)
    # a kept database goes on: one more day filled (the oldest), then measured again without a fill
    assert json.loads(resumed.read_text())["points"]["3"]["fill"]["days"] == 1
    remeasured = json.loads(again.read_text())["points"]
    assert set(remeasured) == {"3"}
    # measured three times: each stage's seconds are the median of the three runs'
    runs = remeasured["3"]["repeats"]
    assert len(runs) == 3 and all(set(run) == stages for run in runs)
    for name in stages:
        assert remeasured["3"]["seconds"][name] == sorted(run[name] for run in runs)[1], name
    monkeypatch.syspath_prepend(str(ROOT / "bench"))
    from bench_growth import best_seconds

    assert best_seconds(remeasured["3"]) == {**remeasured["3"]["seconds"],
                                             **{name: min(run[name] for run in runs) for name in stages}}
    assert remeasured["3"]["counts"]["lufthansa.load_to_mysql"] == zero["counts"]["lufthansa.load_to_mysql"]
    assert remeasured["3"]["sizes"]["flights"]["rows_estimate"] > 0
    # each run waited for InnoDB to purge the day deleted; each stage's pages read and written are counted
    assert len(remeasured["3"]["settled"]) == 3
    assert [sorted(run) for run in remeasured["3"]["settled"]] == [["history", "seconds"]] * 3
    innodb = remeasured["3"]["innodb"]
    assert set(innodb) == {s for s in stages if not s.endswith((".total", ".api_wait", ".pipeline"))}
    assert innodb["lufthansa.load_to_mysql"]["pool_requests"] > 0
    assert all(min(counters.values()) >= 0 for counters in innodb.values())

    with connection(mysql_cfg, database=False, autocommit=True) as conn, conn.cursor() as cur:
        cur.execute("SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = %s", (database,))
        assert cur.fetchone()[0] == 0  # dropped
