"""`{% chart_theme %}`: the charts' palette, config and axes for static/plantops/charts.js."""

from __future__ import annotations

from django import template
from django.utils.html import json_script
from django.utils.safestring import SafeString

from plantops.core import charts

register = template.Library()


@register.simple_tag
def chart_theme() -> SafeString:
    """Return plantops.core.charts' theme as a JSON script element, read before any chart."""
    return json_script(charts.theme(), "chart-theme")
