"""The local production-like stack (``make up``): how long until the UI answers, and one Lufthansa day through
the Celery workers from trigger to success.

    .venv/bin/python bench/bench_stack.py [--runs 3] [--json-out bench/results/stack-<date>.json]

Each round starts a stack of its own from nothing (a new state directory, PostgreSQL metadata database, MySQL
database and Redis database index, on free ports), so the first figure includes ``airflow db migrate`` and the
MySQL migrations, as a first ``make up`` does. Targets (issue 11): up to an answering UI under 90 s; one day
from trigger to success under 60 s. The stack is stopped and its databases dropped after each round.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.request import Request, urlopen

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "include"))

from aerolake.devstack import stack as devstack  # noqa: E402

UP_TARGET_S, DAY_TARGET_S = 90.0, 60.0


def free_ports(count: int) -> list[int]:
    socks = [socket.socket() for _ in range(count)]
    for sock in socks:
        sock.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in socks]
    for sock in socks:
        sock.close()
    return ports


def call(method: str, url: str, body: object = None, token: str | None = None) -> object:
    headers = {"Content-Type": "application/json"} | ({"Authorization": f"Bearer {token}"} if token else {})
    data = None if body is None else json.dumps(body).encode()
    with urlopen(Request(url, data=data, method=method, headers=headers), timeout=30) as response:
        raw = response.read()
    return json.loads(raw) if raw else None


def ui_answers(url: str) -> bool:
    try:
        with urlopen(f"{url}/", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def drop(cfg: devstack.StackConfig) -> None:
    import psycopg2
    import redis

    from aerolake.connections import MySqlConfig
    from aerolake.mysql import connection, quote_identifier

    mysql = MySqlConfig(cfg.mysql_host, cfg.mysql_port, "root", "", cfg.mysql_database)
    with connection(mysql, database=False, autocommit=True) as conn, conn.cursor() as cur:
        cur.execute(f"DROP DATABASE IF EXISTS {quote_identifier(cfg.mysql_database)}")
    name = cfg.postgres_url.rsplit("/", 1)[1]
    pg = psycopg2.connect(host="127.0.0.1", port=5432, user="postgres", dbname="postgres")
    pg.autocommit = True
    with pg.cursor() as cur:
        cur.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,))
        cur.execute(f'DROP DATABASE IF EXISTS "{name}"')
    pg.close()
    redis.Redis.from_url(cfg.redis_url).flushdb()


def one_round(day: str) -> dict[str, float]:
    suffix = uuid.uuid4().hex[:8]
    state = Path(tempfile.mkdtemp(prefix="aerolake-bench-stack-"))
    ports = free_ports(7)
    cfg = devstack.StackConfig(
        state_dir=state, airflow_port=ports[0], scheduler_health_port=ports[1], mockapi_port=ports[2],
        s3_port=ports[3], mongo_port=ports[4], registry_port=ports[5], kafka_port=ports[6],
        postgres_url=f"postgresql+psycopg2://postgres@127.0.0.1:5432/aerolake_bench_{suffix}",
        redis_url=f"redis://127.0.0.1:6379/{random.randint(8, 15)}",
        mysql_database=f"aerolake_bench_{suffix}", bucket="aerolake")
    cfg.save()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "AEROLAKE_"))}
    aerolake = str(Path(sys.executable).parent / "aerolake")
    t0 = time.monotonic()
    up = subprocess.Popen([aerolake, "stack", "up", "--state-dir", str(state)], env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        while not ui_answers(cfg.airflow_url):
            if up.poll() not in (None, 0):
                raise RuntimeError(f"stack up failed:\n{up.stdout.read()[-3000:]}")
            time.sleep(0.25)
        ui_s = time.monotonic() - t0
        out, _ = up.communicate(timeout=600)
        if up.returncode != 0:
            raise RuntimeError(f"stack up failed:\n{out[-3000:]}")
        healthy_s = time.monotonic() - t0
        keys = devstack.load_secrets(cfg)
        token = call("POST", f"{cfg.airflow_url}/auth/token",
                     {"username": cfg.admin_user, "password": keys["admin_password"]})["access_token"]
        api = f"{cfg.airflow_url}/api/v2/dags/lufthansa_lakehouse"
        while True:  # the dag-processor's first parse
            try:
                call("GET", api, token=token)
                break
            except OSError:
                time.sleep(1)
        call("PATCH", api, {"is_paused": False}, token)
        t1 = time.monotonic()
        run_id = call("POST", f"{api}/dagRuns", {"logical_date": f"{day}T00:00:00Z", "conf": {}}, token)["dag_run_id"]
        while (state_now := call("GET", f"{api}/dagRuns/{run_id}", token=token)["state"]) not in ("success", "failed"):
            time.sleep(0.5)
        day_s = time.monotonic() - t1
        if state_now != "success":
            raise RuntimeError(f"the run {run_id} failed; logs under {state}")
        return {"up_to_ui_s": round(ui_s, 1), "up_to_healthy_s": round(healthy_s, 1),
                "day_trigger_to_success_s": round(day_s, 1)}
    finally:
        devstack.down(cfg)
        drop(cfg)
        shutil.rmtree(state, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--json-out", type=Path)
    args = parser.parse_args()
    day = str(datetime.now(UTC).date() - timedelta(days=2))
    rounds = []
    for n in range(args.runs):
        result = one_round(day)
        print(f"round {n + 1}: UI answers after {result['up_to_ui_s']} s, healthy after "
              f"{result['up_to_healthy_s']} s; one day trigger -> success {result['day_trigger_to_success_s']} s")
        rounds.append(result)
    worst_ui = max(r["up_to_ui_s"] for r in rounds)
    worst_day = max(r["day_trigger_to_success_s"] for r in rounds)
    verdict = {"up_to_ui": "PASS" if worst_ui < UP_TARGET_S else "MISS",
               "day_trigger_to_success": "PASS" if worst_day < DAY_TARGET_S else "MISS"}
    print(f"worst of {len(rounds)}: up to UI {worst_ui} s (target < {UP_TARGET_S:.0f} s: {verdict['up_to_ui']}); "
          f"day {worst_day} s (target < {DAY_TARGET_S:.0f} s: {verdict['day_trigger_to_success']})")
    if args.json_out:
        args.json_out.write_text(json.dumps({
            "when": datetime.now(UTC).isoformat(timespec="seconds"), "machine": platform.platform(),
            "cpus": os.cpu_count(), "day": day, "rounds": rounds, "verdict": verdict,
            "settings": "defaults of make up (Lufthansa client at 5 calls/s, mock API's 5 calls/s limit)"},
            indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
