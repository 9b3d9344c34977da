"""Where the publisher connects: Airflow connections, CLI flags with credentials from the environment, or the
offline mocks; secrets never in repr or the log description."""

from __future__ import annotations

import json

import pytest

from aerolake.streaming.connections import PRODUCER_DEFAULTS, kafka_topic, resolve_target
from aerolake.streaming.registry import CompatibilityCheckingMockRegistry, make_registry_client


def test_offline_defaults() -> None:
    target = resolve_target()
    assert target.kafka_offline and target.registry_offline
    assert target.producer_config["test.mock.num.brokers"] == 1
    assert target.registry_config == {"url": "mock://aerolake"}
    assert isinstance(make_registry_client(target.registry_config), CompatibilityCheckingMockRegistry)
    for key, value in PRODUCER_DEFAULTS.items():
        assert target.producer_config[key] == value
    assert (target.producer_config["enable.idempotence"], target.producer_config["acks"]) == (True, "all")
    assert kafka_topic() == "flight-data"


def test_topic_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AEROLAKE_KAFKA_TOPIC", "flights-v1")
    assert kafka_topic() == "flights-v1"
    assert kafka_topic("explicit") == "explicit"


def test_airflow_connections(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_AEROLAKE_KAFKA", json.dumps({
        "conn_type": "kafka", "host": "broker-1:9092,broker-2:9092", "login": "svc-flights",
        "password": "kafka-pass-123", "extra": {"sasl.mechanism": "SCRAM-SHA-512", "linger.ms": 5}}))
    monkeypatch.setenv("AIRFLOW_CONN_AEROLAKE_SCHEMA_REGISTRY", json.dumps({
        "conn_type": "http", "host": "https://registry.example:8081", "login": "sr-user", "password": "sr-pass-456"}))
    target = resolve_target()
    assert not target.offline
    config = target.producer_config
    assert config["bootstrap.servers"] == "broker-1:9092,broker-2:9092"
    assert (config["security.protocol"], config["sasl.mechanism"]) == ("SASL_SSL", "SCRAM-SHA-512")
    assert (config["sasl.username"], config["sasl.password"]) == ("svc-flights", "kafka-pass-123")
    assert config["linger.ms"] == 5 and config["acks"] == "all" and config["enable.idempotence"] is True
    assert target.registry_config == {"url": "https://registry.example:8081",
                                      "basic.auth.user.info": "sr-user:sr-pass-456"}
    for text in (repr(target), target.describe()):
        assert "kafka-pass-123" not in text and "sr-pass-456" not in text
    assert "broker-1:9092" in target.describe() and "https://registry.example:8081" in target.describe()


def test_connection_host_and_port(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_AEROLAKE_KAFKA", json.dumps({"conn_type": "kafka", "host": "kafka", "port": 9092}))
    monkeypatch.setenv("AIRFLOW_CONN_AEROLAKE_SCHEMA_REGISTRY",
                       json.dumps({"conn_type": "http", "host": "schema-registry", "port": 8081}))
    target = resolve_target()
    assert target.producer_config["bootstrap.servers"] == "kafka:9092"
    assert "sasl.username" not in target.producer_config and "security.protocol" not in target.producer_config
    assert target.registry_config == {"url": "http://schema-registry:8081"}


def test_flags_take_credentials_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_AEROLAKE_KAFKA", json.dumps({"conn_type": "kafka", "host": "ignored:9092"}))
    monkeypatch.setenv("AEROLAKE_KAFKA_SASL_USERNAME", "cli-user")
    monkeypatch.setenv("AEROLAKE_KAFKA_SASL_PASSWORD", "cli-pass-789")
    monkeypatch.setenv("AEROLAKE_SCHEMA_REGISTRY_USER", "sr")
    monkeypatch.setenv("AEROLAKE_SCHEMA_REGISTRY_PASSWORD", "sr-pass-000")
    target = resolve_target("b1:9093", "https://sr.example/", {"linger.ms": 50})
    assert target.producer_config["bootstrap.servers"] == "b1:9093"
    assert target.producer_config["sasl.password"] == "cli-pass-789"
    assert target.producer_config["security.protocol"] == "SASL_SSL" and target.producer_config["linger.ms"] == 50
    assert target.registry_config == {"url": "https://sr.example", "basic.auth.user.info": "sr:sr-pass-000"}
    assert "cli-pass-789" not in target.describe() + repr(target)


def test_half_credentials_are_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AEROLAKE_KAFKA_SASL_USERNAME", "only-user")
    with pytest.raises(ValueError, match="AEROLAKE_KAFKA_SASL_PASSWORD"):
        resolve_target("b1:9093")
    monkeypatch.setenv("AIRFLOW_CONN_AEROLAKE_KAFKA", json.dumps({"conn_type": "kafka", "login": "x"}))
    with pytest.raises(ValueError, match="needs host"):
        resolve_target()


def test_registry_url_userinfo_not_described() -> None:
    target = resolve_target(registry_url="https://user:secret-pw@sr.example:8081")
    assert "secret-pw" not in target.describe()
    assert "https://sr.example:8081" in target.describe()
