"""Helpers of the end-to-end tests (the ``stack`` fixture is in conftest.py)."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from aerolake.core.connections import MySqlConfig
from aerolake.schema import DATA_TABLES
from aerolake.sql import quote_identifier
from aerolake.stores.mysql.db import connection

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
TABLES = [t.name for t in DATA_TABLES]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, proc: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args} exited with {proc.returncode}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise TimeoutError(f"nothing listening on {port}")


def mongo_server(port: int, data_dir: Path | None = None, log_file: Path | None = None) -> subprocess.Popen:
    """The local stack's MongoDB stand-in (``python -m aerolake.devstack.mongo_server``) on ``port``, persistent
    in ``data_dir`` when given, its log appended to ``log_file``; it listens once its data is loaded (see
    :func:`wait_for_port`); stop it with :func:`stop_process`."""
    command = [sys.executable, "-m", "aerolake.devstack.mongo_server", "--host", "127.0.0.1", "--port", str(port)]
    if data_dir is not None:
        command += ["--data-dir", str(data_dir)]
    if log_file is None:
        return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    with open(log_file, "ab") as log:
        return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=log)


def nx_27017(port: int, data_dir: Path) -> subprocess.Popen:
    """The ``nx-27017`` wire-protocol server (SQLite-backed, from PyPI) on ``port``, persistent in ``data_dir``:
    evaluated as the shared MongoDB and kept by the tests that pin its gaps; wait with :func:`wait_for_port`."""
    command = [str(BIN / "nx-27017"), "--data-dir", str(data_dir), "-p", str(port), "--log-file",
               str(data_dir / "nx.log"), "--pid-file", str(data_dir / "nx.pid")]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def mongo_client(port: int, server: subprocess.Popen) -> Iterator[Any]:
    """A pymongo client of the server on ``port`` once it listens; the server is stopped afterwards."""
    import pymongo

    client = None
    try:
        wait_for_port(port, server)
        client = pymongo.MongoClient("127.0.0.1", port, serverSelectionTimeoutMS=10_000)
        yield client
    finally:
        if client is not None:
            client.close()
        stop_process(server)


def stop_process(proc: subprocess.Popen, grace: float = 10) -> None:
    """SIGTERM, then SIGKILL if it has not exited after ``grace`` seconds (nx-27017 sometimes ignores SIGTERM)."""
    proc.terminate()
    try:
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=30)


def airflow(stack, *args: str, env: dict | None = None, ok: bool = True) -> str:
    out = subprocess.run([str(BIN / "airflow"), *args], env=env or stack["env"], capture_output=True, text=True,
                         timeout=600, check=False)
    text = out.stdout + out.stderr
    assert (out.returncode == 0) == ok, text[-5000:]
    return text




def query(cfg, sql, params=()):
    with connection(cfg, autocommit=True) as conn, conn.cursor() as cur:
        cur.execute(sql, params)
        return cur.fetchall()


def drop_database(name: str) -> None:
    with connection(MySqlConfig(), database=False, autocommit=True) as conn, conn.cursor() as cur:
        cur.execute(f"DROP DATABASE IF EXISTS {quote_identifier(name)}")
