"""Background processes that a command starts and a later command stops: exactly those, no others.

Each process runs in a session of its own (so its children go with it), logs to ``<run_dir>/<name>.log`` and
is recorded in ``<run_dir>/<name>.pid`` with its start time, so ``stop`` never signals a process that merely
reuses a recorded pid.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.error import URLError
from urllib.request import urlopen

import psutil


@dataclass(frozen=True)
class Service:
    """A process to run: ``ready()`` says when it serves (an HTTP answer, a log line...)."""

    name: str
    argv: Sequence[str]
    ready: Callable[[], bool]
    env: Mapping[str, str] | None = field(default=None, repr=False)  # None: this process's environment
    stop_grace: float = 20.0  # seconds between SIGTERM and SIGKILL


def answering(url: str, timeout: float = 2.0) -> bool:
    """True when ``url`` answers below 500."""
    try:
        with urlopen(url, timeout=timeout) as response:  # noqa: S310 - local URLs from our own settings
            return response.status < 500
    except (URLError, OSError, ValueError):
        return False


def running(run_dir: Path, name: str) -> psutil.Process | None:
    """The process recorded as ``name`` if it is still that process (same pid and start time)."""
    pid_file = run_dir / f"{name}.pid"
    try:
        record = json.loads(pid_file.read_text())
        proc = psutil.Process(record["pid"])
        if abs(proc.create_time() - record["create_time"]) < 1 and proc.status() != psutil.STATUS_ZOMBIE:
            return proc
    except (OSError, ValueError, KeyError, psutil.Error):
        pass
    return None


def start(service: Service, run_dir: Path) -> tuple[psutil.Process, bool]:
    """Start ``service`` unless its recorded process still runs; returns (process, started now)."""
    run_dir.mkdir(parents=True, exist_ok=True)
    proc = running(run_dir, service.name)
    if proc is not None:
        return proc, False
    log_path = run_dir / f"{service.name}.log"
    with open(log_path, "ab") as log_file:
        popen = subprocess.Popen(list(service.argv), stdout=log_file, stderr=subprocess.STDOUT,  # noqa: S603
                                 stdin=subprocess.DEVNULL, start_new_session=True,
                                 env=dict(service.env) if service.env is not None else None)
    proc = psutil.Process(popen.pid)
    (run_dir / f"{service.name}.pid").write_text(json.dumps(
        {"pid": popen.pid, "create_time": proc.create_time(), "argv": list(service.argv)}))
    return proc, True


def wait_ready(service: Service, run_dir: Path, timeout: float) -> None:
    """Wait until ``service.ready()``; fail naming its log if it exits or takes longer than ``timeout``."""
    deadline = time.monotonic() + timeout
    while not service.ready():
        if running(run_dir, service.name) is None:
            raise RuntimeError(f"{service.name} exited during start-up; its log: {run_dir / service.name}.log\n"
                               + tail(run_dir / f"{service.name}.log"))
        if time.monotonic() > deadline:
            raise TimeoutError(f"{service.name} not ready after {timeout:.0f} s; its log: "
                               f"{run_dir / service.name}.log\n" + tail(run_dir / f"{service.name}.log"))
        time.sleep(0.5)


def stop(run_dir: Path, name: str, grace: float = 20.0) -> bool:
    """Stop the process recorded as ``name`` and its session (SIGTERM, SIGKILL after ``grace`` s); True if
    it was running."""
    proc = running(run_dir, name)
    (run_dir / f"{name}.pid").unlink(missing_ok=True)
    if proc is None:
        return False
    group = [proc, *proc.children(recursive=True)]
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        return True
    _gone, alive = psutil.wait_procs(group, timeout=grace)
    for straggler in alive:
        with contextlib.suppress(psutil.NoSuchProcess):
            straggler.kill()
    psutil.wait_procs(alive, timeout=10)
    return True


def tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""
