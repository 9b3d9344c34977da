"""aerolake as its users run it: ``make up``, then the web UI, the REST API, the scheduler's schedules,
``airflow backfill create``, clearing a task, a worker killed mid-load, the plugin's pages and a Kafka consumer.

One stack serves the module (``conftest.py``); the tests run in file order and each names the days it owns, so
that one's rows never move another's checksums. Lufthansa days are in the past (the mock API serves any day);
Airlabs snapshots are taken of now, every minute, only in the last test.
"""

from __future__ import annotations

import json
import os
import re
import signal
import time
from datetime import UTC, datetime, timedelta
from urllib.parse import unquote

import psutil
import pytest
from browser.conftest import browser, page, screenshot  # noqa: F401 - fixtures used by the UI tests

from aerolake.devstack import stack as devstack
from aerolake.schema import DATA_TABLES
from aerolake.stores.mysql.db import connection, table_checksums

from .conftest import FINISHED

pytestmark = pytest.mark.stack

LH, AL = "lufthansa_lakehouse", "airlabs_lakehouse"
TODAY = datetime.now(UTC).date()
REST_DAY = str(TODAY - timedelta(days=3))
BACKFILL_DAYS = [str(TODAY - timedelta(days=d)) for d in (12, 11, 10)]
KILL_DAY = str(TODAY - timedelta(days=20))
YESTERDAY = str(TODAY - timedelta(days=1))
TABLES = [t.name for t in DATA_TABLES]


def ledger(stack, dag_id: str, run_id: str) -> list[tuple]:
    return stack.query("SELECT endpoint, status, last_stage, fetched, loaded FROM pipeline_runs WHERE dag_id = %s "
                       "AND run_id = %s ORDER BY endpoint", (dag_id, run_id))


def assert_loaded(stack, run_id: str, day: str) -> None:
    """The run's pipeline_runs rows say success at publish_to_kafka (its last task), and its day's flights are in
    MySQL."""
    rows = ledger(stack, LH, run_id)
    assert rows and all(r[1:3] == ("success", "publish_to_kafka") for r in rows), rows
    assert dict((r[0], r[4]) for r in rows)["flightstatus"] > 0, rows
    (count,) = stack.query("SELECT COUNT(*) FROM flights WHERE departure_date = %s AND source = 'lufthansa'",
                           (day,))[0]
    assert count > 0, day


def log_in(stack, tab) -> None:
    """The UI's login form (FAB), as the admin ``make up`` printed."""
    tab.goto(f"{stack.url}/")
    tab.locator("input[name=username]").fill(stack.cfg.admin_user)
    tab.locator("input[name=password]").fill(stack.keys["admin_password"])
    tab.locator("[type=submit]").first.click()


@pytest.fixture(scope="module", autouse=True)
def dags_parsed(stack) -> None:
    stack.wait_for_dags([LH, AL, "aviationstack_lakehouse"])


def test_make_up_starts_every_service_on_celery_and_postgres(stack) -> None:
    health = devstack.health(stack.cfg)
    assert {k: health[k]["status"] for k in ("metadatabase", "scheduler", "triggerer", "dag_processor")} == \
        dict.fromkeys(("metadatabase", "scheduler", "triggerer", "dag_processor"), "healthy"), health
    assert all(devstack.status(stack.cfg).values()), devstack.status(stack.cfg)
    assert stack.airflow("config", "get-value", "core", "executor").strip() == "CeleryExecutor"
    assert stack.airflow("config", "get-value", "database", "sql_alchemy_conn").strip() == stack.cfg.postgres_url
    pools = {p["name"]: p["slots"] for p in stack.api("GET", "/pools")["pools"]}
    assert pools["airlabs_api"] == 1 and pools["aviationstack_api"] == 1, pools
    # every DAG starts paused: nothing runs until a person says so
    assert all(stack.api("GET", f"/dags/{d}")["is_paused"] for d in (LH, AL, "aviationstack_lakehouse"))


def test_a_person_logs_in_unpauses_and_triggers_with_refetch_in_the_ui(stack, page) -> None:  # noqa: F811
    log_in(stack, page)
    page.goto(f"{stack.url}/dags/{LH}")
    page.get_by_test_id("toggle-pause").click()  # unpause: the scheduler then runs yesterday's interval on its own (the next test waits for it)
    deadline = time.monotonic() + 30
    while stack.api("GET", f"/dags/{LH}")["is_paused"]:
        assert time.monotonic() < deadline, "the UI's toggle did not unpause the DAG"
        time.sleep(0.5)
    page.get_by_role("button", name="Trigger Dag").click()
    page.locator("label:has(input[name=element_refetch])").click()
    screenshot(page, "stack-trigger-dialog")
    page.get_by_role("button", name="Trigger", exact=True).click()
    page.wait_for_url(re.compile(rf"/dags/{LH}/runs/"), timeout=30_000)
    run_id = unquote(page.url.split("/runs/", 1)[1].split("/")[0].split("?")[0])
    run = stack.wait_for_run(LH, run_id)
    assert run["conf"]["refetch"] is True and run["run_type"] == "manual"
    day = run["logical_date"][:10]
    assert_loaded(stack, run_id, day)
    page.reload()
    page.get_by_text("success").first.wait_for(timeout=30_000)
    screenshot(page, "stack-run-success")


def test_a_rest_trigger_and_the_daily_schedule_both_land_in_mysql(stack) -> None:
    stack.unpause(LH)  # done in the UI by the test before; a no-op then
    run_id = stack.trigger(LH, f"{REST_DAY}T00:00:00Z")
    stack.wait_for_run(LH, run_id)
    assert_loaded(stack, run_id, REST_DAY)
    # unpaused in the UI test: the scheduler ran yesterday's interval by itself
    scheduled = [r for r in stack.runs(LH) if r["run_type"] == "scheduled"]
    assert [r["logical_date"][:10] for r in scheduled] == [YESTERDAY], scheduled
    stack.wait_for_run(LH, scheduled[0]["dag_run_id"])
    assert_loaded(stack, scheduled[0]["dag_run_id"], YESTERDAY)


def _backfill(stack, *options: str) -> list[dict]:
    """``airflow backfill create`` over BACKFILL_DAYS; waits until the scheduler completes the backfill, and
    returns the runs of those days, each finished after the command."""
    issued = datetime.now(UTC)
    stack.airflow("backfill", "create", "--dag-id", LH, "--from-date", BACKFILL_DAYS[0], "--to-date",
                  BACKFILL_DAYS[-1], *options)
    deadline = time.monotonic() + 600
    while True:
        newest = max(stack.api("GET", f"/backfills?dag_id={LH}")["backfills"], key=lambda b: b["id"])
        if newest["completed_at"] is not None:
            break
        assert time.monotonic() < deadline, newest
        time.sleep(2)
    runs = [r for r in stack.runs(LH) if r["logical_date"][:10] in BACKFILL_DAYS]
    for run in runs:
        stack.wait_for_run(LH, run["dag_run_id"])
    runs = [stack.run(LH, r["dag_run_id"]) for r in runs]
    assert all(datetime.fromisoformat(r["end_date"]) > issued for r in runs), runs
    return runs


def test_backfill_then_reprocess_completed_replays_the_lake_without_an_api_call(stack) -> None:
    runs = _backfill(stack)
    assert sorted(r["logical_date"][:10] for r in runs) == BACKFILL_DAYS
    assert {r["run_type"] for r in runs} == {"backfill"}
    for run in runs:
        assert_loaded(stack, run["dag_run_id"], run["logical_date"][:10])
    digest, calls = stack.flights_digest(BACKFILL_DAYS), stack.api_calls("lufthansa")
    checksums = table_checksums(stack.mysql, TABLES)

    # the same days again with `completed`: Airflow reruns each of those runs (without it, it would skip them)
    rerun = _backfill(stack, "--reprocess-behavior", "completed")
    assert sorted(r["dag_run_id"] for r in rerun) == sorted(r["dag_run_id"] for r in runs)
    assert stack.api_calls("lufthansa") == calls  # every partition came from the lake's manifests
    assert stack.flights_digest(BACKFILL_DAYS) == digest
    assert table_checksums(stack.mysql, TABLES) == checksums


def _clear(stack, run_id: str, task_id: str) -> None:
    """Clear ``task_id`` of a finished run and what follows it, as the UI's Clear does, and wait for the rerun."""
    before = stack.task(LH, run_id, task_id)["try_number"]
    stack.api("POST", f"/dags/{LH}/clearTaskInstances",
              {"dry_run": False, "dag_run_id": run_id, "task_ids": [task_id], "include_downstream": True,
               "only_failed": False, "reset_dag_runs": True})
    deadline = time.monotonic() + 60
    while stack.task(LH, run_id, task_id)["try_number"] == before:
        assert time.monotonic() < deadline, f"clearing did not start a new try of {task_id}"
        time.sleep(1)
    stack.wait_for_run(LH, run_id)


def test_clearing_a_task_of_a_finished_run_reruns_it_and_changes_no_row(stack) -> None:
    (run,) = [r for r in stack.runs(LH) if r["logical_date"][:10] == REST_DAY]
    digest, calls = stack.flights_digest([REST_DAY]), stack.api_calls("lufthansa")
    checksums = table_checksums(stack.mysql, TABLES)
    _clear(stack, run["dag_run_id"], "clean")
    assert stack.task(LH, run["dag_run_id"], "check_quality")["try_number"] > 1
    assert stack.task(LH, run["dag_run_id"], "publish_to_kafka")["try_number"] > 1
    assert published(stack, LH, run["dag_run_id"])["produced"] == 0  # nothing changed: nothing republished
    assert stack.task(LH, run["dag_run_id"], "extract_to_s3")["try_number"] == 1
    assert stack.flights_digest([REST_DAY]) == digest
    assert table_checksums(stack.mysql, TABLES) == checksums
    assert stack.api_calls("lufthansa") == calls
    assert_loaded(stack, run["dag_run_id"], REST_DAY)


REFERENCE_TABLES = ["countries", "cities", "airports"]  # published before airlines in the load's transaction


def _wait_for_lock_wait(stack, run_id: str, timeout: float = 300) -> None:
    """Until a transaction of the stack's MySQL database waits for a lock (the load, blocked on our row)."""
    deadline = time.monotonic() + timeout
    while not stack.query("SELECT t.trx_id FROM information_schema.innodb_trx t JOIN information_schema.processlist p "
                          "ON p.id = t.trx_mysql_thread_id WHERE t.trx_state = 'LOCK WAIT' AND p.db = %s",
                          (stack.mysql.database,)):
        state = stack.run(LH, run_id)["state"]
        assert state not in FINISHED, f"the run ended ({state}) before its load waited for the held lock"
        assert time.monotonic() < deadline, f"load_to_mysql did not reach the held lock in {timeout:.0f} s"
        time.sleep(0.2)


def test_a_worker_killed_during_load_to_mysql_rolls_back_and_the_retry_converges(stack) -> None:
    before = table_checksums(stack.mysql, REFERENCE_TABLES)
    stack.mock("POST", "config", {"flights_per_hub": 1500})  # a large day: about 5,500 flights
    try:
        # A lock held on a row the load upserts stops it mid-transaction, after it has written countries, cities
        # and airports: the worker is killed at a known point, not at whatever moment a poll happens to see.
        with connection(stack.mysql) as holder:
            with holder.cursor() as cur:
                cur.execute("SELECT airline_code FROM airlines WHERE airline_code = 'LH' FOR UPDATE")
                assert cur.fetchall(), "LH is loaded by the earlier days"
            run_id = stack.trigger(LH, f"{KILL_DAY}T00:00:00Z")
            _wait_for_lock_wait(stack, run_id)
            ti = stack.task(LH, run_id, "load_to_mysql")
            assert ti["state"] == "running" and ti["try_number"] == 1, ti
            worker = stack.worker(ti["pid"])
            proc = devstack.running(stack.cfg.run_dir, worker)
            tree = [proc, *proc.children(recursive=True)]
            for p in tree:  # kill -9 of the worker and of everything it runs
                os.kill(p.pid, signal.SIGKILL)
            psutil.wait_procs(tree, timeout=30)
            holder.rollback()
    finally:
        stack.mock("POST", "config", {"flights_per_hub": 200})

    # nothing of the interrupted transaction is left: no open transaction, no lock, no staging table, no row
    deadline = time.monotonic() + 60
    while stack.query("SELECT COUNT(*) FROM information_schema.innodb_trx") != [(0,)]:
        assert time.monotonic() < deadline, stack.query("SELECT * FROM information_schema.innodb_trx")
        time.sleep(0.5)
    assert not stack.query("SELECT * FROM information_schema.innodb_lock_waits")
    assert not stack.query("SELECT table_name FROM information_schema.tables WHERE table_schema = %s AND "
                           "table_name LIKE 'stg%%'", (stack.mysql.database,))
    assert stack.query("SELECT COUNT(*) FROM flights WHERE departure_date = %s", (KILL_DAY,)) == [(0,)]
    assert table_checksums(stack.mysql, REFERENCE_TABLES) == before  # what it had written was rolled back
    assert stack.task(LH, run_id, "load_to_mysql")["try_number"] == 1  # the retry waits for the missed heartbeats

    # the scheduler finds the task without a heartbeat, fails that try, and the other worker retries it
    stack.wait_for_run(LH, run_id, timeout=600)
    ti = stack.task(LH, run_id, "load_to_mysql")
    assert ti["try_number"] == 2 and ti["state"] == "success", ti
    assert_loaded(stack, run_id, KILL_DAY)
    converged = stack.flights_digest([KILL_DAY]), table_checksums(stack.mysql, TABLES)
    assert converged[0][0] > 4000, converged  # the large day, all of it

    # an uninterrupted load of the same partition ends in the same rows
    _clear(stack, run_id, "load_to_mysql")
    assert stack.task(LH, run_id, "load_to_mysql")["try_number"] == 3
    assert (stack.flights_digest([KILL_DAY]), table_checksums(stack.mysql, TABLES)) == converged

    # `make up` again brings back the killed worker, and only it
    assert [name for name, ok in devstack.status(stack.cfg).items() if not ok] == [worker]
    stack.up()
    assert all(devstack.status(stack.cfg).values())


def test_the_plugin_pages_show_the_stack_s_data_inside_the_ui(stack, page) -> None:  # noqa: F811
    log_in(stack, page)
    page.wait_for_load_state()
    page.get_by_role("button", name="Plugins").click()
    page.get_by_role("menuitem", name="aerolake").click()
    page.get_by_role("menuitem", name="Flight dashboard").click()
    frame = page.frame_locator("iframe")
    frame.locator("#chart-flights[data-rendered=true]").wait_for(timeout=60_000)
    rows = frame.locator("#dag-table tbody tr[data-dag=lufthansa_lakehouse]")
    assert "success" in rows.inner_text()
    # the chart's days (Plotly keeps its traces on the element) are the days the earlier tests loaded
    shown = set(frame.locator("#chart-flights").evaluate("el => el.data.flatMap((trace) => trace.x)"))
    assert {REST_DAY, KILL_DAY, *BACKFILL_DAYS} <= shown, shown
    days = {str(d) for (d,) in stack.query("SELECT DISTINCT departure_date FROM flights WHERE departure_date > %s",
                                           (str(TODAY - timedelta(days=30)),))}
    assert shown == days
    screenshot(page, "stack-dashboard")

    page.goto(f"{stack.url}/plugin/aerolake-map")
    frame = page.frame_locator("iframe")
    frame.locator("#map[data-ready=true]").wait_for(timeout=60_000)
    (airports,) = stack.query("SELECT COUNT(*) FROM airports WHERE latitude IS NOT NULL")[0]
    assert int(frame.locator("#airport-count").inner_text()) == airports > 0
    screenshot(page, "stack-map")


def published(stack, dag_id: str, run_id: str) -> dict:
    """The counts ``publish_to_kafka`` returned in a run (its XCom)."""
    xcom = stack.api("GET", f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances/publish_to_kafka/"
                            "xcomEntries/return_value?deserialize=true")
    value = xcom["value"]
    return value if isinstance(value, dict) else json.loads(value)


def _consume(stack, expected: int) -> list[tuple[str, int, int, dict]]:
    """(key, partition, offset, record decoded with the registry's schema) of each message on the topic."""
    from confluent_kafka import Consumer
    from confluent_kafka.schema_registry import SchemaRegistryClient
    from confluent_kafka.schema_registry.avro import AvroDeserializer
    from confluent_kafka.serialization import MessageField, SerializationContext

    cfg = stack.cfg
    deserializer = AvroDeserializer(SchemaRegistryClient({"url": cfg.url(cfg.registry_port)}))
    consumer = Consumer({"bootstrap.servers": f"{cfg.host}:{cfg.kafka_port}", "group.id": "stack-test",
                         "auto.offset.reset": "earliest", "enable.auto.commit": False, "log_level": 3})
    consumer.subscribe([cfg.kafka_topic])
    messages, deadline, settled = [], time.monotonic() + 90, None
    try:
        while time.monotonic() < deadline and (settled is None or time.monotonic() - settled < 3):
            msg = consumer.poll(0.2)
            if msg is not None:
                assert not msg.error(), msg.error()
                record = deserializer(msg.value(), SerializationContext(msg.topic(), MessageField.VALUE))
                messages.append((msg.key().decode(), msg.partition(), msg.offset(), record))
            if len(messages) >= expected and settled is None:
                settled = time.monotonic()
    finally:
        consumer.close()
    return messages


def test_airlabs_every_minute_three_runs_in_a_row_and_a_consumer_reads_what_they_published(stack) -> None:
    stack.unpause(AL)
    try:
        deadline = time.monotonic() + 540
        while True:
            runs = [r for r in stack.runs(AL) if r["run_type"] == "scheduled"]
            finished = [r for r in runs if r["state"] in ("success", "failed")]
            if len(finished) >= 3:
                break
            assert time.monotonic() < deadline, runs
            time.sleep(5)
    finally:
        stack.unpause(AL, paused=True)
    assert [r["state"] for r in finished[:3]] == ["success"] * 3, finished
    snapshots = {r["logical_date"] for r in finished}
    assert len(snapshots) == len(finished)  # one snapshot per minute, none twice
    for run in finished[:3]:
        rows = ledger(stack, AL, run["dag_run_id"])
        assert rows and all(r[1:3] == ("success", "publish_to_kafka") for r in rows), rows

    delivered = 0
    for run in finished:
        value = published(stack, AL, run["dag_run_id"])
        assert value["failed"] == 0, value
        delivered += value["delivered"]
    assert delivered > 0
    # the Lufthansa runs of the tests before published to the same topic: the last try of each run's
    # publish_to_kafka says what it delivered (a cleared run's rerun, nothing), so their sum is a lower bound
    delivered += sum(published(stack, LH, run["dag_run_id"])["delivered"] for run in stack.runs(LH)
                     if run["state"] == "success")
    messages = _consume(stack, delivered)
    assert len(messages) >= delivered
    # the ledger's last delivery of each flight is the last message of its key, where the broker put it
    ledger_rows = stack.query("SELECT message_key, kafka_partition, kafka_offset FROM kafka_publications "
                              "WHERE topic = %s AND last_status = 'delivered'", (stack.cfg.kafka_topic,))
    last = {key: (partition, offset) for key, partition, offset, _record in messages}
    assert last == {key: (partition, offset) for key, partition, offset in ledger_rows}
    assert all(record["flight_number"] and record["departure_date"] for *_, record in messages)
