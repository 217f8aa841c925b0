"""The real pipeline: paho publisher → Mosquitto → ingest process → Celery worker → database."""

from __future__ import annotations

import json
import signal as signals
import subprocess
import sys
import time
from datetime import UTC, datetime

import pytest
from django.core.management import call_command

from plantops.telemetry.models import DeadLetter, LatestReading, Reading
from tests.conftest import ROOT, wait_for, wait_until_flowing
from tests.factories import make_asset, topic

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def iso(seconds_ago: float = 0.0) -> str:
    return datetime.fromtimestamp(time.time() - seconds_ago, UTC).isoformat().replace("+00:00", "Z")


def test_it_stores_published_readings_once_and_dead_letters_the_bad_ones(processes, publisher):
    asset = make_asset()
    processes.worker()
    processes.ingest()
    wait_until_flowing(publisher, asset)
    vibration = asset.signals.get(slug="vibration")

    good = [{"ts": iso(10 - i), "value": 1.0 + i} for i in range(10)]
    for i, payload in enumerate(good):
        publisher.publish(topic(asset, "telemetry/vibration"), payload)
        if i == 3:
            publisher.publish(topic(asset, "telemetry/vibration"), b"{broken")
            publisher.publish(
                topic(asset, "telemetry/vibration"), b'{"ts": %d, "value": NaN}' % time.time()
            )
            publisher.publish(topic(asset, "telemetry/pressure"), {"ts": time.time(), "value": 1})
            publisher.publish(
                "plantops/nowhere/a/b/c/telemetry/vibration", {"ts": time.time(), "value": 1}
            )
    publisher.publish(topic(asset, "telemetry/vibration"), good[5])  # the same message twice
    publisher.publish(
        topic(asset, "telemetry"),
        {
            "readings": [
                {"signal": "vibration", "ts": iso(0.5), "value": 3.5},
                {"signal": "vibration", "ts": iso(0.4), "value": "loud"},
            ]
        },
    )

    wait_for(
        lambda: Reading.objects.filter(signal=vibration).count() >= 11, what="11 vibration readings"
    )
    wait_for(lambda: DeadLetter.objects.count() >= 5, what="5 dead letters")
    time.sleep(1)  # anything extra (a duplicate) would have arrived by now

    assert Reading.objects.filter(signal=vibration).count() == 11
    assert LatestReading.objects.get(signal=vibration).value == 3.5
    assert sorted(DeadLetter.objects.values_list("reason", flat=True)) == [
        "invalid_json",
        "not_finite",
        "unknown_asset",
        "unknown_signal",
        "wrong_type",
    ]
    assert DeadLetter.objects.get(reason="invalid_json").payload == "{broken"


def test_it_picks_up_a_signal_configured_while_ingest_runs(processes, publisher):
    asset = make_asset(signals=("temperature",))
    processes.worker()
    processes.ingest()
    wait_until_flowing(publisher, asset)
    speed = asset.signals.create(slug="speed", name="Speed", unit="rpm")
    time.sleep(5.5)  # ingest reloads its registry on a miss at most every 5 s
    publisher.publish(topic(asset, "telemetry/speed"), {"ts": time.time(), "value": 1450})
    wait_for(lambda: Reading.objects.filter(signal=speed).exists(), what="the new signal's reading")


def test_it_stops_cleanly_on_sigterm(processes, publisher):
    asset = make_asset()
    processes.worker()
    ingest = processes.ingest()
    wait_until_flowing(publisher, asset)
    ingest.send_signal(signals.SIGTERM)
    assert ingest.wait(timeout=10) == 0
    assert "ingest stopped" in processes.log("ingest")


def test_pipeline_stats_prints_one_json_object(capsys):
    asset = make_asset()
    signal = asset.signals.get(slug="vibration")
    Reading.objects.create(signal=signal, ts=datetime(2026, 11, 22, 10, tzinfo=UTC), value=1.0)
    LatestReading.objects.create(
        signal=signal, ts=datetime(2026, 11, 22, 10, tzinfo=UTC), value=1.0
    )
    DeadLetter.objects.create(
        batch_id="0" * 32,
        position=0,
        received_at=datetime(2026, 11, 22, tzinfo=UTC),
        topic="t",
        payload="{",
        reason="invalid_json",
        detail="payload is not valid UTF-8 JSON",
    )
    call_command("pipeline_stats", "--json")
    stats = json.loads(capsys.readouterr().out)
    assert stats["readings_stored"] == 1
    assert stats["dead_letters"] == 1
    assert stats["dead_letters_by_reason"] == {"invalid_json": 1}
    assert stats["latest_reading_at"] == "2026-11-22T10:00:00+00:00"


def test_a_bad_setting_stops_the_process_with_a_clear_message(process_env):
    for name, value, expected in [
        ("DATABASE_URL", "mysql://x/y", "DATABASE_URL='mysql://x/y' is not supported"),
        ("MQTT_URL", "http://broker", "MQTT_URL='http://broker' must start with mqtt://"),
        ("REDIS_URL", "127.0.0.1:6379", "REDIS_URL='127.0.0.1:6379' must start with redis://"),
        ("DEBUG", "maybe", "DEBUG='maybe' is not a boolean"),
        ("INGEST_BATCH_MAX_READINGS", "lots", "INGEST_BATCH_MAX_READINGS='lots' is not an integer"),
    ]:
        env = {**process_env, name: value}
        result = subprocess.run(
            [sys.executable, "manage.py", "check"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode != 0, name
        assert expected in result.stderr, result.stderr[-500:]
    env = {k: v for k, v in process_env.items() if k not in ("SECRET_KEY", "DEBUG")}
    result = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert "SECRET_KEY is not set" in result.stderr


def test_it_connects_once_to_a_broker_that_is_slow_to_answer(processes, publisher):
    from django.conf import settings

    from tests.tcp_proxy import CuttableProxy

    slow = CuttableProxy(settings.MQTT.host, settings.MQTT.port, reply_delay_s=0.3)
    try:
        asset = make_asset()
        processes.worker()
        processes.env["MQTT_URL"] = f"mqtt://127.0.0.1:{slow.port}"
        processes.ingest()
        wait_until_flowing(publisher, asset)
        assert slow.connections == 1
    finally:
        slow.close()


def test_a_bad_url_is_reported_without_its_password(process_env):
    env = {**process_env, "DATABASE_URL": "postgres://plant:s3cret@db:5432/"}
    result = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert "names no database" in result.stderr
    assert "s3cret" not in result.stderr
