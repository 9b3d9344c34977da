"""``make up`` (aerolake.devstack.stack) and docker-compose.yaml describe one deployment: the same Airflow
services, the same connection ids of the same types, the same Airflow and aerolake settings. What only the
local stack sets is listed here with its reason, so a new setting on either side has to be placed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from aerolake.devstack import stack

ROOT = Path(__file__).resolve().parents[2]
KEYS = {"fernet_key": "f", "jwt_secret": "j", "api_secret_key": "s", "admin_password": "p", "api_token": "t"}
#: compose services that are one-shot jobs or tools, not services the local stack keeps running
COMPOSE_ONE_SHOTS = {"airflow-init", "airflow-cli", "minio-init", "kafka-init", "producer"}
#: the compose stores and what runs in their place locally (the machine's services need no process of ours)
LOCAL_STORES = {"mockapi": "mockapi", "minio": "s3", "mongo": "mongo", "kafka": "kafka",
                "schema-registry": "schema-registry", "postgres": None, "redis": None, "mysql": None}
#: Airflow settings only the local stack sets, and why compose does not need them
LOCAL_ONLY = {
    "AIRFLOW__CORE__PLUGINS_FOLDER": "the image mounts plugins/ at Airflow's default folder",
    "AIRFLOW__CORE__UNIT_TEST_MODE": "a developer's shell may set it; the stack switches it off",
    "AIRFLOW__CELERY__WORKER_CONCURRENCY": "two workers share this machine's cores; a container takes the default",
    "AIRFLOW__API__HOST": "loopback here; compose publishes the port (bound to AIRFLOW_HOST_BIND)",
    "AIRFLOW__API__PORT": "a free port may be configured here; 8080 inside the container",
    "AIRFLOW__API__BASE_URL": "follows the port chosen here (tasks reach for localhost:8080 otherwise)",
    "AIRFLOW__API__WORKERS": "one api-server worker on a two-core machine",
    "AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_SERVER_HOST": "loopback here",
    "AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_SERVER_PORT": "a free port may be configured here",
    "AIRFLOW__LOGGING__BASE_LOG_FOLDER": "under the stack's state directory",
}
#: settings whose values must agree exactly (not addresses or secrets)
SAME_VALUE = ["AIRFLOW__CORE__EXECUTOR", "AIRFLOW__CORE__AUTH_MANAGER", "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION",
              "AIRFLOW__CORE__LOAD_EXAMPLES", "AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK",
              "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT"]


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "docker-compose.yaml").read_text())


@pytest.fixture(scope="module")
def compose_env(compose: dict[str, Any]) -> dict[str, str]:
    return {k: str(v) for k, v in compose["x-airflow-common"]["environment"].items()}


@pytest.fixture(scope="module")
def local_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    cfg = stack.StackConfig(state_dir=tmp_path_factory.mktemp("stack"))
    return stack.airflow_env(cfg, KEYS)


def test_the_same_airflow_services(compose: dict[str, Any]) -> None:
    in_compose = {name for name in compose["services"] if name.startswith("airflow-")} - COMPOSE_ONE_SHOTS
    assert in_compose == set(stack.AIRFLOW_SERVICES)
    local = [s.name for s in stack.airflow_services(stack.StackConfig(state_dir=Path("unused")), {})]
    assert {name.rstrip("-0123456789") if name.startswith("airflow-worker-") else name for name in local} == \
        set(stack.AIRFLOW_SERVICES)
    assert sum(name.startswith("airflow-worker-") for name in local) == 2  # compose scales its worker the same way


def test_the_same_stores(compose: dict[str, Any]) -> None:
    stores = set(compose["services"]) - COMPOSE_ONE_SHOTS - {n for n in compose["services"] if n.startswith("airflow-")}
    assert stores == set(LOCAL_STORES)
    local = {s.name for s in stack.store_services(stack.StackConfig(state_dir=Path("unused")))}
    assert local == {name for name in LOCAL_STORES.values() if name}


def test_the_same_connection_ids_of_the_same_types(compose_env: dict[str, str], local_env: dict[str, str]) -> None:
    def types(env: dict[str, str]) -> dict[str, str]:
        return {k: json.loads(v)["conn_type"] for k, v in env.items() if k.startswith("AIRFLOW_CONN_")}

    assert types(local_env) == types(compose_env)
    assert types(local_env)["AIRFLOW_CONN_AEROLAKE_MONGO"] == "mongo"  # MongoHook refuses "mongodb"


def test_the_same_airflow_settings(compose_env: dict[str, str], local_env: dict[str, str]) -> None:
    compose_keys = {k for k in compose_env if k.startswith("AIRFLOW__")}
    local_keys = {k for k in local_env if k.startswith("AIRFLOW__")}
    assert sorted(compose_keys - local_keys) == []
    assert sorted(local_keys - compose_keys - set(LOCAL_ONLY)) == []
    assert sorted(set(LOCAL_ONLY) & compose_keys) == []  # listed as local-only, yet compose sets it
    for key in SAME_VALUE:
        assert local_env[key].lower() == compose_env[key].lower(), key
    for key, scheme in [("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", "postgresql+psycopg2://"),
                        ("AIRFLOW__CELERY__RESULT_BACKEND", "db+postgresql://"),
                        ("AIRFLOW__CELERY__BROKER_URL", "redis://")]:
        assert local_env[key].startswith(scheme) and compose_env[key].startswith(scheme), key
    assert local_env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"].endswith("/execution/")


def test_every_aerolake_setting_the_stack_sets_is_one_compose_passes(compose_env: dict[str, str],
                                                                     local_env: dict[str, str]) -> None:
    set_here = {k for k in local_env if k.startswith("AEROLAKE_")}
    assert set_here and sorted(set_here - set(compose_env)) == []
