from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from plantops.telemetry import gateways, selectors
from plantops.telemetry.models import Gateway, SparkplugMetric, SparkplugSource
from plantops.telemetry.services import sparkplug_metrics_map_by_name
from plantops.telemetry.sparkplug_schema import DataType


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
        "sparkplug_nodes",
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

    @admin.display(description=_("Broker"))
    def broker(self, gateway: Gateway) -> str:
        if gateway.broker_error:
            return gateway.broker_error  # the broker's own words
        return gettext("in step") if gateway.broker_synced_at else gettext("on its way")

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
                gettext(
                    "“%(gateway)s” is saved without a password: %(error)s. Issue one from its "
                    "page once the broker answers."
                )
                % {"gateway": gateway, "error": error},
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
            self.message_user(
                request, gettext("No new password: %(error)s.") % {"error": error}, messages.ERROR
            )
            return HttpResponseRedirect(change_url)
        return self._password_page(request, gateway, password)

    def _password_page(self, request: HttpRequest, gateway: Gateway, password: str) -> HttpResponse:
        response = TemplateResponse(
            request,
            "admin/telemetry/gateway/password.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.opts,
                "title": gettext("The password of %(gateway)s") % {"gateway": gateway},
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

    @admin.action(
        description=_("Revoke: the broker refuses them from now on"), permissions=["change"]
    )
    def revoke(self, request: HttpRequest, queryset: QuerySet[Gateway]) -> None:
        for gateway in queryset:
            gateways.gateway_revoke(gateway=gateway)
        n = len(queryset)
        self.message_user(
            request,
            ngettext("%(count)d gateway revoked.", "%(count)d gateways revoked.", n) % {"count": n},
        )

    @admin.action(description=_("Reinstate with their passwords"), permissions=["change"])
    def reinstate(self, request: HttpRequest, queryset: QuerySet[Gateway]) -> None:
        for gateway in queryset:
            gateways.gateway_reinstate(gateway=gateway)
        n = len(queryset)
        self.message_user(
            request,
            ngettext("%(count)d gateway reinstated.", "%(count)d gateways reinstated.", n)
            % {"count": n},
        )


class UnmappedFilter(admin.SimpleListFilter):
    title = _("mapping")
    parameter_name = "mapped"

    def lookups(self, request, model_admin):
        return [("no", _("Not mapped yet")), ("yes", _("Mapped"))]

    def queryset(self, request, queryset):
        if self.value() == "no":
            return queryset.filter(target="")
        if self.value() == "yes":
            return queryset.exclude(target="")
        return queryset


@admin.register(SparkplugSource)
class SparkplugSourceAdmin(admin.ModelAdmin):
    """Sparkplug B edge nodes and devices as they appear: choose each one's asset in the list."""

    list_display = [
        "__str__",
        "asset",
        "online",
        "last_birth_at",
        "last_death_at",
        "unmapped_metrics",
    ]
    list_editable = ["asset"]
    list_filter = ["online", ("asset", admin.EmptyFieldListFilter)]
    search_fields = ["group_id", "edge_node_id", "device_id"]
    autocomplete_fields = ["asset"]
    readonly_fields = ["online", "first_seen_at", "last_birth_at", "last_death_at"]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("asset")
            .annotate(unmapped=Count("metrics", filter=Q(metrics__target="")))
        )

    @admin.display(description=_("Metrics not mapped"), ordering="unmapped")
    def unmapped_metrics(self, source: SparkplugSource) -> int:
        return source.unmapped


@admin.register(SparkplugMetric)
class SparkplugMetricAdmin(admin.ModelAdmin):
    """Metrics Sparkplug sources publish. A candidate is mapped in the list itself: choose what
    it feeds (and the signal) and save; or select several and map each to its asset's signal
    of the same name."""

    list_display = [
        "name",
        "source",
        "datatype_name",
        "last_value",
        "last_seen_at",
        "target",
        "signal",
    ]
    list_editable = ["target", "signal"]
    list_filter = [UnmappedFilter, "target", "source__group_id"]
    search_fields = ["name", "source__edge_node_id", "source__device_id"]
    autocomplete_fields = ["signal"]
    list_select_related = ["source", "source__asset", "signal", "signal__asset"]
    readonly_fields = ["source", "name", "datatype", "alias", "last_value", "last_seen_at"]
    actions = ["map_to_signal_of_same_name"]

    def has_add_permission(self, request) -> bool:
        return False  # metrics are what the sources publish

    @admin.display(description=_("Datatype"), ordering="datatype")
    def datatype_name(self, metric: SparkplugMetric) -> str:
        try:
            return DataType(metric.datatype).name.title()
        except ValueError:
            return str(metric.datatype)

    @admin.action(description=_("Map to the asset's signal of the same name"))
    def map_to_signal_of_same_name(self, request: HttpRequest, queryset: QuerySet) -> None:
        mapped, missing = sparkplug_metrics_map_by_name(metrics=queryset.select_related("source"))
        if mapped:
            self.message_user(
                request,
                ngettext("Mapped %(count)d metric.", "Mapped %(count)d metrics.", mapped)
                % {"count": mapped},
            )
        if missing:
            self.message_user(
                request,
                gettext(
                    "No signal of the same name on the source's asset (add it under Signals, "
                    "or map it here by hand): %(metrics)s"
                )
                % {"metrics": ", ".join(missing[:20]) + (" …" if len(missing) > 20 else "")},
                messages.WARNING,
            )
