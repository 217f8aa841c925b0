"""A user's subscription, as they edit it themselves."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from plantops.assets.models import Area, Line
from plantops.notify.models import Channel, Subscription


class SubscriptionForm(forms.ModelForm):
    class Meta:
        model = Subscription
        fields = [
            "lines",
            "areas",
            "min_priority",
            "channels",
            "quiet_start",
            "quiet_end",
            "quiet_allows_critical",
            "enabled",
        ]
        widgets = {
            "lines": forms.CheckboxSelectMultiple,
            "areas": forms.CheckboxSelectMultiple,
            "channels": forms.CheckboxSelectMultiple,
            "quiet_start": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
            "quiet_end": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        }
        labels = {
            "lines": _("Lines"),
            "areas": _("Areas"),
            "min_priority": _("From priority"),
            "channels": _("Channels"),
            "quiet_start": _("Quiet start"),
            "quiet_end": _("Quiet end"),
            "quiet_allows_critical": _("Quiet allows critical"),
            "enabled": _("Enabled"),
        }

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["lines"].queryset = Line.objects.select_related("area").order_by(
            "area__name", "position", "name"
        )
        self.fields["areas"].queryset = Area.objects.order_by("name")
        personal = [c.pk for c in Channel.objects.filter(enabled=True) if c.personal]
        self.fields["channels"].queryset = Channel.objects.filter(pk__in=personal)
        self.fields["channels"].help_text = _("E-mail goes to your account's address.")

    def save(self, commit: bool = True) -> Subscription:
        self.instance.user = self.user
        return super().save(commit=commit)
