"""Request and response models: the OpenAPI schema the app publishes, and the validation of every input."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator
from pydantic_core import PydanticCustomError

from aerolake.api.config import PROJECT_DAG_IDS
from aerolake.schema import FLIGHT_STATUSES


def _as_utc(value: datetime) -> datetime:
    """MySQL DATETIMEs are UTC by contract: mark them so (RFC 3339 ``...Z`` in JSON, as OpenAPI wants)."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


UtcDatetime = Annotated[datetime, AfterValidator(_as_utc)]


def not_blank(absent: str) -> AfterValidator:
    """A free-text input stripped of surrounding whitespace; blank or whitespace only is a 422 saying what
    leaving the input out does instead (``absent``), never a search for nothing that matches everything."""

    def check(value: str | None) -> str | None:
        if value is None:
            return None
        stripped = value.strip()
        if not stripped:
            raise PydanticCustomError("string_blank", "must not be blank or whitespace only (leave it out {absent})",
                                      {"absent": absent})
        return stripped

    return AfterValidator(check)


#: the OpenAPI side of :func:`not_blank`: at least one character that is not whitespace
NOT_BLANK_PATTERN = {"pattern": r"\S"}
Latitude = Annotated[float, Field(strict=True, ge=-90, le=90, allow_inf_nan=False,
                                  description="degrees north, -90..90", examples=[48.8566])]
Longitude = Annotated[float, Field(strict=True, ge=-180, le=180, allow_inf_nan=False,
                                   description="degrees east, -180..180", examples=[2.3522])]
MAX_K = 50
FlightStatus = Literal[FLIGHT_STATUSES]  # type: ignore[valid-type]
ProjectDagId = Literal[PROJECT_DAG_IDS]  # one DAG per source package: <name>_lakehouse


class ClosestAirportRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    latitude: Latitude
    longitude: Longitude
    k: Annotated[int, Field(strict=True, ge=1, le=MAX_K, description=f"how many airports, 1..{MAX_K}")] = 1
    location_type: Annotated[str | None, Field(max_length=20, examples=["Airport"],
                                               json_schema_extra=NOT_BLANK_PATTERN,
                                               description="only airports of this type (case-insensitive)"),
                             not_blank("for airports of any type")] = None


class NearbyAirport(BaseModel):
    airport_code: str
    icao_code: str | None
    name: str | None
    city_code: str | None
    country_code: str | None
    latitude: float
    longitude: float
    timezone: str | None
    location_type: str | None
    distance_km: float = Field(description="great-circle distance (haversine, mean Earth radius 6371.0088 km)")


class ClosestAirportResponse(BaseModel):
    latitude: float
    longitude: float
    k: int
    location_type: str | None
    airports: list[NearbyAirport]
    index_size: int = Field(description="airports in the index the answer comes from")
    index_built_at: UtcDatetime


class Airport(BaseModel):
    airport_code: str
    icao_code: str | None
    name: str | None
    city_code: str | None
    city_name: str | None = None
    country_code: str | None
    country_name: str | None = None
    latitude: float | None
    longitude: float | None
    timezone: str | None
    location_type: str | None
    source: str | None = None
    updated_at: UtcDatetime | None = None


class AirportBrief(BaseModel):
    airport_code: str
    name: str | None
    country_code: str | None
    latitude: float | None
    longitude: float | None
    location_type: str | None


class AirportList(BaseModel):
    count: int
    airports: list[AirportBrief]


class Flight(BaseModel):
    """One flight, identified by its natural key (airline_code, flight_number, departure_date, dep_airport);
    MySQL's surrogate id is not part of the API."""

    airline_code: str
    flight_number: str
    departure_date: date
    dep_airport: str
    arr_airport: str
    operating_airline_code: str | None
    operating_flight_number: str | None
    scheduled_departure: UtcDatetime
    estimated_departure: UtcDatetime | None
    actual_departure: UtcDatetime | None
    scheduled_arrival: UtcDatetime | None
    estimated_arrival: UtcDatetime | None
    actual_arrival: UtcDatetime | None
    dep_terminal: str | None
    dep_gate: str | None
    arr_terminal: str | None
    arr_gate: str | None
    status: str
    dep_delay_min: int | None
    arr_delay_min: int | None
    aircraft_code: str | None
    registration: str | None
    source: str
    updated_at: UtcDatetime


class FlightPage(BaseModel):
    departure_date: date | None = Field(description="the local departure date the page is of (None: no flights)")
    total: int
    page: int
    page_size: int
    pages: int
    items: list[Flight]


class Position(BaseModel):
    icao24: str
    observed_at: UtcDatetime
    latitude: float
    longitude: float
    altitude_m: float | None
    heading: float | None
    speed_kmh: float | None
    on_ground: bool | None
    airline_code: str | None
    flight_number: str | None
    dep_airport: str | None
    arr_airport: str | None
    registration: str | None
    aircraft_code: str | None
    source: str


class PositionList(BaseModel):
    newest_observed_at: UtcDatetime | None
    window_minutes: int
    count: int
    positions: list[Position]


class DependencyState(BaseModel):
    status: Literal["up", "down"]
    latency_ms: float
    error: str | None = None


class Health(BaseModel):
    status: Literal["ok", "degraded"]
    failing: list[str]
    dependencies: dict[str, DependencyState]


class TableStatus(BaseModel):
    table: str
    exists: bool
    rows: int = Field(description="the data tables' as counted by the loads (exact as of the last commit, for rows "
                                  "the pipeline wrote); the operational tables' as InnoDB estimates them")
    rows_exact: bool
    newest: UtcDatetime | None
    age_hours: float | None
    stale: bool


class DagStatus(BaseModel):
    dag_id: str
    run_id: str
    partition_key: str
    state: str = Field(description="failed/running/... if any endpoint says so, else success")
    last_stage: str = Field(description="the earliest stage any endpoint of the run last finished")
    started_at: UtcDatetime
    finished_at: UtcDatetime | None
    age_hours: float | None
    stale: bool
    endpoints: int
    counts: dict[str, int]


class BudgetPeriod(BaseModel):
    start: date
    used: int
    limit: int | None = Field(description="the plan's limit (None: none)")
    left: int | None
    pace_allows: int | None = Field(None, description="calls the pace allows the period to have used by now")


class BudgetStatus(BaseModel):
    source: str
    periods: dict[str, BudgetPeriod] = Field(description="'day' and 'month'")
    schedule: str | None = Field(description="the cron schedule of its scheduled runs, as the last one saw it")
    calls_per_run: int | None
    next_call: str | None = Field(description="the next scheduled run the pace pays (UTC), if no other call is made")


class Status(BaseModel):
    ready: bool
    checked_at: UtcDatetime
    stale_after_hours: float
    stale: list[str] = Field(description="tables and DAGs whose newest data is older than stale_after_hours")
    tables: list[TableStatus]
    dags: list[DagStatus]
    budgets: list[BudgetStatus] = Field(default_factory=list, description="each budgeted source's API budget")


class Stats(BaseModel):
    date_from: date | None
    date_to: date | None
    per_day_and_status: list[dict[str, Any]]
    delays_by_airport: list[dict[str, Any]]
    delays_by_airline: list[dict[str, Any]]
    on_time: list[dict[str, Any]]
    freshness: list[dict[str, Any]]


class RunDataImportRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    dag_id: ProjectDagId = Field(description="one of the project's DAGs")
    logical_date: UtcDatetime | None = Field(
        default=None, description="ISO date or date-time (UTC if no offset); default: now, like the Airflow UI")
    conf: dict[str, Any] | None = Field(default=None, description="the run's conf, e.g. {\"refetch\": true}")

    @field_validator("conf")
    @classmethod
    def _small_conf(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        import json

        if value is not None and len(json.dumps(value, default=str)) > 10_000:
            raise ValueError("conf must serialize to at most 10,000 characters of JSON")
        return value


class RunDataImportResponse(BaseModel):
    dag_id: str
    dag_run_id: str
    logical_date: str | None
    state: str | None


class Problem(BaseModel):
    """Every error answer: a human-readable ``detail``; validation errors add ``errors``."""

    detail: str
    errors: list[dict[str, Any]] | None = None
