"""The aerolake web API and pages: ``create_app(settings)`` builds the FastAPI app from the routers of
:mod:`aerolake.api.routes`, with one error shape (``{"detail": ...}``) for every failure.

Served on its own (``python -m aerolake.api``) and mounted into the Airflow 3 API server by
``plugins/aerolake_plugin.py``; every page and script uses paths relative to the app's root path, so both work.
The client address (rate limit, logs) is the TCP peer unless that peer is a trusted proxy
(:mod:`aerolake.api.forwarding`).
"""

import logging
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from aerolake.api.config import PROJECT_DAG_IDS, ApiSettings, load_api_settings
from aerolake.api.forwarding import ClientAddressMiddleware
from aerolake.api.models import Problem
from aerolake.api.routes import data, imports, ops, pages
from aerolake.api.state import AppState

log = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).resolve().parent / "static"


def _problem(status: int, detail: str, headers: dict[str, str] | None = None, **extra: Any) -> JSONResponse:
    return JSONResponse({"detail": detail, **extra}, status_code=status, headers=headers)


def _describe_validation(exc: RequestValidationError) -> JSONResponse:
    """422 with one readable line per problem (``latitude: Input should be ...``); inputs are not echoed."""
    errors = []
    for err in exc.errors():
        loc = [str(p) for p in err.get("loc", ()) if p not in ("body", "query", "path")]
        field = ".".join(loc) or "body"
        message = err.get("msg", "invalid")
        if err.get("type") == "missing":
            message = "is required"
        elif err.get("type") == "extra_forbidden":
            message = "is not a known field"
        elif err.get("type") == "literal_error" and loc and loc[-1] == "dag_id":
            message = f"must be one of the project's DAGs: {', '.join(PROJECT_DAG_IDS)}"
        errors.append({"field": field, "message": message, "type": err.get("type")})
    detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors) or "invalid request"
    return _problem(422, detail, errors=errors)


def create_app(settings: ApiSettings | None = None) -> FastAPI:
    """The web API and pages, reading MySQL through ``settings.mysql`` or the ``aerolake_mysql`` connection."""
    settings = settings or load_api_settings()
    app = FastAPI(
        title="aerolake",
        version="1.0.0",
        description="Airports, flights and pipeline state of the aerolake lakehouse; map and dashboard pages.",
        docs_url=None,  # served by routes.pages from the vendored Swagger UI (no CDN)
        redoc_url=None,
        responses={400: {"model": Problem, "description": "A body that cannot be decoded"},
                   422: {"model": Problem, "description": "Invalid input (every problem named)"}},
    )
    app.state.aerolake = AppState(settings)

    if settings.cors_origins:
        from fastapi.middleware.cors import CORSMiddleware

        app.add_middleware(CORSMiddleware, allow_origins=list(settings.cors_origins), allow_methods=["GET", "POST"],
                           allow_headers=["Authorization", "Content-Type"], allow_credentials=False)
    app.add_middleware(ClientAddressMiddleware, trusted=settings.trusted_proxies, header=settings.forwarded_header)
    if settings.trusted_proxies:
        log.info("Client addresses: from the %s header of trusted proxies %s, else the TCP peer",
                 settings.forwarded_header, settings.trusted_proxies)
    else:
        log.info("Client addresses: the TCP peer; forwarded headers are ignored (AEROLAKE_API_TRUSTED_PROXIES "
                 "is empty)")

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        return _describe_validation(exc)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        return _problem(exc.status_code, str(exc.detail), headers=getattr(exc, "headers", None))

    import pymysql

    @app.exception_handler(pymysql.err.MySQLError)
    async def _mysql(_: Request, exc: pymysql.err.MySQLError) -> JSONResponse:
        code = exc.args[0] if exc.args else None
        log.warning("MySQL error answering a request: %s %s", type(exc).__name__, code)
        if code == 1146:
            return _problem(503, "The MySQL schema is not migrated (a table is missing): run `aerolake migrate`")
        return _problem(503, f"MySQL is unavailable ({type(exc).__name__} {code}); see /health")

    for area in (pages, ops, data, imports):
        app.include_router(area.router)
    app.mount("/static", StaticFiles(directory=str(STATIC_DIR)), name="static")
    return app
