"""Pacing shared by every process (aerolake.stores.mysql.pacing): an API's hourly allowance over a sliding
window, and one fetch per partition however many runs ask for it at once."""

from __future__ import annotations

import threading
import time

from stage_support import query

from aerolake.pipeline import stages
from aerolake.stores import lake
from aerolake.stores.mysql.pacing import HourlyPace, fetch_lock


def test_the_hourly_pace_is_shared_and_waits_for_the_window(migrated_mysql) -> None:
    # two processes' worth of pacers (each its own object and connections) share one window of 3 calls / 1.5 s
    first, second = (HourlyPace(migrated_mysql, "lufthansa", 3, window_s=1.5) for _ in range(2))
    started = time.monotonic()
    assert [first.wait_turn(), second.wait_turn(), first.wait_turn()] == [0.0, 0.0, 0.0]
    assert second.wait_turn() > 1.0  # the 4th call of the window waits for the 1st to leave it
    assert time.monotonic() - started >= 1.4
    assert query(migrated_mysql, "SELECT COUNT(*) FROM api_call_times WHERE source = 'lufthansa'")[0][0] <= 4
    # another source has its own window
    assert HourlyPace(migrated_mysql, "airlabs", 3, window_s=1.5).wait_turn() == 0.0


def test_the_fetch_lock_makes_a_second_holder_wait(migrated_mysql) -> None:
    order: list[str] = []
    with fetch_lock(migrated_mysql, "lufthansa", "flightstatus", "2026-03-01") as waited:
        assert waited is False

        def second() -> None:
            with fetch_lock(migrated_mysql, "lufthansa", "flightstatus", "2026-03-01") as waited_too:
                order.append(f"second waited={waited_too}")

        thread = threading.Thread(target=second)
        thread.start()
        time.sleep(0.3)
        order.append("first done")
    thread.join(timeout=10)
    assert order == ["first done", "second waited=True"]
    # another partition or endpoint is not held up
    with fetch_lock(migrated_mysql, "lufthansa", "flightstatus", "2026-03-02") as waited:
        assert waited is False


def test_two_concurrent_runs_of_a_partition_fetch_it_once(mock_api, make_ctx) -> None:
    """Two runs start the same day at once: whichever takes an endpoint's lock first fetches it, the other
    waits for it and then finds its pages; the API is called once per page, and both see the same records."""
    runs = [make_ctx(mock_api, run_id=f"run-{n}") for n in (1, 2)]
    results: dict[str, dict] = {}

    def extract(ctx) -> None:
        results[ctx.run.run_id] = stages.extract_to_s3(ctx)

    threads = [threading.Thread(target=extract, args=(ctx,)) for ctx in runs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    for endpoint in runs[0].source.SPEC.endpoints:
        # each endpoint is fetched by one of the runs (whichever took its lock first), never by both
        assert sorted(results[run_id][endpoint]["api_calls"] > 0 for run_id in results) == [False, True], endpoint
        manifest = lake.read_manifest(runs[0].s3, runs[0].bucket, runs[0].partition, endpoint)
        assert results["run-1"][endpoint]["fetched"] == results["run-2"][endpoint]["fetched"] == \
            manifest["records_total"]
