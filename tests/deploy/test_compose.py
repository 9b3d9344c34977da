"""Static checks of the deployment files: docker-compose.yaml, Dockerfile, .dockerignore, .env.example.

No Docker engine is needed: the files are parsed and checked against DESIGN.md (connection ids, layout)
and the official Airflow 3 CeleryExecutor pattern.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yaml"
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
ENV_EXAMPLE = ROOT / ".env.example"
REQUIREMENTS = ROOT / "requirements.txt"

AIRFLOW_COMMANDS = {
    "airflow-apiserver": "api-server",
    "airflow-scheduler": "scheduler",
    "airflow-dag-processor": "dag-processor",
    "airflow-worker": "celery worker",
    "airflow-triggerer": "triggerer",
}
AIRFLOW_SERVICES = [*AIRFLOW_COMMANDS, "airflow-init"]
OTHER_SERVICES = ["postgres", "redis", "mysql", "mongo", "minio", "minio-init", "mockapi"]

#: conn id -> (conn_type, the compose service its host / endpoint points at by default)
CONNECTIONS = {
    "lufthansa_api": ("http", "mockapi"),
    "airlabs_api": ("http", "mockapi"),
    "aviationstack_api": ("http", "mockapi"),
    "aerolake_s3": ("aws", "minio"),
    "aerolake_mongo": ("mongo", "mongo"),
    "aerolake_mysql": ("mysql", "mysql"),
    "aerolake_kafka": ("kafka", "kafka"),
    "aerolake_schema_registry": ("http", "schema-registry"),
}

SECRET_NAME = re.compile(r"PASSWORD|PASSWD|SECRET|TOKEN|(^|_)KEY$|ACCESS_KEY|API_KEY", re.IGNORECASE)
#: ``${VAR}``, ``${VAR:-default}``, ``${VAR-default}``, ``${VAR:?message}``, ``${VAR?message}``
VAR_REF = re.compile(r"\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}")
WHOLE_REF = re.compile(rf"^{VAR_REF.pattern}$")
URL_USERINFO = re.compile(r"://(?P<user>[^:/@\s]*):(?P<password>[^@\s]*)@")
REF_MARK = "\x01"  # stands for one ${...} reference when checking URLs
PLACEHOLDER = re.compile(r"^(change-?me|<[^>]+>)", re.IGNORECASE)


def substitute(text: str, env: dict[str, str] | None = None, *, dummy: str = "dummy") -> str:
    """Compose-style interpolation: ``env`` values, else defaults, else ``dummy-<VAR>``; ``$$`` is ``$``."""
    env = env or {}
    sentinel = "\x00"

    def repl(match: re.Match[str]) -> str:
        name, op, arg = match["name"], match["op"], match["arg"]
        value = env.get(name)
        if op in (":-", "-") and (value is None or (op == ":-" and value == "")):
            return arg
        if value is None or value == "":
            return f"{dummy}-{name}"
        return value

    return VAR_REF.sub(repl, text.replace("$$", sentinel)).replace(sentinel, "$")


def var_refs(text: str) -> list[re.Match[str]]:
    """Every ``${...}`` reference of ``text`` outside comment lines, ignoring escaped ``$${...}``."""
    code = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))
    return list(VAR_REF.finditer(code.replace("$$", "")))


def parse_env_file(path: Path) -> dict[str, str]:
    values: dict[str, str] = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        assert sep, f"{path.name}: not KEY=VALUE: {line!r}"
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        values[key.strip()] = value
    return values


def env_of(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.partition("=")[::2] for item in env)
    return {str(k): "" if v is None else str(v) for k, v in env.items()}


def walk_env(compose: dict[str, Any]):
    """(where, key, value) of every environment entry of every service and x- anchor."""
    blocks = {name: svc for name, svc in compose["services"].items()}
    blocks.update({k: v for k, v in compose.items() if k.startswith("x-") and isinstance(v, dict)})
    for name, block in blocks.items():
        for key, value in env_of(block).items():
            yield name, key, value


@pytest.fixture(scope="module")
def compose_text() -> str:
    return COMPOSE_FILE.read_text()


@pytest.fixture(scope="module")
def compose(compose_text: str) -> dict[str, Any]:
    data = yaml.safe_load(compose_text)
    assert isinstance(data, dict)
    assert isinstance(data.get("services"), dict)
    return data


@pytest.fixture(scope="module")
def env_example() -> dict[str, str]:
    return parse_env_file(ENV_EXAMPLE)


# ----------------------------------------------------------------------------- the helper itself


def test_substitute_helper() -> None:
    assert substitute("${A}") == "dummy-A"
    assert substitute("${A}", {"A": "x"}) == "x"
    assert substitute("${A:-http://h:1/p}") == "http://h:1/p"
    assert substitute("${A:-d}", {"A": ""}) == "d"
    assert substitute("${A-d}", {"A": ""}) == "dummy-A"
    assert substitute("${A:?set A in .env}") == "dummy-A"
    assert substitute("${A:?msg}", {"A": "v"}) == "v"
    assert substitute("$${HOSTNAME} ${B}") == "${HOSTNAME} dummy-B"


# ----------------------------------------------------------------------------- services


def test_all_services_exist(compose: dict[str, Any]) -> None:
    missing = [name for name in AIRFLOW_SERVICES + OTHER_SERVICES if name not in compose["services"]]
    assert not missing, f"services missing from docker-compose.yaml: {missing}"


def test_images(compose: dict[str, Any]) -> None:
    services = compose["services"]
    for name in [*AIRFLOW_SERVICES, "mockapi"]:
        assert services[name].get("build") == ".", name
        assert services[name].get("image") == "aerolake-airflow:latest", name
    assert services["postgres"]["image"].startswith("postgres:16")
    assert services["redis"]["image"].startswith("redis:7")
    assert services["mysql"]["image"] == "mysql:8.4"
    assert services["mongo"]["image"].startswith("mongo:7")
    assert services["minio"]["image"].startswith("minio/minio")
    assert services["minio-init"]["image"].startswith("minio/mc")


def command_of(service: dict[str, Any]) -> str:
    command = service.get("command", "")
    return " ".join(command) if isinstance(command, list) else str(command)


@pytest.mark.parametrize(("service", "command"), list(AIRFLOW_COMMANDS.items()))
def test_airflow_commands(compose: dict[str, Any], service: str, command: str) -> None:
    assert command_of(compose["services"][service]) == command


@pytest.mark.parametrize("service", AIRFLOW_SERVICES)
def test_airflow_celery_settings(compose: dict[str, Any], service: str) -> None:
    env = env_of(compose["services"][service])
    assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
    assert substitute(env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]).startswith("postgresql+psycopg2://")
    assert "@postgres/" in substitute(env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"])
    assert "@postgres/" in substitute(env["AIRFLOW__CELERY__RESULT_BACKEND"])
    assert urlsplit(env["AIRFLOW__CELERY__BROKER_URL"]).hostname == "redis"
    assert env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] == "http://airflow-apiserver:8080/execution/"
    assert WHOLE_REF.match(env["AIRFLOW__API_AUTH__JWT_SECRET"])
    assert WHOLE_REF.match(env["AIRFLOW__CORE__FERNET_KEY"])
    assert env["AIRFLOW__CORE__DAGS_FOLDER"] == "/opt/airflow/dags"
    assert env["PYTHONPATH"] == "/opt/airflow/include"
    assert env["AIRFLOW__CORE__LOAD_EXAMPLES"].lower() == "false"


@pytest.mark.parametrize("service", AIRFLOW_SERVICES)
def test_airflow_mounts(compose: dict[str, Any], service: str) -> None:
    volumes = compose["services"][service].get("volumes", [])
    for folder in ("dags", "plugins", "include", "logs"):
        assert f"./{folder}:/opt/airflow/{folder}" in volumes, f"{service}: ./{folder} not mounted"


@pytest.mark.parametrize("service", [*AIRFLOW_COMMANDS])
def test_airflow_depends_on(compose: dict[str, Any], service: str) -> None:
    depends = compose["services"][service]["depends_on"]
    assert depends["postgres"]["condition"] == "service_healthy"
    assert depends["redis"]["condition"] == "service_healthy"
    assert depends["airflow-init"]["condition"] == "service_completed_successfully"
    assert depends["mysql"]["condition"] == "service_healthy"
    assert depends["mongo"]["condition"] == "service_healthy"
    assert depends["minio-init"]["condition"] == "service_completed_successfully"


def test_worker_waits_for_apiserver(compose: dict[str, Any]) -> None:
    depends = compose["services"]["airflow-worker"]["depends_on"]
    assert depends["airflow-apiserver"]["condition"] == "service_healthy"


def test_apiserver_port(compose: dict[str, Any]) -> None:
    ports = [substitute(str(p)) for p in compose["services"]["airflow-apiserver"]["ports"]]
    assert any(p.endswith(":8080") for p in ports)


@pytest.mark.parametrize(
    "service",
    ["postgres", "redis", "mysql", "mongo", "minio", "mockapi", *AIRFLOW_COMMANDS],
)
def test_healthchecks(compose: dict[str, Any], service: str) -> None:
    assert compose["services"][service].get("healthcheck", {}).get("test"), f"{service} has no healthcheck"


def test_mockapi(compose: dict[str, Any]) -> None:
    mockapi = compose["services"]["mockapi"]
    assert command_of(mockapi) == "python -m aerolake.mockapi --host 0.0.0.0 --port 8090"
    assert "/_mock/health" in " ".join(mockapi["healthcheck"]["test"])


def test_mysql_allows_local_infile(compose: dict[str, Any]) -> None:
    mysql = compose["services"]["mysql"]
    assert "--local-infile=1" in command_of(mysql).split()
    env = env_of(mysql)
    assert substitute(env["MYSQL_DATABASE"]) == "aerolake"
    for key in ("MYSQL_ROOT_PASSWORD", "MYSQL_USER", "MYSQL_PASSWORD"):
        match = WHOLE_REF.match(env[key])
        assert match, f"{key} must be a ${{VAR}} reference"
        assert match["op"] in (None, ":?", "?"), f"{key} must be a required ${{VAR}}, without a default"


def test_minio_init_creates_bucket(compose: dict[str, Any]) -> None:
    init = compose["services"]["minio-init"]
    assert init["depends_on"]["minio"]["condition"] == "service_healthy"
    script = command_of(init)
    assert "mc mb" in script
    assert "AEROLAKE_BUCKET" in script
    assert substitute(env_of(init)["AEROLAKE_BUCKET"]) == "aerolake"


def test_named_volumes(compose: dict[str, Any]) -> None:
    volumes = compose.get("volumes") or {}
    for service, path in [
        ("postgres", "/var/lib/postgresql/data"),
        ("mysql", "/var/lib/mysql"),
        ("mongo", "/data/db"),
        ("minio", "/data"),
    ]:
        mounts = [str(v) for v in compose["services"][service].get("volumes", [])]
        named = [m.split(":")[0] for m in mounts if m.split(":")[1:2] == [path]]
        assert named, f"{service}: nothing mounted on {path}"
        assert named[0] in volumes, f"{service}: {path} is not on a named volume"


# ----------------------------------------------------------------------------- connections and settings


def conn_json(raw: str) -> dict[str, Any]:
    return json.loads(substitute(raw))


def target_host(conn: dict[str, Any]) -> str | None:
    url = conn.get("extra", {}).get("endpoint_url") or conn.get("host") or ""
    return urlsplit(url).hostname if "://" in url else url


@pytest.mark.parametrize("service", AIRFLOW_SERVICES)
@pytest.mark.parametrize("conn_id", list(CONNECTIONS))
def test_connections(compose: dict[str, Any], service: str, conn_id: str) -> None:
    env = env_of(compose["services"][service])
    var = f"AIRFLOW_CONN_{conn_id.upper()}"
    assert var in env, f"{service}: {var} not set"
    raw = env[var]
    json.loads(raw)  # valid JSON even before interpolation: every ${...} sits inside a JSON string
    conn = conn_json(raw)
    conn_type, host_service = CONNECTIONS[conn_id]
    assert conn["conn_type"] == conn_type
    assert target_host(conn) == host_service
    assert host_service in compose["services"]


def test_connection_details(compose: dict[str, Any]) -> None:
    env = env_of(compose["services"]["airflow-worker"])
    conns = {cid: conn_json(env[f"AIRFLOW_CONN_{cid.upper()}"]) for cid in CONNECTIONS}
    assert conns["lufthansa_api"]["host"] == "http://mockapi:8090/lufthansa/v1"
    assert conns["lufthansa_api"]["login"] == "dummy-LUFTHANSA_CLIENT_ID"
    assert conns["lufthansa_api"]["password"] == "dummy-LUFTHANSA_CLIENT_SECRET"
    assert conns["airlabs_api"]["host"] == "http://mockapi:8090/airlabs/api/v9"
    assert conns["airlabs_api"]["password"] == "dummy-AIRLABS_API_KEY"
    assert conns["aviationstack_api"]["host"] == "http://mockapi:8090/aviationstack/v1"
    assert conns["aviationstack_api"]["password"] == "dummy-AVIATIONSTACK_ACCESS_KEY"
    assert conns["aerolake_s3"]["extra"] == {"endpoint_url": "http://minio:9000", "region_name": "us-east-1"}
    assert conns["aerolake_s3"]["login"] == "dummy-MINIO_ROOT_USER"
    assert conns["aerolake_s3"]["password"] == "dummy-MINIO_ROOT_PASSWORD"
    assert conns["aerolake_mongo"]["port"] == 27017
    mysql = conns["aerolake_mysql"]
    assert (mysql["port"], mysql["schema"], mysql["extra"]) == (3306, "aerolake", {"local_infile": True})
    assert (mysql["login"], mysql["password"]) == ("dummy-MYSQL_USER", "dummy-MYSQL_PASSWORD")
    # Real endpoints can replace the mock through the environment.
    real = json.loads(
        substitute(env["AIRFLOW_CONN_LUFTHANSA_API"], {"LUFTHANSA_BASE_URL": "https://api.lufthansa.com/v1"})
    )
    assert real["host"] == "https://api.lufthansa.com/v1"


@pytest.mark.parametrize("service", AIRFLOW_SERVICES)
def test_aerolake_settings(compose: dict[str, Any], service: str) -> None:
    env = {k: substitute(v) for k, v in env_of(compose["services"][service]).items()}
    assert env["AEROLAKE_BUCKET"] == "aerolake"
    assert env["AEROLAKE_MONGO_DB"] == "aerolake"
    assert env["AEROLAKE_LUFTHANSA_HUBS"] == "FRA,MUC"
    assert float(env["AEROLAKE_LUFTHANSA_CALLS_PER_SECOND"]) == 5
    assert env["AEROLAKE_AIRLABS_SCHEDULE"] == "*/10 * * * *"
    assert (env["AEROLAKE_AIRLABS_BUDGET_PER_MONTH"], env["AEROLAKE_AVIATIONSTACK_BUDGET_PER_MONTH"]) == ("1000", "100")


def test_init_imports_the_api_pools(compose: dict[str, Any]) -> None:
    script = command_of(compose["services"]["airflow-init"])
    assert "airflow pools import /opt/airflow/include/pools.json" in script
    assert any(str(m).startswith("${AIRFLOW_PROJ_DIR:-.}/include:") or str(m).endswith(":/opt/airflow/include")
               for m in compose["services"]["airflow-init"].get("volumes", [])
               + compose["x-airflow-common"].get("volumes", []))


# ----------------------------------------------------------------------------- secrets


def test_no_literal_secret_in_compose(compose: dict[str, Any]) -> None:
    problems = []
    for where, key, value in walk_env(compose):
        if SECRET_NAME.search(key):
            match = WHOLE_REF.match(value)
            if not match or match["op"] in (":-", "-"):
                problems.append(f"{where}: {key} must be a required ${{VAR}} reference, not {value!r}")
        for url in URL_USERINFO.finditer(VAR_REF.sub(REF_MARK, value)):
            if url["password"] not in ("", REF_MARK):
                problems.append(f"{where}: {key} has a literal password in a URL")
        if key.startswith("AIRFLOW_CONN_"):
            conn = json.loads(value)
            secrets = {"password": conn.get("password")}
            secrets.update({k: v for k, v in (conn.get("extra") or {}).items() if SECRET_NAME.search(k)})
            for field, secret in secrets.items():
                if secret is not None and not WHOLE_REF.match(str(secret)):
                    problems.append(f"{where}: {key}.{field} is a literal secret")
    assert not problems, "\n".join(problems)


def test_compose_variables_are_documented(compose_text: str, env_example: dict[str, str]) -> None:
    required = {m["name"] for m in var_refs(compose_text) if m["op"] not in (":-", "-")}
    assert required, "expected required ${VAR} references in docker-compose.yaml"
    missing = sorted(required - set(env_example))
    assert not missing, f"used by docker-compose.yaml but missing from .env.example: {missing}"


def test_env_example_lists_project_variables(env_example: dict[str, str]) -> None:
    expected = {
        "AIRFLOW_UID",
        "_AIRFLOW_WWW_USER_USERNAME",
        "_AIRFLOW_WWW_USER_PASSWORD",
        "AIRFLOW__API_AUTH__JWT_SECRET",
        "AIRFLOW__CORE__FERNET_KEY",
        "POSTGRES_USER",
        "POSTGRES_PASSWORD",
        "POSTGRES_DB",
        "MYSQL_ROOT_PASSWORD",
        "MYSQL_USER",
        "MYSQL_PASSWORD",
        "MINIO_ROOT_USER",
        "MINIO_ROOT_PASSWORD",
        "LUFTHANSA_BASE_URL",
        "LUFTHANSA_CLIENT_ID",
        "LUFTHANSA_CLIENT_SECRET",
        "AIRLABS_API_KEY",
        "AVIATIONSTACK_ACCESS_KEY",
        "AEROLAKE_BUCKET",
        "AEROLAKE_MONGO_DB",
        "AEROLAKE_MYSQL_DATABASE",
        "AEROLAKE_LUFTHANSA_HUBS",
        "AEROLAKE_LUFTHANSA_CALLS_PER_SECOND",
        "AEROLAKE_MOCK_API_URL",
        "AEROLAKE_S3_ENDPOINT",
    }
    missing = sorted(expected - set(env_example))
    assert not missing, f".env.example lacks {missing}"


def test_env_example_secrets_are_placeholders(env_example: dict[str, str]) -> None:
    secrets = {k: v for k, v in env_example.items() if SECRET_NAME.search(k)}
    assert "MYSQL_PASSWORD" in secrets
    assert "AIRFLOW__CORE__FERNET_KEY" in secrets
    not_placeholders = {k: v for k, v in secrets.items() if not PLACEHOLDER.match(v)}
    assert not not_placeholders, f".env.example holds values that look real: {sorted(not_placeholders)}"
    # The same for the documented (commented-out) connection lines.
    for line in ENV_EXAMPLE.read_text().splitlines():
        match = re.match(r"^#\s*(AIRFLOW_CONN_[A-Z0-9_]+)=(.*)$", line.strip())
        if match:
            conn = json.loads(match[2].strip("'"))
            if "password" in conn:
                assert PLACEHOLDER.match(conn["password"]), f"{match[1]}: password is not a placeholder"


def test_env_example_documents_outside_compose_connections() -> None:
    commented = re.findall(r"^#\s*(AIRFLOW_CONN_[A-Z0-9_]+)=", ENV_EXAMPLE.read_text(), re.MULTILINE)
    assert set(commented) >= {f"AIRFLOW_CONN_{cid.upper()}" for cid in CONNECTIONS}
    assert "https://api.lufthansa.com/v1" in ENV_EXAMPLE.read_text()


# ----------------------------------------------------------------------------- image


def base_image_airflow_version() -> str:
    match = re.search(
        r"^FROM\s+apache/airflow:(\d+\.\d+\.\d+)(?:-python(\d+\.\d+))?", DOCKERFILE.read_text(), re.MULTILINE
    )
    assert match, "Dockerfile must build FROM apache/airflow:<version>-python<X.Y>"
    assert match[2] == "3.11", "the image's Python must be the project's (3.11)"
    return match[1]


def test_dockerfile_matches_requirements_pin() -> None:
    # requirements.txt is the project's pinned lock: it must exist and pin the image's Airflow.
    pins = re.findall(
        r"^apache-airflow(?:\[[^\]]*\])?\s*==\s*([^\s;\\#]+)",
        REQUIREMENTS.read_text(),
        re.MULTILINE | re.IGNORECASE,
    )
    assert len(pins) == 1, "requirements.txt must pin apache-airflow exactly once"
    assert pins[0] == base_image_airflow_version()


def test_dockerfile_contents() -> None:
    text = DOCKERFILE.read_text()
    version = base_image_airflow_version()
    assert re.search(r"pip install --no-cache-dir .*-r /opt/airflow/requirements\.txt", text)
    assert re.search(r"pip install --no-cache-dir --no-deps -e /opt/airflow\b", text)
    assert "default-libmysqlclient-dev" in text
    assert "rm -rf /var/lib/apt/lists/*" in text
    assert "AIRFLOW__CORE__LOAD_EXAMPLES=False" in text
    for src in ("pyproject.toml", "include/", "dags/", "plugins/"):
        assert re.search(rf"^COPY\b.*\s{re.escape(src)}\s+/opt/airflow/", text, re.MULTILINE), src
    arg = re.search(r"^ARG AIRFLOW_VERSION=(\S+)", text, re.MULTILINE)
    assert arg is None or arg[1] == version


def test_dockerignore() -> None:
    entries = {
        line.strip().removeprefix("**/")
        for line in DOCKERIGNORE.read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    expected = {
        ".venv",
        ".git",
        ".aerolake",
        "__pycache__",
        "*.pyc",
        ".pytest_cache",
        ".ruff_cache",
        "bench/results",
        ".env",
    }
    assert expected <= entries, f".dockerignore lacks {sorted(expected - entries)}"


# ----------------------------------------------------------------------------- streaming (Kafka, Schema Registry)


def test_streaming_services(compose: dict[str, Any]) -> None:
    services = compose["services"]
    kafka, registry, init = services["kafka"], services["schema-registry"], services["kafka-init"]
    assert kafka["image"].startswith("confluentinc/cp-kafka:7.9")
    assert init["image"] == kafka["image"]
    assert registry["image"].startswith("confluentinc/cp-schema-registry:7.9")
    env = {k: substitute(v) for k, v in env_of(kafka).items()}
    assert env["KAFKA_PROCESS_ROLES"] == "broker,controller"  # KRaft: no ZooKeeper service
    assert env["KAFKA_CONTROLLER_QUORUM_VOTERS"] == "1@kafka:9093"
    assert "PLAINTEXT://kafka:9092" in env["KAFKA_ADVERTISED_LISTENERS"]
    assert env["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false"
    assert re.fullmatch(r"[A-Za-z0-9_-]{22}", env["CLUSTER_ID"])
    assert "zookeeper" not in services
    assert any(str(v).endswith(":/var/lib/kafka/data") and str(v).split(":")[0] in compose["volumes"]
               for v in kafka["volumes"])
    assert "kafka-broker-api-versions" in " ".join(kafka["healthcheck"]["test"])
    reg_env = env_of(registry)
    assert reg_env["SCHEMA_REGISTRY_KAFKASTORE_BOOTSTRAP_SERVERS"] == "PLAINTEXT://kafka:9092"
    assert reg_env["SCHEMA_REGISTRY_LISTENERS"] == "http://0.0.0.0:8081"
    assert registry["depends_on"]["kafka"]["condition"] == "service_healthy"
    assert "http://localhost:8081/subjects" in registry["healthcheck"]["test"]
    script = substitute(command_of(init))
    assert "kafka-topics --bootstrap-server kafka:9092 --create --if-not-exists" in script
    assert substitute(env_of(init)["AEROLAKE_KAFKA_TOPIC"]) == "flight-data"
    for name in ("kafka", "schema-registry"):
        assert all(str(p).startswith("127.0.0.1:") for p in services[name]["ports"]), f"{name}: loopback only"


def test_workers_wait_for_the_stream(compose: dict[str, Any]) -> None:
    depends = compose["services"]["airflow-worker"]["depends_on"]
    assert depends["kafka-init"]["condition"] == "service_completed_successfully"
    assert depends["schema-registry"]["condition"] == "service_healthy"


@pytest.mark.parametrize("service", AIRFLOW_SERVICES)
def test_streaming_settings(compose: dict[str, Any], service: str) -> None:
    env = env_of(compose["services"][service])
    assert substitute(env["AEROLAKE_KAFKA_TOPIC"]) == "flight-data"
    assert conn_json(env["AIRFLOW_CONN_AEROLAKE_KAFKA"]) == {"conn_type": "kafka", "host": "kafka", "port": 9092}
    assert conn_json(env["AIRFLOW_CONN_AEROLAKE_SCHEMA_REGISTRY"])["host"] == "http://schema-registry:8081"


def test_producer_service(compose: dict[str, Any]) -> None:
    producer = compose["services"]["producer"]
    assert producer["image"] == "aerolake-airflow:latest" and producer["build"] == "."
    assert producer["profiles"] == ["streaming"]  # optional: the DAGs already publish
    command = [substitute(str(part)) for part in producer["command"]]
    assert command == ["python", "-m", "aerolake.streaming", "--continuous", "--interval", "10"]
    assert producer["stop_signal"] == "SIGTERM"
    env = env_of(producer)
    for conn_id, host in (("aerolake_kafka", "kafka"), ("aerolake_schema_registry", "schema-registry"),
                          ("aerolake_mysql", "mysql")):
        assert target_host(conn_json(env[f"AIRFLOW_CONN_{conn_id.upper()}"])) == host
    assert producer["depends_on"]["kafka-init"]["condition"] == "service_completed_successfully"
    assert producer["depends_on"]["mysql"]["condition"] == "service_healthy"


def test_env_example_streaming(env_example: dict[str, str]) -> None:
    for name in ("AEROLAKE_KAFKA_TOPIC", "KAFKA_CLUSTER_ID", "KAFKA_HOST_PORT", "SCHEMA_REGISTRY_HOST_PORT",
                 "AEROLAKE_PRODUCER_INTERVAL_MINUTES"):
        assert name in env_example, name
    text = ENV_EXAMPLE.read_text()
    for name in ("AEROLAKE_KAFKA_SASL_USERNAME", "AEROLAKE_KAFKA_SASL_PASSWORD", "AEROLAKE_SCHEMA_REGISTRY_USER",
                 "AEROLAKE_SCHEMA_REGISTRY_PASSWORD"):
        assert re.search(rf"^# {name}=change-me$", text, re.MULTILINE), f"{name}: a commented placeholder"
