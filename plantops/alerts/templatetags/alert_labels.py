"""Words for the alarm pages' codes, in the page's language.

`{{ priority|priority_label }}`: an alert's priority as the inbox names it ("HOCH"). Translating
the code itself in a template cannot work: Django looks the lower-case code up before `|upper`
runs, finds no entry, and shows the English.

`{{ grade|grade_word }}`: a KPI's grade in words ("off target"), which print.css shows after the
figure on paper, where the grade's colour is lost."""

from __future__ import annotations

from django import template
from django.utils.translation import pgettext_lazy

from plantops.alerts.selectors import PRIORITY_LABELS

register = template.Library()


@register.filter
def priority_label(priority: str) -> str:
    return str(PRIORITY_LABELS.get(priority, priority))


GRADE_WORDS = {
    "good": pgettext_lazy("a KPI's grade", "on target"),
    "warn": pgettext_lazy("a KPI's grade", "near the limit"),
    "bad": pgettext_lazy("a KPI's grade", "off target"),
}


@register.filter
def grade_word(grade: str) -> str:
    return str(GRADE_WORDS.get(grade, ""))
