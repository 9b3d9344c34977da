"""The package as ``pip install .`` builds it carries its SQL: ``aerolake migrate`` from the installed wheel,
run away from the source tree, creates the schema."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import uuid
import zipfile
from pathlib import Path

import pytest

from aerolake.core.connections import MySqlConfig
from aerolake.stores.mysql.db import connection

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.mysql


def test_the_wheel_ships_the_sql_and_its_aerolake_migrate_works(tmp_path: Path) -> None:
    source = tmp_path / "src"  # a copy, so that the build writes nothing into the checkout
    shutil.copytree(ROOT / "include", source / "include", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    shutil.copy(ROOT / "pyproject.toml", source)
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path / "dist"),
                            str(source)], capture_output=True, text=True, check=False, timeout=300)
    assert built.returncode == 0, built.stderr[-3000:]
    (wheel,) = (tmp_path / "dist").glob("aerolake-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    sql = sorted(n for n in names if n.startswith("aerolake/sql/") and n.endswith(".sql"))
    assert "aerolake/sql/migrations/0001_create_reference_tables.sql" in sql, sql
    on_disk = sorted(str(p.relative_to(ROOT / "include")) for p in (ROOT / "include" / "aerolake" / "sql").rglob("*.sql"))
    assert sql == on_disk

    target = tmp_path / "site"
    installed = subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target),
                                str(wheel)], capture_output=True, text=True, check=False)
    assert installed.returncode == 0, installed.stderr[-3000:]
    cfg = MySqlConfig(database=f"aerolake_wheel_{uuid.uuid4().hex[:10]}")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AEROLAKE_", "AIRFLOW_CONN_"))}
    env.update({"PYTHONPATH": str(target), "AEROLAKE_MYSQL_DATABASE": cfg.database})
    try:
        out = subprocess.run([sys.executable, "-c", "import aerolake, sys; print(aerolake.__file__); "
                              "from aerolake.cli import main; sys.exit(main(['migrate']))"],
                             cwd=tmp_path, env=env, capture_output=True, text=True, check=False, timeout=120)
        assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-3000:]
        assert out.stdout.splitlines()[0].startswith(str(target))  # the wheel's package, not the source tree's
        with connection(cfg, autocommit=True) as conn, conn.cursor() as cur:
            cur.execute("SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = %s AND "
                        "table_name IN ('flights', 'airports', 'pipeline_runs')", (cfg.database,))
            assert cur.fetchone() == (3,)
    finally:
        with connection(cfg, database=False, autocommit=True) as conn, conn.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS `{cfg.database}`")
