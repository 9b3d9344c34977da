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
import shutil
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


def one_round(day: str) -> dict[str, float]:
    state = Path(tempfile.mkdtemp(prefix="aerolake-bench-stack-"))
    cfg = devstack.isolated_config(state, f"bench_{uuid.uuid4().hex[:8]}")
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
        devstack.drop_data(cfg)
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
