"""Scratch files that a ``kill -9`` cannot leave behind.

The pipeline needs a few files on local disk for a moment: the tab-separated file ``LOAD DATA LOCAL INFILE``
reads, the Parquet object ``clean`` writes before uploading it, the Parquet object ``load_to_mysql`` downloads
to read row group by row group. Deleting them in ``finally`` (or with ``NamedTemporaryFile``) is skipped when
the process is killed (SIGKILL, the OOM killer, a lost Celery worker), and a day's files are large.

So a scratch file never has a name in the temp directory:

- **Linux**: ``open(tmpdir, O_TMPFILE)`` creates a file with no directory entry at all; the kernel frees it
  when the last descriptor closes, which a killed process's exit does. Code that needs a path (PyArrow,
  PyMySQL's ``LOAD DATA LOCAL INFILE``, which opens the file name the server sends back, in this process) gets
  ``/proc/self/fd/<fd>``, which opens the same file. A file system without ``O_TMPFILE`` gets a named file in
  the per-process directory below, unlinked at once (a kill between the two leaves it there until the sweep).
- **Elsewhere** (no ``/proc``, e.g. macOS): a named file in a directory of this process,
  ``$TMPDIR/aerolake-scratch-<pid>-<random>/``, holding a lock file (``flock``) for the process's life. When a
  process creates its directory it first sweeps the directories of dead processes (their lock is free: the
  kernel drops a dead process's locks), so what a killed process left is removed by the next one to start.
  A process that exits normally removes its own directory.

The file lives as long as the :class:`ScratchFile` is open; use it as a context manager.
"""

from __future__ import annotations

import atexit
import errno
import logging
import os
import shutil
import tempfile
import threading
import weakref
from pathlib import Path
from typing import IO

log = logging.getLogger(__name__)

#: where this process's descriptors can be opened by path; None = not available (then named files are used)
PROC_FD_DIR: str | None = "/proc/self/fd"
#: the per-process directories of the fallback, in the temp directory
SCRATCH_DIR_PREFIX = "aerolake-scratch-"
OWNER_LOCK = ".owner"

_dirs: dict[tuple[int, str], tuple[Path, int]] = {}  # (pid, temp dir) -> (directory, lock descriptor)
_dirs_lock = threading.Lock()


def _proc_fd_usable() -> bool:
    return PROC_FD_DIR is not None and os.path.isdir(PROC_FD_DIR)


def _anonymous_fd(directory: str) -> int | None:
    """A descriptor of a new file without a name in ``directory`` (``O_TMPFILE``); None if unsupported."""
    flag = getattr(os, "O_TMPFILE", None)
    if flag is None or not _proc_fd_usable():
        return None
    try:
        return os.open(directory, flag | os.O_RDWR | getattr(os, "O_CLOEXEC", 0), 0o600)
    except OSError as exc:
        if exc.errno in (errno.EOPNOTSUPP, errno.EISDIR, errno.EINVAL, errno.ENOTSUP):
            return None  # this file system (or kernel) has no O_TMPFILE
        raise


class ScratchFile:
    """A read-write binary file that disappears with its last descriptor (or, in the fallback, on close or
    with the next process's sweep). ``handle`` is the open file; ``path`` opens the same file in this
    process (``/proc/self/fd/N`` on Linux), for libraries that want a name."""

    def __init__(self, prefix: str = "aerolake-", suffix: str = "", directory: str | None = None) -> None:
        directory = directory or tempfile.gettempdir()
        fd = _anonymous_fd(directory)
        self.named: str | None = None
        if fd is None:
            fd, name = tempfile.mkstemp(prefix=prefix, suffix=suffix, dir=process_scratch_dir(directory))
            if _proc_fd_usable():
                os.unlink(name)
            else:
                self.named = name
        self.handle: IO[bytes] = os.fdopen(fd, "w+b")
        self.path = self.named or f"{PROC_FD_DIR}/{fd}"
        self._finalizer = weakref.finalize(self, _discard, self.handle, self.named)

    def flush(self) -> None:
        """Write buffered bytes through, so that opening :attr:`path` sees them."""
        self.handle.flush()

    def close(self) -> None:
        self._finalizer()

    @property
    def closed(self) -> bool:
        return not self._finalizer.alive

    def __enter__(self) -> ScratchFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _discard(handle: IO[bytes], named: str | None) -> None:
    handle.close()
    if named:
        Path(named).unlink(missing_ok=True)


def process_scratch_dir(directory: str | None = None) -> Path:
    """This process's scratch directory under ``directory`` (the temp dir), created on first use, after
    sweeping the directories of dead processes (:func:`sweep_dead_scratch_dirs`)."""
    directory = directory or tempfile.gettempdir()
    key = (os.getpid(), os.path.realpath(directory))
    with _dirs_lock:
        if key in _dirs:
            return _dirs[key][0]
        swept = sweep_dead_scratch_dirs(directory)
        if swept:
            log.info("Removed %d scratch director%s of dead processes under %s", swept, "y" if swept == 1 else "ies",
                     directory)
        path = Path(tempfile.mkdtemp(prefix=f"{SCRATCH_DIR_PREFIX}{os.getpid()}-", dir=directory))
        lock_fd = os.open(path / OWNER_LOCK, os.O_RDWR | os.O_CREAT, 0o600)
        _lock(lock_fd, blocking=True)
        _dirs[key] = (path, lock_fd)
        atexit.register(_remove_own_dir, os.getpid(), path, lock_fd)
        return path


def _remove_own_dir(pid: int, path: Path, lock_fd: int) -> None:
    """At a normal exit: the directory goes (only in the process that made it, not in a forked child)."""
    if os.getpid() == pid:
        shutil.rmtree(path, ignore_errors=True)
        os.close(lock_fd)


def _lock(fd: int, *, blocking: bool) -> bool:
    """An exclusive ``flock`` on ``fd``; False when another process holds it (non-blocking), or when the
    platform has no ``flock`` (then the owner's PID decides, :func:`_owner_alive`)."""
    try:
        import fcntl
    except ImportError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
    except BlockingIOError:
        return False
    return True


def _pid_alive(path: Path) -> bool:
    pid = path.name[len(SCRATCH_DIR_PREFIX):].split("-", 1)[0]
    if not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's live process
        return True
    return True


def _owner_alive(path: Path) -> bool:
    """Whether the process that made ``path`` still runs: it holds the lock on the directory's ``.owner``
    file until it exits. Without ``flock``, or for a directory caught before its lock file exists, the PID
    in the directory's name decides."""
    try:
        import fcntl  # noqa: F401
    except ImportError:
        return _pid_alive(path)
    try:
        fd = os.open(path / OWNER_LOCK, os.O_RDWR)
    except FileNotFoundError:
        return _pid_alive(path)
    try:
        return not _lock(fd, blocking=False)
    finally:
        os.close(fd)  # closing our descriptor releases the lock we may just have taken


def sweep_dead_scratch_dirs(directory: str | None = None) -> int:
    """Remove the scratch directories under ``directory`` whose process is gone; returns how many."""
    directory = directory or tempfile.gettempdir()
    mine = {path for (pid, _), (path, _fd) in _dirs.items() if pid == os.getpid()}
    removed = 0
    for path in Path(directory).glob(f"{SCRATCH_DIR_PREFIX}*"):
        if path in mine or not path.is_dir() or _owner_alive(path):
            continue
        shutil.rmtree(path, ignore_errors=True)
        removed += not path.exists()
    return removed
