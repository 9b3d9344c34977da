"""The production-like stack of ``make up`` (``aerolake stack up``), started once for the stack tests.

It gets a state directory, ports, a PostgreSQL metadata database, a Redis database index, a MySQL database of
its own (never the ``aerolake`` one ``make demo`` fills), and everything is removed afterwards. The tests
drive it as its users do: the web UI, the REST API v2, the ``airflow`` CLI, the scheduler's own schedules.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.error import HTTPError
from urllib.request import Request, urlopen

import pytest

from aerolake.core.connections import MySqlConfig
from aerolake.devstack import stack as devstack
from aerolake.schema import TABLES
from aerolake.sql import quote_identifier
from aerolake.stores.mysql.db import connection

BIN = Path(sys.executable).parent
#: the settings the stack's processes inherit: retries a test can wait for, no client-side rate limits (the mock
#: API's QPS limit is switched off too), an Airlabs snapshot every minute instead of every ten
STACK_ENV = {
    "AEROLAKE_RETRY_DELAY_SECONDS": "5",
    "AEROLAKE_LUFTHANSA_CALLS_PER_SECOND": "0",
    "AEROLAKE_AIRLABS_CALLS_PER_SECOND": "0",
    "AEROLAKE_AIRLABS_SCHEDULE": "* * * * *",
}
FINISHED = {"success", "failed"}


def _call(method: str, url: str, body: Any = None, token: str | None = None, timeout: float = 30) -> Any:
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = None if body is None else json.dumps(body).encode()
    request = Request(url, data=data, method=method, headers=headers)
    try:
        with urlopen(request, timeout=timeout) as response:
            raw = response.read()
    except HTTPError as exc:
        raise AssertionError(f"{method} {url} -> {exc.code}: {exc.read()[:2000]!r}") from exc
    return json.loads(raw) if raw else None


@dataclass
class Stack:
    cfg: devstack.StackConfig
    keys: dict[str, str]
    env: dict[str, str]  # what `aerolake stack up` ran with
    mysql: MySqlConfig
    _token: str | None = field(default=None, repr=False)

    def up(self) -> str:
        """``make up STACK_DIR=...`` as a person runs it (starts what is not running); returns its output."""
        return _make("up", self.cfg.state_dir, self.env)

    # ---- Airflow's REST API v2 and CLI -----------------------------------------------------------------
    @property
    def url(self) -> str:
        return self.cfg.airflow_url

    def token(self) -> str:
        if self._token is None:
            answer = _call("POST", f"{self.url}/auth/token",
                           {"username": self.cfg.admin_user, "password": self.keys["admin_password"]})
            self._token = answer["access_token"]
        return self._token

    def api(self, method: str, path: str, body: Any = None) -> Any:
        return _call(method, f"{self.url}/api/v2{path}", body, self.token())

    def airflow(self, *args: str, timeout: float = 300) -> str:
        """``airflow ARGS`` in the stack's environment (as a user with the stack's AIRFLOW_HOME would run it)."""
        env = devstack.airflow_env(self.cfg, self.keys)
        env.update(STACK_ENV)
        out = subprocess.run([str(BIN / "airflow"), *args], env=env, capture_output=True, text=True,
                             timeout=timeout, check=False)
        assert out.returncode == 0, f"airflow {' '.join(args)} -> {out.returncode}\n{out.stdout[-3000:]}" \
                                    f"\n{out.stderr[-3000:]}"
        return out.stdout

    def trigger(self, dag_id: str, logical_date: str, conf: dict | None = None) -> str:
        answer = self.api("POST", f"/dags/{dag_id}/dagRuns", {"logical_date": logical_date, "conf": conf or {}})
        return answer["dag_run_id"]

    def unpause(self, dag_id: str, paused: bool = False) -> None:
        self.api("PATCH", f"/dags/{dag_id}", {"is_paused": paused})

    def run(self, dag_id: str, run_id: str) -> dict[str, Any]:
        return self.api("GET", f"/dags/{dag_id}/dagRuns/{run_id}")

    def runs(self, dag_id: str) -> list[dict[str, Any]]:
        return self.api("GET", f"/dags/{dag_id}/dagRuns?limit=100&order_by=logical_date")["dag_runs"]

    def task(self, dag_id: str, run_id: str, task_id: str) -> dict[str, Any]:
        return self.api("GET", f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}")

    def wait_for_run(self, dag_id: str, run_id: str, timeout: float = 420) -> dict[str, Any]:
        """The run once finished; fails naming its task states if it does not succeed in ``timeout`` s."""
        deadline = time.monotonic() + timeout
        while True:
            run = self.run(dag_id, run_id)
            if run["state"] in FINISHED or time.monotonic() > deadline:
                break
            if run["state"] == "queued" and self.api("GET", f"/dags/{dag_id}")["is_paused"]:
                raise AssertionError(f"{dag_id} is paused: run {run_id} stays queued")
            time.sleep(2)
        if run["state"] != "success":
            tis = self.api("GET", f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances")["task_instances"]
            states = {ti["task_id"]: (ti["state"], ti["try_number"]) for ti in tis}
            raise AssertionError(f"{dag_id} {run_id}: {run['state']} after {timeout:.0f} s; tasks {states}; "
                                 f"logs under {self.cfg.state_dir / 'airflow' / 'logs'}")
        return run

    def wait_for_dags(self, dag_ids: Sequence[str], timeout: float = 180) -> None:
        deadline = time.monotonic() + timeout
        for dag_id in dag_ids:
            while True:
                try:
                    self.api("GET", f"/dags/{dag_id}")
                    break
                except AssertionError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(2)

    # ---- the mock API and MySQL ------------------------------------------------------------------------
    def mock(self, method: str, path: str, body: Any = None) -> Any:
        return _call(method, f"{self.cfg.url(self.cfg.mockapi_port)}/_mock/{path}", body)

    def api_calls(self, source: str) -> int:
        """Requests the mock API has answered for ``source`` (lufthansa, airlabs, aviationstack)."""
        return sum(n for group, n in self.mock("GET", "stats")["requests"].items() if group.startswith(source))

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple]:
        with connection(self.mysql, autocommit=True) as conn, conn.cursor() as cur:
            cur.execute(sql, params)
            return list(cur.fetchall())

    def flights_digest(self, days: Sequence[str]) -> tuple[int, str]:
        """(rows, digest) of the flights departing on ``days`` and their codeshares, surrogate ids left out."""
        rows, digest = 0, hashlib.sha256()
        for name in ("flights", "flight_codeshares"):
            table = TABLES[name]
            columns = ", ".join(quote_identifier(c) for c in table.load_columns)
            order = ", ".join(quote_identifier(c) for c in table.key)
            marks = ", ".join(["%s"] * len(days))
            for row in self.query(f"SELECT {columns} FROM {quote_identifier(name)} "
                                  f"WHERE departure_date IN ({marks}) ORDER BY {order}", days):
                rows += name == "flights"
                digest.update(repr(row).encode())
        return rows, digest.hexdigest()

    def worker(self, pid: int) -> str:
        """The name of the stack's Celery worker whose process tree holds ``pid``."""
        for service in devstack.airflow_services(self.cfg, {}):
            proc = devstack.running(self.cfg.run_dir, service.name)
            if proc is not None and pid in {proc.pid, *(c.pid for c in proc.children(recursive=True))}:
                return service.name
        raise AssertionError(f"no process of the stack runs pid {pid}")


def _make(target: str, state: Path, env: dict[str, str]) -> str:
    out = subprocess.run(["make", "--no-print-directory", target, f"STACK_DIR={state}"], cwd=devstack.ROOT,
                         env=env, capture_output=True, text=True, timeout=900, check=False)
    assert out.returncode == 0, f"make {target} -> {out.returncode}\n{out.stdout[-4000:]}\n{out.stderr[-4000:]}"
    return out.stdout


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    suffix = uuid.uuid4().hex[:8]
    state = tmp_path_factory.mktemp("stack")
    # a killed worker's task is failed (and retried) 20 s after its last heartbeat
    cfg = devstack.isolated_config(state, f"stack_{suffix}", bucket=f"aerolake-stack-{suffix}",
                                   task_heartbeat_timeout=20)
    cfg.save()  # as a user would write stack.json before the first `make up STACK_DIR=...`
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "AEROLAKE_"))} | STACK_ENV
    started = time.monotonic()
    try:
        handle = Stack(cfg, {}, env, cfg.mysql)
        handle.up()
        print(f"make up: {time.monotonic() - started:.0f} s")
        handle.keys = devstack.load_secrets(cfg)
        handle.mock("POST", "config", {"qps_limit": None})
        yield handle
    finally:
        _make("down", state, env)
        devstack.drop_data(cfg)
