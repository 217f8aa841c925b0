"""The German and Spanish catalogs: complete and compilable, and the translated screens show
no English from them, numbers with the language's decimal mark, and the language chosen with
the top bar's switcher."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.test import Client

from plantops.maintenance.models import FailureCode
from plantops.oee.models import StopReason
from tests.site_pages import ROLES, client_for, role_users, seed_site, site_pages
from tests.test_site_pages import shown_text

ROOT = Path(__file__).resolve().parent.parent.parent
LOCALE = ROOT / "locale"
LANGUAGES = ("de", "es")
DOMAINS = ("django", "djangojs")
# Every screen but the API reference, whose words are Swagger UI's. Django's admin is checked:
# Django translates its own words there, and ours (models, fields, actions) are marked.
NOT_OURS = ("API docs",)
# English a package leaves on our admin pages: the alt text of Django's search icon (not
# marked in Django) and django-axes' models in the admin's menu (axes has no Spanish catalog).
PACKAGES_ENGLISH = (
    re.compile(r'(<img src="[^"]*/admin/img/search\.[^"]*svg" alt=")Search(")'),
    re.compile(r"(>)Access (?:attempts|failures|logs)(<)"),
)
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|%[sd]")
# A hidden field's value is a code sent back ("approve", a path), never read by anyone.
HIDDEN_INPUT = re.compile(r"<input\b[^>]*\btype=\"hidden\"[^>]*>")
# Words a screen also shows as data (an asset's name, a unit, a number): too short to tell.
MIN_CHECKED_LENGTH = 5


def catalog(language: str, domain: str) -> polib.POFile:
    return polib.pofile(str(LOCALE / language / "LC_MESSAGES" / f"{domain}.po"))


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("domain", DOMAINS)
def test_every_catalog_is_complete_with_its_placeholders(language, domain):
    po = catalog(language, domain)
    assert len(po) > 0
    assert not po.metadata_is_fuzzy
    assert [e.msgid for e in po.fuzzy_entries()] == []
    assert [e.msgid for e in po.untranslated_entries()] == []
    for entry in po.translated_entries():
        wanted = sorted(PLACEHOLDER.findall(entry.msgid))
        translations = entry.msgstr_plural.values() if entry.msgid_plural else [entry.msgstr]
        for translation in translations:
            assert sorted(PLACEHOLDER.findall(translation)) == wanted, entry.msgid


def test_the_catalogs_compile_without_gettext(tmp_path):
    spec = importlib.util.spec_from_file_location(
        "compile_messages", ROOT / "scripts" / "compile_messages.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    for language in LANGUAGES:
        (tmp_path / language / "LC_MESSAGES").mkdir(parents=True)
        for domain in DOMAINS:
            source = LOCALE / language / "LC_MESSAGES" / f"{domain}.po"
            (tmp_path / language / "LC_MESSAGES" / f"{domain}.po").write_bytes(source.read_bytes())
    written = module.compile_catalogs(tmp_path)
    assert len(written) == len(LANGUAGES) * len(DOMAINS)
    for mo_path in written:
        compiled = polib.mofile(str(mo_path))
        source = catalog(mo_path.parent.parent.name, mo_path.stem)
        assert len(compiled) == len(source.translated_entries())


def _checked_words(language: str) -> dict[str, str]:
    """The catalog's English that a page must not show in `language`: every msgid, cut at its
    placeholders and markup, whose translation differs and that is long enough to tell."""
    entries = catalog(language, "django").translated_entries()
    # A word the language uses too ("Download", "Pipeline") is no sign of English.
    translated = "\n".join(
        "\n".join(e.msgstr_plural.values()) if e.msgid_plural else e.msgstr for e in entries
    )
    words = {}
    for entry in entries:
        for part in re.split(r"%\(\w+\)[sd]|<[^>]+>", entry.msgid):
            part = part.strip(" .,:;—–-()")
            if len(part) >= MIN_CHECKED_LENGTH and part not in translated:
                words[part] = entry.msgid
    return words


def _english_shown(text: str, words: dict[str, str]) -> list[str]:
    return [part for part in words if re.search(rf"(?<![\w]){re.escape(part)}(?![\w])", text)]


def _plant_data(plant) -> list[str]:
    """The seeded plant's own names ("Asset 1", "Line 1", a failure code's "Cause unknown", a
    stop reason's "Quality check"): data in English on every page, whatever the language, so
    no sign of a missed word."""
    asset = plant.asset
    names = [asset.name, asset.line.name, asset.line.area.name, asset.line.area.site.name]
    names += [signal.name for signal in asset.signals.all()]
    names += list(FailureCode.objects.values_list("label", flat=True))
    names += list(StopReason.objects.values_list("label", flat=True))
    return sorted(set(names), key=len, reverse=True)


def _shown_without_data(html: str, data: list[str]) -> str:
    for words in PACKAGES_ENGLISH:
        html = words.sub(r"\1\2", html)
    text = shown_text(HIDDEN_INPUT.sub("", html))
    for name in data:
        text = text.replace(name, "")
    return text


@pytest.mark.django_db
@pytest.mark.parametrize("language", LANGUAGES)
def test_the_translated_pages_show_no_english_from_the_catalog(language):
    plant = seed_site(with_data=True)
    users = role_users(plant)
    words = _checked_words(language)
    data = _plant_data(plant)
    # Every work order the seed made, in each of its states.
    pages = [page for page in site_pages(plant) if not page.name.startswith(NOT_OURS)]
    assert len([page for page in pages if page.name.startswith("work order, ")]) == len(
        plant.work_orders
    )
    problems = []
    for role in (*ROLES, "anonymous"):
        client = client_for(role, users)
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
        for page in pages:
            if role not in page.roles:
                continue
            response = client.get(page.url)
            assert response.status_code == 200, (page.url, role)
            html = response.content.decode()
            if "<html" in html:
                # Django's admin adds the direction: <html lang="de" dir="ltr">.
                assert re.search(rf'<html lang="{language}"[ >]', html), page.url
            found = _english_shown(_shown_without_data(html, data), words)
            problems += [f"{page.name} as {role}: {part!r}" for part in found]
    assert not problems, "\n".join(problems)


ADMIN_WORDS = {
    "de": ("Anlagenmodell", "Von der Maschine gemeldet", "Ideale Taktzeit (s)", "Im Einsatz"),
    "es": (
        "Modelo de planta",
        "Notificado por la máquina",
        "Tiempo de ciclo ideal (s)",
        "En servicio",
    ),
}


@pytest.mark.django_db
@pytest.mark.parametrize("language", LANGUAGES)
def test_our_admin_names_the_plant_in_the_language(language):
    # The check above finds English left; this, that our words are there in the language: the
    # app, a fieldset, a field and a column of the assets' admin.
    plant = seed_site(with_data=False)
    client = client_for("admin", role_users(plant))
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    text = shown_text(client.get(f"/admin/assets/asset/{plant.asset.pk}/change/").content.decode())
    text += shown_text(client.get("/admin/assets/asset/").content.decode())
    assert [word for word in ADMIN_WORDS[language] if word not in text] == []


def test_the_check_finds_english_left_on_a_page():
    words = _checked_words("de")
    assert _english_shown("Keine offenen Alarme.", words) == []
    assert "No open alerts" in _english_shown("<p>No open alerts.</p>", words)


@pytest.mark.django_db
def test_the_switcher_sets_the_language_for_an_anonymous_visitor_and_remembers_it():
    client = Client()
    page = client.get("/login/")
    assert '<html lang="en">' in page.content.decode()
    assert "Sign in" in page.content.decode()

    chosen = client.post("/language/", {"language": "de", "next": "/login/"})

    assert chosen.status_code == 302
    assert chosen["Location"] == "/login/"
    cookie = chosen.cookies[settings.LANGUAGE_COOKIE_NAME]
    assert cookie.value == "de"
    assert int(cookie["max-age"]) >= 30 * 86400
    html = client.get("/login/").content.decode()
    assert '<html lang="de">' in html
    assert "Anmelden" in html
    assert "Sign in" not in shown_text(html)
    assert 'aria-current="true">DE</button>' in html

    client.post("/language/", {"language": "es", "next": "/login/"})
    assert "Iniciar sesión" in client.get("/login/").content.decode()


@pytest.mark.django_db
def test_english_stays_the_default():
    html = Client().get("/login/").content.decode()
    assert '<html lang="en">' in html
    assert 'aria-current="true">EN</button>' in html


@pytest.mark.django_db
@pytest.mark.parametrize(("language", "mark"), [("de", ","), ("es", ","), ("en", ".")])
def test_a_page_shows_numbers_with_the_language_s_decimal_mark(language, mark):
    plant = seed_site(with_data=True)
    client = client_for("supervisor", role_users(plant))
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    html = client.get(f"/assets/{plant.asset.pk}/").content.decode()
    # The signals' latest values, one decimal each (seeded from 2.0 and 4.0 up).
    values = re.findall(r'data-role="value"[^>]*>([^<]+)</span>', html)
    assert values
    assert all(re.fullmatch(rf"\d+{re.escape(mark)}\d", value) for value in values), values
    # The charts' own data stays machine-readable whatever the language.
    assert re.search(r'data-interval-s="\d+(\.\d+)?"', html)


PRIORITY_WORDS = {
    "de": ("KRITISCH", "HOCH", "MITTEL", "NIEDRIG"),
    "es": ("CRÍTICA", "ALTA", "MEDIA", "BAJA"),
}


@pytest.mark.django_db
@pytest.mark.parametrize("language", LANGUAGES)
def test_alert_priorities_are_named_in_the_page_s_language(language):
    # Too short for the page check above ("HIGH"), and once shown in English on two pages.
    plant = seed_site(with_data=True)
    client = client_for("supervisor", role_users(plant))
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    for url in ("/alerts/rules/", f"/assets/{plant.asset.pk}/"):
        text = shown_text(client.get(url).content.decode())
        assert not re.findall(r"\b(?:CRITICAL|HIGH|MEDIUM|LOW)\b", text), url
        assert any(re.search(rf"\b{word}\b", text) for word in PRIORITY_WORDS[language]), url
