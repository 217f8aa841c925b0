"""The notification screens: the channel admin never shows a saved URL or secret, the delivery
log shows every try, and a user keeps their own subscriptions on /notifications/."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from plantops.assets.models import Area, Site
from plantops.notify import dispatch, sending
from plantops.notify.models import (
    Channel,
    ChannelKind,
    Notification,
    RoutingRule,
    Subscription,
)
from tests.factories import logged_in, make_alert, make_asset
from tests.notify.builders import line_in, person

pytestmark = pytest.mark.django_db

URL = "https://hooks.example.com/services/T000/B000/very-secret-path"
SECRET = "s3cret-signing-key-0123456789"


@pytest.fixture
def admin_client():
    return logged_in(person("admin", "ada"))


@pytest.fixture
def room() -> Channel:
    return Channel.objects.create(
        name="Maintenance room", kind=ChannelKind.WEBHOOK, url=URL, secret=SECRET
    )


def change_url(channel: Channel) -> str:
    return reverse("admin:notify_channel_change", args=[channel.pk])


def form_data(channel: Channel, **changes) -> dict:
    data = {"name": channel.name, "kind": channel.kind, "url": "", "secret": "", "enabled": "on"}
    return data | changes


# --- the channel admin --------------------------------------------------------------------


def test_the_change_page_never_shows_the_saved_url_or_secret(admin_client, room):
    for page in (
        admin_client.get(change_url(room)),
        admin_client.get(reverse("admin:notify_channel_changelist")),
    ):
        assert page.status_code == 200
        html = page.content.decode()
        assert "Maintenance room" in html
        assert URL not in html
        assert "very-secret-path" not in html
        assert SECRET not in html
    assert "A value is saved." in admin_client.get(change_url(room)).content.decode()


def test_saving_with_the_fields_empty_keeps_the_saved_url_and_secret(admin_client, room):
    response = admin_client.post(change_url(room), form_data(room, name="Maintenance"))
    assert response.status_code == 302, response.content.decode()[:2000]
    room.refresh_from_db()
    assert (room.name, room.url, room.secret) == ("Maintenance", URL, SECRET)


def test_a_new_value_replaces_the_saved_one(admin_client, room):
    new_url = "https://hooks.example.com/services/T111/B111/another-path"
    response = admin_client.post(change_url(room), form_data(room, url=new_url))
    assert response.status_code == 302
    room.refresh_from_db()
    assert (room.url, room.secret) == (new_url, SECRET)

    response = admin_client.post(change_url(room), form_data(room, secret="a-new-signing-key"))
    assert response.status_code == 302
    room.refresh_from_db()
    assert (room.url, room.secret) == (new_url, "a-new-signing-key")


def test_a_refused_save_does_not_echo_what_was_typed(admin_client, room):
    typed = "ftp://hooks.example.com/typed-secret-path"
    response = admin_client.post(change_url(room), form_data(room, url=typed, secret="typed-key"))
    assert response.status_code == 200  # the form again, with the error
    html = response.content.decode()
    assert "A webhook URL starts with https://" in html
    assert typed not in html
    assert "typed-key" not in html
    room.refresh_from_db()
    assert (room.url, room.secret) == (URL, SECRET)


def test_a_new_webhook_needs_its_url_and_secret(admin_client):
    add = reverse("admin:notify_channel_add")
    data = {"name": "Room", "kind": ChannelKind.WEBHOOK, "url": URL, "secret": "", "enabled": "on"}
    assert admin_client.post(add, data).status_code == 200
    assert not Channel.objects.exists()
    assert admin_client.post(add, data | {"secret": SECRET}).status_code == 302
    assert Channel.objects.get().secret == SECRET


# --- the delivery log ---------------------------------------------------------------------


def test_the_delivery_log_lists_each_try_and_the_providers_answer(admin_client, webhook):
    channel = Channel.objects.create(
        name="Maintenance room", kind=ChannelKind.WEBHOOK, url=webhook.url, secret=webhook.secret
    )
    RoutingRule.objects.create(name="High to the room", min_priority="high").channels.add(channel)
    make_alert(asset=make_asset(), priority="high", message="Filler stopped")
    dispatch.dispatch_events()
    notification = Notification.objects.get()
    webhook.status = 503
    assert sending.send_notification(notification.pk) == sending.Outcome.RETRY
    webhook.status = 200
    assert sending.send_notification(notification.pk) == sending.Outcome.SENT

    log = admin_client.get(reverse("admin:notify_notification_changelist"))
    assert log.status_code == 200
    assert "Filler stopped" in log.content.decode()

    page = admin_client.get(reverse("admin:notify_notification_change", args=[notification.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert "HTTP 503 broken" in html
    assert "HTTP 200 received" in html
    assert SECRET not in html
    assert webhook.secret not in html
    # History, not editable: no add, no delete.
    assert admin_client.get(reverse("admin:notify_notification_add")).status_code == 403
    delete = reverse("admin:notify_notification_delete", args=[notification.pk])
    assert admin_client.post(delete, {"post": "yes"}).status_code == 403


# --- a user's own page --------------------------------------------------------------------


@pytest.fixture
def plant():
    site = Site.objects.create(slug="plant", name="Plant")
    area = Area.objects.create(site=site, slug="packing", name="Packing")
    return {"area": area, "filler": line_in(area, "Filler"), "capper": line_in(area, "Capper")}


@pytest.fixture
def channels(room):
    return {
        "email": Channel.objects.create(name="E-mail", kind=ChannelKind.EMAIL),
        "phone": Channel.objects.create(
            name="Phone (ntfy)", kind=ChannelKind.APPRISE, url="ntfys://ntfy.example.com/{address}"
        ),
        "off": Channel.objects.create(name="Old mail", kind=ChannelKind.EMAIL, enabled=False),
        "room": room,
        "broadcast": Channel.objects.create(
            name="Plant ntfy topic", kind=ChannelKind.APPRISE, url="ntfys://ntfy.example.com/plant"
        ),
    }


def test_the_page_offers_only_the_users_own_channels(plant, channels):
    page = logged_in(person("operator", "olga")).get(reverse("notify:subscriptions"))
    assert page.status_code == 200
    offered = [c.name for c in page.context["form"].fields["channels"].queryset.order_by("name")]
    assert offered == ["E-mail", "Phone (ntfy)"]
    html = page.content.decode()
    for hidden in ("Maintenance room", "Old mail", "Plant ntfy topic"):
        assert hidden not in html


def test_a_user_adds_changes_and_removes_a_subscription(plant, channels):
    olga = person("operator", "olga")
    client = logged_in(olga)
    url = reverse("notify:subscriptions")
    added = client.post(
        url,
        {
            "lines": [plant["filler"].pk],
            "min_priority": "critical",
            "channels": [channels["email"].pk],
            "quiet_start": "22:00",
            "quiet_end": "06:00",
            "quiet_allows_critical": "on",
            "enabled": "on",
        },
    )
    assert added.status_code == 302
    sub = Subscription.objects.get()
    assert sub.user == olga
    assert sub.min_priority == "critical"
    assert list(sub.lines.all()) == [plant["filler"]]
    assert list(sub.channels.all()) == [channels["email"]]
    assert (f"{sub.quiet_start:%H:%M}", f"{sub.quiet_end:%H:%M}") == ("22:00", "06:00")
    listed = client.get(url).content.decode()
    assert "Critical and above" in listed
    assert "quiet 22:00–06:00" in listed

    edit = client.get(url, {"edit": sub.pk})
    assert edit.status_code == 200
    assert "Change the subscription" in edit.content.decode()
    changed = client.post(
        url,
        {
            "id": sub.pk,
            "areas": [plant["area"].pk],
            "min_priority": "high",
            "channels": [channels["email"].pk, channels["phone"].pk],
            "enabled": "on",
        },
    )
    assert changed.status_code == 302
    sub.refresh_from_db()
    assert Subscription.objects.count() == 1
    assert sub.min_priority == "high"
    assert sub.quiet_start is None
    assert list(sub.lines.all()) == []
    assert list(sub.areas.all()) == [plant["area"]]
    assert set(sub.channels.all()) == {channels["email"], channels["phone"]}

    removed = client.post(url, {"delete": sub.pk})
    assert removed.status_code == 302
    assert not Subscription.objects.exists()


def test_a_room_channel_cannot_be_subscribed_to(plant, channels):
    client = logged_in(person("operator", "olga"))
    response = client.post(
        reverse("notify:subscriptions"),
        {"min_priority": "high", "channels": [channels["room"].pk], "enabled": "on"},
    )
    assert response.status_code == 200
    assert response.context["form"].errors["channels"]
    assert not Subscription.objects.exists()


def test_half_given_quiet_hours_are_refused(plant, channels):
    client = logged_in(person("operator", "olga"))
    response = client.post(
        reverse("notify:subscriptions"),
        {
            "min_priority": "high",
            "channels": [channels["email"].pk],
            "quiet_start": "22:00",
            "enabled": "on",
        },
    )
    assert response.status_code == 200
    assert "Give both ends of the quiet hours" in response.content.decode()
    assert not Subscription.objects.exists()


def test_nobody_changes_or_removes_someone_elses_subscription(plant, channels):
    alice = person("supervisor", "alice")
    theirs = Subscription.objects.create(user=alice, min_priority="high")
    theirs.channels.add(channels["email"])
    client = logged_in(person("operator", "olga"))
    url = reverse("notify:subscriptions")

    assert client.get(url, {"edit": theirs.pk}).status_code == 404
    assert client.post(url, {"delete": theirs.pk}).status_code == 404
    response = client.post(
        url, {"id": theirs.pk, "min_priority": "low", "channels": [channels["email"].pk]}
    )
    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.min_priority == "high"
    assert theirs.user == alice
    assert "alice" not in client.get(url).content.decode()


def test_the_page_needs_a_login(plant):
    response = Client().get(reverse("notify:subscriptions"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
