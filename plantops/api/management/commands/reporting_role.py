"""manage.py reporting_role: create or update the read-only role Grafana and BI tools log in
as (plantops.api.reporting). Run it as a database user that may create roles."""

from __future__ import annotations

import getpass
import os
import sys
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection

from plantops.api.reporting import ROLE, reporting_role_ensure

PASSWORD_VARIABLE = "PLANTOPS_REPORTING_PASSWORD"


class Command(BaseCommand):
    help = (
        "Create or update the read-only PostgreSQL role for Grafana and BI tools: it may "
        "SELECT from the reporting.* views and nothing else."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--password",
            help=f"Its password (16 characters or more). Else ${PASSWORD_VARIABLE}, else asked "
            "for. A password on the command line stays in the shell's history.",
        )
        parser.add_argument("--role", default=ROLE, help=f"The role's name (default {ROLE}).")
        parser.add_argument(
            "--connection-limit", type=int, default=10, help="Sessions at once (default 10)."
        )
        parser.add_argument(
            "--statement-timeout",
            default="30s",
            help="The longest one query may run (default 30s).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if connection.vendor != "postgresql":
            raise CommandError("The reporting views and role are PostgreSQL's; this is SQLite.")
        password = options["password"] or os.environ.get(PASSWORD_VARIABLE)
        if not password and sys.stdin.isatty():
            password = getpass.getpass(f"Password for {options['role']}: ")
        if not password:
            raise CommandError(f"Give --password or set ${PASSWORD_VARIABLE}.")
        try:
            created = reporting_role_ensure(
                password=password,
                role=options["role"],
                connection_limit=options["connection_limit"],
                statement_timeout=options["statement_timeout"],
            )
        except ValidationError as error:
            raise CommandError(
                "; ".join(f"{k}: {' '.join(v)}" for k, v in error.message_dict.items())
            ) from None
        except LookupError as error:
            raise CommandError(str(error)) from None
        database = connection.settings_dict["NAME"]
        self.stdout.write(
            f"{'Created' if created else 'Updated'} role {options['role']}: read-only, "
            f"SELECT on reporting.* in database {database}."
        )
