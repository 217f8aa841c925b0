"""The scripts' words: Django's JavaScript catalog at an address that names its language and a
digest of its content (`/jsi18n/de/3f2a….js`), so a tablet keeps it for a year like any
fingerprinted static file and asks again only when a word or a number format changes.

Each language's catalog is rendered once per process (it depends only on the compiled catalogs
and the settings, both fixed for a process's life) and its bytes are served from memory.
"""

from __future__ import annotations

import functools
import hashlib

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils import translation
from django.utils.cache import patch_cache_control
from django.views.i18n import JavaScriptCatalog

# locale/ holds the catalogs, so no app's own are sent.
PACKAGES = ("plantops.core",)
YEAR_S = 365 * 86400


@functools.cache
def _rendered(language: str) -> tuple[str, bytes, str]:
    """(digest, body, content type) of `language`'s catalog."""
    with translation.override(language):
        response = JavaScriptCatalog(domain="djangojs", packages=list(PACKAGES)).get(HttpRequest())
    body = response.content
    return hashlib.sha256(body).hexdigest()[:16], body, response["Content-Type"]


def _language(code: str | None) -> str:
    known = {code for code, _ in settings.LANGUAGES}
    return code if code in known else settings.LANGUAGE_CODE


def catalog_url(language: str | None = None) -> str:
    """Where the catalog of `language` (the active one without it) is, digest and all."""
    language = _language(language or translation.get_language())
    return reverse(
        "javascript-catalog", kwargs={"language": language, "version": _rendered(language)[0]}
    )


def javascript_catalog(request: HttpRequest, language: str, version: str) -> HttpResponse:
    """The catalog, cached for a year; an old digest (a page kept from before an upgrade) is
    sent on to the current one, and an unknown language to the default's."""
    if _language(language) != language or version != _rendered(language)[0]:
        return HttpResponseRedirect(catalog_url(_language(language)))
    _, body, content_type = _rendered(language)
    response = HttpResponse(body, content_type=content_type)
    patch_cache_control(response, public=True, max_age=YEAR_S, immutable=True)
    return response
