from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand

from plantops.demo.services import demo_users_create

CREDENTIALS = "demo-users.txt"


class Command(BaseCommand):
    help = (
        "Create the demo's `admin`, `supervisor`, `technician` and `operator` users (once); "
        "print their passwords."
    )

    def handle(self, *args, **options) -> None:
        passwords = demo_users_create(credentials=Path(settings.VAR_DIR) / CREDENTIALS)
        for name, password in passwords.items():
            self.stdout.write(f"  user {name:<9} password {password}")
