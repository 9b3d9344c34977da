"""The clean stage's one skeleton, the same for every source:

1. **references**: each endpoint of ``SPEC.references`` cleaned whole by the source's ``clean_reference``,
   deduplicated on its table's key (the first listed wins) and written;
2. **gap fill**: the airports those references know, with their time zones (a zone they lack is taken
   from the ``airportsdata`` gazetteer);
3. **observations**: the source's ``clean_observations`` cleans the rest (flights, schedules, positions)
   against those airports through a :class:`PartitionClean`; an airport the references lack is filled
   from the gazetteer as it is met;
4. **fills**: the filled airports (``airports_fill``) and the countries referenced but not listed
   (``countries_fill``, ISO 3166), for the sources that publish them;
5. **clean zone**: every entity the source publishes is written, an empty one too (the load then sees "no
   rows", not "no file"); one the source failed to produce is a bug, and fails the task;
6. **quarantine and counts**: each endpoint's rejects replace its earlier quarantine; the counts go to
   ``pipeline_runs``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from typing import Any

from aerolake.cleaning import Rejects
from aerolake.gapfill import airport_from_gazetteer, country_rows, gazetteer_timezone
from aerolake.gapfill import frame as frame_of
from aerolake.schema import TABLES
from aerolake.sources.base import Source, SourceSpec
from aerolake.stores import mongo
from aerolake.stores.lake import CleanZoneWriter
from aerolake.stores.quarantine import replace_quarantine

log = logging.getLogger(__name__)

AIRPORTS_FILL, COUNTRIES_FILL = "airports_fill", "countries_fill"


class PartitionClean:
    """One partition's clean stage: the :class:`aerolake.sources.base.CleanRun` a source's normalizer gets."""

    def __init__(self, ctx: Any, spec: SourceSpec):
        self.ctx, self.spec = ctx, spec
        self.partition = ctx.partition
        self.references: dict[str, Any] = {}
        self.fill_time: Any = None
        self.counts: dict[str, dict[str, int]] = {}
        self._zones: dict[str, str | None] = {}
        self._airport_fills: dict[str, dict[str, Any]] = {}
        self._rejects: dict[str, Rejects] = {}
        self._writers: dict[str, CleanZoneWriter] = {}

    # -- reads
    def documents(self, endpoint: str) -> list[dict[str, Any]]:
        return [doc for chunk in mongo.iter_documents(self.ctx, endpoint) for doc in chunk]

    def chunks(self, endpoint: str) -> Iterator[list[dict[str, Any]]]:
        return mongo.iter_documents(self.ctx, endpoint)

    def projected(self, endpoint: str, paths: Any) -> Iterator[Any]:
        return mongo.iter_projected(self.ctx, endpoint, paths)

    def documents_by_id(self, endpoint: str, ids: Iterable[Any]) -> dict[Any, dict[str, Any]]:
        return mongo.documents_by_id(self.ctx, endpoint, list(ids))

    # -- airports
    def know_airports(self, airports: Any) -> None:
        """The references' airports and their zones; a zone they lack is the gazetteer's."""
        for code, zone in zip(airports["airport_code"], airports["timezone"], strict=True):
            self._zones[code] = zone if zone is not None else gazetteer_timezone(code)

    def airport_zone(self, code: str, updated_at: Any) -> tuple[bool, str | None]:
        if code in self._zones:
            return True, self._zones[code]
        row = airport_from_gazetteer(code, updated_at)
        if row is None:
            return False, None
        self._airport_fills[code] = row
        self._zones[code] = row["timezone"]
        return True, row["timezone"]

    def zones(self) -> dict[str, str | None]:
        return self._zones

    @property
    def airport_fills(self) -> list[dict[str, Any]]:
        """The airports filled from the gazetteer so far, in the order they were met."""
        return list(self._airport_fills.values())

    # -- results
    def rejects(self, endpoint: str) -> Rejects:
        return self._rejects.setdefault(endpoint, Rejects())

    def write(self, entity: str, frame: Any) -> None:
        writer = self._writers.get(entity)
        if writer is None:
            writer = self._writers[entity] = CleanZoneWriter(self.ctx, entity, self.spec.table_of(entity))
        if len(frame):
            writer.write(frame)

    def written(self, entity: str) -> int:
        writer = self._writers.get(entity)
        return writer.rows if writer else 0

    def count(self, endpoint: str, cleaned: int, duplicates: int = 0) -> None:
        self.counts[endpoint] = {"cleaned": cleaned, "quarantined_at_cleaning": len(self.rejects(endpoint)),
                                 "duplicates_at_cleaning": duplicates}

    def fill(self, endpoint: str, entity: str, frame: Any) -> None:
        self.write(entity, frame)
        self.counts[endpoint] = {"cleaned": len(frame)}

    # -- the steps the skeleton owns
    def clean_references(self, source: Source) -> None:
        for endpoint, entity in self.spec.references:
            rejects = self.rejects(endpoint)
            table = TABLES[self.spec.table_of(entity)]
            rows = [row for docs in self.chunks(endpoint) for row in source.clean_reference(endpoint, docs, rejects)]
            frame = frame_of(rows, table.name)
            unique = frame.drop_duplicates(subset=list(table.key), keep="first")
            self.references[entity] = unique
            self.write(entity, unique)
            self.count(endpoint, len(unique), len(frame) - len(unique))
        if "airports" in self.references:
            self.know_airports(self.references["airports"])

    def publish_fills(self) -> None:
        entities = {p.entity for p in self.spec.publish}
        fills = frame_of(self.airport_fills, "airports")
        if AIRPORTS_FILL in entities:
            self.fill(AIRPORTS_FILL, AIRPORTS_FILL, fills)
        if COUNTRIES_FILL in entities:
            referenced: set[str] = set()
            for frame in (self.references.get("cities"), self.references.get("airports"), fills):
                if frame is not None:
                    referenced |= set(frame["country_code"].dropna())
            listed = self.references.get("countries")
            known = listed["country_code"] if listed is not None else ()
            fill_time = self.fill_time
            if fill_time is None:
                fill_time = (listed["updated_at"].max() if listed is not None and len(listed) else None) \
                    or fills["updated_at"].max()
            self.fill(COUNTRIES_FILL, COUNTRIES_FILL, frame_of(country_rows(referenced, known, fill_time), "countries"))

    def close(self) -> None:
        """Upload every entity; one the source publishes but did not produce is a bug, not an empty table."""
        missing = [p.entity for p in self.spec.publish if p.entity not in self._writers]
        if missing:
            raise RuntimeError(f"{self.spec.name}: the clean stage produced no {', '.join(missing)}, which the source "
                               "publishes; its clean_observations must write every entity, an empty one too")
        for writer in self._writers.values():
            writer.close()
        for endpoint, rejects in self._rejects.items():
            replace_quarantine(self.ctx.s3, self.ctx.bucket, self.ctx.mongo, self.partition, endpoint, "clean",
                               rejects.items)


def clean_partition(ctx: Any, source: Source, run: PartitionClean | None = None) -> dict[str, dict[str, int]]:
    """Clean the partition's staged documents into the clean zone (the steps of this module's docstring);
    ``run`` replaces the :class:`PartitionClean` (the benchmark serves its reads from memory)."""
    run = run or PartitionClean(ctx, source.SPEC)
    run.clean_references(source)
    source.clean_observations(run)
    run.publish_fills()
    run.close()
    for endpoint, c in run.counts.items():
        log.info("%s/%s %s: cleaned %d, quarantined %d, duplicates %d", run.spec.name, endpoint, run.partition.key,
                 c["cleaned"], c.get("quarantined_at_cleaning", 0), c.get("duplicates_at_cleaning", 0))
    return run.counts
