"""``run_data_import``: trigger a run of one of the project's DAGs through Airflow's REST API, behind a bearer
token and a rate limit."""

from __future__ import annotations

import hmac
import logging
import math
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from aerolake.api.airflow_client import AirflowApiError
from aerolake.api.models import Problem, RunDataImportRequest, RunDataImportResponse
from aerolake.api.state import State

log = logging.getLogger(__name__)

router = APIRouter()
bearer = HTTPBearer(auto_error=False, description="the AEROLAKE_API_TOKEN setting")


def authorize_import(state: State, request: Request,
                     credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]) -> None:
    """Rate limit (every attempt counts, so tokens cannot be guessed quickly), then the token, in constant
    time. Runs before the body is validated. The client is ``request.client``: the TCP peer, or the address a
    trusted proxy forwarded for (:mod:`aerolake.api.forwarding`), never a header any client can set."""
    settings = state.settings
    client = request.client.host if request.client else "unknown"
    wait = state.import_limiter.hit(client)
    if wait is not None:
        log.warning("run_data_import: rate limit exceeded by %s", client)
        raise HTTPException(429, f"Too many run_data_import calls: at most {settings.import_rate_limit} per "
                                 f"{settings.import_rate_window_s:g} s; retry in {math.ceil(wait)} s",
                            headers={"Retry-After": str(math.ceil(wait))})
    if not settings.token:
        raise HTTPException(503, "run_data_import is disabled: the AEROLAKE_API_TOKEN setting is not set")
    if credentials is None or not credentials.credentials:
        raise HTTPException(401, "Missing bearer token (Authorization: Bearer <AEROLAKE_API_TOKEN>)",
                            headers={"WWW-Authenticate": "Bearer"})
    if not hmac.compare_digest(credentials.credentials.encode(), settings.token.encode()):
        log.warning("run_data_import: wrong token from %s", client)
        raise HTTPException(403, "Wrong token")


@router.post("/run_data_import", response_model=RunDataImportResponse, status_code=201,
             dependencies=[Depends(authorize_import)],
             responses={401: {"model": Problem, "description": "no token"},
                        403: {"model": Problem, "description": "wrong token"},
                        404: {"model": Problem, "description": "Airflow does not know the DAG"},
                        409: {"model": Problem, "description": "the run exists already"},
                        429: {"model": Problem, "description": "rate limited"},
                        502: {"model": Problem, "description": "Airflow refused or failed"},
                        503: {"model": Problem, "description": "disabled, or Airflow unreachable"}})
def run_data_import(state: State, body: RunDataImportRequest) -> RunDataImportResponse:
    """Trigger a run of one of the project's DAGs through Airflow's REST API v2; returns its run id."""
    logical = body.logical_date or datetime.now(UTC)
    if logical.tzinfo is None:
        logical = logical.replace(tzinfo=UTC)
    try:
        run = state.airflow.trigger_dag_run(body.dag_id, logical, body.conf)
    except AirflowApiError as exc:
        log.warning("run_data_import %s failed: %s", body.dag_id, exc)
        raise HTTPException(exc.status, str(exc)) from None
    return RunDataImportResponse(dag_id=run.dag_id, dag_run_id=run.dag_run_id, logical_date=run.logical_date,
                                 state=run.state)
