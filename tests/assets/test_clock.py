"""One clock per request: the user's own zone, else their lines' site's, else the plant's,
else settings.TIME_ZONE; the pages name it."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from plantops.assets.models import Area, Line, Site
from plantops.assets.selectors import plant_zone, viewer_zone
from plantops.core import services
from tests.factories import logged_in, make_user

pytestmark = pytest.mark.django_db


def site_with_lines(slug: str, zone: str, lines: int = 1) -> list[Line]:
    site = Site.objects.create(slug=slug, name=slug.title(), timezone=zone)
    area = Area.objects.create(site=site, slug="a", name="Area")
    return [Line.objects.create(area=area, slug=f"l{i}", name=f"{slug} {i}") for i in range(lines)]


def test_it_falls_back_to_the_settings_zone_with_no_site():
    assert viewer_zone(make_user(role="supervisor")) == ZoneInfo("UTC")


def test_it_shows_the_plants_site_zone():
    site_with_lines("pune", "Asia/Kolkata")
    assert viewer_zone(make_user(role="manager")) == ZoneInfo("Asia/Kolkata")


def test_an_operator_gets_the_zone_of_the_site_of_their_lines():
    site_with_lines("berlin", "Europe/Berlin", lines=3)
    (chicago,) = site_with_lines("chicago", "America/Chicago")
    olga = make_user(role="operator", lines=[chicago])
    # Everyone else sees the zone most lines keep: Berlin's three against Chicago's one.
    assert viewer_zone(olga) == ZoneInfo("America/Chicago")
    assert viewer_zone(make_user(role="supervisor")) == ZoneInfo("Europe/Berlin")


def test_between_zones_with_as_many_lines_the_site_first_by_name_wins():
    site_with_lines("zurich", "Europe/Zurich")
    site_with_lines("austin", "America/Chicago")
    assert plant_zone(None) == ZoneInfo("America/Chicago")


def test_the_users_own_choice_wins_and_blank_gives_the_plants_back():
    site_with_lines("pune", "Asia/Kolkata")
    sam = make_user(role="supervisor")
    services.preferences_set(user=sam, time_zone="America/Chicago")
    assert viewer_zone(sam) == ZoneInfo("America/Chicago")
    services.preferences_set(user=sam, time_zone="")
    assert viewer_zone(sam) == ZoneInfo("Asia/Kolkata")


def test_the_middleware_activates_the_zone_for_the_request_and_the_top_bar_names_it():
    site_with_lines("berlin", "Europe/Berlin")
    response = logged_in(make_user(role="supervisor")).get("/me/")
    html = response.content.decode()
    name = timezone.localtime(timezone=ZoneInfo("Europe/Berlin")).tzname()
    assert f"Times in&nbsp;</span>Europe/Berlin ({name})" in html
    assert 'data-time-zone="Europe/Berlin"' in html
    # Deactivated after the request: nothing leaks into the next one on this thread.
    assert timezone.get_current_timezone() == ZoneInfo("UTC")
