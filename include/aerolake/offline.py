"""The offline stack: the mock API server and a local S3 (moto server) as background processes.

``aerolake offline up`` starts whatever is not already answering, records pid files under
``.aerolake/run/`` and waits until both answer; ``down`` stops what it started. MongoDB needs no process
offline (in-process mongomock) and MariaDB/MySQL is expected on 127.0.0.1:3306.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.error import URLError
from urllib.parse import urlparse
from urllib.request import urlopen

from aerolake.core.settings import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Service:
    name: str
    health_url: str
    argv: list[str]


def services(settings: Settings) -> list[Service]:
    api, s3 = urlparse(settings.mock_api_url), urlparse(settings.s3_endpoint)
    return [
        Service("mockapi", f"{settings.mock_api_url}/_mock/health",
                [sys.executable, "-m", "aerolake.mockapi", "--host", api.hostname or "127.0.0.1",
                 "--port", str(api.port or 8090)]),
        Service("s3", f"{settings.s3_endpoint}/moto-api/",
                [sys.executable, "-m", "moto.server", "-H", s3.hostname or "127.0.0.1", "-p", str(s3.port or 5055)]),
    ]


def answering(url: str) -> bool:
    try:
        with urlopen(url, timeout=2) as response:  # noqa: S310 - a local health URL from our own settings
            return response.status < 500
    except (URLError, OSError):
        return False


def up(settings: Settings, state_dir: Path, timeout: float = 60.0) -> None:
    run_dir = state_dir / "run"
    run_dir.mkdir(parents=True, exist_ok=True)
    for svc in services(settings):
        if answering(svc.health_url):
            print(f"{svc.name}: already answering at {svc.health_url}")
            continue
        log_path = run_dir / f"{svc.name}.log"
        with open(log_path, "ab") as log_file:
            proc = subprocess.Popen(svc.argv, stdout=log_file, stderr=subprocess.STDOUT,  # noqa: S603
                                    stdin=subprocess.DEVNULL, start_new_session=True)
        (run_dir / f"{svc.name}.pid").write_text(str(proc.pid))
        deadline = time.monotonic() + timeout
        while not answering(svc.health_url):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{svc.name} did not start (see {log_path})")
            time.sleep(0.3)
        print(f"{svc.name}: started (pid {proc.pid}) at {svc.health_url}")


def down(settings: Settings, state_dir: Path) -> None:
    for svc in services(settings):
        pid_file = state_dir / "run" / f"{svc.name}.pid"
        if not pid_file.exists():
            continue
        pid = int(pid_file.read_text())
        try:
            os.killpg(pid, signal.SIGTERM)
            print(f"{svc.name}: stopped (pid {pid})")
        except ProcessLookupError:
            pass
        pid_file.unlink()


def status(settings: Settings) -> dict[str, bool]:
    return {svc.name: answering(svc.health_url) for svc in services(settings)}
