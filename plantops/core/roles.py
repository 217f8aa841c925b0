"""The plant's roles as Django groups, with the permissions each needs.

Every role watches the plant. Operators acknowledge and shelve alerts (up to the operator
limit) on their own lines, explain stops, record scrap and request work;
technicians execute the work orders given to them; supervisors also shelve longer, assign,
change alert rules, approve, schedule and cancel work, and fit the remaining-life models;
plant managers only watch (the
alerts, their rules, predictions and work orders) and are told by notifications; admins are
superusers.
"""

from __future__ import annotations

from django.contrib.auth.models import Group, Permission

OPERATORS = "Operators"
TECHNICIANS = "Technicians"
SUPERVISORS = "Supervisors"
MANAGERS = "Plant managers"

ROLE_PERMISSIONS = {
    OPERATORS: [
        # Watching the plant: the floor, the lines' OEE and their live feeds.
        "assets.view_asset",
        "alerts.view_alert",
        "alerts.change_alert",
        # Closing the OEE gaps on the tablet: a reason for a stop, scrap found.
        "oee.add_stopreasonentry",
        "oee.add_scrapentry",
        "health.view_prediction",
        # Reporting a problem: a work order request.
        "maintenance.view_workorder",
        "maintenance.add_workorder",
    ],
    TECHNICIANS: [
        "assets.view_asset",
        # A technician answers alerts anywhere in the plant (work orders from them); the
        # alert, stop and scrap actions stay with the roles that have those permissions.
        "assets.act_on_every_line",
        "health.view_prediction",
        "alerts.view_alert",
        "maintenance.view_workorder",
        "maintenance.add_workorder",
        "maintenance.execute_workorder",
        "maintenance.view_part",
    ],
    SUPERVISORS: [
        "assets.view_asset",
        # Plant-wide: operators act only on their own lines (plantops.assets.scope).
        "assets.act_on_every_line",
        "oee.add_stopreasonentry",
        "oee.change_stopreasonentry",
        "oee.add_scrapentry",
        "alerts.view_alert",
        "alerts.change_alert",
        "alerts.supervise_alerts",
        "alerts.view_alertrule",
        "alerts.add_alertrule",
        "alerts.change_alertrule",
        "alerts.delete_alertrule",
        # Predictions and how well they did; failures found on the machines.
        "health.view_prediction",
        "health.view_healthmodel",
        "health.view_failureevent",
        "health.add_failureevent",
        # Fitting the remaining-life estimators again from the model-health page.
        "health.view_fitrun",
        "health.add_fitrun",
        "maintenance.view_workorder",
        "maintenance.add_workorder",
        "maintenance.execute_workorder",
        "maintenance.supervise_workorder",
        "maintenance.view_part",
    ],
    MANAGERS: [
        "assets.view_asset",
        "alerts.view_alert",
        "alerts.view_alertrule",
        "health.view_prediction",
        "maintenance.view_workorder",
    ],
}


def roles_ensure() -> None:
    """Create the groups and give them their permissions; idempotent."""
    for name, codes in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=name)
        wanted = []
        for code in codes:
            app_label, codename = code.split(".")
            permission = Permission.objects.filter(
                content_type__app_label=app_label, codename=codename
            ).first()
            if permission is not None:  # created by the app's own post_migrate
                wanted.append(permission)
        group.permissions.add(*wanted)
