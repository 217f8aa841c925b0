"""The tablet's work-order forms: they check what was sent; the services check the rules."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext, gettext_lazy

from plantops.maintenance.models import CodeKind, FailureCode, Outcome, Part


def _codes(kind: str) -> forms.ModelChoiceField:
    return forms.ModelChoiceField(
        queryset=FailureCode.objects.filter(kind=kind), required=False, empty_label="—"
    )


class CompleteForm(forms.Form):
    outcome = forms.ChoiceField(choices=[("", "—"), *Outcome.choices], required=False)
    problem = _codes(CodeKind.PROBLEM)
    cause = _codes(CodeKind.CAUSE)
    remedy = _codes(CodeKind.REMEDY)
    notes = forms.CharField(required=False, max_length=5000)
    actual_minutes = forms.IntegerField(required=False, min_value=0, max_value=60 * 24 * 30)


class ScheduleForm(forms.Form):
    assignee = forms.IntegerField(label=gettext_lazy("Technician"))
    due_at = forms.DateTimeField(
        label=gettext_lazy("When"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"],
    )
    estimated_minutes = forms.IntegerField(
        label=gettext_lazy("Estimated minutes"), required=False, min_value=1, max_value=60 * 24 * 30
    )


class PartUseForm(forms.Form):
    part = forms.ModelChoiceField(queryset=Part.objects.all(), label=gettext_lazy("Part"))
    quantity = forms.IntegerField(min_value=1, max_value=10_000, label=gettext_lazy("Quantity"))


class PhotoForm(forms.Form):
    photo = forms.FileField(label=gettext_lazy("Photo"))
    caption = forms.CharField(required=False, max_length=200, label=gettext_lazy("Caption"))


def first_error(form: forms.Form) -> str:
    """One line a technician can read: the first problem the form found."""
    for field, errors in form.errors.items():
        label = form.fields[field].label or field.replace("_", " ") if field in form.fields else ""
        return f"{label.capitalize()}: {errors[0]}" if label else errors[0]
    return gettext("Check the form.")
