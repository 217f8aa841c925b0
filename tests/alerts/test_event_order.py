"""Two workers storing at once: alert event ids become visible in order and chain up, and
batches of one signal judged in either order lose no excursion.

The socket's gap recovery rests on this: an event's `prev_id` must be the event committed just
before it, so a writer must not pick its predecessor while another's event is uncommitted.
"""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection, transaction

from plantops.alerts.conditions import alerts_evaluate_readings
from plantops.alerts.models import Alert, AlertEvent, RuleState
from plantops.core.time import now_us
from plantops.telemetry.columns import ReadingColumns
from tests.factories import event_kinds, judge_readings, make_asset, make_rule

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_second_writer_waits_for_the_first_and_chains_onto_its_event():
    if connection.vendor != "postgresql":
        pytest.skip("SQLite has a single writer by construction")
    asset = make_asset()
    first_signal, second_signal = (asset.signals.get(slug=s) for s in ("vibration", "temperature"))
    for signal in (first_signal, second_signal):
        make_rule(signal=signal)
    first_recorded = threading.Event()
    release_first = threading.Event()
    second_done = threading.Event()
    errors: list[BaseException] = []

    def raise_on(signal, *, hold: bool) -> None:
        try:
            with transaction.atomic():
                alerts_evaluate_readings(
                    readings=ReadingColumns.from_rows([(signal.pk, now_us(), 9.0)])
                )
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


def test_batches_of_one_signal_stored_at_once_in_reverse_order_keep_the_excursion():
    """The return to normal (later readings) commits first; the crossing (earlier) after it."""
    if connection.vendor != "postgresql":
        pytest.skip("SQLite has a single writer by construction")
    signal = make_asset().signals.get(slug="vibration")
    rule = make_rule(signal=signal, deadband=1.0)
    t0 = now_us() - 60_000_000
    # The rule has judged the signal before: its state row exists.
    judge_readings((signal.pk, t0, 2.0))
    later_evaluated = threading.Event()
    release_later = threading.Event()
    errors: list[BaseException] = []

    def store(readings, *, hold: bool) -> None:
        try:
            with transaction.atomic():
                alerts_evaluate_readings(readings=ReadingColumns.from_rows(readings))
                if hold:
                    later_evaluated.set()
                    release_later.wait(timeout=20)
        except BaseException as error:  # reported by the main thread
            errors.append(error)
        finally:
            connection.close()

    later = threading.Thread(
        target=store, args=([(signal.pk, t0 + 10_000_000, 2.0)],), kwargs={"hold": True}
    )
    earlier = threading.Thread(
        target=store, args=([(signal.pk, t0 + 5_000_000, 9.0)],), kwargs={"hold": False}
    )
    later.start()
    assert later_evaluated.wait(timeout=20)
    earlier.start()
    time.sleep(1.0)  # the earlier batch is now waiting for the later one's rule state
    release_later.set()
    later.join(timeout=20)
    earlier.join(timeout=20)

    assert errors == []
    alert = Alert.objects.get(rule=rule)
    assert event_kinds(alert) == ["raised", "returned"]
    assert alert.state == "rtn_unack"
    state = RuleState.objects.get(rule=rule, signal=signal).state
    assert (state["active"], state["last_ts_us"]) == (False, t0 + 10_000_000)
