"""The offline stack of the end-to-end tests: an Airflow home, the mock API, a real S3 endpoint (moto server)
and a MariaDB database of its own, per test module."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid

import pytest
from e2e_support import BIN, ROOT, drop_database, free_port, wait_for_port

from aerolake.core.connections import MySqlConfig
from aerolake.stores.mysql.migrate import migrate


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    from aerolake.mockapi import MockApi, MockConfig

    home = tmp_path_factory.mktemp("airflow-home")
    s3_port = free_port()
    moto = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(s3_port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for_port(s3_port, moto)
    cfg = MySqlConfig(database=f"aerolake_e2e_{uuid.uuid4().hex[:10]}")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "AEROLAKE_"))}
    with MockApi(MockConfig(flights_per_hub=25, qps_limit=None)) as api:
        env.update({
            "AIRFLOW_HOME": str(home), "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
            "AIRFLOW__CORE__PLUGINS_FOLDER": str(ROOT / "plugins"), "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AEROLAKE_MOCK_API_URL": api.base_url, "AEROLAKE_S3_ENDPOINT": f"http://127.0.0.1:{s3_port}",
            "AEROLAKE_MYSQL_DATABASE": cfg.database, "AEROLAKE_BUCKET": "aerolake-e2e",
            "AEROLAKE_LUFTHANSA_CALLS_PER_SECOND": "0", "AEROLAKE_AIRLABS_CALLS_PER_SECOND": "0",
            "AEROLAKE_AVIATIONSTACK_CALLS_PER_SECOND": "0", "AEROLAKE_OPENSKY_CALLS_PER_SECOND": "0",
        })
        out = subprocess.run([str(BIN / "airflow"), "db", "migrate"], env=env, capture_output=True, text=True,
                             timeout=300, check=False)
        assert out.returncode == 0, out.stderr[-3000:]
        migrate(cfg)  # what the first run would do: each test may be the module's first (`-k`, xdist)
        try:
            yield {"env": env, "api": api, "mysql": cfg, "home": home}
        finally:
            moto.terminate()
            moto.wait(timeout=30)
            drop_database(cfg.database)


