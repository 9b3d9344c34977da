"""What the pipeline asks of a source: its :class:`SourceSpec` (data) and the :class:`Source` protocol (pure
functions and a client), in the order the stages use them. ``tests/unit/test_architecture.py`` checks every
source against both.

A source is a package ``aerolake.sources.<name>``:

``spec.py``
    the :class:`SourceSpec`: its endpoints, which of them are references, what it publishes, its checks;
``plan.py``
    which requests fetch one partition, and whether the live API can still serve it;
``client.py``
    the HTTP client (auth, paging, the API's error answers) and the records of one answer;
``normalize.py``
    natural keys, and the normalizers: Mongo documents -> rows of the MySQL model, or rejects with a reason.

It never imports the pipeline: the clean stage hands its normalizer a :class:`CleanRun`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from types import ModuleType
from typing import Any, NamedTuple, Protocol, runtime_checkable

from aerolake.cleaning import Rejects
from aerolake.core.connections import Api
from aerolake.core.settings import Budget, Settings
from aerolake.stores.lake import Partition
from aerolake.stores.mysql.merge import Authority


class Publication(NamedTuple):
    """One clean-zone entity that ``load_to_mysql`` merges into a table."""

    entity: str  # the clean zone's ``entity=``
    table: str  # the MySQL table
    endpoint: str  # the ``pipeline_runs`` endpoint its loaded rows count under
    fill_only: bool  # insert rows MySQL lacks, never update (gap fills, thin references)


@dataclass(frozen=True)
class SourceSpec:
    """What a source fetches and publishes: the one home of these facts (the stages, the DAG's Assets and
    the web API read them here)."""

    name: str  # the lake's ``source=``, MongoDB's collection prefix, ``flights.source``
    api: Api  # its connection id, auth, offline mock path and pace
    endpoints: tuple[str, ...]  # of one partition, in fetch order (the lake's ``endpoint=``)
    #: ``(endpoint, entity)``: references the clean stage cleans first, whole, deduplicated on the table's key
    references: tuple[tuple[str, str], ...]
    publish: tuple[Publication, ...]  # in foreign-key order
    quality: tuple[Any, ...]  # :class:`aerolake.stores.mysql.quality.Check`, run after the load
    #: how its flight times rank against the other sources' when they merge into one ``flights`` row
    authority: Authority
    #: the API plan's request limits (``AEROLAKE_<NAME>_BUDGET_PER_DAY`` / ``_PER_MONTH`` override them)
    budget: Budget = field(default_factory=Budget)
    #: the airports whose traffic it follows (``AEROLAKE_<NAME>_HUBS`` overrides them)
    hubs: tuple[str, ...] = ("FRA", "MUC")

    def table_of(self, entity: str) -> str:
        """The MySQL table of clean-zone ``entity``."""
        for publication in self.publish:
            if publication.entity == entity:
                return publication.table
        raise KeyError(f"{self.name} publishes no entity {entity!r}")

    def endpoint_of(self, entity: str) -> str:
        """The ``pipeline_runs`` endpoint clean-zone ``entity``'s rows count under."""
        for publication in self.publish:
            if publication.entity == entity:
                return publication.endpoint
        raise KeyError(f"{self.name} publishes no entity {entity!r}")

    @property
    def tables(self) -> tuple[str, ...]:
        """The tables it writes, each once, in foreign-key order (the DAG's Assets)."""
        return tuple(dict.fromkeys(p.table for p in self.publish))


class CleanRun(Protocol):
    """The clean stage of one partition as a source's normalizer sees it (:mod:`aerolake.pipeline.clean`)."""

    partition: Partition
    #: cleaned reference rows by entity (a pandas frame each), once the reference step is done
    references: dict[str, Any]
    #: when the filled countries were observed (default: the partition's countries, else its airport fills)
    fill_time: Any

    def documents(self, endpoint: str) -> list[dict[str, Any]]:
        """Every staged document of ``endpoint``, in staging order."""

    def chunks(self, endpoint: str) -> Iterator[list[dict[str, Any]]]:
        """The staged documents in chunks (bounded memory)."""

    def projected(self, endpoint: str, paths: Any) -> Iterator[Any]:
        """The staged documents flattened to ``paths`` (:class:`aerolake.projection.FieldPaths`), as Arrow
        tables of text, one per chunk (MongoDB does the projection)."""

    def documents_by_id(self, endpoint: str, ids: Iterable[Any]) -> dict[Any, dict[str, Any]]:
        """Whole documents by ``_id`` (a rejected row goes to quarantine whole)."""

    def airport_zone(self, code: str, updated_at: Any) -> tuple[bool, str | None]:
        """(known, IANA zone) of airport ``code``: from the references, else filled from the gazetteer
        (the fill is published, stamped ``updated_at``); unknown to both -> ``(False, None)``."""

    def zones(self) -> dict[str, str | None]:
        """Every airport known so far and its zone (None: known without a zone)."""

    def rejects(self, endpoint: str) -> Rejects:
        """Where the records of ``endpoint`` refused at cleaning go (quarantine)."""

    def write(self, entity: str, frame: Any) -> None:
        """Append rows to ``entity``'s clean-zone object (call again for the next chunk). A frame may carry
        :data:`aerolake.schema.DOC_ID` (each row's document ``_id``; :func:`aerolake.cleaning.audit` adds it): a
        row the contract's plausibility rules refuse is then quarantined as that document."""

    def written(self, entity: str) -> int:
        """The rows of ``entity`` given to :meth:`write` so far."""

    def count(self, endpoint: str, cleaned: int, duplicates: int = 0) -> None:
        """Record ``endpoint``'s result: the rows it gave to :meth:`write` and the duplicates it dropped. Its
        quarantine is the rows given to :meth:`rejects` plus those the plausibility rules refused, which the
        skeleton also takes off ``cleaned``."""

    def fill(self, endpoint: str, entity: str, frame: Any) -> None:
        """Write gap-filling rows of ``entity``, counted under ``endpoint`` (``cleaned`` only)."""


@runtime_checkable
class Source(Protocol):
    SPEC: SourceSpec

    # -- extract_to_s3
    def partition_plan(self, partition: Partition, settings: Settings) -> dict[str, list[Any]]:
        """The requests that fetch one partition, per endpoint."""

    def servable(self, partition: Partition, now: datetime) -> str | None:
        """Why the API cannot serve ``partition`` at ``now`` (a live API asked for the past), or None."""

    def make_client(self, settings: Settings, before_request: Callable[[], None] | None = None) -> Any:
        """A client with ``.http``, ``.public_base_url`` and ``iter_pages(path, params, page_size, extract)``;
        ``before_request`` runs before every request (the budget's charge)."""

    def cannot_serve_hint(self, partition: Partition) -> str:
        """What to tell the user when the API refuses the partition and the lake has nothing to replay."""

    # -- load_to_mongo
    def extract_records(self, endpoint: str, payload: Any) -> tuple[list[dict], int | None]:
        """The records of one parsed page, and the total the API announces (or None)."""

    def natural_key(self, endpoint: str, record: dict[str, Any]) -> str | None:
        """The record's key within its partition, or None (it is then quarantined)."""

    def missing_key_reason(self, endpoint: str, record: dict[str, Any]) -> str:
        """Why the record has no key."""

    # -- clean
    def clean_reference(self, endpoint: str, docs: Iterable[dict[str, Any]], rejects: Rejects
                        ) -> list[dict[str, Any]]:
        """Rows of one reference endpoint (:attr:`SourceSpec.references`); refused documents to ``rejects``."""

    def clean_observations(self, run: CleanRun) -> None:
        """Clean every other endpoint (flights, schedules, positions) once the references are done: write its
        entities and count each endpoint with :class:`CleanRun`."""


class SourcePackage:
    """A source package as one :class:`Source`: the ``SPEC`` of its ``spec`` module and the functions of its
    ``plan``, ``client`` and ``normalize`` modules (the registry, :func:`aerolake.sources.source`, builds it)."""

    def __init__(self, spec: ModuleType, plan: ModuleType, client: ModuleType, normalize: ModuleType):
        self.SPEC: SourceSpec = spec.SPEC
        self.partition_plan, self.servable = plan.partition_plan, plan.servable
        self.cannot_serve_hint = plan.cannot_serve_hint
        self.make_client, self.extract_records = client.make_client, client.extract_records
        self.natural_key, self.missing_key_reason = normalize.natural_key, normalize.missing_key_reason
        self.clean_reference, self.clean_observations = normalize.clean_reference, normalize.clean_observations

    def __repr__(self) -> str:
        return f"<source {self.SPEC.name}>"
