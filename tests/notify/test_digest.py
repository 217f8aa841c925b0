"""Daily and per-shift digests reach their subscribers by real SMTP, once each, with every
section in both the HTML and the plain-text part, and only of the subscribed lines."""

from __future__ import annotations

import html as html_lib
import re
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from plantops.assets.models import Asset, Line, Shift, ShiftBreak
from plantops.health.models import FailureMode, HealthModel
from plantops.notify import sending
from plantops.notify.digests import send_due_digests
from plantops.notify.models import DigestSubscription, Notification
from plantops.oee.models import CountEvent, StateEvent
from tests.factories import make_alert, make_asset, make_prediction, make_user, past_work_order

pytestmark = pytest.mark.django_db

BERLIN = ZoneInfo("Europe/Berlin")
EXTERNAL = re.compile(
    r"<img[^>]+src=[\"']?https?:|<link[^>]+href=[\"']?https?:|url\(\s*[\"']?https?:|@import",
    re.IGNORECASE,
)


def press_line(name: str = "Press line", *, shifts: bool = True) -> Asset:
    """A press (30 s per part) on a line of a Berlin site, whose Early shift runs 06:00–14:00
    every day with a break 10:00–10:30 (with `shifts`)."""
    asset = make_asset()
    asset.ideal_cycle_time_s = 30.0
    asset.save()
    line = asset.line
    line.name = name
    line.save()
    site = line.area.site
    site.timezone = "Europe/Berlin"
    site.save()
    if not shifts:
        return asset
    early = Shift.objects.create(
        line=line, name="Early", start=time(6), end=time(14), weekdays="0123456"
    )
    ShiftBreak.objects.create(shift=early, start=time(10), end=time(10, 30))
    return asset


def second_line(first: Asset, name: str = "Packing line") -> Asset:
    """Another line on the same site and area, with an asset of its own."""
    other = make_asset()
    line = other.line
    line.area, line.slug, line.name = first.line.area, "packing", name
    line.save()
    return Asset.objects.get(pk=other.pk)


def run_the_shift(asset: Asset, day) -> None:
    """The hand-computed shift of tests/oee: OEE 567/729 = 77.8 %, a 45 min breakdown,
    40 min 30 s at reduced speed, 4 start-up and 25 production rejects."""

    def at(hour: int, minute: int = 0) -> datetime:
        return datetime.combine(day, time(hour, minute), tzinfo=BERLIN)

    for ts, state in [
        (at(6), "running"),
        (at(8), "down"),
        (at(8, 45), "running"),
        (at(14), "idle"),
    ]:
        StateEvent.objects.create(asset=asset, ts=ts, state=state)
    for ts, good, scrap in [(at(7), 200, 5), (at(8, 50), 100, 4), (at(12), 400, 20)]:
        CountEvent.objects.create(asset=asset, ts=ts, good=good, scrap=scrap)


def bearing_model(asset: Asset) -> HealthModel:
    return HealthModel.objects.create(
        asset_type=asset.asset_type,
        failure_mode=FailureMode.objects.get(code="bearing"),
        version=1,
        algorithm="x",
        step_s=3600,
        cap_steps=720,
        estimator=b"",
        fitted_at=timezone.now(),
    )


def subscriber(*, role: str = "supervisor", email: str = "alice@example.com"):
    user = make_user(role=role)
    user.email = email
    user.save()
    return user


def missing(part: str, *words: str) -> list[str]:
    return [word for word in words if word not in part]


def shown(html: str) -> str:
    """What a mail client shows of an HTML part: its text, without tags or extra spaces."""
    text = html_lib.unescape(re.sub(r"<[^>]+>", " ", html))
    return re.sub(r"\s+", " ", text)


def send_all() -> None:
    for pk in Notification.objects.order_by("pk").values_list("pk", flat=True):
        assert sending.send_notification(pk) == sending.Outcome.SENT


def moments() -> tuple[datetime, datetime]:
    """A moment just after today's 06:00 in Berlin and not before the real now (the alerts
    are raised now), and one just before that 06:00."""
    real = timezone.now()
    after = max(datetime.combine(real.astimezone(BERLIN).date(), time(6, 1), tzinfo=BERLIN), real)
    after = after + timedelta(minutes=1)
    before = datetime.combine(after.astimezone(BERLIN).date(), time(5, 59), tzinfo=BERLIN)
    return before, after


def test_it_mails_the_daily_digest_once_after_its_time_with_every_section(smtp, email_channel):
    press = press_line()
    before, after = moments()
    yesterday = after.astimezone(BERLIN).date() - timedelta(days=1)
    run_the_shift(press, yesterday)
    alert = make_alert(asset=press, priority="high", message="Press vibration high")
    # Work on this alert found no fault: its rule's precision is 0 %.
    past_work_order(asset=press, alert=alert, outcome="no_fault_found", completed_at=after)
    model = bearing_model(press)
    make_prediction(asset=press, model=model, made_at=after - timedelta(days=1), days=(3, 5, 8))
    # A failure a month and more away is beyond the 30-day horizon.
    pump = Asset.objects.create(
        line=press.line, slug="pump", name="Cooling pump", asset_type="motor"
    )
    make_prediction(asset=pump, model=model, made_at=after, days=(40, 50, 60))
    past_work_order(
        asset=press,
        kind="preventive",
        status="scheduled",
        title="Grease the main bearing",
        due_at=after - timedelta(days=2),
    )
    past_work_order(
        asset=press,
        kind="preventive",
        status="scheduled",
        title="Change the hydraulic oil",
        due_at=after + timedelta(days=2),
    )
    user = subscriber()
    DigestSubscription.objects.create(user=user, frequency="daily", send_at=time(6))

    assert send_due_digests(now=before) == 0
    assert send_due_digests(now=after) == 1
    assert send_due_digests(now=after + timedelta(hours=3)) == 0
    send_all()

    mails = smtp.wait_for(1)
    assert len(mails) == 1
    mail = mails[0]
    assert mail.envelope_to == ["alice@example.com"]
    assert not missing(mail.subject, "Daily digest", f"{yesterday:%d %B %Y}")
    notification = Notification.objects.get()
    assert notification.key.startswith(f"digest:daily:{yesterday.isoformat()}:")
    text, html = mail.part("text/plain"), mail.part("text/html")
    for part in (text, shown(html)):
        assert "Europe/Berlin" in part
        # Open alerts, with their age and local time.
        assert not missing(part, "Press vibration high", "open ")
        assert re.search(r"since \d{4}-\d\d-\d\d \d\d:\d\d CES?T", part)
        # The prediction within the default 30-day horizon.
        assert not missing(part, "Bearing degradation", "confidence 90 %")
        assert "Cooling pump" not in part
        # Overdue preventive work, not the work due later.
        assert not missing(part, "Grease the main bearing", "overdue 2 d")
        assert "Change the hydraulic oil" not in part
        # Yesterday's OEE against the target, with the three largest losses.
        assert not missing(part, "77.8 %", "target 85.0 %", "Breakdowns", "45 min", "Reduced speed")
        assert "Production rejects" in part
        assert "Start-up rejects" not in part
        # The least precise rule.
        assert not missing(part, "Press vibration high rule", "precision 0.0 %")
    assert "BELOW TARGET" in text
    assert "below target" in html
    assert not EXTERNAL.search(html)
    assert 'name="viewport"' in html


def test_empty_sections_say_so_and_hidden_ones_say_why(smtp, email_channel):
    press_line("Quiet line", shifts=False)
    _, after = moments()
    alice = subscriber(email="alice@example.com")
    bob = subscriber(role="operator", email="bob@example.com")
    for user in (alice, bob):
        DigestSubscription.objects.create(user=user, frequency="daily", send_at=time(6))

    assert send_due_digests(now=after) == 2
    send_all()

    mails = {mail.envelope_to[0]: mail for mail in smtp.wait_for(2)}
    for part in (
        mails["alice@example.com"].part("text/plain"),
        shown(mails["alice@example.com"].part("text/html")),
    ):
        assert "No alert is open on these lines." in part
        assert "No failure is predicted within the horizon." in part
        assert "No preventive work is overdue." in part
        assert "No production was planned on these lines in this period." in part
        assert "No alert of these lines has been judged by a work order yet." in part
    for part in (
        mails["bob@example.com"].part("text/plain"),
        shown(mails["bob@example.com"].part("text/html")),
    ):
        assert "No alert is open on these lines." in part
        assert "Not shown: your account may not see alert rules." in part


def test_a_shift_digest_is_mailed_once_after_the_shift_ends(smtp, email_channel):
    press = press_line()
    Line.objects.filter(pk=press.line_id).update(oee_target=0.75)
    day = (timezone.now() - timedelta(days=1)).astimezone(BERLIN).date()
    run_the_shift(press, day)
    end = datetime.combine(day, time(14), tzinfo=BERLIN)
    DigestSubscription.objects.create(user=subscriber(), frequency="shift")

    assert send_due_digests(now=end - timedelta(minutes=1)) == 0
    # Long after the end, a shift nobody was told of is stale and gets no digest.
    assert send_due_digests(now=end + timedelta(hours=3)) == 0
    assert send_due_digests(now=end + timedelta(minutes=1)) == 1
    assert send_due_digests(now=end + timedelta(minutes=2)) == 0
    send_all()

    mail = smtp.wait_for(1)[0]
    assert not missing(mail.subject, "Early shift", "06:00–14:00")
    assert Notification.objects.get().key.startswith(f"digest:shift:{day.isoformat()}T06:00-14:00:")
    for part in (mail.part("text/plain"), shown(mail.part("text/html"))):
        assert not missing(part, "77.8 %", "target 75.0 %", "Breakdowns")
        assert "below target" not in part.lower()


def test_a_digest_of_some_lines_tells_only_of_those(smtp, email_channel):
    press = press_line()
    packing = second_line(press)
    _, after = moments()
    make_alert(asset=press, message="Press vibration high")
    make_alert(asset=packing, message="Packer vibration high")
    subscription = DigestSubscription.objects.create(
        user=subscriber(), frequency="daily", send_at=time(6)
    )
    subscription.lines.add(packing.line)

    assert send_due_digests(now=after) == 1
    send_all()

    mail = smtp.wait_for(1)[0]
    assert "Packing line" in mail.subject
    for part in (mail.part("text/plain"), shown(mail.part("text/html"))):
        assert "Packer vibration high" in part
        assert "Press vibration high" not in part
        assert "Press line" not in part
