"""Request budgets in MySQL: checked before any call, charged per call, shared by concurrent runs."""

from __future__ import annotations

import threading
from datetime import datetime

import pytest

from aerolake.core.errors import QuotaExceeded
from aerolake.core.settings import Budget
from aerolake.pipeline import stages
from aerolake.sources import source
from aerolake.stores import lake
from aerolake.stores.mysql.db import connection
from aerolake.stores.mysql.quotas import QuotaLedger

lufthansa = source("lufthansa")

NOW = datetime(2026, 3, 14, 10, 0)


def counters(cfg) -> dict:
    with connection(cfg, autocommit=True) as conn, conn.cursor() as cur:
        cur.execute("SELECT source, period_kind, period_start, calls FROM api_quota_usage ORDER BY 1, 2")
        return {(s, k, str(d)): c for s, k, d, c in cur.fetchall()}


def test_ensure_checks_the_day_and_the_month_before_any_call(migrated_mysql):
    ledger = QuotaLedger(migrated_mysql, "aviationstack", Budget(per_day=5, per_month=8), clock=lambda: NOW)
    ledger.ensure(5)
    for _ in range(4):
        ledger.charge()
    with pytest.raises(QuotaExceeded) as exc:
        ledger.ensure(2, "aviationstack 2026-03-14")
    message = str(exc.value)
    assert "aviationstack 2026-03-14 needs 2 API call(s) but the request budget has 1 left" in message
    assert "day 2026-03-14: 4 of 5 used; month 2026-03-01: 4 of 8 used" in message
    assert "AEROLAKE_AVIATIONSTACK_BUDGET_PER_DAY" in message
    assert counters(migrated_mysql) == {("aviationstack", "day", "2026-03-14"): 4,
                                        ("aviationstack", "month", "2026-03-01"): 4}


def test_a_charge_the_budget_cannot_pay_counts_nothing_and_a_new_day_resumes(migrated_mysql):
    clock = {"now": NOW}
    ledger = QuotaLedger(migrated_mysql, "airlabs", Budget(per_day=2, per_month=3), clock=lambda: clock["now"])
    ledger.charge()
    ledger.charge()
    with pytest.raises(QuotaExceeded, match="the next request needs 1 API call"):
        ledger.charge()
    assert ledger.charged == 2
    clock["now"] = datetime(2026, 3, 15, 0, 5)  # a new day: the daily budget is back, the month has 1 left
    ledger.charge()
    with pytest.raises(QuotaExceeded, match="month 2026-03-01: 3 of 3 used"):
        ledger.charge()
    assert counters(migrated_mysql) == {("airlabs", "day", "2026-03-14"): 2, ("airlabs", "day", "2026-03-15"): 1,
                                        ("airlabs", "month", "2026-03-01"): 3}


def test_concurrent_runs_never_overspend(migrated_mysql):
    refused = []

    def worker():
        ledger = QuotaLedger(migrated_mysql, "airlabs", Budget(per_day=None, per_month=60), clock=lambda: NOW)
        for _ in range(40):
            try:
                ledger.charge()
            except QuotaExceeded:
                refused.append(1)

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert counters(migrated_mysql) == {("airlabs", "day", "2026-03-14"): 60, ("airlabs", "month", "2026-03-01"): 60}
    assert len(refused) == 120 - 60


def _with_budget(monkeypatch, budget: Budget) -> None:
    monkeypatch.setattr(stages, "budget_of", lambda settings, name: budget)


def test_a_run_over_budget_stops_before_calling_and_writes_nothing(mock_api, make_ctx, monkeypatch):
    ctx = make_ctx(mock_api)
    planned = sum(len(r) for r in lufthansa.partition_plan(ctx.partition, ctx.settings).values())
    _with_budget(monkeypatch, Budget(per_day=planned - 1))
    with pytest.raises(QuotaExceeded, match=f"lufthansa 2026-03-01 needs {planned} API call"):
        stages.extract_to_s3(ctx)
    assert mock_api.stats()["total"] == 0
    assert lake.list_keys(ctx.s3, ctx.bucket, "raw/") == []


def test_a_budget_exhausted_mid_fetch_leaves_no_manifest_and_the_rerun_completes(mock_api, make_ctx, monkeypatch):
    ctx = make_ctx(mock_api)
    planned = sum(len(r) for r in lufthansa.partition_plan(ctx.partition, ctx.settings).values())
    _with_budget(monkeypatch, Budget(per_day=planned))  # enough for the plan, not for its extra pages
    with pytest.raises(QuotaExceeded, match="the next request needs 1 API call"):
        stages.extract_to_s3(ctx)
    made = mock_api.stats()["total"]
    assert made == planned  # exactly the calls the budget paid for (the token request is a call too)
    manifests = [k for k in lake.list_keys(ctx.s3, ctx.bucket, "raw/") if k.endswith("_manifest.json")]
    incomplete = [e for e in lufthansa.SPEC.endpoints if lake.read_manifest(ctx.s3, ctx.bucket, ctx.partition, e) is None]
    assert incomplete and len(manifests) == len(lufthansa.SPEC.endpoints) - len(incomplete)

    _with_budget(monkeypatch, Budget(per_day=10_000))
    results = stages.extract_to_s3(ctx)
    assert all(lake.read_manifest(ctx.s3, ctx.bucket, ctx.partition, e) for e in lufthansa.SPEC.endpoints)
    assert {e for e, r in results.items() if not r["skipped"]} == set(incomplete)


def test_the_estimate_expects_what_the_last_fetch_of_each_endpoint_took(mock_api, make_ctx, monkeypatch):
    first = make_ctx(mock_api, dt="2026-03-01")
    _with_budget(monkeypatch, Budget(per_day=10_000))
    done = stages.extract_to_s3(first)
    took = sum(r["api_calls"] for r in done.values())
    second = make_ctx(mock_api, dt="2026-03-02")
    planned = sum(len(r) for r in lufthansa.partition_plan(second.partition, second.settings).values())
    assert took > planned  # paging: more calls than listings
    _with_budget(monkeypatch, Budget(per_day=2 * took - 1))  # room for took - 1 more calls today
    calls = mock_api.stats()["total"]
    with pytest.raises(QuotaExceeded, match=f"needs {took} API call"):
        stages.extract_to_s3(second)
    assert mock_api.stats()["total"] == calls


def test_a_scheduled_run_the_pace_cannot_pay_is_skipped_without_a_call(mock_api, make_ctx, monkeypatch):
    """A month of 300 calls, a daily schedule: on the 14th, the pace allows 14/31 of it (135 calls). With 130 used,
    a run needing more than 5 is skipped (nothing called, the numbers said); a manual run of the same day is not
    paced, only budgeted."""
    import dataclasses

    from aerolake.core.errors import RunSkipped
    from aerolake.stores.mysql.quotas import budget_status

    _with_budget(monkeypatch, Budget(per_month=300))
    monkeypatch.setattr(stages, "utcnow", lambda: NOW)
    manual = make_ctx(mock_api, dt="2026-03-14")
    scheduled = dataclasses.replace(manual, run=dataclasses.replace(manual.run, schedule="0 0 * * *"))
    from aerolake.stores.mysql.migrate import migrate

    migrate(manual.mysql)
    QuotaLedger(manual.mysql, "lufthansa", Budget(per_month=300), clock=lambda: NOW).charge(130)

    with pytest.raises(RunSkipped) as skipped:
        stages.extract_to_s3(scheduled, now=NOW)
    message = str(skipped.value)
    assert "skipped by the budget's pace" in message and "the pace allows 5 more now" in message
    assert "month 2026-03-01: 130 of 300 used, the pace allows 135 by run 14 of 31" in message
    assert "the next scheduled run that the pace pays is at 2026-03-" in message
    assert mock_api.stats()["total"] == 0 and lake.list_keys(manual.s3, manual.bucket, "raw/") == []

    status = budget_status(manual.mysql, "lufthansa", Budget(per_month=300), now=NOW)
    assert status["periods"]["month"] == {"start": "2026-03-01", "used": 130, "limit": 300, "left": 170,
                                          "pace_allows": 135}
    assert status["schedule"] == "0 0 * * *" and status["calls_per_run"] > 5 and status["next_call"] > "2026-03-14"

    stages.extract_to_s3(manual, now=NOW)  # a person asked for it: within the budget, it calls
    assert mock_api.stats()["total"] > 0
