from django.apps import AppConfig
from django.db.models.signals import post_migrate, post_save
from django.utils.translation import gettext_lazy as _


def _ensure_roles(sender, **kwargs) -> None:
    from plantops.core.roles import roles_ensure

    roles_ensure()


class CoreConfig(AppConfig):
    name = "plantops.core"
    label = "core"
    verbose_name = _("Core")

    def ready(self) -> None:
        # After every app's migrations, so the permissions the roles name exist.
        post_migrate.connect(_ensure_roles, dispatch_uid="plantops-roles")
        # A session that ends closes its sockets (plantops.core.sessions).
        from django.contrib.auth import get_user_model
        from django.contrib.auth.signals import user_logged_in, user_logged_out

        from plantops.core import lockout, sessions

        user_logged_out.connect(sessions.close_session_sockets, dispatch_uid="plantops-logout")
        user_logged_in.connect(lockout.forget_failures, dispatch_uid="plantops-lockout-success")
        post_save.connect(
            sessions.close_user_sockets_if_deactivated,
            sender=get_user_model(),
            dispatch_uid="plantops-deactivated",
        )
