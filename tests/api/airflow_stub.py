"""A faithful stub of the Airflow 3 API server's parts aerolake uses, served by uvicorn on a free port.

- ``POST /auth/token`` (simple auth manager): JSON or form ``{username, password}`` -> 201 ``{"access_token"}``
  (a signed JWT with ``sub``, ``role``, ``exp``); wrong credentials -> 401.
- ``POST /api/v2/dags/{dag_id}/dagRuns``: bearer JWT required (401 without or with a bad one, 403 for a role
  that may not trigger); the body is validated with Airflow's own ``TriggerDAGRunPostBody`` (422 like Airflow);
  unknown DAG -> 404; existing run id -> 409; else the run is recorded and returned like ``DAGRunResponse``.
- ``GET /api/v2/dags/{dag_id}/dagRuns`` lists the recorded runs; ``GET /api/v2/monitor/health`` answers healthy.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

SECRET = "stub-jwt-signing-key-0123456789abcdef0123456789abcdef0123456789abcdef"  # the stub's own signing key, not a secret


class AirflowStub:
    """The stub's state: users, DAGs, the runs created, and every request seen (method, path)."""

    def __init__(self, users: dict[str, tuple[str, str]], dag_ids: set[str]) -> None:
        self.users = users  # username -> (password, role)
        self.dag_ids = dag_ids
        self.runs: dict[str, list[dict[str, Any]]] = {d: [] for d in dag_ids}
        self.requests: list[tuple[str, str]] = []
        self.token_lifetime = timedelta(hours=1)
        self.app = self._build()

    def all_runs(self) -> list[dict[str, Any]]:
        return [run for runs in self.runs.values() for run in runs]

    def _user(self, request: Request) -> tuple[str, str] | JSONResponse:
        header = request.headers.get("authorization", "")
        if not header.lower().startswith("bearer "):
            return JSONResponse({"detail": "Not authenticated"}, status_code=401)
        try:
            claims = jwt.decode(header[7:], SECRET, algorithms=["HS512"], audience="apache-airflow")
        except jwt.PyJWTError:
            return JSONResponse({"detail": "Invalid JWT token"}, status_code=401)
        return claims["sub"], claims["role"]

    def _build(self) -> FastAPI:
        from airflow.api_fastapi.core_api.datamodels.dag_run import TriggerDAGRunPostBody
        from pydantic import ValidationError

        app = FastAPI()

        @app.middleware("http")
        async def record(request: Request, call_next: Any) -> Any:
            self.requests.append((request.method, request.url.path))
            return await call_next(request)

        @app.post("/auth/token", status_code=201)
        async def token(request: Request) -> Any:
            if request.headers.get("content-type", "").startswith("application/json"):
                body = await request.json()
            else:
                body = dict(await request.form())
            user = self.users.get(str(body.get("username")))
            if user is None or user[0] != body.get("password"):
                return JSONResponse({"detail": "Invalid credentials"}, status_code=401)
            now = datetime.now(UTC)
            claims = {"sub": body["username"], "role": user[1], "iat": now, "nbf": now,
                      "exp": now + self.token_lifetime, "aud": "apache-airflow"}
            return {"access_token": jwt.encode(claims, SECRET, algorithm="HS512")}

        @app.get("/api/v2/monitor/health")
        async def health() -> Any:
            beat = datetime.now(UTC).isoformat()
            return {"metadatabase": {"status": "healthy"},
                    "scheduler": {"status": "healthy", "latest_scheduler_heartbeat": beat},
                    "triggerer": {"status": "healthy", "latest_triggerer_heartbeat": beat},
                    "dag_processor": {"status": "healthy", "latest_dag_processor_heartbeat": beat}}

        @app.get("/api/v2/dags/{dag_id}/dagRuns")
        async def list_runs(dag_id: str, request: Request) -> Any:
            user = self._user(request)
            if isinstance(user, JSONResponse):
                return user
            runs = self.runs.get(dag_id, [])
            return {"dag_runs": runs, "total_entries": len(runs)}

        @app.post("/api/v2/dags/{dag_id}/dagRuns")
        async def trigger(dag_id: str, request: Request) -> Any:
            user = self._user(request)
            if isinstance(user, JSONResponse):
                return user
            if user[1] not in ("Admin", "Op", "User"):
                return JSONResponse({"detail": "Forbidden"}, status_code=403)
            if dag_id not in self.dag_ids:
                return JSONResponse({"detail": f"The Dag with dag_id: `{dag_id}` was not found"}, status_code=404)
            try:
                body = TriggerDAGRunPostBody.model_validate(await request.json())
            except ValidationError as exc:
                return JSONResponse({"detail": exc.errors(include_url=False, include_context=False,
                                                          include_input=False)}, status_code=422)
            logical = body.logical_date
            run_id = body.dag_run_id or f"manual__{(logical or body.run_after).isoformat()}"
            if any(r["dag_run_id"] == run_id for r in self.runs[dag_id]):
                return JSONResponse({"detail": f"DAG run with run_id: `{run_id}` already exists"}, status_code=409)
            now = datetime.now(UTC).isoformat()
            run = {"dag_run_id": run_id, "dag_id": dag_id, "logical_date": logical.isoformat() if logical else None,
                   "queued_at": now, "start_date": None, "end_date": None, "duration": None,
                   "data_interval_start": None, "data_interval_end": None, "run_after": body.run_after.isoformat(),
                   "last_scheduling_decision": None, "run_type": "manual", "state": "queued",
                   "triggered_by": "rest_api", "triggering_user_name": user[0], "conf": body.conf, "note": None,
                   "dag_versions": [], "bundle_version": None, "dag_display_name": dag_id, "partition_key": None,
                   "partition_date": None}
            self.runs[dag_id].append(run)
            return run

        return app
