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
    "opensky_api": ("http", "mockapi"),
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
    # Docker Hub's minio/minio and minio/mc are no longer published: MinIO's quay.io releases, pinned
    assert re.fullmatch(r"quay\.io/minio/minio:RELEASE\.\d{4}-\d\d-\d\dT\d\d-\d\d-\d\dZ", services["minio"]["image"])
    assert re.fullmatch(r"quay\.io/minio/mc:RELEASE\.\d{4}-\d\d-\d\dT\d\d-\d\d-\d\dZ", services["minio-init"]["image"])


def test_pulled_images_are_pinned(compose: dict[str, Any]) -> None:
    """No ``:latest`` (nor a missing tag, which is ``latest``) on an image compose pulls. The project's own
    image (``build: .``) is exempt: ``aerolake-airflow:latest`` is the tag of the local build, never pulled."""
    problems = []
    for name, service in compose["services"].items():
        image = service.get("image")
        if not image or service.get("build"):
            continue
        reference = image.split("@")[0]
        tag = reference.rsplit(":", 1)[1] if ":" in reference.rsplit("/", 1)[-1] else None
        if tag in (None, "latest"):
            problems.append(f"{name}: {image} (pin a release tag)")
    assert not problems, "\n".join(problems)


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
    ports = [str(p) for p in compose["services"]["airflow-apiserver"]["ports"]]
    assert [substitute(p) for p in ports] == ["127.0.0.1:8080:8080"], "loopback by default"
    exposed = [substitute(p, {"AIRFLOW_HOST_BIND": "0.0.0.0", "AIRFLOW_HOST_PORT": "18080"}) for p in ports]
    assert exposed == ["0.0.0.0:18080:8080"], "AIRFLOW_HOST_BIND / AIRFLOW_HOST_PORT choose where it is published"


def test_every_published_port_is_loopback_by_default(compose: dict[str, Any]) -> None:
    problems = [f"{name}: {port}" for name, service in compose["services"].items()
                for port in service.get("ports", []) if not substitute(str(port)).startswith("127.0.0.1:")]
    assert not problems, "published beyond the host's loopback by default:\n" + "\n".join(problems)


def test_env_example_documents_the_host_bind(env_example: dict[str, str]) -> None:
    assert env_example["AIRFLOW_HOST_BIND"] == "127.0.0.1"
    assert "AIRFLOW_HOST_BIND=0.0.0.0" in ENV_EXAMPLE.read_text()


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


@pytest.mark.parametrize(("conn_id", "mock_env"), [("airlabs_api", "AEROLAKE_MOCK_AIRLABS_API_KEY"),
                                                    ("aviationstack_api", "AEROLAKE_MOCK_AVIATIONSTACK_ACCESS_KEY")])
def test_mockapi_accepts_the_keys_the_connections_send(compose: dict[str, Any], conn_id: str, mock_env: str) -> None:
    """The mock's accepted key and the connection's password come from the same .env variable."""
    assert f'"{mock_env}"' in (ROOT / "include/aerolake/mockapi/__main__.py").read_text(), "the mock reads it"
    mock = env_of(compose["services"]["mockapi"])
    sample = {"AIRLABS_API_KEY": "key-airlabs-1", "AVIATIONSTACK_ACCESS_KEY": "key-aviationstack-2"}
    for service in AIRFLOW_SERVICES:
        conn = json.loads(substitute(env_of(compose["services"][service])[f"AIRFLOW_CONN_{conn_id.upper()}"], sample))
        assert conn["password"] == substitute(mock[mock_env], sample), f"{service}: {conn_id} sends another key"
    assert substitute(mock[mock_env], sample) in sample.values()


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
    assert conns["opensky_api"]["host"] == "http://mockapi:8090/opensky/api"
    assert (conns["opensky_api"]["login"], conns["opensky_api"]["password"]) == (
        "dummy-OPENSKY_CLIENT_ID", "dummy-OPENSKY_CLIENT_SECRET")
    assert conns["opensky_api"]["extra"]["token_url"] == (
        "http://mockapi:8090/opensky/api/auth/realms/opensky-network/protocol/openid-connect/token")
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


# ----------------------------------------------------------------------------- settings reach the services

#: ``AEROLAKE_*`` names the code reads from the environment but compose deliberately does not pass to the
#: Airflow services, with the reason. Every other one must reach every Airflow service.
NOT_FOR_AIRFLOW_SERVICES = {
    "AEROLAKE_NOW": "test-only: replaces the wall clock in tests and the offline demo",
    "AEROLAKE_SQL_DIR": "development override of the SQL shipped in aerolake/sql",
    "AEROLAKE_API_HOST": "standalone `python -m aerolake.api` only (compose serves the app in the api-server)",
    "AEROLAKE_API_PORT": "standalone `python -m aerolake.api` only",
    "AEROLAKE_API_LOG_LEVEL": "standalone `python -m aerolake.api` only",
    "AEROLAKE_MOCK_CLIENT_ID": "the mockapi service's own (Lufthansa accepts any client there)",
    "AEROLAKE_MOCK_CLIENT_SECRET": "the mockapi service's own",
    "AEROLAKE_MOCK_AIRLABS_API_KEY": "the mockapi service's own (test_mockapi_accepts_the_keys_...)",
    "AEROLAKE_MOCK_AVIATIONSTACK_ACCESS_KEY": "the mockapi service's own",
    "AEROLAKE_KAFKA_SASL_USERNAME": "standalone streaming CLI against a secured cluster; compose's broker has no auth",
    "AEROLAKE_KAFKA_SASL_PASSWORD": "standalone streaming CLI",
    "AEROLAKE_KAFKA_SECURITY_PROTOCOL": "standalone streaming CLI",
    "AEROLAKE_KAFKA_SASL_MECHANISM": "standalone streaming CLI",
    "AEROLAKE_SCHEMA_REGISTRY_USER": "standalone streaming CLI; compose's registry has no auth",
    "AEROLAKE_SCHEMA_REGISTRY_PASSWORD": "standalone streaming CLI",
}
ENV_READ = re.compile(r"""(?:environ\.get|getenv|environ\[|_env_[a-z]+)\(?\s*["'](AEROLAKE_[A-Z0-9_]+)["']""")


def settings_read_by_the_code() -> set[str]:
    files = [*(ROOT / "include" / "aerolake").rglob("*.py"), *(ROOT / "dags").glob("*.py"),
             *(ROOT / "plugins").rglob("*.py")]
    return {name for path in files for name in ENV_READ.findall(path.read_text())}


def test_the_settings_grep_finds_the_known_readers() -> None:
    names = settings_read_by_the_code()
    assert {"AEROLAKE_BUCKET", "AEROLAKE_AVIATIONSTACK_SNAPSHOTS", "AEROLAKE_AIRFLOW_USERNAME",
            "AEROLAKE_NOW"} <= names
    stale = sorted(set(NOT_FOR_AIRFLOW_SERVICES) - names)
    assert not stale, f"exempted but no longer read by the code: {stale}"


@pytest.mark.parametrize("service", AIRFLOW_SERVICES)
def test_every_setting_reaches_the_airflow_services(compose: dict[str, Any], service: str) -> None:
    env = env_of(compose["services"][service])
    missing = sorted(settings_read_by_the_code() - set(NOT_FOR_AIRFLOW_SERVICES) - set(env))
    assert not missing, f"{service}: read by the code, not passed by docker-compose.yaml: {missing}"


def test_every_setting_is_documented(env_example: dict[str, str]) -> None:
    missing = sorted(settings_read_by_the_code() - set(NOT_FOR_AIRFLOW_SERVICES) - set(env_example))
    assert not missing, f"read by the code, passed by compose, missing from .env.example: {missing}"


def test_settings_come_from_the_same_named_env_variables(compose: dict[str, Any]) -> None:
    """AEROLAKE_X: ${AEROLAKE_X...}: the .env value a user sets is the one the code reads (an AEROLAKE_*
    mapped from another variable, as AEROLAKE_AIRFLOW_USERNAME once was from _AIRFLOW_WWW_USER_USERNAME,
    silently ignores the documented one)."""
    env = env_of(compose["x-airflow-common"])
    wrong = {}
    for key, value in env.items():
        if key.startswith("AEROLAKE_"):
            refs = [m["name"] for m in VAR_REF.finditer(value)]
            if refs != [key]:
                wrong[key] = refs
    assert not wrong, f"AEROLAKE_* settings not read from their own .env variable: {wrong}"


def test_airflow_api_credentials_reach_the_web_api(compose: dict[str, Any], env_example: dict[str, str],
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    from aerolake.api.config import load_api_settings

    dotenv = {**env_example, "AEROLAKE_AIRFLOW_USERNAME": "trigger-bot", "AEROLAKE_AIRFLOW_PASSWORD": "bot-pass",
              "_AIRFLOW_WWW_USER_USERNAME": "admin", "_AIRFLOW_WWW_USER_PASSWORD": "admin-pass",
              "AEROLAKE_AIRFLOW_API_TIMEOUT_SECONDS": "7"}
    env = {k: substitute(v, dotenv) for k, v in env_of(compose["services"]["airflow-apiserver"]).items()}
    for key, value in env.items():
        if key.startswith("AEROLAKE_"):
            monkeypatch.setenv(key, value)
    settings = load_api_settings()
    assert (settings.airflow_username, settings.airflow_password) == ("trigger-bot", "bot-pass")
    assert settings.airflow_api_url == "http://airflow-apiserver:8080"
    assert settings.airflow_timeout_s == 7


def test_aviationstack_snapshots_reach_the_dag(compose: dict[str, Any]) -> None:
    for service in AIRFLOW_SERVICES:
        env = env_of(compose["services"][service])
        assert substitute(env["AEROLAKE_AVIATIONSTACK_SNAPSHOTS"]) == "false"
        assert substitute(env["AEROLAKE_AVIATIONSTACK_SNAPSHOTS"], {"AEROLAKE_AVIATIONSTACK_SNAPSHOTS": "true"}) == "true"


# ----------------------------------------------------------------------------- connections, as Airflow parses them

#: a sample .env: every referenced variable gets a value of its own, so each field can be traced
SAMPLE_ENV = {
    "LUFTHANSA_CLIENT_ID": "lh-id", "LUFTHANSA_CLIENT_SECRET": "lh-secret", "AIRLABS_API_KEY": "al-key",
    "AVIATIONSTACK_ACCESS_KEY": "as-key", "MINIO_ROOT_USER": "minio-user", "MINIO_ROOT_PASSWORD": "minio-pass",
    "MYSQL_USER": "aerolake", "MYSQL_PASSWORD": "mysql-pass", "OPENSKY_CLIENT_ID": "os-id",
    "OPENSKY_CLIENT_SECRET": "os-secret",
}


def hook_conn_types() -> dict[str, str]:
    """conn_type each connection's hook declares (MongoHook refuses ``mongodb``, for one)."""
    from airflow.providers.amazon.aws.hooks.s3 import S3Hook
    from airflow.providers.http.hooks.http import HttpHook
    from airflow.providers.mongo.hooks.mongo import MongoHook
    from airflow.providers.mysql.hooks.mysql import MySqlHook

    return {
        "lufthansa_api": HttpHook.conn_type, "airlabs_api": HttpHook.conn_type,
        "aviationstack_api": HttpHook.conn_type, "opensky_api": HttpHook.conn_type,
        "aerolake_schema_registry": HttpHook.conn_type,
        "aerolake_s3": S3Hook.conn_type, "aerolake_mongo": MongoHook.conn_type,
        "aerolake_mysql": MySqlHook.conn_type,
        "aerolake_kafka": "kafka",  # the apache-kafka provider's KafkaBaseHook.conn_type (read by aerolake.streaming)
    }


def airflow_connection(conn_id: str, value: str):
    from airflow.models.connection import Connection

    if value.lstrip().startswith("{"):
        return Connection.from_json(value, conn_id=conn_id)
    return Connection(conn_id=conn_id, uri=value)


def compose_connections(compose: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(service, conn id, value after substitution with SAMPLE_ENV) of every AIRFLOW_CONN_* of compose."""
    out = []
    for where, key, value in walk_env(compose):
        if key.startswith("AIRFLOW_CONN_"):
            out.append((where, key.removeprefix("AIRFLOW_CONN_").lower(), substitute(value, SAMPLE_ENV)))
    return out


def test_hooks_declare_the_conn_types_we_use() -> None:
    types = hook_conn_types()
    assert types["aerolake_mongo"] == "mongo"
    assert {cid: types[cid] for cid in CONNECTIONS} == {cid: t for cid, (t, _) in CONNECTIONS.items()}


def test_compose_connections_parse_with_airflow(compose: dict[str, Any]) -> None:
    types = hook_conn_types()
    found = compose_connections(compose)
    assert {cid for _, cid, _ in found} == set(CONNECTIONS)
    for where, conn_id, value in found:
        conn = airflow_connection(conn_id, value)
        assert conn.conn_type == types[conn_id], f"{where}: {conn_id} has conn_type {conn.conn_type!r}"
        assert conn.host or conn.extra_dejson.get("endpoint_url"), f"{where}: {conn_id} points nowhere"
        if conn.port is not None:
            assert isinstance(conn.port, int)
        assert isinstance(conn.extra_dejson, dict)
    by_id = {cid: airflow_connection(cid, value) for _, cid, value in found}
    assert (by_id["lufthansa_api"].login, by_id["lufthansa_api"].password) == ("lh-id", "lh-secret")
    assert by_id["airlabs_api"].password == "al-key"
    assert by_id["aviationstack_api"].password == "as-key"
    opensky = by_id["opensky_api"]
    assert (opensky.login, opensky.password, opensky.extra_dejson["token_url"]) == (
        "os-id", "os-secret", "http://mockapi:8090/opensky/api/auth/realms/opensky-network/protocol/openid-connect/token")
    s3 = by_id["aerolake_s3"]
    assert (s3.login, s3.password, s3.extra_dejson["endpoint_url"]) == ("minio-user", "minio-pass", "http://minio:9000")
    mysql = by_id["aerolake_mysql"]
    assert (mysql.host, mysql.port, mysql.schema, mysql.login, mysql.password) == (
        "mysql", 3306, "aerolake", "aerolake", "mysql-pass")
    assert mysql.extra_dejson == {"local_infile": True}
    assert (by_id["aerolake_mongo"].host, by_id["aerolake_mongo"].port) == ("mongo", 27017)


def test_env_example_connections_parse_with_airflow() -> None:
    types = hook_conn_types()
    seen = set()
    for line in ENV_EXAMPLE.read_text().splitlines():
        match = re.match(r"^#?\s*AIRFLOW_CONN_([A-Z0-9_]+)=(.*)$", line.strip())
        if not match:
            continue
        conn_id, value = match[1].lower(), substitute(match[2].strip().strip("'"), SAMPLE_ENV)
        conn = airflow_connection(conn_id, value)
        assert conn.conn_type == types[conn_id], f".env.example: {conn_id} has conn_type {conn.conn_type!r}"
        assert conn.host or conn_id == "aerolake_s3", f".env.example: {conn_id} has no host"  # real S3: none
        seen.add(conn_id)
    assert seen == set(CONNECTIONS)


# ----------------------------------------------------------------------------- airflow-init


def init_script(compose: dict[str, Any]) -> str:
    command = compose["services"]["airflow-init"]["command"]
    assert command[0] == "-c" and compose["services"]["airflow-init"]["entrypoint"] == "/bin/bash"
    return command[1]


def test_init_fails_loudly(compose: dict[str, Any]) -> None:
    lines = [line.strip() for line in init_script(compose).splitlines() if line.strip()]
    assert lines[0] == "set -euo pipefail", "airflow-init must stop at the first failing step"
    assert any(line.startswith("trap ") and line.endswith(" ERR") for line in lines[:3]), "say which step failed"


def test_init_checks_the_environment_first(compose: dict[str, Any]) -> None:
    script = init_script(compose)
    check = script.index("python -m aerolake.envcheck")
    assert check < script.index("airflow version"), "the check runs before /entrypoint migrates the DB"
    assert check < script.index("airflow pools import")
    call = script[:check].rsplit("\n", 2)[-2:]  # the check's command line (with its continuation)
    assert "_AIRFLOW_DB_MIGRATE= " in "".join(call) and "/entrypoint" in script[check - 20:check]
    init_env = env_of(compose["services"]["airflow-init"])
    assert WHOLE_REF.match(init_env["MYSQL_ROOT_PASSWORD"]), "the root password is checked too"


def test_init_script_is_valid_bash(compose: dict[str, Any], tmp_path: Path) -> None:
    import subprocess

    script = tmp_path / "init.sh"
    script.write_text(substitute(init_script(compose), {"AIRFLOW_UID": "50000"}))
    result = subprocess.run(["bash", "-n", str(script)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr


# ----------------------------------------------------------------------------- the compose specification


def test_compose_file_validates_against_the_compose_spec() -> None:
    import subprocess
    import sys

    result = subprocess.run([sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.compose-spec",
                             str(COMPOSE_FILE)], capture_output=True, text=True, check=False, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
