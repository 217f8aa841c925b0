"""Notifications are set up here with no code: channels, teams and their rota, routing,
escalation, subscriptions and digests; and the delivery log is read here."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from plantops.core.admin import ReadOnlyAdmin
from plantops.notify.models import (
    Channel,
    Contact,
    DeliveryAttempt,
    DigestSubscription,
    EscalationPolicy,
    Flood,
    Notification,
    OnCall,
    RoutingRule,
    Subscription,
    Team,
    TeamShift,
)


class ChannelForm(forms.ModelForm):
    """The URL and the secret are written, never shown: an empty field keeps the saved one."""

    url = forms.CharField(
        label=Channel._meta.get_field("url").verbose_name,
        required=False,
        max_length=1000,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
    )
    secret = forms.CharField(
        label=Channel._meta.get_field("secret").verbose_name,
        required=False,
        max_length=200,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
    )

    class Meta:
        model = Channel
        fields = ["name", "kind", "url", "secret", "enabled"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        url_help = Channel._meta.get_field("url").help_text
        if self.instance.pk:
            keep = gettext("Leave empty to keep the one saved; it is never shown again.")
            for name in ("url", "secret"):
                saved = bool(getattr(self.instance, name))
                said = gettext("A value is saved.") if saved else gettext("Nothing saved.")
                self.fields[name].help_text = f"{said} {keep}"
            self.fields["url"].help_text += f" {url_help}"
        else:
            self.fields["url"].help_text = url_help
            self.fields["secret"].help_text = Channel._meta.get_field("secret").help_text

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        for name in ("url", "secret"):
            if not data.get(name) and self.instance.pk:
                data[name] = getattr(Channel.objects.get(pk=self.instance.pk), name)
        return data


@admin.register(Channel)
class ChannelAdmin(admin.ModelAdmin):
    form = ChannelForm
    list_display = ["name", "kind", "enabled", "health", "consecutive_failures", "last_success_at"]
    list_filter = ["kind", "enabled"]
    readonly_fields = ["consecutive_failures", "failing_since", "last_error", "last_success_at"]

    @admin.display(description=_("Health"))
    def health(self, channel: Channel) -> str:
        if channel.failing_since is None:
            return gettext("ok")
        return gettext("FAILING since %(time)s") % {
            "time": f"{timezone.localtime(channel.failing_since):%Y-%m-%d %H:%M %Z}"
        }

    def get_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        fields = ["name", "kind", "url", "secret", "enabled"]
        return [*fields, *self.readonly_fields] if obj else fields


@admin.register(Contact)
class ContactAdmin(admin.ModelAdmin):
    list_display = ["user", "channel", "address"]
    list_select_related = ["user", "channel"]
    autocomplete_fields = ["user"]


@admin.register(Subscription)
class SubscriptionAdmin(admin.ModelAdmin):
    list_display = ["user", "min_priority", "enabled", "quiet_start", "quiet_end"]
    list_filter = ["min_priority", "enabled"]
    filter_horizontal = ["lines", "areas", "channels"]
    autocomplete_fields = ["user"]


class TeamShiftInline(admin.TabularInline):
    model = TeamShift
    extra = 0
    filter_horizontal = ["people"]


class OnCallInline(admin.TabularInline):
    model = OnCall
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ["name"]
    search_fields = ["name"]
    filter_horizontal = ["members", "channels"]
    inlines = [TeamShiftInline, OnCallInline]


@admin.register(RoutingRule)
class RoutingRuleAdmin(admin.ModelAdmin):
    list_display = ["name", "tier", "min_priority", "team", "enabled"]
    list_filter = ["tier", "min_priority", "enabled"]
    filter_horizontal = ["lines", "areas", "channels"]


@admin.register(EscalationPolicy)
class EscalationPolicyAdmin(admin.ModelAdmin):
    list_display = ["priority", "step_minutes"]


@admin.register(DigestSubscription)
class DigestSubscriptionAdmin(admin.ModelAdmin):
    list_display = ["user", "frequency", "send_at", "enabled"]
    list_filter = ["frequency", "enabled"]
    filter_horizontal = ["lines"]
    autocomplete_fields = ["user"]


class DeliveryAttemptInline(admin.TabularInline):
    model = DeliveryAttempt
    extra = 0
    fields = ["number", "started_at", "finished_at", "ok", "answer"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    """The delivery log: every message, each try, and what the provider answered."""

    list_display = ["created_at", "kind", "channel", "address", "subject", "status", "attempts"]
    list_filter = ["status", "kind", "channel"]
    search_fields = ["subject", "address", "key"]
    list_select_related = ["channel"]
    date_hierarchy = "created_at"
    inlines = [DeliveryAttemptInline]
    exclude = ["body_html"]


@admin.register(Flood)
class FloodAdmin(ReadOnlyAdmin):
    list_display = ["line", "started_at", "ended_at", "alerts"]
