"""The tablet's work-order forms: they check what was sent; the services check the rules."""

from __future__ import annotations

from django import forms

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
    assignee = forms.IntegerField(label="Technician")
    due_at = forms.DateTimeField(
        label="When", input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"]
    )
    estimated_minutes = forms.IntegerField(
        label="Estimated minutes", required=False, min_value=1, max_value=60 * 24 * 30
    )


class PartUseForm(forms.Form):
    part = forms.ModelChoiceField(queryset=Part.objects.all())
    quantity = forms.IntegerField(min_value=1, max_value=10_000)


class PhotoForm(forms.Form):
    photo = forms.FileField()
    caption = forms.CharField(required=False, max_length=200)


def first_error(form: forms.Form) -> str:
    """One line a technician can read: the first problem the form found."""
    for field, errors in form.errors.items():
        label = form.fields[field].label or field.replace("_", " ") if field in form.fields else ""
        return f"{label.capitalize()}: {errors[0]}" if label else errors[0]
    return "Check the form."
