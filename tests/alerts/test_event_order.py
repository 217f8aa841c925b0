"""Two workers recording alert events at once: ids become visible in order and chain up.

The socket's gap recovery rests on this: an event's `prev_id` must be the event committed just
before it, so a writer must not pick its predecessor while another's event is uncommitted.
"""

from __future__ import annotations

import threading

import pytest
from django.db import connection, transaction

from plantops.alerts.models import AlertEvent, AlertRule
from plantops.alerts.services import alerts_evaluate_readings
from plantops.telemetry.payloads import now_us
from tests.factories import make_asset

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_second_writer_waits_for_the_first_and_chains_onto_its_event():
    if connection.vendor != "postgresql":
        pytest.skip("SQLite has a single writer by construction")
    asset = make_asset()
    first_signal, second_signal = (asset.signals.get(slug=s) for s in ("vibration", "temperature"))
    for signal in (first_signal, second_signal):
        AlertRule.objects.create(
            name=f"{signal.slug} high", kind="high", signal=signal, limit=5.0, priority="high"
        )
    first_recorded = threading.Event()
    release_first = threading.Event()
    second_done = threading.Event()
    errors: list[BaseException] = []

    def raise_on(signal, *, hold: bool) -> None:
        try:
            with transaction.atomic():
                alerts_evaluate_readings(readings=[(signal.pk, now_us(), 9.0)])
                if hold:
                    first_recorded.set()
                    release_first.wait(timeout=20)
        except BaseException as error:  # reported by the main thread
            errors.append(error)
        finally:
            if not hold:
                second_done.set()
            connection.close()

    first = threading.Thread(target=raise_on, args=(first_signal,), kwargs={"hold": True})
    second = threading.Thread(target=raise_on, args=(second_signal,), kwargs={"hold": False})
    first.start()
    assert first_recorded.wait(timeout=20)
    second.start()
    # The first writer's event is saved but not committed: the second must wait for it.
    assert not second_done.wait(timeout=1.0)
    release_first.set()
    first.join(timeout=20)
    second.join(timeout=20)

    assert errors == []
    by_signal = {e.alert.signal_id: e for e in AlertEvent.objects.select_related("alert")}
    earlier, later = by_signal[first_signal.pk], by_signal[second_signal.pk]
    assert earlier.prev_id == 0
    assert later.pk > earlier.pk
    assert later.prev_id == earlier.pk
