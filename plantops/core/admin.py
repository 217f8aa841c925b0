from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext

from plantops.core.models import ApiToken


class ReadOnlyAdmin(admin.ModelAdmin):
    """History written only by the services (alerts and events, the delivery log): read here,
    never added, changed or deleted by hand."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """API tokens. A new token's secret is shown once, on a page of its own (never in a message,
    which may travel in a cookie); only its digest is kept."""

    list_display = ["name", "user", "scope", "expires_at", "created_at", "last_used_at"]
    list_filter = ["scope"]
    readonly_fields = ["created_at", "last_used_at"]
    fields = ["name", "user", "scope", "expires_at", "created_at", "last_used_at"]

    def save_model(self, request: HttpRequest, obj: ApiToken, form, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        fresh, secret = ApiToken.issue(
            name=obj.name, user=obj.user, scope=obj.scope, expires_at=obj.expires_at
        )
        obj.pk, obj.digest, obj.created_at = fresh.pk, fresh.digest, fresh.created_at
        request.api_token_secret = secret

    def response_add(
        self, request: HttpRequest, obj: ApiToken, post_url_continue=None
    ) -> HttpResponse:
        response = TemplateResponse(
            request,
            "admin/core/apitoken/secret.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.opts,
                "title": gettext("The API token of %(name)s") % {"name": obj},
                "token": obj,
                "secret": request.api_token_secret,
            },
        )
        add_never_cache_headers(response)
        return response
