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

Two guards of the skeleton hold for every source, whatever its normalizer does:

* **plausibility**: every row written is checked against the table contract's rules (:mod:`aerolake.plausibility`);
  a row that breaks one is not written but quarantined (as the staged document it came from, when the frame
  carries its :data:`aerolake.schema.DOC_ID`) with the rule's name, and so are the codeshares of a refused
  flight (the table's foreign key);
* **a bad record costs at most itself**: a record the source's normalizer raises on (a case it did not foresee)
  is found by bisection over the partition's documents and quarantined with the error; the others are cleaned
  as if it had never been there. An error that no record causes (it comes back with none, or is not
  reproducible) is the stage's failure, not a record's.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from datetime import date
from typing import Any

from aerolake.cleaning import Rejects
from aerolake.core.errors import PermanentError
from aerolake.gapfill import airport_from_gazetteer, country_rows, gazetteer_timezone
from aerolake.plausibility import violations
from aerolake.schema import DOC_ID, FLIGHT_CODESHARES, FLIGHTS, TABLES, table_frame
from aerolake.sources.base import Source, SourceSpec
from aerolake.stores import mongo
from aerolake.stores.lake import CleanZoneWriter
from aerolake.stores.quarantine import replace_quarantine

log = logging.getLogger(__name__)

AIRPORTS_FILL, COUNTRIES_FILL = "airports_fill", "countries_fill"
#: records a normalizer's failure may be blamed on; more, and it is the normalizer's failure, not theirs
MAX_CULPRITS = 100
_CODESHARE_OPERATOR = ("airline_code", "flight_number", "departure_date", "dep_airport")


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
        self._given: dict[str, int] = {}  # rows of each entity given to write
        self._reported: dict[str, tuple[int, int | None]] = {}  # endpoint -> (cleaned, duplicates) as reported
        self._refused: dict[str, list[tuple[str, Any]]] = {}  # endpoint -> (reason, document id or row)
        self._refused_flights: dict[tuple[Any, ...], str] = {}  # flight key -> the rule it broke
        self._excluded: frozenset[Any] = frozenset()  # documents the normalizer never sees (culprits)
        self._only: frozenset[Any] | None = None  # a probe sees only these documents
        self._day = date.fromisoformat(self.partition.dt)

    # -- reads
    def _visible(self, docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
        if self._only is not None:
            return [doc for doc in docs if doc["_id"] in self._only]
        if self._excluded:
            return [doc for doc in docs if doc["_id"] not in self._excluded]
        return docs

    def documents(self, endpoint: str) -> list[dict[str, Any]]:
        return [doc for chunk in self.chunks(endpoint) for doc in chunk]

    def chunks(self, endpoint: str) -> Iterator[list[dict[str, Any]]]:
        for chunk in mongo.iter_documents(self.ctx, endpoint):
            yield self._visible(chunk)

    def projected(self, endpoint: str, paths: Any) -> Iterator[Any]:
        for table in mongo.iter_projected(self.ctx, endpoint, paths):
            if self._only is None and not self._excluded:
                yield table
                continue
            import pyarrow as pa
            import pyarrow.compute as pc

            ids = pa.array(list(self._only if self._only is not None else self._excluded), pa.string())
            member = pc.is_in(table.column("_id"), value_set=ids)
            yield table.filter(member if self._only is not None else pc.invert(member))

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
        """Append ``frame``'s plausible rows to ``entity``'s clean-zone object; the others are refused (they go
        to quarantine at :meth:`close`, counted under the entity's endpoint)."""
        table = TABLES[self.spec.table_of(entity)]
        writer = self._writers.get(entity)
        if writer is None:
            writer = self._writers[entity] = CleanZoneWriter(self.ctx, entity, table.name)
        self._given[entity] = self._given.get(entity, 0) + len(frame)
        if len(frame):
            frame = self._plausible(entity, table, frame)
        if len(frame):
            writer.write(frame)

    def _plausible(self, entity: str, table: Any, frame: Any) -> Any:
        reason = violations(frame, table, self._day)
        if table.name == FLIGHT_CODESHARES.name and self._refused_flights:
            operators = list(frame[list(_CODESHARE_OPERATOR)].itertuples(index=False, name=None))
            for index, operator in zip(frame.index, operators, strict=True):
                rule = self._refused_flights.get(_flight_key(operator))
                if rule is not None and reason.isna()[index]:
                    reason[index] = f"{rule.split(':')[0]}: its operating flight was refused ({rule})"
        bad = reason.notna()
        if not bad.any():
            return frame
        refused = self._refused.setdefault(self.spec.endpoint_of(entity), [])
        ids = frame[DOC_ID] if DOC_ID in frame.columns else None
        for index in frame.index[bad.to_numpy()]:
            doc_id = ids[index] if ids is not None else None
            refused.append((reason[index], doc_id if doc_id is not None else _row_record(frame.loc[index])))
        if table.name == FLIGHTS.name:
            for key, text in zip(frame.loc[bad, list(table.key)].itertuples(index=False, name=None),
                                 reason[bad], strict=True):
                self._refused_flights[_flight_key(key)] = text
        log.warning("%s %s: %d %s row(s) refused by the plausibility rules, e.g. %s", self.spec.name,
                    self.partition.key, int(bad.sum()), entity, reason[bad].iloc[0])
        return frame[~bad]

    def written(self, entity: str) -> int:
        """The rows of ``entity`` given to :meth:`write` so far (refused ones included: they count as
        cleaned until the skeleton moves them to quarantine)."""
        return self._given.get(entity, 0)

    def count(self, endpoint: str, cleaned: int, duplicates: int = 0) -> None:
        self._reported[endpoint] = (cleaned, duplicates)

    def fill(self, endpoint: str, entity: str, frame: Any) -> None:
        self.write(entity, frame)
        self._reported[endpoint] = (len(frame), None)

    # -- the steps the skeleton owns
    def clean_references(self, source: Source) -> None:
        for endpoint, entity in self.spec.references:
            rejects = self.rejects(endpoint)
            table = TABLES[self.spec.table_of(entity)]
            rows = [row for docs in self.chunks(endpoint) for row in _clean_reference(source, endpoint, docs, rejects)]
            frame = table_frame(rows, table.name)
            unique = frame.drop_duplicates(subset=list(table.key), keep="first")
            self.references[entity] = unique
            self.write(entity, unique)
            self.count(endpoint, len(unique), len(frame) - len(unique))
        if "airports" in self.references:
            self.know_airports(self.references["airports"])

    def clean_observations(self, source: Source) -> None:
        """The source's ``clean_observations``; a record it raises on is found and quarantined, and the rest is
        cleaned without it (this module's docstring)."""
        before = (set(self._writers), set(self._rejects), set(self._reported), set(self._refused))
        try:
            source.clean_observations(self)
            return
        except Exception as exc:
            if not _may_be_a_records_fault(exc):
                raise
            failure = exc
        log.warning("%s %s: the normalizer failed (%s: %s); looking for the record(s) that make it fail",
                    self.spec.name, self.partition.key, type(failure).__name__, failure)
        culprits = self._culprits(source, failure)
        self._forget_observations(*before)
        self._excluded = frozenset(culprits)
        for endpoint, doc in culprits.values():
            self.rejects(endpoint).add(f"the {self.spec.name} normalizer failed on this record: "
                                       f"{type(failure).__name__}: {str(failure)[:300]}", doc, doc.get("_key"),
                                       doc.get("_lake"))
        log.warning("%s %s: %d record(s) quarantined for the normalizer's failure; cleaning the rest",
                    self.spec.name, self.partition.key, len(culprits))
        source.clean_observations(self)

    def _observation_endpoints(self) -> list[str]:
        references = {endpoint for endpoint, _entity in self.spec.references}
        return [endpoint for endpoint in self.spec.endpoints if endpoint not in references]

    def _culprits(self, source: Source, failure: BaseException) -> dict[Any, tuple[str, dict[str, Any]]]:
        """The documents (``_id`` -> (endpoint, document)) without which the normalizer no longer fails; the
        original ``failure`` if there is no such small set."""
        docs = {doc["_id"]: (endpoint, doc) for endpoint in self._observation_endpoints()
                for chunk in mongo.iter_documents(self.ctx, endpoint) for doc in chunk}
        fails = _Probe(self, source).fails
        if fails(()) or not fails(tuple(docs)):
            raise failure  # not a record's fault: it fails without any, or does not fail again
        found: list[Any] = []

        def search(ids: tuple[Any, ...]) -> None:
            if len(found) > MAX_CULPRITS:
                return
            if len(ids) == 1:
                found.append(ids[0])
                return
            half = len(ids) // 2
            parts = [part for part in (ids[:half], ids[half:]) if fails(part)]
            if not parts:  # only the two halves together fail: blame them all (within the limit)
                found.extend(ids)
            for part in parts:
                search(part)

        search(tuple(docs))
        if len(found) > MAX_CULPRITS:
            raise RuntimeError(f"{self.spec.name} {self.partition.key}: the normalizer fails on more than "
                               f"{MAX_CULPRITS} records; that is its failure, not theirs") from failure
        return {doc_id: docs[doc_id] for doc_id in found}

    def _forget_observations(self, writers: set[str], rejects: set[str], reported: set[str],
                             refused: set[str]) -> None:
        """Drop what a failed ``clean_observations`` wrote, keeping the references' results."""
        for entity in set(self._writers) - writers:
            self._writers.pop(entity).discard()
            self._given.pop(entity, None)
        for name, kept in ((self._rejects, rejects), (self._reported, reported), (self._refused, refused)):
            for key in set(name) - kept:
                del name[key]
        self._refused_flights.clear()

    def publish_fills(self) -> None:
        entities = {p.entity for p in self.spec.publish}
        fills = table_frame(self.airport_fills, "airports")
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
            if fill_time is None:  # when the partition's countries were listed, else its other references'
                times = [frame["updated_at"].max() for frame in (listed, self.references.get("cities"),
                                                                 self.references.get("airports"), fills)
                         if frame is not None and len(frame)]
                fill_time = next((time for time in times if time is not None and time == time), None)
            self.fill(COUNTRIES_FILL, COUNTRIES_FILL,
                      table_frame(country_rows(referenced, known, fill_time), "countries"))

    def close(self) -> None:
        """Quarantine the refused rows, settle the counts and upload every entity; one the source publishes but
        did not produce is a bug, not an empty table."""
        missing = [p.entity for p in self.spec.publish if p.entity not in self._writers]
        if missing:
            raise RuntimeError(f"{self.spec.name}: the clean stage produced no {', '.join(missing)}, which the source "
                               "publishes; its clean_observations must write every entity, an empty one too")
        self._quarantine_refused()
        for endpoint, (cleaned, duplicates) in self._reported.items():
            held = len(self._refused.get(endpoint, ()))
            counts = {"cleaned": cleaned - held}
            if duplicates is not None:
                counts.update(quarantined_at_cleaning=len(self.rejects(endpoint)), duplicates_at_cleaning=duplicates)
            self.counts[endpoint] = counts
        for writer in self._writers.values():
            writer.close()
        for endpoint, rejects in self._rejects.items():
            replace_quarantine(self.ctx.s3, self.ctx.bucket, self.ctx.mongo, self.partition, endpoint, "clean",
                               rejects.items)

    def _quarantine_refused(self) -> None:
        """The refused rows into their endpoint's rejects, as the documents they were cleaned from."""
        for endpoint, refused in self._refused.items():
            rejects = self.rejects(endpoint)
            ids = [item for _reason, item in refused if not isinstance(item, dict)]
            docs: dict[Any, dict[str, Any]] = {}
            for collection in dict.fromkeys((endpoint, *self.spec.endpoints)):  # its own endpoint's first
                wanted = [doc_id for doc_id in ids if doc_id not in docs]
                if wanted and collection in self.spec.endpoints:
                    docs.update(self.documents_by_id(collection, wanted))
            for reason, item in refused:
                doc = item if isinstance(item, dict) else docs.get(item)
                if doc is None:
                    raise RuntimeError(f"{self.spec.name} {self.partition.key}: document {item!r} left MongoDB while "
                                       "it was cleaned; another load_to_mongo of this partition ran meanwhile: run clean "
                                       "again")
                rejects.add(reason, doc, doc.get("_key"), doc.get("_lake"))


class _Probe(PartitionClean):
    """The normalizer run over a subset of the partition's documents, writing nothing: does it fail?"""

    def __init__(self, run: PartitionClean, source: Source):
        super().__init__(run.ctx, run.spec)
        self._run, self._source = run, source

    def fails(self, ids: tuple[Any, ...]) -> bool:
        self.references, self.fill_time = self._run.references, None
        self._zones, self._airport_fills = dict(self._run.zones()), {}
        self._rejects, self._reported, self._refused, self._refused_flights = {}, {}, {}, {}
        self._only = frozenset(ids)
        try:
            self._source.clean_observations(self)
        except Exception:  # noqa: BLE001 - any failure is what is looked for
            return True
        return False

    def write(self, entity: str, frame: Any) -> None:
        self.spec.table_of(entity)  # an unknown entity fails as it would for real

    def documents_by_id(self, endpoint: str, ids: Iterable[Any]) -> dict[Any, dict[str, Any]]:
        wanted = set(ids)
        return {doc["_id"]: doc for docs in mongo.iter_documents(self.ctx, endpoint) for doc in docs
                if doc["_id"] in wanted}


def _may_be_a_records_fault(exc: BaseException) -> bool:
    """An exception a record could cause: not one of the pipeline's own verdicts, and not the stores' or the
    system's (those are the stage's, a retry's business)."""
    if isinstance(exc, PermanentError | OSError | MemoryError):
        return False
    return type(exc).__module__.split(".")[0] not in ("pymongo", "botocore", "boto3", "bson", "pymongoarrow")


def _clean_reference(source: Source, endpoint: str, docs: list[dict[str, Any]], rejects: Rejects
                     ) -> list[dict[str, Any]]:
    """The source's ``clean_reference`` of ``docs``; if it raises on a record, each document alone, the ones it
    raises on quarantined."""
    rejected_before = len(rejects.items)
    try:
        return source.clean_reference(endpoint, docs, rejects)
    except Exception as exc:
        if not _may_be_a_records_fault(exc) or len(docs) == 0:
            raise
        del rejects.items[rejected_before:]  # what the failed pass refused is judged again, one by one
        log.warning("%s/%s: the reference cleaner failed (%s: %s); cleaning its documents one by one",
                    source.SPEC.name, endpoint, type(exc).__name__, exc)
    rows: list[dict[str, Any]] = []
    for doc in docs:
        try:
            rows.extend(source.clean_reference(endpoint, [doc], rejects))
        except Exception as exc:
            if not _may_be_a_records_fault(exc):
                raise
            rejects.add(f"the reference cleaner failed on this record: {type(exc).__name__}: {str(exc)[:300]}",
                        doc, doc.get("_key"), doc.get("_lake"))
    return rows


def _flight_key(values: tuple[Any, ...]) -> tuple[str, ...]:
    """A flight's natural key as comparable text (dates as ``YYYY-MM-DD``, whatever their type)."""
    return tuple(str(v)[:10] if i == 2 else str(v) for i, v in enumerate(values))


def _row_record(row: Any) -> dict[str, Any]:
    """A refused row that names no document (a gap fill): quarantined as the row itself."""
    return {name: (None if value is None or value != value else str(value) if not isinstance(value, int | float | str)
                   else value) for name, value in row.items() if name != DOC_ID}


def clean_partition(ctx: Any, source: Source, run: PartitionClean | None = None) -> dict[str, dict[str, int]]:
    """Clean the partition's staged documents into the clean zone (the steps of this module's docstring);
    ``run`` replaces the :class:`PartitionClean` (the benchmark serves its reads from memory)."""
    run = run or PartitionClean(ctx, source.SPEC)
    run.clean_references(source)
    run.clean_observations(source)
    run.publish_fills()
    run.close()
    for endpoint, c in run.counts.items():
        log.info("%s/%s %s: cleaned %d, quarantined %d, duplicates %d", run.spec.name, endpoint, run.partition.key,
                 c["cleaned"], c.get("quarantined_at_cleaning", 0), c.get("duplicates_at_cleaning", 0))
    return run.counts
