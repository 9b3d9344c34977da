"""``aerolake demo --date D``: every source's pipeline for one day, offline, through ``airflow dags test``.

Run by ``make demo`` once the offline stack is up (mock API, local S3; MongoDB in-process; MariaDB):

* ``lufthansa_lakehouse`` for the day;
* ``aviationstack_lakehouse`` for the day, as its daily run just after midnight would;
* ``airlabs_lakehouse`` for a few snapshots of the day (:data:`SNAPSHOTS`);
* ``opensky_lakehouse`` for the same snapshots, then the day's flights as its midnight run covers them (the
  next day at 00:00, once OpenSky's nightly batch could serve them).

The real-time APIs serve only "now", so each run is made at its own moment: the mock API's ``now`` knob and
the pipeline's ``AEROLAKE_NOW`` are set to it (a simulated clock; see :func:`aerolake.core.settings.utcnow`). A
second demo for the same day replays every partition from the lake: no API call, MySQL unchanged.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from aerolake.core.settings import Settings

SNAPSHOTS = ("0800", "1200", "1600")
_STAGE_LINE = re.compile(r"\[aerolake\.(pipeline\.stages|streaming[a-z._]*)\]")
_INTERESTING = re.compile(r"pages,|no API call|<- |positions linked|published|curated|delivered")


@dataclass(frozen=True)
class DemoRun:
    dag_id: str
    logical: str  # what `airflow dags test` gets
    now: str  # the simulated clock of the run (ISO 8601 UTC)


def plan(day: date) -> list[DemoRun]:
    d = day.isoformat()
    runs = [DemoRun("lufthansa_lakehouse", d, f"{d}T23:00:00Z"),
            DemoRun("aviationstack_lakehouse", d, f"{(day + timedelta(days=1)).isoformat()}T00:30:00Z")]
    for dag_id in ("airlabs_lakehouse", "opensky_lakehouse"):
        runs += [DemoRun(dag_id, f"{d}T{s[:2]}:{s[2:]}:00+00:00", f"{d}T{s[:2]}:{s[2:]}:00Z") for s in SNAPSHOTS]
    after = (day + timedelta(days=1)).isoformat()
    runs.append(DemoRun("opensky_lakehouse", f"{after}T00:00:00+00:00", f"{after}T00:40:00Z"))
    return runs


def _set_mock_clock(settings: Settings, now: str) -> None:
    import requests

    response = requests.post(f"{settings.mock_api_url}/_mock/config", json={"now": now or None}, timeout=10)
    response.raise_for_status()


def run(day: date, settings: Settings, log_dir: Path) -> int:
    """Run the demo's DAG runs in order; print each run's stage lines; 1 on the first failure."""
    airflow = str(Path(sys.executable).with_name("airflow"))
    log_dir.mkdir(parents=True, exist_ok=True)
    for item in plan(day):
        _set_mock_clock(settings, item.now)
        log_path = log_dir / f"demo-{item.dag_id}-{item.logical.replace(':', '')}.log"
        print(f"== {item.dag_id} {item.logical} (clock {item.now}) ==", flush=True)
        env = {**os.environ, "AEROLAKE_NOW": item.now}
        with log_path.open("w") as log_file:
            done = subprocess.run([airflow, "dags", "test", item.dag_id, item.logical], stdout=log_file,  # noqa: S603
                                  stderr=subprocess.STDOUT, env=env, check=False)
        lines = log_path.read_text(errors="replace").splitlines()
        for line in lines:
            if _STAGE_LINE.search(line) and _INTERESTING.search(line):
                text = re.sub(r"^\S+ \[[a-z ]+\] ", "", line)
                print("  " + re.sub(r" +\[aerolake[^]]*\] loc=.*$", "", text))
        if done.returncode != 0:
            for line in [ln for ln in lines if re.search(r"ERROR|Error|Traceback|FAIL", ln)][-30:]:
                print("  " + line)
            print(f"demo failed: {item.dag_id} {item.logical}; see {log_path}")
            return 1
    _set_mock_clock(settings, "")
    return 0
