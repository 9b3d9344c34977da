"""Dependency checks of ``GET /health``: MySQL, MongoDB, S3 and the Airflow API, each timed, in parallel.

A check that does not answer within the timeout is reported down ("timed out"); its thread is left to finish
on its own. Error texts name the exception type and a short message, never a credential.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

log = logging.getLogger(__name__)

_pool = ThreadPoolExecutor(max_workers=8, thread_name_prefix="aerolake-health")


def _timed(check: Callable[[], Any]) -> tuple[float, Exception | None]:
    started = time.perf_counter()
    try:
        check()
    except Exception as exc:  # noqa: BLE001 - any failure of a dependency is reported, not raised
        return (time.perf_counter() - started) * 1000, exc
    return (time.perf_counter() - started) * 1000, None


def _describe(exc: Exception) -> str:
    text = str(exc).splitlines()[0] if str(exc) else ""
    return f"{type(exc).__name__}: {text[:200]}" if text else type(exc).__name__


def run_checks(checks: dict[str, Callable[[], Any]], timeout_s: float) -> dict[str, dict[str, Any]]:
    """{name: {"status": "up"|"down", "latency_ms": float, "error"?: str}} for every check."""
    futures = {name: _pool.submit(_timed, check) for name, check in checks.items()}
    deadline = time.monotonic() + timeout_s
    out: dict[str, dict[str, Any]] = {}
    for name, future in futures.items():
        try:
            latency, error = future.result(timeout=max(0.0, deadline - time.monotonic()))
        except FutureTimeout:
            out[name] = {"status": "down", "latency_ms": round(timeout_s * 1000, 1),
                         "error": f"timed out after {timeout_s:g} s"}
            continue
        if error is None:
            out[name] = {"status": "up", "latency_ms": round(latency, 1)}
        else:
            log.warning("Health check %s failed: %s", name, _describe(error))
            out[name] = {"status": "down", "latency_ms": round(latency, 1), "error": _describe(error)}
    return out
