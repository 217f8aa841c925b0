from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand

from plantops.demo.services import demo_notifications_seed, demo_users_create

CREDENTIALS = "demo-users.txt"


class Command(BaseCommand):
    help = (
        "Create the demo's `admin`, `supervisor`, `technician`, `operator` and `manager` users "
        "(once) and who of them is notified of which alerts; print their passwords."
    )

    def handle(self, *args, **options) -> None:
        passwords = demo_users_create(credentials=Path(settings.VAR_DIR) / CREDENTIALS)
        demo_notifications_seed()
        for name, password in passwords.items():
            self.stdout.write(f"  user {name:<10} password {password}")
        self.stdout.write(
            "  critical and high alerts are e-mailed to maintenance, then to the supervisors "
            "and the plant managers while nobody acknowledges them (admin → Notifications)"
        )
