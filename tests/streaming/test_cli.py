"""``python -m aerolake.streaming`` as a process: --once exits 0 with the count; SIGTERM during --continuous
lets the batch in flight finish, flushes, and exits 0."""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time

import pytest

from aerolake.stores.mysql.db import connection
from aerolake.streaming.cli import build_parser

from .conftest import DT

pytestmark = pytest.mark.mysql


def cli_env(cfg) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW_CONN_", "AEROLAKE_"))}
    env["AIRFLOW_CONN_AEROLAKE_MYSQL"] = json.dumps({"conn_type": "mysql", "host": cfg.host, "port": cfg.port,
                                                     "login": cfg.user, "password": cfg.password,
                                                     "schema": cfg.database})
    return env


def delivered_rows(cfg) -> int:
    with connection(cfg, autocommit=True) as conn, conn.cursor() as cur:
        cur.execute("SELECT COUNT(*) FROM kafka_publications WHERE last_status = 'delivered'")
        return cur.fetchone()[0]


def test_once_exits_zero_with_the_count(flights_db) -> None:
    command = [sys.executable, "-m", "aerolake.streaming", "--once", "--date", DT, "--kafka-topic", "flights-cli"]
    done = subprocess.run(command, env=cli_env(flights_db), capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    assert f"batch 1 {DT}: published 5 flights to flights-cli (0 unchanged of 5)" in done.stdout
    assert "final flush done, 0 message(s) outstanding" in done.stdout
    assert "messages live only as long as this process" in done.stderr  # offline is said out loud
    assert delivered_rows(flights_db) == 5
    again = subprocess.run(command, env=cli_env(flights_db), capture_output=True, text=True, timeout=120)
    assert again.returncode == 0, again.stderr[-3000:]
    assert f"batch 1 {DT}: published 0 flights to flights-cli (5 unchanged of 5)" in again.stdout


def test_sigterm_during_continuous_finishes_the_batch_and_exits_cleanly(flights_db) -> None:
    command = [sys.executable, "-m", "aerolake.streaming", "--continuous", "--interval", "10", "--date", DT,
               "--kafka-config", "test.mock.broker.rtt=400"]  # a slow broker: the batch takes seconds
    proc = subprocess.Popen(command, env=cli_env(flights_db), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in proc.stderr], daemon=True).start()
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                if "batch 1: publishing changed flights" in lines.get(timeout=1):
                    break
            except queue.Empty:
                assert proc.poll() is None, "the CLI exited before its first batch"
        else:
            pytest.fail("the first batch never started")
        proc.send_signal(signal.SIGTERM)  # mid-batch: the producer has not even reached the slow broker yet
        stdout, _ = proc.communicate(timeout=90)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, stdout
    assert f"batch 1 {DT}: published 5 flights to flight-data (0 unchanged of 5)" in stdout
    assert "stopped after 1 batch(es) (SIGTERM); final flush done, 0 message(s) outstanding" in stdout
    assert delivered_rows(flights_db) == 5


def test_flags() -> None:
    parser = build_parser()
    args = parser.parse_args(["--continuous", "--interval", "2.5", "--kafka-brokers", "b:9092",
                              "--schema-registry-url", "https://sr", "--kafka-config", "linger.ms=5"])
    assert (args.continuous, args.interval, args.kafka_brokers, args.kafka_config) == (
        True, 2.5, "b:9092", [("linger.ms", "5")])
    for bad in (["--once", "--continuous"], [], ["--once", "--date", "03/01/2026"], ["--continuous", "--interval", "0"],
                ["--once", "--kafka-config", "sasl.password=x"]):
        with pytest.raises(SystemExit):
            parser.parse_args(bad)
