import secrets
from pathlib import Path

from django.conf import settings
from django.contrib.auth.models import Group, User
from django.core.management.base import BaseCommand

CREDENTIALS = "demo-users.txt"


class Command(BaseCommand):
    help = "Create the demo's `admin` and `operator` users (once) and print their passwords."

    def handle(self, *args, **options) -> None:
        path = Path(settings.VAR_DIR) / CREDENTIALS
        known = (
            dict(line.split(" ", 1) for line in path.read_text().splitlines())
            if path.exists()
            else {}
        )
        operators, _ = Group.objects.get_or_create(name="Operators")
        for username, is_admin in (("admin", True), ("operator", False)):
            user = User.objects.filter(username=username).first()
            password = known.get(username)
            if user is None or password is None or not user.check_password(password):
                password = secrets.token_urlsafe(9)
                if user is None:
                    user = User(username=username)
                user.is_staff = user.is_superuser = is_admin
                user.set_password(password)
                user.save()
                known[username] = password
            if not is_admin:
                user.groups.add(operators)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("".join(f"{name} {password}\n" for name, password in known.items()))
        path.chmod(0o600)
        for name, password in known.items():
            self.stdout.write(f"  user {name:<9} password {password}")
