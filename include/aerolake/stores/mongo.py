"""MongoDB as the pipeline's staging store: how a partition's documents are read back, in one place.

The reads take a *staged partition*: anything with ``collection(endpoint)`` (the pymongo or mongomock
collection of an endpoint), ``partition_filter()`` (the query of the partition) and ``partition`` (its
:class:`aerolake.stores.lake.Partition`), as :class:`aerolake.pipeline.stages.StageContext` has. Sources read through these
functions and never import the pipeline.

In-process mongomock (the offline default of ``airflow dags test``) is told apart here and only here
(:func:`in_process`): its cursor is quadratic and it knows neither PyMongoArrow nor ``$switch``, so its reads
take another path that returns the same documents. Any server is checked for reading every document it
counts (:class:`aerolake.core.errors.IncompleteRead`): a stand-in that answers a query only in part fails the
stage instead of publishing a partial partition.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Protocol

from aerolake.cleaning import gc_paused
from aerolake.core.errors import IncompleteRead
from aerolake.projection import FieldPaths
from aerolake.stores.lake import Partition

if TYPE_CHECKING:
    import pyarrow as pa

#: documents per batch a read asks for (and per list it yields)
CLEAN_CHUNK = 20000
#: the order of a partition's documents: their lake part, then their index in it (load_to_mongo's index)
DOCUMENT_ORDER = [("_lake.s3_key", 1), ("_lake.index", 1)]


class StagedPartition(Protocol):
    partition: Partition

    def collection(self, endpoint: str) -> Any: ...

    def partition_filter(self) -> dict[str, Any]: ...


def in_process(collection: Any) -> bool:
    """True for an in-process mongomock collection (the offline default), False for a MongoDB server."""
    return type(collection).__module__.startswith("mongomock")


def _mongomock_documents(collection: Any, query: dict[str, Any]) -> list[dict]:
    """mongomock 4.3's ``Cursor.__next__`` copies the whole result list on every document (quadratic:
    90,000 documents took 130 s) and its sort compares BSON in Python; so for mongomock the computed
    results are taken at once and sorted here. A real MongoDB cursor streams, sorted by its index."""
    docs = collection.find(query)._compute_results()
    docs.sort(key=lambda d: (d["_lake"]["s3_key"], d["_lake"]["index"]))
    return docs


def iter_documents(staged: StagedPartition, endpoint: str, chunk: int = CLEAN_CHUNK) -> Iterator[list[dict]]:
    """The partition's documents of ``endpoint`` in chunks, in a stable order (lake part, then index); every
    one of them, or :class:`IncompleteRead`."""
    collection = staged.collection(endpoint)
    if in_process(collection):
        docs = _mongomock_documents(collection, staged.partition_filter())
        for start in range(0, len(docs), chunk):
            yield docs[start:start + chunk]
        return
    with collection.find(staged.partition_filter()).sort(DOCUMENT_ORDER).batch_size(chunk) as cursor:
        yield from _read_in_full(staged, endpoint, _chunks(cursor, chunk))


def _read_in_full(staged: StagedPartition, endpoint: str, chunks: Iterator[Any]) -> Iterator[Any]:
    """``chunks`` of a partition read, then a check that they held every document MongoDB counts for the
    partition: a server that answers a query only in part (a stand-in's gap) fails the stage here instead of
    cleaning, loading and reporting a partial partition as whole."""
    expected = staged.collection(endpoint).count_documents(staged.partition_filter())
    read = 0
    for batch in chunks:
        read += len(batch)
        yield batch
    if read != expected:
        part = staged.partition
        raise IncompleteRead(
            f"{part.source}/{endpoint} {part.key}: MongoDB counts {expected} documents in this partition but its "
            f"query returned {read}; the stage stopped before publishing anything of it. The server does not answer the "
            "pipeline's queries faithfully: use a real MongoDB (or `make up`'s stand-in) for aerolake_mongo."
        )


def iter_projected(staged: StagedPartition, endpoint: str, paths: FieldPaths,
                   chunk: int = CLEAN_CHUNK) -> Iterator[pa.Table]:
    """The partition's documents of ``endpoint`` as flat rows of text (:mod:`aerolake.projection`): Arrow
    tables of ``_id`` and ``paths``' fields, at most ``chunk`` rows each, in :func:`iter_documents`' order.

    MongoDB does the flattening (an aggregation whose ``$match`` and ``$sort`` its partition index serves) and
    PyMongoArrow decodes each batch straight into Arrow columns; for in-process mongomock, Python projects
    :func:`iter_documents`' chunks.
    """
    collection = staged.collection(endpoint)
    if in_process(collection):
        for docs in iter_documents(staged, endpoint, chunk):
            yield paths.table(paths.project(doc) for doc in docs)
        return
    from bson.raw_bson import RawBSONDocument
    from pymongoarrow.api import Schema
    from pymongoarrow.context import PyMongoArrowContext

    schema = Schema.from_arrow(paths.arrow_schema())
    pipeline = [{"$match": staged.partition_filter()}, {"$sort": dict(DOCUMENT_ORDER)}, paths.stage()]
    # rows stay BSON (RawBSONDocument: no Python object per value) until PyMongoArrow decodes them;
    # a plain cursor rather than aggregate_raw_batches, whose empty first batch some servers do not honour
    raw = collection.with_options(codec_options=collection.codec_options.with_options(
        document_class=RawBSONDocument))
    # load_to_mongo's index serves $match and $sort; allowDiskUse only matters to a server without it
    with raw.aggregate(pipeline, batchSize=chunk, allowDiskUse=True) as cursor:
        for batch in _read_in_full(staged, endpoint, _chunks(cursor, chunk)):
            # a value that is not text is an error here, never a silent null: the server must honour the $project
            context = PyMongoArrowContext(schema, codec_options=collection.codec_options, allow_invalid=False)
            context.process_bson_stream(b"".join([row.raw for row in batch]))
            del batch  # not kept alive while the next one is read
            yield paths.named_table(context.finish())


def _chunks(cursor: Any, chunk: int) -> Iterator[list[Any]]:
    """A pymongo cursor's documents (dicts, or ``RawBSONDocument``) in lists of ``chunk``, batch by batch
    (``to_list``: no step per document)."""
    while True:
        with gc_paused():  # decoding builds many containers per document: see cleaning.gc_paused
            batch = cursor.to_list(chunk)
        if not batch:
            return
        yield batch
        del batch  # not kept alive while the next one is read


def documents_by_id(staged: StagedPartition, endpoint: str, ids: list[Any]) -> dict[Any, dict]:
    """Whole documents of ``endpoint`` by ``_id`` (what quarantine stores of a row found bad)."""
    collection, found = staged.collection(endpoint), {}
    for start in range(0, len(ids), 1000):  # a bounded $in per query
        found.update((doc["_id"], doc) for doc in collection.find({"_id": {"$in": ids[start:start + 1000]}}))
    return found
