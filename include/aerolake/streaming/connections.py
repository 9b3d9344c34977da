"""Where flights are streamed to: Kafka and the Schema Registry, from Airflow connections or the environment.

Resolution, first match wins (the CLI passes its flags as ``brokers`` / ``registry_url``):

* Kafka: ``brokers`` (credentials from ``AEROLAKE_KAFKA_SASL_USERNAME`` / ``AEROLAKE_KAFKA_SASL_PASSWORD``),
  else the connection ``aerolake_kafka`` (host[:port] = bootstrap servers, or ``extra["bootstrap.servers"]``;
  extra = librdkafka properties such as ``security.protocol`` / ``sasl.mechanism``; login/password = SASL
  username/password), else librdkafka's in-process **mock cluster** (``test.mock.num.brokers``).
* Schema Registry: ``registry_url`` (basic auth from ``AEROLAKE_SCHEMA_REGISTRY_USER`` /
  ``AEROLAKE_SCHEMA_REGISTRY_PASSWORD``), else the connection ``aerolake_schema_registry`` (host = URL,
  login/password = basic auth), else the **mock registry** ``mock://aerolake``.

Offline (mock cluster, mock registry) messages live only as long as the producing process: fine for demos
and tests, never a delivery to anyone. Secrets stay inside :class:`KafkaTarget`; its ``repr`` and
:meth:`KafkaTarget.describe` never show them.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from aerolake.core.connections import airflow_connection

log = logging.getLogger(__name__)

KAFKA_CONN_ID = "aerolake_kafka"
SCHEMA_REGISTRY_CONN_ID = "aerolake_schema_registry"
DEFAULT_TOPIC = "flight-data"
OFFLINE_REGISTRY_URL = "mock://aerolake"

#: What every producer gets: idempotent (no duplicates or reordering on retry), acknowledged by all in-sync
#: replicas, Java-compatible key partitioning, and a delivery timeout a task can wait for.
PRODUCER_DEFAULTS: dict[str, Any] = {
    "enable.idempotence": True,
    "acks": "all",
    "partitioner": "murmur2_random",
    "compression.type": "lz4",
    "linger.ms": 20,
    "message.timeout.ms": 120_000,
}


def kafka_topic(explicit: str | None = None) -> str:
    """The topic: ``explicit``, else ``AEROLAKE_KAFKA_TOPIC``, else ``flight-data``."""
    return explicit or os.environ.get("AEROLAKE_KAFKA_TOPIC") or DEFAULT_TOPIC


@dataclass(frozen=True)
class KafkaTarget:
    """librdkafka and Schema Registry client configurations (secrets inside, out of ``repr``)."""

    producer_config: dict[str, Any] = field(repr=False)
    registry_config: dict[str, Any] = field(repr=False)
    kafka_offline: bool = False
    registry_offline: bool = False

    @property
    def offline(self) -> bool:
        return self.kafka_offline or self.registry_offline

    def describe(self) -> str:
        """Where messages go, safe for logs."""
        brokers = ("librdkafka mock cluster (in-process)" if self.kafka_offline
                   else self.producer_config.get("bootstrap.servers"))
        return f"brokers={brokers} schema_registry={_strip_userinfo(self.registry_config['url'])}"


def _strip_userinfo(url: str) -> str:
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    host = parts.hostname or ""
    return urlunsplit(parts._replace(netloc=host + (f":{parts.port}" if parts.port else "")))


def _env_sasl() -> dict[str, str]:
    """SASL settings from the environment (the CLI's only source of Kafka credentials)."""
    user = os.environ.get("AEROLAKE_KAFKA_SASL_USERNAME")
    password = os.environ.get("AEROLAKE_KAFKA_SASL_PASSWORD")
    if not user and not password:
        return {}
    if not (user and password):
        raise ValueError("set both AEROLAKE_KAFKA_SASL_USERNAME and AEROLAKE_KAFKA_SASL_PASSWORD, or neither")
    return {
        "security.protocol": os.environ.get("AEROLAKE_KAFKA_SECURITY_PROTOCOL", "SASL_SSL"),
        "sasl.mechanism": os.environ.get("AEROLAKE_KAFKA_SASL_MECHANISM", "PLAIN"),
        "sasl.username": user,
        "sasl.password": password,
    }


def kafka_config(brokers: str | None = None) -> tuple[dict[str, Any], bool]:
    """(librdkafka producer properties without the fixed defaults, offline?)."""
    if brokers:
        return {"bootstrap.servers": brokers, **_env_sasl()}, False
    conn = airflow_connection(KAFKA_CONN_ID)
    if conn is None:
        log.warning("Connection %s not defined and no brokers given: producing to librdkafka's in-process mock "
                    "cluster (offline)", KAFKA_CONN_ID)
        return {"test.mock.num.brokers": 1}, True
    extra = {str(k): v for k, v in (conn.extra_dejson or {}).items()}
    servers = extra.pop("bootstrap.servers", None) or (conn.host or "")
    if conn.port and servers and "," not in servers and ":" not in servers:
        servers = f"{servers}:{conn.port}"
    if not servers:
        raise ValueError(f"Connection {KAFKA_CONN_ID} needs host (bootstrap servers, host:port[,host:port]) "
                         "or extra['bootstrap.servers']")
    config: dict[str, Any] = {"bootstrap.servers": servers, **extra}
    if conn.login or conn.password:
        if not (conn.login and conn.password):
            raise ValueError(f"Connection {KAFKA_CONN_ID}: SASL needs both login (username) and password")
        config.setdefault("security.protocol", "SASL_SSL")
        config.setdefault("sasl.mechanism", "PLAIN")
        config.update({"sasl.username": conn.login, "sasl.password": conn.password})
    return config, False


def registry_config(url: str | None = None) -> tuple[dict[str, Any], bool]:
    """(Schema Registry client configuration, offline?)."""
    if url:
        config: dict[str, Any] = {"url": url.rstrip("/")}
        user = os.environ.get("AEROLAKE_SCHEMA_REGISTRY_USER")
        password = os.environ.get("AEROLAKE_SCHEMA_REGISTRY_PASSWORD")
        if user or password:
            if not (user and password):
                raise ValueError("set both AEROLAKE_SCHEMA_REGISTRY_USER and AEROLAKE_SCHEMA_REGISTRY_PASSWORD, "
                                 "or neither")
            config["basic.auth.user.info"] = f"{user}:{password}"
        return config, url.startswith("mock://")
    conn = airflow_connection(SCHEMA_REGISTRY_CONN_ID)
    if conn is None:
        log.warning("Connection %s not defined and no URL given: using the in-process mock Schema Registry %s",
                    SCHEMA_REGISTRY_CONN_ID, OFFLINE_REGISTRY_URL)
        return {"url": OFFLINE_REGISTRY_URL}, True
    base = (conn.host or "").rstrip("/")
    if not base:
        raise ValueError(f"Connection {SCHEMA_REGISTRY_CONN_ID} needs host (the registry URL)")
    if "://" not in base:
        base = f"http://{base}"
    if conn.port and urlsplit(base).port is None:
        base = f"{base}:{conn.port}"
    config = {"url": base}
    if conn.login or conn.password:
        config["basic.auth.user.info"] = f"{conn.login or ''}:{conn.password or ''}"
    return config, base.startswith("mock://")


def resolve_target(brokers: str | None = None, registry_url: str | None = None,
                   overrides: dict[str, Any] | None = None) -> KafkaTarget:
    """The producer and registry configuration: explicit values, else connections, else the offline mocks.

    ``overrides`` are extra librdkafka properties applied last (the CLI's ``--kafka-config``; tests).
    """
    kafka, kafka_offline = kafka_config(brokers)
    registry, registry_offline = registry_config(registry_url)
    producer = {**PRODUCER_DEFAULTS, **kafka, **(overrides or {})}
    target = KafkaTarget(producer, registry, kafka_offline, registry_offline)
    log.info("Kafka target: %s", target.describe())
    return target
