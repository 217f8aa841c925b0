"""The scripts' words: each page names its language's catalog by a digest of its content, and
the catalog is kept by the browser for a year."""

from __future__ import annotations

import hashlib
import re

import pytest
from django.conf import settings
from django.test import Client

CATALOG = re.compile(r'<script src="(/jsi18n/(\w+)/(\w+)\.js)" defer></script>')


def catalog_of(language: str) -> tuple[str, str, str]:
    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    found = CATALOG.search(client.get("/login/").content.decode())
    assert found, "the login page loads no catalog"
    return found[1], found[2], found[3]


@pytest.mark.django_db
def test_a_page_names_its_languages_catalog_and_the_catalog_is_kept_for_a_year():
    url, language, version = catalog_of("de")
    assert language == "de"

    response = Client().get(url, HTTP_ACCEPT_ENCODING="identity")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/javascript")
    cache = response["Cache-Control"]
    assert "public" in cache
    assert "immutable" in cache
    assert "max-age=31536000" in cache
    body = response.content
    # The address names the content: a changed word is a new address.
    assert hashlib.sha256(body).hexdigest().startswith(version)
    assert '"Sound on": "Ton an"' in body.decode()


@pytest.mark.django_db
def test_each_language_has_its_own_catalog_and_english_its_own_too():
    urls = {language: catalog_of(language)[0] for language in ("en", "de", "es")}
    assert len(set(urls.values())) == 3
    spanish = Client().get(urls["es"]).content.decode()
    assert '"Sound on": "Ton an"' not in spanish
    assert '"Sound on": "' in spanish


@pytest.mark.django_db
def test_a_page_kept_from_before_an_upgrade_is_sent_on_to_the_current_catalog():
    current, _, _ = catalog_of("de")

    old = Client().get("/jsi18n/de/0123456789abcdef.js")
    unknown = Client().get("/jsi18n/xx/0123456789abcdef.js")

    assert old.status_code == 302
    assert old["Location"] == current
    assert unknown.status_code == 302
    assert unknown["Location"] == catalog_of("en")[0]


@pytest.mark.django_db
def test_the_catalog_is_compressed_for_a_browser_that_accepts_it():
    url, _, _ = catalog_of("de")
    response = Client().get(url, HTTP_ACCEPT_ENCODING="gzip")
    assert response["Content-Encoding"] == "gzip"
