"""``python -m aerolake.streaming``: publish flights to Kafka outside Airflow (a container, a CronJob).

    python -m aerolake.streaming --once [--date 2026-03-01]
    python -m aerolake.streaming --continuous --interval 10
        [--kafka-brokers host:9092[,host:9092]] [--kafka-topic flight-data]
        [--schema-registry-url https://registry:8081] [--kafka-config key=value ...]

The same functions as the Airflow task: the flights MySQL holds for the date (default: today in UTC, taken
again every cycle), only those that changed since their last acknowledged delivery. Credentials come from
the environment only: ``AEROLAKE_KAFKA_SASL_USERNAME`` / ``AEROLAKE_KAFKA_SASL_PASSWORD`` (with
``AEROLAKE_KAFKA_SECURITY_PROTOCOL``, default SASL_SSL, and ``AEROLAKE_KAFKA_SASL_MECHANISM``, default PLAIN),
``AEROLAKE_SCHEMA_REGISTRY_USER`` / ``AEROLAKE_SCHEMA_REGISTRY_PASSWORD``; without flags, the Airflow
connections ``aerolake_kafka`` / ``aerolake_schema_registry`` (``AIRFLOW_CONN_*``), else the offline mocks.
MySQL is ``aerolake_mysql`` or 127.0.0.1:3306.

SIGTERM or SIGINT: the current batch finishes, the producer is flushed, exit 0. Exit 1 when messages of the
last batch were not acknowledged (they are retried by the next run) or the batch failed.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import signal
import sys
import threading
from datetime import UTC, date, datetime
from typing import Any

log = logging.getLogger("aerolake.streaming.cli")


def _parse_date(text: str) -> str:
    try:
        return date.fromisoformat(text).isoformat()
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from exc


def _parse_property(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise argparse.ArgumentTypeError(f"expected key=value, got {text!r}")
    if "password" in key.lower() or "secret" in key.lower():
        raise argparse.ArgumentTypeError(f"{key}: credentials come from the environment, never from flags")
    return key.strip(), value


def _positive_minutes(text: str) -> float:
    value = float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError("--interval must be a positive number of minutes")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m aerolake.streaming", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--once", action="store_true", help="publish one batch and exit")
    mode.add_argument("--continuous", action="store_true", help="publish a batch every --interval minutes")
    parser.add_argument("--interval", type=_positive_minutes, default=10.0, metavar="MINUTES",
                        help="minutes between batches in --continuous mode (default 10)")
    parser.add_argument("--date", type=_parse_date, help="departure date YYYY-MM-DD (default: today, UTC)")
    parser.add_argument("--kafka-brokers", help="bootstrap servers host:port[,host:port] (default: aerolake_kafka "
                                                "connection, else the in-process mock cluster)")
    parser.add_argument("--kafka-topic", help="topic (default: AEROLAKE_KAFKA_TOPIC, else flight-data)")
    parser.add_argument("--schema-registry-url", help="Schema Registry URL (default: aerolake_schema_registry "
                                                      "connection, else mock://aerolake)")
    parser.add_argument("--kafka-config", type=_parse_property, action="append", default=[], metavar="KEY=VALUE",
                        help="extra librdkafka producer property (repeatable), e.g. linger.ms=50")
    parser.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    return parser


class Runner:
    """Batches until stopped; a signal only sets the stop flag, so a batch in flight always completes."""

    def __init__(self, args: argparse.Namespace):
        self.args = args
        self.stop = threading.Event()
        self.stop_reason: str | None = None
        self.publisher: Any = None
        self.mysql: Any = None

    def request_stop(self, signum: int, _frame: Any) -> None:
        self.stop_reason = signal.Signals(signum).name
        log.info("%s received: finishing the current batch, then flushing and exiting", self.stop_reason)
        self.stop.set()

    def setup(self) -> None:
        from aerolake.core.connections import mysql_config
        from aerolake.core.settings import load_settings
        from aerolake.streaming.connections import resolve_target
        from aerolake.streaming.publisher import FlightPublisher

        self.mysql = mysql_config(load_settings())
        target = resolve_target(self.args.kafka_brokers, self.args.schema_registry_url, dict(self.args.kafka_config))
        self.publisher = FlightPublisher(target, self.args.kafka_topic)

    def batch(self, number: int) -> bool:
        """One publish of the date's changed flights; True when every message was acknowledged."""
        from aerolake.core.settings import load_settings
        from aerolake.pipeline.stages import StageContext
        from aerolake.stores.lake import Partition
        from aerolake.stores.mysql.ledger import RunInfo
        from aerolake.streaming.publisher import DeliveryFailed, publish_to_kafka

        dt = self.args.date or datetime.now(UTC).date().isoformat()
        run = RunInfo("aerolake_streaming_cli", f"cli__{datetime.now(UTC):%Y%m%dT%H%M%S}__{number}",
                      Partition("streaming", dt))
        ctx = StageContext(run, load_settings(), s3=None, mongo=None, mysql=self.mysql)
        log.info("batch %d: publishing changed flights of %s to %s", number, dt, self.publisher.topic)
        try:
            counts = publish_to_kafka(ctx, publisher=self.publisher)
        except DeliveryFailed as exc:
            print(f"batch {number} {dt}: {exc.failed} of {exc.attempted} messages NOT acknowledged "
                  f"(topic {self.publisher.topic}); the next batch retries them", flush=True)
            return False
        print(f"batch {number} {dt}: published {counts['delivered']} flights to {self.publisher.topic} "
              f"({counts['unchanged']} unchanged of {counts['flights']})", flush=True)
        return True

    def run(self) -> int:
        self.setup()
        number, ok = 0, True
        while True:
            number += 1
            try:
                ok = self.batch(number)
            except Exception:
                if self.args.once:
                    raise
                log.exception("batch %d failed; retrying in %.1f minutes", number, self.args.interval)
                ok = False
            if self.args.once or self.stop.wait(self.args.interval * 60):
                break
        remaining = self.publisher.close()
        print(f"stopped after {number} batch(es){f' ({self.stop_reason})' if self.stop_reason else ''}; "
              f"final flush done, {remaining} message(s) outstanding", flush=True)
        return 0 if ok and remaining == 0 else 1


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    # Airflow (the connection lookups) configures logging when imported: import it before setting ours
    with contextlib.suppress(ImportError):
        import airflow.sdk  # noqa: F401
    logging.basicConfig(level=args.log_level, stream=sys.stderr, force=True,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    runner = Runner(args)
    signal.signal(signal.SIGTERM, runner.request_stop)
    signal.signal(signal.SIGINT, runner.request_stop)
    try:
        return runner.run()
    except Exception as exc:
        log.exception("aerolake.streaming failed")
        print(f"error: {exc}", file=sys.stderr)
        return 1
