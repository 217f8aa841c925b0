"""`{% javascript_catalog_url %}`: the address of the scripts' words in the active language."""

from __future__ import annotations

from django import template

from plantops.core.js_catalog import catalog_url

register = template.Library()


@register.simple_tag
def javascript_catalog_url() -> str:
    return catalog_url()
