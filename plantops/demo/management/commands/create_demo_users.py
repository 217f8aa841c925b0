import secrets
from pathlib import Path

from django.conf import settings
from django.contrib.auth.models import Group, User
from django.core.management.base import BaseCommand

from plantops.assets.models import Line
from plantops.core.roles import OPERATORS, SUPERVISORS, TECHNICIANS, roles_ensure

CREDENTIALS = "demo-users.txt"


class Command(BaseCommand):
    help = (
        "Create the demo's `admin`, `supervisor`, `technician` and `operator` users (once); "
        "print their passwords."
    )

    def handle(self, *args, **options) -> None:
        path = Path(settings.VAR_DIR) / CREDENTIALS
        known = (
            dict(line.split(" ", 1) for line in path.read_text().splitlines())
            if path.exists()
            else {}
        )
        roles_ensure()
        groups = {
            "operator": Group.objects.get(name=OPERATORS),
            "supervisor": Group.objects.get(name=SUPERVISORS),
            "technician": Group.objects.get(name=TECHNICIANS),
        }
        for username in ("admin", "supervisor", "technician", "operator"):
            is_admin = username == "admin"
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
            if username in groups:
                user.groups.add(groups[username])
        # The demo operator stands at the first line, so the floor shows that line's alerts.
        operator = User.objects.get(username="operator")
        first_line = Line.objects.order_by("position", "name", "pk").first()
        if first_line is not None and not operator.operated_lines.exists():
            first_line.operators.add(operator)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("".join(f"{name} {password}\n" for name, password in known.items()))
        path.chmod(0o600)
        for name, password in known.items():
            self.stdout.write(f"  user {name:<9} password {password}")
