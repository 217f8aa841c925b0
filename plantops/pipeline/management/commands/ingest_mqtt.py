import signal
import threading

from celery import current_app
from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import close_old_connections

from plantops.telemetry import metrics, selectors
from plantops.telemetry.batches import STORE_TASK, Batch
from plantops.telemetry.ingest import Ingest, IngestConfig


def _load_registry():
    close_old_connections()
    return selectors.topic_registry()


def _hand_off(batch: Batch) -> None:
    # Returns once the broker holds the task; only then may the MQTT messages be acknowledged.
    # By name: the worker's pipeline stores it, and the wire knows nothing of the pipeline.
    # No argsrepr: Celery would render the whole batch as text for its logs, on every batch.
    current_app.send_task(
        STORE_TASK, args=[batch.to_message()], retry=False, argsrepr="", kwargsrepr=""
    )


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
        )
        client_id = options["client_id"]
        Ingest(
            config,
            hand_off=_hand_off,
            load_registry=_load_registry,
            stop=stop,
            report=lambda figures: metrics.ingest_report(client_id=client_id, figures=figures),
        ).run()
