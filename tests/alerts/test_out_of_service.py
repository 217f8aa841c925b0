"""An asset out of service for maintenance has its alerts suppressed, like a planned stop."""

from __future__ import annotations

import pytest

from plantops.alerts.models import Alert
from plantops.alerts.sweep import alerts_sweep
from plantops.assets.models import Asset
from plantops.assets.services import assets_return_to_service, assets_take_out_of_service
from plantops.core.time import now_us
from plantops.pipeline.services import batch_store
from tests.factories import event_kinds, make_alert, make_asset, make_batch, make_rule, make_user

pytestmark = pytest.mark.django_db


def test_an_alert_raised_while_out_of_service_is_suppressed_first():
    asset = make_asset()
    assets_take_out_of_service(asset_ids=[asset.pk], reason="Bearing replacement")
    signal = asset.signals.get(slug="vibration")
    make_rule(signal=signal)

    batch_store(batch=make_batch(readings=[(signal.pk, now_us(), 9.0)]))

    alert = Alert.objects.get()
    assert alert.suppressed is True
    assert event_kinds(alert) == ["suppressed", "raised"]


def test_the_sweep_suppresses_an_open_alert_and_reveals_it_on_return_to_service():
    alert = make_alert()

    assert assets_take_out_of_service(asset_ids=[alert.asset_id], reason="Gearbox swap") == 1
    alerts_sweep()
    alert.refresh_from_db()
    assert alert.suppressed is True

    assert assets_return_to_service(asset_ids=[alert.asset_id]) == 1
    alerts_sweep()
    alert.refresh_from_db()
    assert alert.suppressed is False
    assert event_kinds(alert) == ["raised", "suppressed", "unsuppressed"]


def test_taking_out_twice_keeps_the_first_start():
    asset = make_asset()
    assets_take_out_of_service(asset_ids=[asset.pk], reason="First")
    since = Asset.objects.get(pk=asset.pk).out_of_service_since

    assert assets_take_out_of_service(asset_ids=[asset.pk], reason="Second") == 0
    asset.refresh_from_db()
    assert (asset.out_of_service_since, asset.out_of_service_reason) == (since, "First")


def test_the_admin_takes_assets_out_of_service_and_back(client):
    asset = make_asset()
    client.force_login(make_user(role="admin", username="ada"))
    changelist = "/admin/assets/asset/"

    response = client.post(
        changelist,
        {"action": "take_out_of_service", "_selected_action": [asset.pk]},
        follow=True,
    )
    asset.refresh_from_db()
    assert asset.out_of_service_since is not None
    assert asset.out_of_service_reason == "Maintenance (set by ada)"
    assert "1 asset out of service" in response.text

    client.post(changelist, {"action": "return_to_service", "_selected_action": [asset.pk]})
    asset.refresh_from_db()
    assert (asset.out_of_service_since, asset.out_of_service_reason) == (None, "")


def test_a_reason_without_a_start_is_refused():
    from django.core.exceptions import ValidationError

    asset = make_asset()
    asset.out_of_service_reason = "Waiting for parts"
    with pytest.raises(ValidationError, match="went out of service"):
        asset.full_clean()
