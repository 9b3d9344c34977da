"""A ``kill -9`` at any moment of a load or of the clean zone's reads and writes leaves no file in the temp
directory: the scratch files have no name (``O_TMPFILE``, opened as ``/proc/self/fd/N``), and where that is
unavailable the per-process directory a killed process leaves is removed by the next process's sweep.

Each child (``scratch_child.py``) gets a temp directory of its own (``TMPDIR``), stops at a chosen moment and
says so; the test checks that a scratch file is open in that directory right then, kills the child and
asserts on the directory's contents."""

from __future__ import annotations

import dataclasses
import json
import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from aerolake.core import scratch
from aerolake.core.scratch import (
    SCRATCH_DIR_PREFIX,
    ScratchFile,
    process_scratch_dir,
    sweep_dead_scratch_dirs,
)

CHILD = Path(__file__).with_name("scratch_child.py")
INCLUDE = Path(__file__).resolve().parents[2] / "include"
LOAD_MODES = ("load-writing", "load-written", "load-reading")
CLEAN_MODES = ("clean-writing", "clean-reading")


def start_child(tmpdir: Path, mode: str, *args: str) -> tuple[subprocess.Popen, str]:
    """Start the child in ``tmpdir`` and wait (at most 120 s) for its ``READY`` line."""
    env = {**os.environ, "TMPDIR": str(tmpdir), "PYTHONPATH": str(INCLUDE)}
    proc = subprocess.Popen([sys.executable, str(CHILD), mode, *args], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if select.select([proc.stdout], [], [], 0.5)[0]:
            line = proc.stdout.readline()
            if line.startswith("READY"):
                return proc, line.strip()
            if not line:
                break
    proc.kill()
    _, err = proc.communicate(timeout=30)
    raise AssertionError(f"{mode}: the child never got ready (exit {proc.returncode}): {err[-3000:]}")


def open_files_under(pid: int, directory: Path) -> list[str]:
    """What ``pid``'s descriptors point at under ``directory`` (an O_TMPFILE file reads ``dir/#123 (deleted)``)."""
    out = []
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if target.startswith(f"{directory}/"):
            out.append(target)
    return out


def kill9(proc: subprocess.Popen) -> None:
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(30)
    proc.stdout.close()
    proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL


@pytest.fixture
def mysql_json(migrated_mysql) -> str:
    return json.dumps(dataclasses.asdict(migrated_mysql))


@pytest.mark.parametrize("mode", LOAD_MODES + CLEAN_MODES)
def test_kill_9_at_any_moment_leaves_no_file(tmp_path: Path, mysql_json: str, mode: str) -> None:
    tmpdir = tmp_path / "tmp"
    tmpdir.mkdir()
    proc, line = start_child(tmpdir, mode, *([mysql_json] if mode in LOAD_MODES else []))
    in_use = open_files_under(proc.pid, tmpdir)
    assert in_use and all(t.endswith("(deleted)") and "/#" in t for t in in_use), in_use  # open, never named
    assert os.listdir(tmpdir) == []
    if mode == "load-reading":  # PyMySQL opened the name the server echoed back: the descriptor's path
        filename, head = line.split()[1:]
        assert filename.startswith("/proc/self/fd/") and int(head) == 64
    kill9(proc)
    assert os.listdir(tmpdir) == []


def test_load_data_reads_the_unnamed_file(migrated_mysql, tmp_path: Path, monkeypatch) -> None:
    """In this process: LOAD DATA LOCAL INFILE through /proc/self/fd/N loads every row, and the temp
    directory stays empty throughout."""
    import tempfile

    from scratch_child import positions

    from aerolake.schema import FLIGHT_POSITIONS
    from aerolake.stores.mysql.db import connection
    from aerolake.stores.mysql.load import stage_frames

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    with connection(migrated_mysql) as conn:
        staging, rows = stage_frames(conn, FLIGHT_POSITIONS, [positions(5000), positions(5000, start=5000)],
                                     use_load_data=True)
        with conn.cursor() as cur:
            cur.execute(f"SELECT COUNT(*), COUNT(DISTINCT icao24), MIN(icao24), MAX(icao24) FROM {staging}")
            assert cur.fetchone() == (10_000, 10_000, "000000", f"{9999:06x}")
    assert rows == 10_000 and os.listdir(tmp_path) == []


@pytest.mark.parametrize(("flag", "file_left"), [("--no-proc", True), ("--no-tmpfile", False)])
@pytest.mark.parametrize("mode", ["load-written", "clean-writing"])
def test_without_proc_or_o_tmpfile_the_next_process_sweeps(tmp_path: Path, mysql_json: str, mode: str, flag: str,
                                                            file_left: bool) -> None:
    """The fallbacks: the scratch file lives in a directory of its process (named without /proc; unlinked at
    once without O_TMPFILE); what a killed process leaves there goes with the next process's sweep."""
    tmpdir = tmp_path / "tmp"
    tmpdir.mkdir()
    proc, _ = start_child(tmpdir, mode, *([mysql_json] if mode in LOAD_MODES else []), flag)
    [directory] = os.listdir(tmpdir)
    assert directory.startswith(f"{SCRATCH_DIR_PREFIX}{proc.pid}-")
    assert sweep_dead_scratch_dirs(str(tmpdir)) == 0  # its owner is alive: left alone
    named = sorted(p.name for p in (tmpdir / directory).iterdir() if p.name != ".owner")
    assert len(named) == int(file_left) and all(n.startswith("aerolake-") for n in named), named
    kill9(proc)
    assert os.listdir(tmpdir) == [directory]  # what the kill left behind, in its own directory

    # the next process to need a scratch file sweeps it before anything else
    env = {**os.environ, "TMPDIR": str(tmpdir), "PYTHONPATH": str(INCLUDE)}
    code = ("from aerolake.core import scratch; scratch.PROC_FD_DIR = None\n"
            "with scratch.ScratchFile() as f: f.handle.write(b'x')")
    subprocess.run([sys.executable, "-c", code], env=env, check=True, timeout=60)
    assert os.listdir(tmpdir) == [], os.listdir(tmpdir)  # swept; and its own directory went at its exit


def test_the_fallback_names_and_removes_its_file(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(scratch, "PROC_FD_DIR", None)
    with ScratchFile("aerolake-x-", ".tsv", directory=str(tmp_path)) as f:
        f.handle.write(b"abc")
        f.flush()
        assert Path(f.path).read_bytes() == b"abc"
        assert Path(f.path).parent == process_scratch_dir(str(tmp_path)) and Path(f.path).name.startswith("aerolake-x-")
    assert not Path(f.path).exists() and f.closed
    # a file dropped without close() goes with the object
    lost = ScratchFile(directory=str(tmp_path))
    path = lost.path
    del lost
    assert not Path(path).exists()


def test_an_unnamed_scratch_file_is_readable_by_path_and_gone_when_closed(tmp_path: Path) -> None:
    with ScratchFile("aerolake-x-", directory=str(tmp_path)) as f:
        f.handle.write(b"hello")
        f.flush()
        assert f.path.startswith("/proc/self/fd/") and Path(f.path).read_bytes() == b"hello"
        assert os.listdir(tmp_path) == []
    assert f.closed and f.handle.closed and os.listdir(tmp_path) == []
