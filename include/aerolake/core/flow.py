"""The stages of every lakehouse DAG, in order: the task ids of docs/architecture.md, and the ``last_stage`` values of
``pipeline_runs``. Light on purpose: DAG files import it at parse time."""

from __future__ import annotations

#: the batch path of every source
STAGES = ("extract_to_s3", "load_to_mongo", "clean", "load_to_mysql", "check_quality")
#: what the streaming sources add after the batch path
STREAMING = ("write_curated", "publish_to_kafka")
