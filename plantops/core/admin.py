from __future__ import annotations

from django.contrib import admin, messages

from plantops.core.models import ApiToken


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["name", "user", "created_at", "last_used_at"]
    readonly_fields = ["created_at", "last_used_at"]
    fields = ["name", "user", "created_at", "last_used_at"]

    def save_model(self, request, obj: ApiToken, form, change: bool) -> None:
        if not change:
            fresh, secret = ApiToken.issue(name=obj.name, user=obj.user)
            obj.pk, obj.digest = fresh.pk, fresh.digest
            messages.warning(
                request,
                f"The token for “{obj.name}” is {secret} — copy it now, it is not shown again.",
            )
            return
        super().save_model(request, obj, form, change)
