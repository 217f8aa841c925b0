from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _ensure_roles(sender, **kwargs) -> None:
    from plantops.core.roles import roles_ensure

    roles_ensure()


class CoreConfig(AppConfig):
    name = "plantops.core"
    label = "core"

    def ready(self) -> None:
        # After every app's migrations, so the permissions the roles name exist.
        post_migrate.connect(_ensure_roles, dispatch_uid="plantops-roles")
