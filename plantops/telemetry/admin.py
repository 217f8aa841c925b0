from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.defaultfilters import pluralize
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.cache import add_never_cache_headers

from plantops.telemetry import gateways, selectors
from plantops.telemetry.models import Gateway


class DeadLetterAdmin(admin.ModelAdmin):
    """The refused messages, read-only; registered by the pipeline, whose replay action stores
    what now passes the way any batch is stored."""

    list_display = ["received_at", "reason", "topic", "detail"]
    list_filter = ["reason", "received_at"]
    search_fields = ["topic", "detail", "payload"]
    date_hierarchy = "received_at"
    readonly_fields = [
        "received_at",
        "topic",
        "reason",
        "detail",
        "payload",
        "batch_id",
        "position",
    ]
    exclude = ["raw"]

    def has_add_permission(self, request) -> bool:
        # Dead letters are what the machines sent; nobody writes them by hand.
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        # Read-only records; replaying needs only view and delete.
        return False


@admin.register(Gateway)
class GatewayAdmin(admin.ModelAdmin):
    """Gateways' MQTT identities. A new gateway's password, and each one issued later, is shown
    once, on a page of its own answering the request that made it."""

    list_display = ["name", "username", "revoked_at", "password_set_at", "broker"]
    list_filter = [("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["name", "username"]
    autocomplete_fields = ["assets", "lines", "areas"]
    fields = [
        "name",
        "username",
        "assets",
        "lines",
        "areas",
        "created_at",
        "revoked_at",
        "password_set_at",
        "broker_synced_at",
        "broker_error",
    ]
    readonly_fields = [
        "created_at",
        "revoked_at",
        "password_set_at",
        "broker_synced_at",
        "broker_error",
    ]
    actions = ["revoke", "reinstate"]

    @admin.display(description="Broker")
    def broker(self, gateway: Gateway) -> str:
        if gateway.broker_error:
            return gateway.broker_error
        return "in step" if gateway.broker_synced_at else "on its way"

    def get_readonly_fields(self, request: HttpRequest, obj: Gateway | None = None) -> list[str]:
        # The user name is the broker's key for the client: a new name is a new gateway.
        fields = list(super().get_readonly_fields(request, obj))
        return [*fields, "username"] if obj is not None else fields

    def get_urls(self) -> list:
        return [
            path(
                "<int:object_id>/password/",
                self.admin_site.admin_view(self.issue_password_view),
                name="telemetry_gateway_password",
            ),
            *super().get_urls(),
        ]

    def save_related(self, request: HttpRequest, form, formsets, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        gateway = form.instance
        if change:
            gateways.gateway_changed(gateway=gateway)
            return
        try:
            request.gateway_password = gateways.gateway_issue_password(gateway=gateway)
        except gateways.BrokerError as error:
            gateways.gateway_changed(gateway=gateway)
            self.message_user(
                request,
                f"“{gateway}” is saved without a password: {error}. Issue one from its page "
                "once the broker answers.",
                messages.ERROR,
            )

    def response_add(self, request: HttpRequest, obj: Gateway, post_url_continue=None):
        password = getattr(request, "gateway_password", None)
        if password is None:
            return super().response_add(request, obj, post_url_continue)
        return self._password_page(request, obj, password)

    def issue_password_view(self, request: HttpRequest, object_id: int) -> HttpResponse:
        gateway = get_object_or_404(Gateway, pk=object_id)
        if not self.has_change_permission(request, gateway):
            raise PermissionDenied
        change_url = reverse("admin:telemetry_gateway_change", args=[gateway.pk])
        if request.method != "POST":
            return HttpResponseRedirect(change_url)
        try:
            password = gateways.gateway_issue_password(gateway=gateway)
        except gateways.BrokerError as error:
            self.message_user(request, f"No new password: {error}.", messages.ERROR)
            return HttpResponseRedirect(change_url)
        return self._password_page(request, gateway, password)

    def _password_page(self, request: HttpRequest, gateway: Gateway, password: str) -> HttpResponse:
        response = TemplateResponse(
            request,
            "admin/telemetry/gateway/password.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.opts,
                "title": f"The password of {gateway}",
                "gateway": gateway,
                "password": password,
                "prefixes": selectors.gateway_topic_prefixes(gateway=gateway),
            },
        )
        # Shown once: no cache, proxy or back button may keep it.
        add_never_cache_headers(response)
        return response

    def delete_model(self, request: HttpRequest, obj: Gateway) -> None:
        gateways.gateway_delete(gateway=obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Gateway]) -> None:
        for gateway in queryset:
            gateways.gateway_delete(gateway=gateway)

    @admin.action(description="Revoke: the broker refuses them from now on", permissions=["change"])
    def revoke(self, request: HttpRequest, queryset: QuerySet[Gateway]) -> None:
        for gateway in queryset:
            gateways.gateway_revoke(gateway=gateway)
        n = len(queryset)
        self.message_user(request, f"{n} gateway{pluralize(n)} revoked.")

    @admin.action(description="Reinstate with their passwords", permissions=["change"])
    def reinstate(self, request: HttpRequest, queryset: QuerySet[Gateway]) -> None:
        for gateway in queryset:
            gateways.gateway_reinstate(gateway=gateway)
        n = len(queryset)
        self.message_user(request, f"{n} gateway{pluralize(n)} reinstated.")
