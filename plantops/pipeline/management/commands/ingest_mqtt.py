"""The ingest process: the wire's receive loop (`telemetry.ingest`), fed with what it must know
of the plant: the topics, and the limit bands whose crossing hands a batch on at once."""

import dataclasses
import signal
import threading

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import close_old_connections

from plantops.alerts.selectors import limit_bands
from plantops.core.tls import mqtt_context
from plantops.pipeline.tasks import store_batch
from plantops.telemetry import metrics, selectors
from plantops.telemetry.batches import Batch
from plantops.telemetry.ingest import Ingest, IngestConfig
from plantops.telemetry.payloads import TopicRegistry


def _load_registry() -> TopicRegistry:
    close_old_connections()
    return dataclasses.replace(selectors.topic_registry(), bands=limit_bands())


def _hand_off(batch: Batch) -> None:
    # Returns once the broker holds the task; only then may the MQTT messages be acknowledged.
    # No argsrepr: Celery would render the whole batch as text for its logs, on every batch.
    store_batch.apply_async(args=[batch.to_message()], retry=False, argsrepr="", kwargsrepr="")


class Command(BaseCommand):
    help = (
        "Receive telemetry over MQTT (shared subscription, QoS 1) and hand batches to the workers."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--client-id",
            default=settings.MQTT_CLIENT_ID,
            help="Fixed MQTT client id; each ingest process needs its own.",
        )
        parser.add_argument("--share-group", default=settings.MQTT_SHARE_GROUP)

    def handle(self, *args, **options) -> None:
        stop = threading.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stop.set())
        config = IngestConfig(
            mqtt=settings.MQTT,
            client_id=options["client_id"],
            share_group=options["share_group"],
            session_expiry_s=settings.MQTT_SESSION_EXPIRY_S,
            max_batch_items=settings.INGEST_BATCH_MAX_READINGS,
            max_batch_age_s=settings.INGEST_BATCH_MAX_AGE_S,
            max_age_s=settings.TELEMETRY_RETENTION_DAYS * 86_400,
            max_future_s=settings.TELEMETRY_MAX_FUTURE_S,
            max_packet_bytes=settings.MQTT_MAX_PACKET_BYTES,
            ssl_context=mqtt_context() if settings.MQTT.tls else None,
        )
        client_id = options["client_id"]
        Ingest(
            config,
            hand_off=_hand_off,
            load_registry=_load_registry,
            stop=stop,
            report=lambda figures: metrics.ingest_report(client_id=client_id, figures=figures),
        ).run()
