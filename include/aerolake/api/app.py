"""The aerolake web API and pages: ``create_app(settings)`` builds the FastAPI app.

Served on its own (``python -m aerolake.api``) and mounted into the Airflow 3 API server by
``plugins/aerolake_plugin.py``; every page and script uses paths relative to the app's root path, so both work.
"""

import hmac
import logging
import math
import threading
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any, TypeVar

from fastapi import Depends, FastAPI, HTTPException, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException as StarletteHTTPException

from aerolake.api import store
from aerolake.api.airflow_client import AirflowApiError, AirflowClient
from aerolake.api.config import PROJECT_DAG_IDS, ApiSettings, load_api_settings
from aerolake.api.health import run_checks
from aerolake.api.models import (
    Airport,
    AirportList,
    ClosestAirportRequest,
    ClosestAirportResponse,
    DagStatus,
    FlightPage,
    FlightStatus,
    Health,
    PositionList,
    Problem,
    RunDataImportRequest,
    RunDataImportResponse,
    Stats,
    Status,
    TableStatus,
)
from aerolake.api.nearest import AirportIndex
from aerolake.api.ratelimit import SlidingWindowLimiter
from aerolake.connections import MySqlConfig
from aerolake.core.flow import STAGES

log = logging.getLogger(__name__)

PACKAGE_DIR = Path(__file__).resolve().parent
STATIC_DIR = PACKAGE_DIR / "static"
TEMPLATES_DIR = PACKAGE_DIR / "templates"
STAGE_ORDER = STAGES
COUNT_COLUMNS = ("fetched", "api_calls", "staged", "cleaned", "loaded", "quarantined", "duplicates")

T = TypeVar("T")

AirportCode = Annotated[str, Query(pattern=r"^[A-Za-z]{3}$", description="IATA airport code",
                                   examples=["FRA"])]
AirlineCode = Annotated[str, Query(pattern=r"^[A-Za-z0-9]{2,3}$", description="IATA (or ICAO) airline code",
                                   examples=["LH"])]


class _Lazy:
    """A value built on first use, once (connections are looked up lazily so importing the plugin is cheap)."""

    def __init__(self, build: Callable[[], Any]) -> None:
        self._build = build
        self._value: Any = None
        self._done = False
        self._lock = threading.Lock()

    def __call__(self) -> Any:
        if not self._done:
            with self._lock:
                if not self._done:
                    self._value = self._build()
                    self._done = True
        return self._value


class AppState:
    """Everything the routes share: settings, lazily-built clients, the airport index, the rate limiter."""

    def __init__(self, settings: ApiSettings) -> None:
        from aerolake import connections

        self.settings = settings
        self.mysql: Callable[[], MySqlConfig] = _Lazy(
            lambda: settings.mysql or connections.mysql_config(settings.base))
        self.s3 = _Lazy(lambda: connections.s3_client(settings.base))
        self.mongo = _Lazy(lambda: connections.mongo_database(settings.base))
        self.airflow = AirflowClient(settings.airflow_api_url, settings.airflow_username, settings.airflow_password,
                                     timeout=settings.airflow_timeout_s)
        self.index = AirportIndex(lambda: store.airports_for_index(self.mysql()),
                                  lambda: store.airports_signature(self.mysql()),
                                  check_interval_s=settings.index_check_interval_s)
        self.import_limiter = SlidingWindowLimiter(settings.import_rate_limit, settings.import_rate_window_s)


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


def _age_hours(newest: datetime | None, now: datetime) -> float | None:
    if newest is None:
        return None
    return round((now - newest).total_seconds() / 3600, 3)


def _json_value(value: Any) -> Any:
    """Decimals from ``AVG`` as floats (rounded), DATETIMEs marked UTC, everything else unchanged."""
    from decimal import Decimal

    if isinstance(value, Decimal):
        return round(float(value), 2)
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def _plain(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: _json_value(v) for k, v in row.items()} for row in rows]


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


def create_app(settings: ApiSettings | None = None) -> FastAPI:
    """The web API and pages, reading MySQL through ``settings.mysql`` or the ``aerolake_mysql`` connection."""
    settings = settings or load_api_settings()
    state = AppState(settings)
    app = FastAPI(
        title="aerolake",
        version="1.0.0",
        description="Airports, flights and pipeline state of the aerolake lakehouse; map and dashboard pages.",
        docs_url=None,  # served below from the vendored Swagger UI (no CDN)
        redoc_url=None,
        responses={400: {"model": Problem, "description": "A body that cannot be decoded"},
                   422: {"model": Problem, "description": "Invalid input (every problem named)"}},
    )
    app.state.aerolake = state
    templates = Jinja2Templates(directory=str(TEMPLATES_DIR))

    if settings.cors_origins:
        from fastapi.middleware.cors import CORSMiddleware

        app.add_middleware(CORSMiddleware, allow_origins=list(settings.cors_origins), allow_methods=["GET", "POST"],
                           allow_headers=["Authorization", "Content-Type"], allow_credentials=False)

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

    async def blocking(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        return await run_in_threadpool(fn, *args, **kwargs)

    # ------------------------------------------------------------------ pages
    def page(name: str, request: Request, title: str) -> HTMLResponse:
        base = request.scope.get("root_path", "").rstrip("/")
        return templates.TemplateResponse(request, name, {"base": base, "title": title})

    @app.get("/", include_in_schema=False, response_class=HTMLResponse)
    def map_page(request: Request) -> HTMLResponse:
        return page("map.html", request, "Airport map")

    @app.get("/dashboard", include_in_schema=False, response_class=HTMLResponse)
    def dashboard_page(request: Request) -> HTMLResponse:
        return page("dashboard.html", request, "Flight dashboard")

    @app.get("/docs", include_in_schema=False)
    def docs(request: Request) -> HTMLResponse:
        base = request.scope.get("root_path", "").rstrip("/")
        return get_swagger_ui_html(openapi_url=f"{base}/openapi.json", title="aerolake API",
                                   swagger_js_url=f"{base}/static/vendor/swagger-ui/swagger-ui-bundle.js",
                                   swagger_css_url=f"{base}/static/vendor/swagger-ui/swagger-ui.css",
                                   swagger_favicon_url=f"{base}/static/vendor/swagger-ui/favicon-32x32.png")

    @app.get("/vendor/plotly.min.js", include_in_schema=False)
    def plotly_js() -> FileResponse:
        import plotly

        path = Path(plotly.__file__).resolve().parent / "package_data" / "plotly.min.js"
        return FileResponse(path, media_type="application/javascript",
                            headers={"Cache-Control": "public, max-age=86400"})

    app.mount("/static", StaticFiles(directory=str(STATIC_DIR)), name="static")

    # ------------------------------------------------------------------ health and status
    @app.get("/health", response_model=Health, responses={503: {"model": Health, "description": "a dependency is down"}})
    def health() -> JSONResponse:
        """Liveness plus each dependency's state and latency: 200 when all are up, 503 naming the failing ones."""
        checks = {
            "mysql": lambda: store.ping(state.mysql()),
            "mongodb": lambda: state.mongo().command("ping"),
            "s3": lambda: state.s3().head_bucket(Bucket=settings.base.bucket),
            "airflow_api": state.airflow.health,
        }
        results = run_checks(checks, settings.health_timeout_s)
        failing = sorted(name for name, result in results.items() if result["status"] != "up")
        body = Health(status="degraded" if failing else "ok", failing=failing, dependencies=results)
        return JSONResponse(body.model_dump(), status_code=503 if failing else 200)

    @app.get("/status", response_model=Status,
             responses={503: {"model": Problem, "description": "MySQL unreachable or not migrated"}})
    def status() -> Status:
        """Readiness and freshness: per table rows and newest update, per DAG its last run, stale ones flagged."""
        cfg = state.mysql()
        now = datetime.now(UTC).replace(tzinfo=None)
        limit = settings.stale_after_hours
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
        return Status(ready=True, checked_at=now, stale_after_hours=limit, stale=stale, tables=tables, dags=dags)

    # ------------------------------------------------------------------ airports
    @app.post("/closest_airport", response_model=ClosestAirportResponse,
              responses={503: {"model": Problem, "description": "no airports loaded yet, or MySQL unreachable"}})
    async def closest_airport(body: ClosestAirportRequest) -> ClosestAirportResponse:
        """The k nearest airports (great-circle distance in km), from an index refreshed when ``airports``
        changes; no table scan per request."""
        index = state.index
        snapshot = index.snapshot() if index.built else await blocking(index.snapshot)
        if snapshot.size == 0:
            raise HTTPException(503, "No airports with coordinates in MySQL yet: run a pipeline (make demo) first")
        if body.location_type is not None and body.location_type.lower() not in snapshot.by_type:
            known = ", ".join(snapshot.location_types) or "none"
            raise HTTPException(422, f"location_type: unknown location type {body.location_type!r} (known: {known})")
        found = snapshot.nearest(body.latitude, body.longitude, body.k, body.location_type)
        return ClosestAirportResponse(
            latitude=body.latitude, longitude=body.longitude, k=body.k, location_type=body.location_type,
            airports=[{**n.airport, "distance_km": round(n.distance_km, 4)} for n in found],
            index_size=snapshot.size, index_built_at=snapshot.built_at,
        )

    @app.get("/airports", response_model=AirportList)
    def airports(
        q: Annotated[str | None, Query(min_length=1, max_length=60, description="code, ICAO code or part of name")]
        = None,
        location_type: Annotated[str | None, Query(min_length=1, max_length=20)] = None,
        limit: Annotated[int, Query(ge=1, le=20000)] = 20000,
    ) -> AirportList:
        """Airports for the map (with coordinates), or a search by code or name when ``q`` is given."""
        cfg = state.mysql()
        if q is not None:
            rows = store.search_airports(cfg, q.strip(), min(limit, 100))
        else:
            rows = store.airports_for_map(cfg, location_type, limit)
        return AirportList(count=len(rows), airports=rows)

    @app.get("/airports/{code}", response_model=Airport,
             responses={404: {"model": Problem, "description": "no such airport"}})
    def airport(code: Annotated[str, Depends(_airport_path_code)]) -> dict[str, Any]:
        """One airport by IATA code (case-insensitive)."""
        row = store.airport(state.mysql(), code)
        if row is None:
            raise HTTPException(404, f"No airport with IATA code {code!r}")
        return row

    # ------------------------------------------------------------------ flights, positions, stats
    @app.get("/flights", response_model=FlightPage)
    def flights(
        airport: AirportCode | None = None,
        airline: AirlineCode | None = None,
        date_: Annotated[date | None, Query(alias="date", description="local departure date at the origin")] = None,
        status: Annotated[FlightStatus | None, Query()] = None,
        page: Annotated[int, Query(ge=1, le=100_000)] = 1,
        page_size: Annotated[int, Query(ge=1, le=500)] = 50,
    ) -> FlightPage:
        """Flights filtered by airport (departing or arriving), airline, date and status; paginated."""
        total, items = store.flights(state.mysql(), airport=airport.upper() if airport else None,
                                     airline=airline.upper() if airline else None, day=date_, status=status,
                                     page=page, page_size=page_size)
        return FlightPage(total=total, page=page, page_size=page_size, pages=math.ceil(total / page_size),
                          items=items)

    @app.get("/positions/latest", response_model=PositionList)
    def latest_positions(
        window_minutes: Annotated[int, Query(ge=1, le=1440, description="before the newest observation")] = 30,
        limit: Annotated[int, Query(ge=1, le=20000)] = 5000,
    ) -> PositionList:
        """The latest position of each aircraft seen in the last ``window_minutes`` of data."""
        newest, rows = store.latest_positions(state.mysql(), window_minutes, limit)
        return PositionList(newest_observed_at=newest, window_minutes=window_minutes, count=len(rows),
                            positions=rows)

    @app.get("/stats", response_model=Stats)
    def stats(
        days: Annotated[int, Query(ge=1, le=366, description="days up to date_to")] = 30,
        date_to: Annotated[date | None, Query(description="default: the newest departure date in flights")] = None,
        top: Annotated[int, Query(ge=1, le=50, description="airports/airlines in the delay charts")] = 15,
    ) -> Stats:
        """The dashboard's data: flights per day and status, delays by airport and airline, on-time rate,
        freshness per source."""
        cfg = state.mysql()
        end = date_to or store.flight_date_range(cfg)[1]
        freshness = _plain(store.source_freshness(cfg))
        if end is None:
            return Stats(date_from=None, date_to=None, per_day_and_status=[], delays_by_airport=[],
                         delays_by_airline=[], on_time=[], freshness=freshness)
        start = end - timedelta(days=min(days - 1, (end - date.min).days))  # a window starts no earlier than 1 AD
        data = {k: _plain(v) for k, v in store.flight_stats(cfg, start, end, top).items()}
        return Stats(date_from=start, date_to=end, freshness=freshness, **data)

    # ------------------------------------------------------------------ run_data_import
    bearer = HTTPBearer(auto_error=False, description="the AEROLAKE_API_TOKEN setting")

    def authorize_import(request: Request,
                         credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]) -> None:
        """Rate limit (every attempt counts, so tokens cannot be guessed quickly), then the token, in
        constant time. Runs before the body is validated."""
        client = request.client.host if request.client else "unknown"
        wait = state.import_limiter.hit(client)
        if wait is not None:
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

    @app.post("/run_data_import", response_model=RunDataImportResponse, status_code=201,
              dependencies=[Depends(authorize_import)],
              responses={401: {"model": Problem, "description": "no token"},
                         403: {"model": Problem, "description": "wrong token"},
                         404: {"model": Problem, "description": "Airflow does not know the DAG"},
                         409: {"model": Problem, "description": "the run exists already"},
                         429: {"model": Problem, "description": "rate limited"},
                         502: {"model": Problem, "description": "Airflow refused or failed"},
                         503: {"model": Problem, "description": "disabled, or Airflow unreachable"}})
    def run_data_import(body: RunDataImportRequest) -> RunDataImportResponse:
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

    return app


def _airport_path_code(code: str) -> str:
    """The path's airport code, upper-cased; 422 unless it is three letters."""
    if len(code) != 3 or not code.isascii() or not code.isalpha():
        raise RequestValidationError([{"loc": ("path", "code"), "type": "string_pattern_mismatch",
                                       "msg": "must be a three-letter IATA airport code"}])
    return code.upper()
