"""Schema Registry: the flight schema registered under ``<topic>-value`` with BACKWARD compatibility.

A real Confluent Schema Registry enforces the subject's compatibility level when a schema is registered
(HTTP 409 for an incompatible one). The mock client of confluent-kafka (``mock://``) does not: its
``set_config`` is a no-op and it registers any schema. :class:`CompatibilityCheckingMockRegistry` adds what
the real registry does, with Apache Avro's own reader/writer compatibility checker (``avro.compatibility``,
the Python port of the Java checker the registry uses), so offline runs and tests reject what production
would reject.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from confluent_kafka.schema_registry import Schema, SchemaRegistryClient
from confluent_kafka.schema_registry.error import SchemaRegistryError
from confluent_kafka.schema_registry.schema_registry_client import (
    ConfigCompatibilityLevel,
    RegisteredSchema,
    ServerConfig,
)

try:  # 2.x keeps the mock here; new_client() is the documented way to get it
    from confluent_kafka.schema_registry._sync.mock_schema_registry_client import MockSchemaRegistryClient
except ImportError:  # pragma: no cover - older layouts
    from confluent_kafka.schema_registry.mock_schema_registry_client import MockSchemaRegistryClient

log = logging.getLogger(__name__)

COMPATIBILITY = ConfigCompatibilityLevel.BACKWARD
#: the level a real registry applies when none is configured
DEFAULT_LEVEL = ConfigCompatibilityLevel.BACKWARD


def avro_incompatibilities(reader: str, writer: str) -> list[str]:
    """Why data written with ``writer`` cannot be read with ``reader`` (empty: it can)."""
    import avro.schema
    from avro.compatibility import ReaderWriterCompatibilityChecker, SchemaCompatibilityType

    result = ReaderWriterCompatibilityChecker().get_compatibility(avro.schema.parse(reader), avro.schema.parse(writer))
    if result.compatibility is SchemaCompatibilityType.compatible:
        return []
    # the checker reports messages and locations as two sets: they cannot be paired reliably
    return [f"{'; '.join(sorted(result.messages)) or 'incompatible'} (at {', '.join(sorted(result.locations))})"]


def incompatibilities(level: ConfigCompatibilityLevel, new: str, existing: list[str]) -> list[str]:
    """Problems of registering ``new`` after ``existing`` (oldest first) under ``level``."""
    if level is ConfigCompatibilityLevel.NONE or not existing:
        return []
    against = existing if level.value.endswith("_TRANSITIVE") else existing[-1:]
    problems: list[str] = []
    for old in against:
        if level.value.startswith(("BACKWARD", "FULL")):  # new consumers read old data
            problems += avro_incompatibilities(reader=new, writer=old)
        if level.value.startswith(("FORWARD", "FULL")):  # old consumers read new data
            problems += avro_incompatibilities(reader=old, writer=new)
    return problems


def version_incompatibilities(level: ConfigCompatibilityLevel, new: str, old: str) -> list[str]:
    """Problems of ``new`` against the one registered version ``old`` (a compatibility test of one version:
    the level's direction, never transitive)."""
    return incompatibilities(ConfigCompatibilityLevel(level.value.removesuffix("_TRANSITIVE")), new, [old])


def incompatible_message(subject: str, problems: list[str]) -> str:
    """The message of the registry's 409 answer to an incompatible schema."""
    return f"Schema being registered is incompatible with an earlier schema for subject \"{subject}\", details: {problems}"


class CompatibilityCheckingMockRegistry(MockSchemaRegistryClient):
    """confluent-kafka's in-memory mock registry, plus compatibility levels enforced on register."""

    def __init__(self, conf: dict[str, Any]):
        super().__init__(conf)
        self._levels: dict[str | None, ConfigCompatibilityLevel] = {}

    def set_config(self, subject_name: str | None = None, config: ServerConfig | None = None) -> ServerConfig:
        if config is None or config.compatibility is None:
            raise ValueError("config with a compatibility level must be set")
        self._levels[subject_name] = ConfigCompatibilityLevel(config.compatibility)
        return ServerConfig(compatibility=self._levels[subject_name])

    def get_config(self, subject_name: str | None = None) -> ServerConfig:
        level = self._levels.get(subject_name) or self._levels.get(None) or DEFAULT_LEVEL
        return ServerConfig(compatibility=level)

    def _history(self, subject_name: str) -> list[str]:
        versions = sorted(self.get_versions(subject_name))
        return [self.get_version(subject_name, v).schema.schema_str for v in versions]

    def register_schema_full_response(self, subject_name: str, schema: Schema,
                                      normalize_schemas: bool = False) -> RegisteredSchema:
        if self._store.get_registered_schema_by_schema(subject_name, schema) is None:
            level = self.get_config(subject_name).compatibility
            problems = incompatibilities(ConfigCompatibilityLevel(level), schema.schema_str,
                                         self._history(subject_name))
            if problems:
                raise SchemaRegistryError(409, 409, incompatible_message(subject_name, problems))
        return super().register_schema_full_response(subject_name, schema, normalize_schemas=normalize_schemas)

    def register_schema(self, subject_name: str, schema: Schema, normalize_schemas: bool = False) -> int:
        return self.register_schema_full_response(subject_name, schema, normalize_schemas).schema_id

    def test_compatibility(self, subject_name: str, schema: Schema, version: int | str = "latest",
                           normalize: bool = False, verbose: bool = False) -> bool:
        history = self._history(subject_name)
        if not history:
            return True
        old = history[-1] if version == "latest" else self.get_version(subject_name, int(version)).schema.schema_str
        level = ConfigCompatibilityLevel(self.get_config(subject_name).compatibility)
        return not version_incompatibilities(level, schema.schema_str, old)


def make_registry_client(config: dict[str, Any]) -> SchemaRegistryClient:
    """A client for ``config['url']``: the compatibility-checking mock for ``mock://`` URLs."""
    if str(config.get("url", "")).startswith("mock://"):
        return CompatibilityCheckingMockRegistry(dict(config))
    return SchemaRegistryClient(dict(config))


def subject_for(topic: str) -> str:
    """TopicNameStrategy, the serializer's default: ``<topic>-value``."""
    return f"{topic}-value"


def ensure_schema(client: SchemaRegistryClient, subject: str, schema_text: str) -> RegisteredSchema:
    """Set BACKWARD compatibility on ``subject`` and register ``schema_text`` (a no-op when already there).

    An incompatible schema is refused by the registry: the error names the subject and the reason, and
    nothing is produced with it.
    """
    client.set_config(subject, ServerConfig(compatibility=COMPATIBILITY))
    try:
        registered = client.register_schema_full_response(subject, Schema(schema_text, "AVRO"))
    except SchemaRegistryError as exc:
        if exc.http_status_code == 409:
            name = json.loads(schema_text).get("name")
            raise SchemaRegistryError(409, exc.error_code, f"the {name} schema is not {COMPATIBILITY.value} "
                                      f"compatible with subject {subject}: {exc.error_message}") from exc
        raise
    log.info("schema registry: subject %s (compatibility %s) -> schema id %s, version %s", subject,
             COMPATIBILITY.value, registered.schema_id, registered.version)
    return registered
