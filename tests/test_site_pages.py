"""Every screen renders for every role, on a fresh plant and on one with history: no server
error, no template syntax or Python `None` shown to anyone, and a refusal (403 or the way to a
login page) where the role may not look."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from django.http import HttpResponse

from tests.site_pages import (
    ANONYMOUS,
    ROLES,
    Page,
    chart_data_urls,
    client_for,
    role_users,
    seed_site,
    site_pages,
)

pytestmark = pytest.mark.django_db

# The openings anywhere (JSON in a <script> closes objects with "}}" but never opens "{{");
# the closings too in what a reader meets.
TEMPLATE_OPENING = re.compile(r"\{[#%{]")
TEMPLATE_SYNTAX = re.compile(r"\{[#%{]|[#%}]\}")
NONE = re.compile(r"\bNone\b")
# Django admin's own words ("Recent actions: None available").
ENGLISH_NONE = ("None available",)


class _Shown(HTMLParser):
    """What a reader meets: text outside <script> and <style>, and the attribute values a
    screen reader speaks or a form sends back (title, alt, aria-*, placeholder, value)."""

    SPOKEN = {"title", "alt", "placeholder", "value", "aria-label", "aria-description"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._hidden += 1
        if tag == "img" and "/admin/img/icon-" in (dict(attrs).get("src") or ""):
            return  # Django admin's yes/no/unknown icons, whose alt is "True"/"False"/"None"
        self.parts.extend(value for name, value in attrs if name in self.SPOKEN and value)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style") and self._hidden:
            self._hidden -= 1

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self.parts.append(data)


def shown_text(html: str) -> str:
    parser = _Shown()
    parser.feed(html)
    return "\n".join(parser.parts)


def _around(text: str, match: re.Match) -> str:
    return " ".join(text[max(0, match.start() - 60) : match.end() + 60].split())


def leaks(html: str) -> list[str]:
    """Template syntax anywhere in the page (scripts included: their templates are rendered
    too), and `None` in what a reader meets."""
    text = shown_text(html)
    for words in ENGLISH_NONE:
        text = text.replace(words, "")
    found = [f"template syntax: …{_around(html, m)}…" for m in TEMPLATE_OPENING.finditer(html)]
    found += [
        f"template syntax: …{_around(text, m)}…"
        for m in TEMPLATE_SYNTAX.finditer(text)
        if not TEMPLATE_OPENING.fullmatch(m.group())  # counted above
    ]
    found += [f"None shown: …{_around(text, m)}…" for m in NONE.finditer(text)]
    return found


def refused(response: HttpResponse) -> bool:
    """A 403, or sent to a login page."""
    if response.status_code == 403:
        return True
    return response.status_code == 302 and "login" in response["Location"]


def _problems(pages: list[Page], users: dict, *, html: bool) -> list[str]:
    problems = []
    for role in (*ROLES, ANONYMOUS):
        client = client_for(role, users)
        for page in pages:
            response = client.get(page.url)
            where = f"{page.name} ({page.url}) as {role}"
            if response.status_code >= 500:
                problems.append(f"{where}: {response.status_code}")
            elif role in page.roles:
                if response.status_code != 200:
                    problems.append(f"{where}: {response.status_code}, expected 200")
                elif html:
                    problems += [f"{where}: {leak}" for leak in leaks(response.content.decode())]
            elif not refused(response) and not (page.url == "/login/" and role != ANONYMOUS):
                problems.append(f"{where}: {response.status_code}, expected a refusal")
    return problems


@pytest.mark.parametrize("with_data", [False, True], ids=["empty plant", "plant with history"])
def test_every_page_renders_for_every_role_without_leaks(with_data):
    plant = seed_site(with_data=with_data)
    users = role_users(plant)
    problems = _problems(site_pages(plant), users, html=True)
    problems += _problems(chart_data_urls(plant), users, html=False)
    assert not problems, "\n".join(problems)


def test_the_leak_check_finds_what_it_is_for():
    page = (
        "<p>{# a comment that spans\nlines #}</p><p title='None'>x</p><td>None</td>"
        "<script>const x = {'a': None}; {% if a %}</script><p>{{ asset.name }}</p>"
    )
    found = leaks(page)
    # Both ends of the comment and the opening in the script; both ends of the variable.
    assert sum(f.startswith("template syntax") for f in found) == 5
    assert sum(f.startswith("None shown") for f in found) == 2  # not the one in the script
    assert leaks("<p>Nonetheless, nothing here.</p>") == []
