"""The Avro schema of the canonical flight (``include/aerolake/schemas/flight.avsc``).

One file is the contract for both the curated zone (Avro container files) and the Kafka topic (registered
under ``<topic>-value`` with BACKWARD compatibility): a consumer reads both with the same schema.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

SCHEMA_PATH = Path(__file__).resolve().parents[1] / "schemas" / "flight.avsc"


@cache
def flight_schema_text() -> str:
    """The schema as registered: the file's JSON, compacted (the same string every time, so a registry lookup
    of the schema matches what was registered)."""
    return json.dumps(json.loads(SCHEMA_PATH.read_text()), separators=(",", ":"))


def flight_schema() -> dict[str, Any]:
    """The schema as a fresh dict (callers may derive evolved versions from it)."""
    return json.loads(flight_schema_text())


@cache
def schema_version() -> int:
    """The ``version`` attribute of the schema: bumped with every change of the file."""
    return int(flight_schema()["version"])


@cache
def parsed_flight_schema() -> Any:
    """The schema parsed by fastavro (cached: parsing 50 fields costs more than writing a record)."""
    import fastavro

    return fastavro.parse_schema(flight_schema())


def field_names() -> list[str]:
    """Top-level field names, in schema order."""
    return [f["name"] for f in flight_schema()["fields"]]


def timestamp_fields() -> tuple[str, ...]:
    """Top-level fields of logical type ``timestamp-millis`` (required or in a union with null)."""

    def is_timestamp(avro_type: Any) -> bool:
        if isinstance(avro_type, list):
            return any(is_timestamp(t) for t in avro_type)
        return isinstance(avro_type, dict) and avro_type.get("logicalType") == "timestamp-millis"

    return tuple(f["name"] for f in flight_schema()["fields"] if is_timestamp(f["type"]))
