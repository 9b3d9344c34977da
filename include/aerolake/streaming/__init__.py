"""Flights as an Avro stream: the curated lake zone and the Kafka topic (issue 5).

Two task bodies, each a function of a :class:`aerolake.pipeline.stages.StageContext`, run after ``load_to_mysql``:

* :func:`write_curated` - the partition date's flights as one Avro container file at
  ``s3://{bucket}/curated/flights/dt={dt}/part-00000.avro`` (deterministic bytes; a rerun replaces it).
* :func:`publish_to_kafka` - the changed flights of the date to topic ``flight-data``
  (``AEROLAKE_KAFKA_TOPIC``) with the Schema Registry Avro serializer; fails naming the count of
  unacknowledged messages, and the rerun delivers exactly those.

``python -m aerolake.streaming`` runs the publisher outside Airflow (``--once`` / ``--continuous``).
Importing this package is cheap: confluent-kafka and fastavro are imported when a function runs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from aerolake.pipeline.stages import StageContext

__all__ = ["publish_to_kafka", "write_curated"]


def write_curated(ctx: StageContext) -> dict[str, int]:
    """See :func:`aerolake.streaming.curated.write_curated`."""
    from aerolake.streaming.curated import write_curated as _write_curated

    return _write_curated(ctx)


def publish_to_kafka(ctx: StageContext, **kwargs: Any) -> dict[str, int]:
    """See :func:`aerolake.streaming.publisher.publish_to_kafka`."""
    from aerolake.streaming.publisher import publish_to_kafka as _publish_to_kafka

    return _publish_to_kafka(ctx, **kwargs)
