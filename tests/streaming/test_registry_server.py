"""The development Schema Registry server (``python -m aerolake.streaming.registry_server``) as a separate
process, driven by confluent-kafka's own SchemaRegistryClient, AvroSerializer and AvroDeserializer: the flight
schema registered, a record round-tripped through two clients, BACKWARD enforced, one id under concurrent
registration from several processes, everything kept across a restart."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.request
from datetime import UTC, date, datetime
from typing import Any

import pytest
from confluent_kafka.schema_registry import Schema, SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer, AvroSerializer
from confluent_kafka.schema_registry.error import SchemaRegistryError
from confluent_kafka.schema_registry.schema_registry_client import ConfigCompatibilityLevel, ServerConfig
from confluent_kafka.serialization import MessageField, SerializationContext

from aerolake.streaming.registry import ensure_schema, subject_for
from aerolake.streaming.schema import flight_schema, flight_schema_text

from .conftest import child_env, stop_process
from .test_registry import add_optional_field, add_required_field, evolved, retype_field

SUBJECT = subject_for("flight-data")
assert SUBJECT == "flight-data-value"
INCOMPATIBLE = 'Schema being registered is incompatible with an earlier schema for subject "flight-data-value"'


def flight_record() -> dict[str, Any]:
    """LH400 FRA-JFK as the publisher builds it: every optional field present, most of them null."""
    record: dict[str, Any] = {f["name"]: f.get("default") for f in flight_schema()["fields"]}
    record.update({
        "airline_code": "LH", "flight_number": "400", "departure_date": date(2026, 3, 1),
        "dep_airport": "FRA", "arr_airport": "JFK", "status": "active", "source": "lufthansa",
        "scheduled_departure": datetime(2026, 3, 1, 9, 55, tzinfo=UTC),
        "actual_departure": datetime(2026, 3, 1, 10, 7, tzinfo=UTC),
        "updated_at": datetime(2026, 3, 1, 6, 0, tzinfo=UTC), "dep_gate": "Z25", "dep_delay_min": 12,
        "airline_name": "Lufthansa", "dep_airport_name": "Frankfurt am Main Airport", "dep_airport_latitude": 50.0333,
        "codeshares": ["AC9100", "UA9051"],
        "latest_position": {"observed_at": datetime(2026, 3, 1, 11, 30, tzinfo=UTC), "icao24": "3c4b26",
                            "latitude": 53.9, "longitude": -4.8, "altitude_m": 11280.0, "heading": 295.5,
                            "speed_kmh": 905.5, "vertical_speed": -0.5, "on_ground": False},
    })
    return record


def http(url: str, method: str = "GET", body: Any = None) -> tuple[int, str, Any]:
    """(status, content type, JSON body) of a raw request, error answers included."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method,
                                     headers={"Content-Type": "application/vnd.schemaregistry.v1+json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.headers["Content-Type"], json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers["Content-Type"], json.loads(exc.read())


def test_register_and_round_trip_through_two_clients(registry_server) -> None:
    _proc, url = registry_server()
    producer_side = SchemaRegistryClient({"url": url})
    registered = ensure_schema(producer_side, SUBJECT, flight_schema_text())
    assert (registered.schema_id, registered.version, registered.subject) == (1, 1, SUBJECT)
    assert producer_side.get_config(SUBJECT).compatibility_level == ConfigCompatibilityLevel.BACKWARD
    assert producer_side.get_subjects() == [SUBJECT]
    assert producer_side.get_versions(SUBJECT) == [1]
    # idempotent: the same schema again is the same id and version, no new version
    assert ensure_schema(SchemaRegistryClient({"url": url}), SUBJECT, flight_schema_text()).schema_id == 1
    assert producer_side.get_versions(SUBJECT) == [1]

    serializer = AvroSerializer(producer_side, flight_schema_text(), conf={"auto.register.schemas": False})
    ctx = SerializationContext("flight-data", MessageField.VALUE)
    payload = serializer(flight_record(), ctx)
    assert payload[0] == 0 and int.from_bytes(payload[1:5], "big") == 1  # Confluent framing, schema id 1

    consumer_side = SchemaRegistryClient({"url": url})  # knows nothing: resolves id 1 from the server
    assert AvroDeserializer(consumer_side)(payload, ctx) == flight_record()
    assert consumer_side.get_schema(1).schema_str == flight_schema_text()
    latest = consumer_side.get_latest_version(SUBJECT)
    assert (latest.schema_id, latest.version, latest.schema.schema_str) == (1, 1, flight_schema_text())


def test_backward_incompatible_refused_compatible_accepted(registry_server) -> None:
    _proc, url = registry_server()
    client = SchemaRegistryClient({"url": url})
    ensure_schema(client, SUBJECT, flight_schema_text())

    for change in (add_required_field, retype_field):
        candidate = evolved(change)
        assert client.test_compatibility(SUBJECT, Schema(candidate, "AVRO")) is False
        with pytest.raises(SchemaRegistryError) as raw:
            client.register_schema(SUBJECT, Schema(candidate, "AVRO"))
        assert (raw.value.http_status_code, raw.value.error_code) == (409, 409)
        assert raw.value.error_message.startswith(INCOMPATIBLE + ", details: [")
        with pytest.raises(SchemaRegistryError) as wrapped:  # what the publisher raises before producing
            ensure_schema(client, SUBJECT, candidate)
        assert wrapped.value.http_status_code == 409
        assert "the Flight schema is not BACKWARD compatible with subject flight-data-value" in str(wrapped.value)
    assert client.get_versions(SUBJECT) == [1]

    compatible = evolved(add_optional_field)
    assert client.test_compatibility(SUBJECT, Schema(compatible, "AVRO")) is True
    second = ensure_schema(client, SUBJECT, compatible)
    assert (second.schema_id, second.version) == (2, 2)
    assert client.get_versions(SUBJECT) == [1, 2]
    assert client.get_version(SUBJECT, 1).schema.schema_str == flight_schema_text()
    assert client.get_latest_version(SUBJECT).schema.schema_str == compatible
    assert SchemaRegistryClient({"url": url}).get_schema(2).schema_str == compatible


def test_levels_and_error_bodies(registry_server) -> None:
    _proc, url = registry_server()
    client = SchemaRegistryClient({"url": url})
    assert http(f"{url}/config") == (200, "application/vnd.schemaregistry.v1+json", {"compatibilityLevel": "BACKWARD"})
    assert http(f"{url}/config/{SUBJECT}")[2] == {
        "error_code": 40408, "message": "Subject 'flight-data-value' does not have subject-level compatibility "
                                        "configured"}
    assert http(f"{url}/config/{SUBJECT}?defaultToGlobal=true")[2] == {"compatibilityLevel": "BACKWARD"}
    assert http(f"{url}/subjects/nope/versions") == (
        404, "application/vnd.schemaregistry.v1+json", {"error_code": 40401, "message": "Subject 'nope' not found."})
    assert http(f"{url}/schemas/ids/7") == (
        404, "application/vnd.schemaregistry.v1+json", {"error_code": 40403, "message": "Schema 7 not found"})
    status, _ctype, body = http(f"{url}/subjects/{SUBJECT}/versions", "POST", {"schema": '{"type": "recrd"}'})
    assert (status, body["error_code"]) == (422, 42201)
    assert http(f"{url}/config", "PUT", {"compatibility": "SIDEWAYS"})[:2] == (
        422, "application/vnd.schemaregistry.v1+json")

    with pytest.raises(SchemaRegistryError) as exc:
        client.register_schema(SUBJECT, Schema('{"type": "record", "name": "X"}', "AVRO"))  # no fields
    assert (exc.value.http_status_code, exc.value.error_code) == (422, 42201)

    # NONE accepts anything; FORWARD refuses removing a required field; FULL_TRANSITIVE checks every version
    client.set_config(SUBJECT, ServerConfig(compatibility=ConfigCompatibilityLevel.NONE))
    assert client.get_config(SUBJECT).compatibility_level == ConfigCompatibilityLevel.NONE
    assert client.register_schema(SUBJECT, Schema(flight_schema_text(), "AVRO")) == 1
    assert client.register_schema(SUBJECT, Schema(evolved(retype_field), "AVRO")) == 2
    client.set_config(SUBJECT, ServerConfig(compatibility=ConfigCompatibilityLevel.FORWARD))
    without_source = evolved(lambda s: s["fields"].remove(next(f for f in s["fields"] if f["name"] == "source")))
    assert client.test_compatibility(SUBJECT, Schema(without_source, "AVRO"), version=1) is False
    client.set_config(SUBJECT, ServerConfig(compatibility=ConfigCompatibilityLevel.FULL_TRANSITIVE))
    with pytest.raises(SchemaRegistryError) as exc:  # v1 and v2 disagree on flight_number's type
        client.register_schema(SUBJECT, Schema(evolved(add_optional_field), "AVRO"))
    assert exc.value.http_status_code == 409
    assert client.get_compatibility() == "BACKWARD"  # the global level is untouched

    # a subject is soft-deleted, then permanently; its schemas keep their ids
    with pytest.raises(SchemaRegistryError) as exc:
        client.delete_subject(SUBJECT, permanent=True)
    assert exc.value.error_code == 40405
    assert client.delete_subject(SUBJECT) == [1, 2]
    assert client.get_subjects() == []
    assert client.delete_subject(SUBJECT, permanent=True) == [1, 2]
    assert SchemaRegistryClient({"url": url}).get_schema(2).schema_str == evolved(retype_field)


REGISTER_AT = """
import json, sys, time
from confluent_kafka.schema_registry import SchemaRegistryClient
from aerolake.streaming.registry import ensure_schema
from aerolake.streaming.schema import flight_schema_text
url, subject, start = sys.argv[1], sys.argv[2], float(sys.argv[3])
client = SchemaRegistryClient({"url": url})
time.sleep(max(0.0, start - time.time()))  # every process fires at the same instant
registered = ensure_schema(client, subject, flight_schema_text())
print(json.dumps({"id": registered.schema_id, "version": registered.version}))
"""


def test_concurrent_registration_from_four_processes_gives_one_id(registry_server) -> None:
    """Four Celery workers starting their first publish at once: one schema id, one version."""
    _proc, url = registry_server()
    start = time.time() + 4  # after every child has imported confluent-kafka
    children = [subprocess.Popen([sys.executable, "-c", REGISTER_AT, url, SUBJECT, str(start)],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=child_env())
                for _ in range(4)]
    results = []
    for child in children:
        out, err = child.communicate(timeout=60)
        assert child.returncode == 0, err
        results.append(json.loads(out))
    # the version is known to the process that registered it; the others are told the existing one
    assert [r["id"] for r in results] == [1, 1, 1, 1]
    assert {r["version"] for r in results} == {1}
    client = SchemaRegistryClient({"url": url})
    assert client.get_versions(SUBJECT) == [1]
    assert client.get_subjects() == [SUBJECT]


def test_restart_keeps_ids_and_versions(registry_server, tmp_path) -> None:
    data = tmp_path / "kept"
    proc, url = registry_server(data)
    client = SchemaRegistryClient({"url": url})
    assert ensure_schema(client, SUBJECT, flight_schema_text()).schema_id == 1
    assert ensure_schema(client, SUBJECT, evolved(add_optional_field)).schema_id == 2
    client.set_config("other-value", ServerConfig(compatibility=ConfigCompatibilityLevel.NONE))
    assert client.register_schema("other-value", Schema('"string"', "AVRO")) == 3
    assert client.register_schema("other-value", Schema(flight_schema_text(), "AVRO")) == 1  # global id
    assert stop_process(proc) == 0

    _proc, url_again = registry_server(data, int(url.rsplit(":", 1)[1]))  # same directory, same port
    assert url_again == url
    fresh = SchemaRegistryClient({"url": url})
    assert fresh.get_subjects() == ["flight-data-value", "other-value"]
    assert fresh.get_versions(SUBJECT) == [1, 2]
    assert fresh.get_versions("other-value") == [1, 2]
    assert [fresh.get_version(SUBJECT, v).schema_id for v in (1, 2)] == [1, 2]
    assert fresh.get_version("other-value", 2).schema_id == 1
    assert fresh.get_schema(2).schema_str == evolved(add_optional_field)
    assert fresh.get_config(SUBJECT).compatibility_level == ConfigCompatibilityLevel.BACKWARD
    assert fresh.get_config("other-value").compatibility_level == ConfigCompatibilityLevel.NONE
    # registering again is a lookup (a client without a cache, so that the server answers); a new schema
    # takes the next id, never a reused one
    again = ensure_schema(SchemaRegistryClient({"url": url}), SUBJECT, evolved(add_optional_field))
    assert (again.schema_id, again.version) == (2, 2)
    assert fresh.get_versions(SUBJECT) == [1, 2]
    newer = evolved(lambda s: (add_optional_field(s), s["fields"].append(
        {"name": "remark", "type": ["null", "string"], "default": None, "doc": "free text"})))
    assert (r := ensure_schema(fresh, SUBJECT, newer)).schema_id == 4 and r.version == 3
