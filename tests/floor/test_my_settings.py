"""My settings (/me/): a user picks their own time zone, or goes back to the plant's."""

from __future__ import annotations

import pytest
from django.test import Client

from plantops.assets.models import Site
from plantops.core.models import Preferences
from tests.factories import logged_in, make_asset, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def berlin_plant() -> Site:
    site = make_asset(signals=()).line.area.site
    site.timezone = "Europe/Berlin"
    site.save()
    return site


def test_it_offers_every_zone_with_the_plants_first(berlin_plant):
    client = logged_in(make_user(role="operator"))
    html = client.get("/me/").content.decode()
    assert '<option value="" selected>The plant' in html
    assert "Europe/Berlin" in html
    assert '<option value="America/Chicago">America/Chicago</option>' in html
    # The top bar links here from every page.
    assert 'href="/me/?next=/"' in client.get("/").content.decode()


def test_a_chosen_zone_is_kept_and_every_page_then_shows_it(berlin_plant):
    tom = make_user(role="technician")
    client = logged_in(tom)
    response = client.post("/me/", {"time_zone": "America/Chicago"})
    assert response.status_code == 302
    assert Preferences.objects.get(user=tom).time_zone == "America/Chicago"
    page = client.get("/work/").content.decode()
    assert 'data-time-zone="America/Chicago"' in page
    assert "</span>America/Chicago (C" in page  # CST or CDT
    assert '<option value="America/Chicago" selected>' in client.get("/me/").content.decode()

    client.post("/me/", {"time_zone": ""})
    assert 'data-time-zone="Europe/Berlin"' in client.get("/work/").content.decode()


def test_an_unknown_zone_is_refused_and_nothing_is_stored(berlin_plant):
    tom = make_user(role="technician")
    response = logged_in(tom).post("/me/", {"time_zone": "Mars/Olympus"})
    assert response.status_code == 200
    assert "field-error" in response.content.decode()
    assert not Preferences.objects.filter(user=tom).exists()


def test_it_is_only_for_signed_in_users():
    response = Client().get("/me/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_the_language_buttons_lead_back_to_the_page_the_clock_was_tapped_on(berlin_plant):
    client = logged_in(make_user(role="operator"))
    page = client.get("/me/?next=/work/").content.decode()
    assert '<input type="hidden" name="next" value="/work/">' in page
    assert 'value="de"' in page
    assert "Deutsch" in page
    # Another site is never where it leads.
    elsewhere = client.get("/me/?next=https://example.invalid/").content.decode()
    assert '<input type="hidden" name="next" value="/me/">' in elsewhere

    chosen = client.post("/language/", {"language": "de", "next": "/work/"})
    assert (chosen.status_code, chosen["Location"]) == (302, "/work/")
    assert "Arbeitsaufträge" in client.get("/work/").content.decode()
