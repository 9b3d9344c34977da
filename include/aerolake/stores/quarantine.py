"""Quarantine: every rejected record kept with its reason, in the lake and in MongoDB.

A stage replaces its own quarantine for a partition (idempotent reruns); nothing is ever dropped silently.
"""

from __future__ import annotations

import logging
from typing import Any

from aerolake.cleaning import encode_keys
from aerolake.stores import lake
from aerolake.stores.lake import Partition

log = logging.getLogger(__name__)

COLLECTION = "quarantine"


def replace_quarantine(s3: Any, bucket: str, mongo: Any, partition: Partition, endpoint: str, stage: str,
                       items: list[dict[str, Any]]) -> int:
    """Write ``items`` (each with a ``reason``) as the quarantine of (partition, endpoint, stage)."""
    lake.write_quarantine(s3, bucket, partition, endpoint, stage, items)
    coll = mongo[COLLECTION]
    selector = {"source": partition.source, "endpoint": endpoint, "partition": partition.key, "stage": stage}
    coll.delete_many(selector)
    if items:
        coll.create_index([("source", 1), ("endpoint", 1), ("dt", 1)])
        docs = [{"_id": f"{partition.source}|{endpoint}|{partition.key}|{stage}|{n:07d}", **selector,
                 "dt": partition.dt, "snapshot": partition.snapshot, **encode_keys(item)}
                for n, item in enumerate(items)]
        for start in range(0, len(docs), 5000):
            coll.insert_many(docs[start:start + 5000], ordered=False)
        reasons: dict[str, int] = {}
        for item in items:
            head = str(item.get("reason", "")).split(":")[0][:80]
            reasons[head] = reasons.get(head, 0) + 1
        log.warning("%s/%s %s: %d record(s) quarantined at %s: %s", partition.source, endpoint, partition.key,
                    len(items), stage, reasons)
    return len(items)
