"""What the pipeline asks of a source: the :class:`Source` protocol every module of this package implements
(``tests/unit/test_architecture.py`` checks each against it), in the order the stages use it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

from aerolake.lake import Partition
from aerolake.settings import Settings

#: ``(clean-zone entity, MySQL table, pipeline_runs endpoint, fill gaps only)``, in foreign-key order
Publication = tuple[str, str, str, bool]


@runtime_checkable
class Source(Protocol):
    #: the lake's ``source=`` and Mongo's collection prefix
    SOURCE: str
    #: the endpoints of one partition, in order (the lake's ``endpoint=``, Mongo's collection suffix)
    ENDPOINTS: tuple[str, ...]
    #: what ``load_to_mysql`` publishes, in foreign-key order
    PUBLISH: tuple[Publication, ...]
    #: the :class:`aerolake.quality.Check` list run after the load
    QUALITY: list[Any]

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
    def clean_partition(self, ctx: Any) -> dict[str, dict[str, int]]:
        """Clean the partition's Mongo documents into the clean zone; counts per endpoint."""
