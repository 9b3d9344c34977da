"""Schema evolution on the topic's subject: BACKWARD compatibility set, an incompatible change rejected, a
compatible one (a new optional field with a default) accepted.

confluent-kafka's own mock registry does not enforce compatibility (first test): the offline registry is
:class:`CompatibilityCheckingMockRegistry`, which applies Apache Avro's reader/writer checker on register as
a real Schema Registry does. Its checker is exercised on the textbook cases as well."""

from __future__ import annotations

import json

import pytest
from confluent_kafka.schema_registry import Schema, SchemaRegistryClient
from confluent_kafka.schema_registry.error import SchemaRegistryError
from confluent_kafka.schema_registry.schema_registry_client import ConfigCompatibilityLevel, ServerConfig

from aerolake.streaming.registry import (
    CompatibilityCheckingMockRegistry,
    ensure_schema,
    incompatibilities,
    make_registry_client,
    subject_for,
)
from aerolake.streaming.schema import flight_schema, flight_schema_text

SUBJECT = subject_for("flight-data")


def evolved(change) -> str:
    schema = flight_schema()
    change(schema)
    schema["version"] += 1
    return json.dumps(schema)


def add_optional_field(schema: dict) -> None:
    schema["fields"].append({"name": "delay_reason", "type": ["null", "string"], "default": None,
                             "doc": "Why the flight is late, when a source says."})


def add_required_field(schema: dict) -> None:
    schema["fields"].append({"name": "delay_reason", "type": "string", "doc": "no default: old data lacks it"})


def retype_field(schema: dict) -> None:
    next(f for f in schema["fields"] if f["name"] == "flight_number")["type"] = "int"


def test_library_mock_does_not_enforce_compatibility() -> None:
    """Why the project wraps it: the plain mock accepts an incompatible schema (if this starts failing, the
    library learned to enforce and the wrapper can go)."""
    plain = SchemaRegistryClient.new_client({"url": "mock://plain"})
    assert type(plain).__name__ == "MockSchemaRegistryClient"
    plain.register_schema(SUBJECT, Schema(flight_schema_text(), "AVRO"))
    plain.register_schema(SUBJECT, Schema(evolved(retype_field), "AVRO"))
    assert sorted(plain.get_versions(SUBJECT)) == [1, 2]


def test_backward_set_incompatible_rejected_compatible_accepted() -> None:
    registry = make_registry_client({"url": "mock://aerolake"})
    assert isinstance(registry, CompatibilityCheckingMockRegistry)
    first = ensure_schema(registry, SUBJECT, flight_schema_text())
    assert registry.get_config(SUBJECT).compatibility == ConfigCompatibilityLevel.BACKWARD
    assert first.version == 1
    assert ensure_schema(registry, SUBJECT, flight_schema_text()).schema_id == first.schema_id  # idempotent

    for change in (add_required_field, retype_field):
        candidate = evolved(change)
        assert registry.test_compatibility(SUBJECT, Schema(candidate, "AVRO")) is False
        with pytest.raises(SchemaRegistryError) as exc:
            ensure_schema(registry, SUBJECT, candidate)
        assert exc.value.http_status_code == 409
        assert "not BACKWARD compatible with subject flight-data-value" in str(exc.value)
    assert registry.get_versions(SUBJECT) == [1]

    compatible = evolved(add_optional_field)
    assert registry.test_compatibility(SUBJECT, Schema(compatible, "AVRO")) is True
    second = ensure_schema(registry, SUBJECT, compatible)
    assert second.version == 2 and second.schema_id != first.schema_id
    assert sorted(registry.get_versions(SUBJECT)) == [1, 2]
    assert registry.get_latest_version(SUBJECT).schema.schema_str == compatible


def test_removing_a_field_is_backward_compatible_but_not_forward() -> None:
    """BACKWARD lets new consumers drop a field; FORWARD (old consumers) would need it to have a default."""
    old = flight_schema_text()
    dropped = evolved(lambda s: s["fields"].remove(next(f for f in s["fields"] if f["name"] == "registration")))
    dropped_required = evolved(lambda s: s["fields"].remove(next(f for f in s["fields"] if f["name"] == "source")))
    assert incompatibilities(ConfigCompatibilityLevel.BACKWARD, dropped_required, [old]) == []
    assert incompatibilities(ConfigCompatibilityLevel.FORWARD, dropped, [old]) == []  # has a default
    assert incompatibilities(ConfigCompatibilityLevel.FORWARD, dropped_required, [old])
    assert incompatibilities(ConfigCompatibilityLevel.FULL, dropped_required, [old])
    assert incompatibilities(ConfigCompatibilityLevel.NONE, evolved(retype_field), [old]) == []


def test_transitive_checks_every_version() -> None:
    """v3 reads v2's data (x missing, default used) but not v1's (x an int, v3 wants a string)."""
    base = flight_schema()
    x_int = {"name": "x", "type": "int", "doc": "v1"}
    x_str = {"name": "x", "type": "string", "default": "a", "doc": "v3"}
    v1, v2, v3 = (json.dumps(dict(base, fields=[*base["fields"], *extra])) for extra in ([x_int], [], [x_str]))
    assert incompatibilities(ConfigCompatibilityLevel.BACKWARD, v3, [v1, v2]) == []
    assert incompatibilities(ConfigCompatibilityLevel.BACKWARD_TRANSITIVE, v3, [v1, v2])
    for level, accepted in ((ConfigCompatibilityLevel.BACKWARD, True),
                            (ConfigCompatibilityLevel.BACKWARD_TRANSITIVE, False)):
        registry = CompatibilityCheckingMockRegistry({"url": f"mock://{level.value}"})
        registry.set_config(SUBJECT, ServerConfig(compatibility=level))
        registry.register_schema(SUBJECT, Schema(v1, "AVRO"))
        registry.register_schema(SUBJECT, Schema(v2, "AVRO"))
        if accepted:
            registry.register_schema(SUBJECT, Schema(v3, "AVRO"))
        else:
            with pytest.raises(SchemaRegistryError, match="incompatible"):
                registry.register_schema(SUBJECT, Schema(v3, "AVRO"))
        assert len(registry.get_versions(SUBJECT)) == (3 if accepted else 2)


def version_1() -> str:
    """The schema as first published: version 2 plus MySQL's surrogate ``flight_id`` as its first field."""
    schema = flight_schema()
    schema["version"] = 1
    schema["fields"].insert(0, {"name": "flight_id", "type": "long",
                                "doc": "Surrogate id of the flight in MySQL (flights.flight_id)."})
    return json.dumps(schema)


def test_version_2_without_the_surrogate_id_registers_over_version_1() -> None:
    """Dropping flight_id is a BACKWARD change: the registry of a deployment that published version 1 takes
    version 2, and a version 2 reader decodes version 1 messages (flight_id ignored). A consumer pinned to
    version 1 cannot read version 2 (FORWARD): it decodes with the writer's schema or moves to version 2."""
    import io
    from datetime import UTC, date, datetime

    import fastavro

    registry = make_registry_client({"url": "mock://aerolake-v1"})
    first = ensure_schema(registry, SUBJECT, version_1())
    second = ensure_schema(registry, SUBJECT, flight_schema_text())
    assert (first.version, second.version) == (1, 2)
    assert incompatibilities(ConfigCompatibilityLevel.FORWARD, flight_schema_text(), [version_1()])

    record = {f["name"]: f.get("default") for f in flight_schema()["fields"]}
    record.update({"airline_code": "LH", "flight_number": "400", "departure_date": date(2026, 3, 1),
                   "dep_airport": "FRA", "arr_airport": "JFK", "status": "active", "source": "lufthansa",
                   "scheduled_departure": datetime(2026, 3, 1, 9, 55, tzinfo=UTC),
                   "updated_at": datetime(2026, 3, 1, 6, tzinfo=UTC), "codeshares": []})
    old = io.BytesIO()
    fastavro.schemaless_writer(old, fastavro.parse_schema(json.loads(version_1())), {**record, "flight_id": 7})
    old.seek(0)
    decoded = fastavro.schemaless_reader(old, fastavro.parse_schema(json.loads(version_1())),
                                         fastavro.parse_schema(flight_schema()))
    assert decoded == record
