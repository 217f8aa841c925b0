"""No screen says UTC to a plant that is not on UTC: every page of a Berlin plant, as every
role, names Berlin's clock and has no time labelled UTC (an offset, "UTC+01:00", is fine)."""

from __future__ import annotations

import re

import pytest

from tests.site_pages import ROLES, client_for, role_users, seed_site, site_pages

pytestmark = pytest.mark.django_db

# "UTC" on its own: a label, not the start of an offset such as UTC+01:00.
UTC_LABEL = re.compile(r"\bUTC\b(?![+-]\d)")
# Every zone a user may choose, "UTC" and "Etc/UTC" among them.
ZONE_SELECT = re.compile(r"<select[^>]*name=\"time_zone\".*?</select>", re.S)
# Pages that do not show the plant's times: Django's admin and the API's generated docs.
NOT_OURS = ("/admin", "/api/v1/docs")


@pytest.mark.parametrize("with_data", [False, True], ids=["empty plant", "plant with history"])
def test_no_page_of_a_berlin_plant_says_utc(with_data):
    plant = seed_site(with_data=with_data)
    plant.site.timezone = "Europe/Berlin"
    plant.site.save()
    users = role_users(plant)
    checked = 0
    for page in site_pages(plant):
        if page.url.startswith(NOT_OURS):
            continue
        for role in ROLES:
            if role not in page.roles:
                continue
            response = client_for(role, users).get(page.url)
            assert response.status_code == 200, (page.name, role, response.status_code)
            html = ZONE_SELECT.sub("", response.content.decode())
            label = UTC_LABEL.search(html)
            assert label is None, (page.name, role, html[label.start() - 120 : label.end() + 40])
            if 'class="topbar-tools"' in html:
                assert "Times in&nbsp;</span>Europe/Berlin (CE" in html, (page.name, role)
            checked += 1
    assert checked > 40
