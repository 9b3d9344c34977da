"""The growth benchmark's ``settle`` (bench/bench_growth.py): before each measured run it waits for InnoDB's purge,
then writes the growing tables' dirty pages and releases them, whatever the wait ended with."""

from __future__ import annotations

import contextlib
import importlib.util
import logging
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _bench_growth() -> Any:
    if "bench_growth" not in sys.modules:
        spec = importlib.util.spec_from_file_location("bench_growth", ROOT / "bench" / "bench_growth.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules["bench_growth"] = module
        spec.loader.exec_module(module)
    return sys.modules["bench_growth"]


class _Server:
    """A MySQL connection's cursor that answers SHOW ENGINE INNODB STATUS with the next history length."""

    def __init__(self, histories: list[int]) -> None:
        self.histories = histories
        self.executed: list[str] = []
        self.row: tuple[str, str, str] | None = None

    def __enter__(self) -> _Server:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def cursor(self) -> _Server:
        return self

    def execute(self, statement: str, params: Any = None) -> None:
        self.executed.append(statement)
        if statement == "SHOW ENGINE INNODB STATUS":
            length = self.histories.pop(0) if len(self.histories) > 1 else self.histories[0]
            self.row = ("InnoDB", "", f"------------\nTRANSACTIONS\nHistory list length {length}\n")

    def fetchone(self) -> tuple[str, str, str] | None:
        return self.row


def _patched(monkeypatch: pytest.MonkeyPatch, server: _Server) -> list[float]:
    from aerolake.stores.mysql import db

    @contextlib.contextmanager
    def connection(cfg: Any, **kwargs: Any) -> Iterator[_Server]:
        yield server

    sleeps: list[float] = []
    monkeypatch.setattr(db, "connection", connection)
    monkeypatch.setattr(_bench_growth().time, "sleep", sleeps.append)
    return sleeps


def test_settle_waits_for_the_purge_then_flushes_and_releases_the_growing_tables(monkeypatch) -> None:
    bench = _bench_growth()
    server = _Server([5_000, 900, 40])
    sleeps = _patched(monkeypatch, server)

    left = bench.settle(object(), timeout=60)

    assert left["history"] == 40
    assert len(sleeps) == 2  # polled until the history fell under 100
    assert server.executed[:3] == ["SHOW ENGINE INNODB STATUS"] * 3
    flush, unlock = server.executed[3:]
    tables = [*bench.GROWING, "flight_day_stats"]
    assert flush == f"FLUSH TABLES {', '.join(f'`{t}`' for t in tables)} FOR EXPORT"
    assert unlock == "UNLOCK TABLES"


def test_settle_gives_up_after_its_timeout_and_still_releases(monkeypatch, caplog) -> None:
    bench = _bench_growth()
    server = _Server([5_000])
    _patched(monkeypatch, server)

    with caplog.at_level(logging.WARNING, logger="bench"):
        left = bench.settle(object(), timeout=0)

    assert left["history"] == 5_000
    assert "purge left 5000 undo logs" in caplog.text
    assert server.executed[-2].startswith("FLUSH TABLES `flights`, ")
    assert server.executed[-1] == "UNLOCK TABLES"
