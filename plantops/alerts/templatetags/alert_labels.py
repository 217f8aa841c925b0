"""`{{ priority|priority_label }}`: an alert's priority as the inbox names it, in the page's
language ("HOCH"). Translating the code itself in a template cannot work: Django looks the
lower-case code up before `|upper` runs, finds no entry, and shows the English."""

from __future__ import annotations

from django import template

from plantops.alerts.selectors import PRIORITY_LABELS

register = template.Library()


@register.filter
def priority_label(priority: str) -> str:
    return str(PRIORITY_LABELS.get(priority, priority))
