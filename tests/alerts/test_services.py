"""The alert services on the real database: rules on stored batches, actions, the sweep."""

from __future__ import annotations

from datetime import timedelta
from itertools import pairwise

import pytest
from django.utils import timezone

from plantops.alerts.models import Alert, AlertEvent
from plantops.alerts.services import (
    alert_assign,
    alert_comment,
    alert_shelve,
    alerts_acknowledge,
)
from plantops.alerts.sweep import alerts_sweep
from plantops.core.refusals import Refused
from plantops.core.time import now_us, us_to_datetime
from plantops.pipeline.services import batch_store
from plantops.telemetry.batches import Batch
from plantops.telemetry.models import LatestReading
from tests.factories import event_kinds, make_alert, make_asset, make_batch, make_rule, make_user

pytestmark = pytest.mark.django_db

S = 1_000_000


# The rule of most tests: "Vibration high" above 5.0 mm/s, back below 4.0.
HIGH = {"deadband": 1.0, "message_template": "{asset} {signal} at {value:.1f} {unit}"}


def test_crossing_the_limit_raises_one_alert_once_even_when_redelivered():
    asset = make_asset()
    signal = asset.signals.get(slug="vibration")
    make_rule(signal=signal, **HIGH)
    t = now_us()
    batch_store(batch=make_batch(readings=[(signal.pk, t - 2 * S, 1.0), (signal.pk, t - S, 2.0)]))
    assert not Alert.objects.exists()

    batch = make_batch(readings=[(signal.pk, t, 6.5), (signal.pk, t + S, 7.0)])
    batch_store(batch=batch)
    batch_store(batch=Batch.from_message(batch.to_message()))

    alert = Alert.objects.get()
    assert (alert.asset_id, alert.signal_id) == (asset.pk, signal.pk)
    assert alert.state == "active_unack"
    assert alert.message == f"{asset.name} Vibration at 6.5 mm/s"
    assert event_kinds(alert) == ["raised"]
    event = alert.events.get()
    assert event.activated is True
    assert event.line_id == asset.line_id
    assert event.at == us_to_datetime(t)


def test_return_needs_the_deadband_then_acknowledging_closes():
    asset = make_asset()
    signal = asset.signals.get(slug="vibration")
    make_rule(signal=signal, **HIGH)
    operator = make_user(role="operator", username="olga", lines=[asset.line])
    t = now_us()
    batch_store(batch=make_batch(readings=[(signal.pk, t, 6.0)]))
    # Below the limit but within the deadband: still active.
    batch_store(batch=make_batch(readings=[(signal.pk, t + S, 4.5)]))
    alert = Alert.objects.get()
    assert alert.state == "active_unack"
    batch_store(batch=make_batch(readings=[(signal.pk, t + 2 * S, 3.9)]))
    alert.refresh_from_db()
    assert alert.state == "rtn_unack"
    assert event_kinds(alert) == ["raised", "returned"]

    assert alerts_acknowledge(alert_ids=[alert.pk], user=operator, note="seen") == [alert.pk]
    alert.refresh_from_db()
    assert alert.state == "normal"
    assert event_kinds(alert) == ["raised", "returned", "acknowledged", "closed"]
    acknowledged = alert.events.get(kind="acknowledged")
    assert (acknowledged.user, acknowledged.note) == (operator, "seen")
    # Nothing left to acknowledge.
    with pytest.raises(Refused):
        alerts_acknowledge(alert_ids=[alert.pk], user=operator)


def test_a_rule_by_asset_type_and_slug_applies_to_every_asset_of_that_type():
    motors = [make_asset(asset_type="motor") for _ in range(3)]
    pump = make_asset(asset_type="pump")
    make_rule(asset_type="motor", signal_slug="vibration", priority="medium")
    t = now_us()
    readings = [
        (asset.signals.get(slug=slug).pk, t, 9.0)
        for asset in [*motors, pump]
        for slug in ("vibration", "temperature")
    ]
    batch_store(batch=make_batch(readings=readings))
    alerts = Alert.objects.all()
    assert sorted(a.asset_id for a in alerts) == sorted(m.pk for m in motors)
    assert {a.signal.slug for a in alerts} == {"vibration"}
    assert {a.state for a in alerts} == {"active_unack"}
    assert AlertEvent.objects.filter(kind="raised").count() == 3


def test_an_alert_raised_in_a_planned_stop_is_suppressed_first():
    asset = make_asset()
    asset.state = "planned_stop"
    asset.save(update_fields=["state"])
    signal = asset.signals.get(slug="vibration")
    make_rule(signal=signal, **HIGH)
    batch_store(batch=make_batch(readings=[(signal.pk, now_us(), 9.0)]))
    alert = Alert.objects.get()
    assert alert.suppressed is True
    assert event_kinds(alert) == ["suppressed", "raised"]


def test_event_ids_increase_and_each_names_the_one_before():
    asset = make_asset()
    signal = asset.signals.get(slug="vibration")
    other = make_asset().signals.get(slug="vibration")
    make_rule(signal=signal, **HIGH)
    make_rule(signal=other, **HIGH)
    operator = make_user(role="operator", username="olga", lines=[asset.line, other.asset.line])
    t = now_us()
    for i, value in enumerate([9.0, 1.0, 9.0, 1.0, 9.0]):
        batch_store(
            batch=make_batch(readings=[(signal.pk, t + i * S, value), (other.pk, t + i * S, value)])
        )
    alerts_acknowledge(alert_ids=list(Alert.objects.values_list("pk", flat=True)), user=operator)
    events = list(AlertEvent.objects.order_by("id"))
    assert len(events) >= 12
    assert events[0].prev_id == 0
    for before, event in pairwise(events):
        assert event.id > before.id
        assert event.prev_id == before.id


def test_an_operator_shelves_within_the_plant_limit_only(settings):
    settings.ALERT_OPERATOR_MAX_SHELVE_S = 3600
    alert = make_alert(**HIGH)
    operator = make_user(role="operator", username="olga", lines=[alert.asset.line])
    with pytest.raises(Refused):
        alert_shelve(
            alert_id=alert.pk,
            user=operator,
            until=timezone.now() + timedelta(hours=2),
            reason="sensor swap",
        )
    alert.refresh_from_db()
    assert alert.shelved_until is None
    assert event_kinds(alert) == ["raised"]

    until = timezone.now() + timedelta(minutes=30)
    alert_shelve(alert_id=alert.pk, user=operator, until=until, reason="sensor swap")
    alert.refresh_from_db()
    assert alert.shelved_until == until
    assert (alert.shelved_by, alert.shelve_reason) == ("olga", "sensor swap")
    assert event_kinds(alert) == ["raised", "shelved"]
    assert alert.events.get(kind="shelved").user == operator


def test_a_supervisor_shelves_up_to_the_rules_limit(settings):
    settings.ALERT_OPERATOR_MAX_SHELVE_S = 3600
    alert = make_alert(max_shelve_s=4 * 3600, **HIGH)
    supervisor = make_user(role="supervisor", username="sam")
    with pytest.raises(Refused):
        alert_shelve(
            alert_id=alert.pk,
            user=supervisor,
            until=timezone.now() + timedelta(hours=5),
            reason="maintenance",
        )
    until = timezone.now() + timedelta(hours=3)
    alert_shelve(alert_id=alert.pk, user=supervisor, until=until, reason="maintenance")
    alert.refresh_from_db()
    assert alert.shelved_until == until
    assert event_kinds(alert) == ["raised", "shelved"]


def test_a_shelve_needs_a_reason():
    alert = make_alert(**HIGH)
    operator = make_user(role="operator", username="olga", lines=[alert.asset.line])
    with pytest.raises(Refused):
        alert_shelve(
            alert_id=alert.pk,
            user=operator,
            until=timezone.now() + timedelta(minutes=5),
            reason="   ",
        )
    alert.refresh_from_db()
    assert alert.shelved_until is None


def test_the_sweep_expires_a_shelve_whose_time_has_passed():
    alert = make_alert(**HIGH)
    operator = make_user(role="operator", username="olga", lines=[alert.asset.line])
    until = timezone.now() + timedelta(minutes=10)
    alert_shelve(alert_id=alert.pk, user=operator, until=until, reason="cleaning")

    assert alerts_sweep(now=until - timedelta(seconds=1)) == 0
    alert.refresh_from_db()
    assert alert.shelved_until == until

    assert alerts_sweep(now=until + timedelta(seconds=1)) == 1
    alert.refresh_from_db()
    assert alert.shelved_until is None
    assert alert.state == "active_unack"
    assert event_kinds(alert) == ["raised", "shelved", "shelve_expired"]
    expired = alert.events.get(kind="shelve_expired")
    assert expired.user is None


def test_a_no_data_rule_raises_through_the_sweep_after_the_timeout():
    asset = make_asset()
    signal = asset.signals.get(slug="vibration")
    make_rule(kind="no_data", signal=signal, timeout_s=60, priority="low")
    now = timezone.now()
    last_seen = now - timedelta(seconds=30)
    LatestReading.objects.create(signal=signal, ts=last_seen, value=1.0)

    assert alerts_sweep(now=now) == 0
    assert not Alert.objects.exists()

    assert alerts_sweep(now=now + timedelta(seconds=45)) == 1
    alert = Alert.objects.get()
    assert (alert.asset_id, alert.signal_id, alert.state) == (asset.pk, signal.pk, "active_unack")
    raised = alert.events.get()
    assert raised.kind == "raised"
    assert raised.at == last_seen + timedelta(seconds=60)
    # Still silent: no second raise.
    assert alerts_sweep(now=now + timedelta(seconds=90)) == 0
    assert event_kinds(alert) == ["raised"]


def test_a_note_longer_than_the_record_keeps_its_first_500_characters():
    # A pasted log in the note must not turn the acknowledgement into a database error.
    alert = make_alert(**HIGH)
    operator = make_user(role="operator", username="omar", lines=[alert.asset.line])
    alerts_acknowledge(alert_ids=[alert.pk], user=operator, note="x" * 2000)
    assert alert.events.get(kind="acknowledged").note == "x" * 500


def test_assigning_and_commenting_record_events_in_the_same_chain():
    alert = make_alert(**HIGH)
    supervisor = make_user(role="supervisor", username="sven")
    alert_assign(alert_id=alert.pk, user=supervisor, assignee=supervisor, note="on it")
    alert_comment(alert_id=alert.pk, user=supervisor, note="bearing noise")
    alert.refresh_from_db()
    assert alert.assignee == supervisor
    events = list(alert.events.order_by("id"))
    assert [e.kind for e in events] == ["raised", "assigned", "commented"]
    assert events[1].note == "assigned to sven. on it"
    assert [e.prev_id for e in events[1:]] == [e.id for e in events[:-1]]


def test_it_refuses_to_assign_or_comment_on_an_alert_that_no_longer_exists():
    alert = make_alert()
    supervisor = make_user(role="supervisor")
    alert.delete()
    with pytest.raises(Refused, match="That alert no longer exists"):
        alert_assign(alert_id=alert.pk, user=supervisor, assignee=supervisor)
    with pytest.raises(Refused, match="That alert no longer exists"):
        alert_comment(alert_id=alert.pk, user=supervisor, note="bearing noise")


def test_an_operator_acts_only_on_the_alerts_of_their_own_lines():
    mine, theirs = make_alert(**HIGH), make_alert(**HIGH)
    operator = make_user(role="operator", username="olga", lines=[mine.asset.line])
    # One of each: the own line's alert is acknowledged, the other one is left and named.
    assert alerts_acknowledge(alert_ids=[mine.pk, theirs.pk], user=operator) == [mine.pk]
    with pytest.raises(Refused, match="not on your lines"):
        alerts_acknowledge(alert_ids=[theirs.pk], user=operator)
    with pytest.raises(Refused, match="only on your own lines"):
        alert_comment(alert_id=theirs.pk, user=operator, note="looks odd")
    with pytest.raises(Refused, match="not on your lines"):
        alert_shelve(
            alert_id=theirs.pk,
            user=operator,
            until=timezone.now() + timedelta(minutes=10),
            reason="cleaning",
        )
    assert event_kinds(theirs) == ["raised"]


def test_a_supervisor_acts_plant_wide_and_a_user_without_a_role_not_at_all():
    alert = make_alert(**HIGH)
    with pytest.raises(Refused, match="role"):
        alerts_acknowledge(alert_ids=[alert.pk], user=make_user(username="nobody"))
    with pytest.raises(Refused, match="supervisor"):
        alert_assign(
            alert_id=alert.pk,
            user=make_user(role="operator", lines=[alert.asset.line]),
            assignee=None,
        )
    supervisor = make_user(role="supervisor", username="sam")  # on no line's position
    assert alerts_acknowledge(alert_ids=[alert.pk], user=supervisor) == [alert.pk]
