"""Health (each dependency's state and latency) and status (the freshness of every table and DAG)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, HTTPException
from fastapi.responses import JSONResponse

from aerolake.api import store
from aerolake.api.health import run_checks
from aerolake.api.models import BudgetStatus, DagStatus, Health, Problem, Status, TableStatus
from aerolake.api.state import State
from aerolake.core.flow import STAGES
from aerolake.core.settings import wall_clock

router = APIRouter()
STAGE_ORDER = STAGES
COUNT_COLUMNS = ("fetched", "api_calls", "staged", "cleaned", "loaded", "quarantined", "duplicates")


@router.get("/health", response_model=Health,
            responses={503: {"model": Health, "description": "a dependency is down"}})
def health(state: State) -> JSONResponse:
    """Liveness plus each dependency's state and latency: 200 when all are up, 503 naming the failing ones."""
    checks = {
        "mysql": lambda: store.ping(state.mysql()),
        "mongodb": lambda: state.mongo().command("ping"),
        "s3": lambda: state.s3().head_bucket(Bucket=state.settings.base.bucket),
        "airflow_api": state.airflow.health,
    }
    results = run_checks(checks, state.settings.health_timeout_s)
    failing = sorted(name for name, result in results.items() if result["status"] != "up")
    body = Health(status="degraded" if failing else "ok", failing=failing, dependencies=results)
    return JSONResponse(body.model_dump(), status_code=503 if failing else 200)


@router.get("/status", response_model=Status,
            responses={503: {"model": Problem, "description": "MySQL unreachable or not migrated"}})
def status(state: State) -> Status:
    """Readiness and freshness: per table rows and newest update, per DAG its last run, stale ones flagged."""
    cfg = state.mysql()
    now = wall_clock()
    limit = state.settings.stale_after_hours
    tables = []
    for row in store.table_status(cfg):
        age = _age_hours(row["newest"], now)
        tables.append(TableStatus(**row, age_hours=age, stale=age is not None and age > limit))
    missing = [t.table for t in tables if not t.exists]
    if missing:
        raise HTTPException(503, f"The MySQL schema is not migrated (missing: {', '.join(missing)}): "
                                 "run `aerolake migrate`")
    dags = _dag_statuses(store.latest_pipeline_runs(cfg), now, limit)
    stale = [f"table:{t.table}" for t in tables if t.stale] + [f"dag:{d.dag_id}" for d in dags if d.stale]
    return Status(ready=True, checked_at=now, stale_after_hours=limit, stale=stale, tables=tables, dags=dags,
                  budgets=_budgets(cfg, state.settings.base))


def _budgets(cfg: Any, settings: Any) -> list[BudgetStatus]:
    """Each budgeted source's budget (:func:`aerolake.stores.mysql.quotas.budget_status`)."""
    from aerolake.sources import SOURCES, budget_of
    from aerolake.stores.mysql.quotas import budget_status

    out = []
    for name in SOURCES:
        budget = budget_of(settings, name)
        if budget.per_day is not None or budget.per_month is not None:
            status = budget_status(cfg, name, budget)
            out.append(BudgetStatus(source=name, periods=status["periods"], schedule=status["schedule"],
                                    calls_per_run=status["calls_per_run"], next_call=status["next_call"]))
    return out


def _age_hours(newest: datetime | None, now: datetime) -> float | None:
    if newest is None:
        return None
    return round((now - newest).total_seconds() / 3600, 3)


def _dag_statuses(rows: list[dict[str, Any]], now: datetime, stale_after: float) -> list[DagStatus]:
    by_dag: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        by_dag.setdefault(row["dag_id"], []).append(row)
    out = []
    for dag_id, endpoints in by_dag.items():
        states = [e["status"] for e in endpoints if e["status"] != "success"]
        stages = [e["last_stage"] for e in endpoints]
        last_stage = min(stages, key=lambda s: STAGE_ORDER.index(s) if s in STAGE_ORDER else -1)
        finished = [e["finished_at"] for e in endpoints if e["finished_at"] is not None]
        newest = max(finished) if finished else None
        age = _age_hours(newest, now)
        out.append(DagStatus(
            dag_id=dag_id, run_id=endpoints[0]["run_id"], partition_key=endpoints[0]["partition_key"],
            state=states[0] if states else "success", last_stage=last_stage,
            started_at=min(e["started_at"] for e in endpoints), finished_at=newest, age_hours=age,
            stale=age is None or age > stale_after, endpoints=len(endpoints),
            counts={c: sum(int(e[c] or 0) for e in endpoints) for c in COUNT_COLUMNS},
        ))
    return out
