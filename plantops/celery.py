import os

from celery import Celery
from celery.signals import task_postrun, task_prerun
from django.conf import settings
from django.db import close_old_connections, connections

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "plantops.settings")

app = Celery("plantops")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@task_prerun.connect
@task_postrun.connect
def _close_old_connections(**kwargs) -> None:
    # What Django does around a request: a connection older than DB_CONN_MAX_AGE, or broken,
    # is closed; any other is kept for the next task (CELERY_DB_REUSE_MAX in the settings).
    close_old_connections()
    # Without the health check (a SELECT 1 before each task's first query): a connection
    # that broke since fails its task, which is retried (store_batch retries on connection
    # errors, the periodic tasks run again), and is closed after it, as it errored.
    for connection in connections.all(initialized_only=True):
        connection.health_check_done = True


app.conf.beat_schedule = {
    # Tiles must turn to "no data" when an asset stops reporting; no batch would tell them.
    "floor-refresh": {"task": "floor.push_floor_tiles", "schedule": 10.0},
    # Shelve expiry, re-alarm, suppression, no-data rules, and the tick tablets check ids by.
    "alerts-sweep": {"task": "alerts.sweep", "schedule": 5.0},
    "dead-letter-retention": {"task": "telemetry.purge_dead_letters", "schedule": 3600.0},
    # Raw readings past TELEMETRY_RETENTION_DAYS (which ingest also refuses) go once an hour.
    "reading-retention": {"task": "telemetry.purge_old_readings", "schedule": 3600.0},
    # Closed hours' minutes packed for week-long minute reads (and packed again after late data).
    "minute-packs": {"task": "telemetry.pack_minutes", "schedule": 300.0},
    # OEE snapshots of closed hours, so the first screen to ask for a day need not make them.
    "oee-hours": {"task": "oee.make_recent_hours", "schedule": 300.0},
    # Run time accrues with no event; screens also get every event's update within seconds.
    "oee-screens": {"task": "oee.push_all_screens", "schedule": 30.0},
    # Health features and anomaly levels from the readings that arrived since the last run.
    "health-features": {"task": "health.update_all", "schedule": settings.HEALTH_EVERY_S},
    "health-predictions": {"task": "health.predict_all", "schedule": settings.PREDICTION_EVERY_S},
    # Fits whose worker died show as failed rather than running for ever.
    "health-fit-expiry": {"task": "health.expire_fit_runs", "schedule": 30.0},
    # Preventive work orders from running hours, cycles and calendar days.
    "preventive-schedules": {"task": "maintenance.run_preventive_schedules", "schedule": 300.0},
    # Escalation tiers, floods that ended, and events a lost trigger left unnotified.
    "notify-sweep": {"task": "notify.sweep", "schedule": settings.NOTIFY_SWEEP_EVERY_S},
    # Daily and per-shift digests whose time has come.
    "notify-digests": {"task": "notify.send_digests", "schedule": 60.0},
}
