"""The read-only PostgreSQL role for Grafana and BI tools, on the `reporting` views.

The role may log in, use the schema `reporting` and SELECT from its views; it holds no right on
any table, so `SELECT * FROM auth_user` is refused while `reporting.work_orders` (which shows
usernames) is not: a view reads its tables with its owner's rights. Its sessions are read-only
and each statement is cut off after a timeout, so a heavy dashboard cannot hold the plant's
database. The views are made by the migration `api.0001_reporting_views`.
"""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from psycopg import sql

ROLE = "plantops_reporting"
SCHEMA = "reporting"
ROLE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
TIMEOUT = re.compile(r"^\d+(ms|s|min)?$")


def reporting_role_ensure(
    *,
    password: str,
    role: str = ROLE,
    connection_limit: int = 10,
    statement_timeout: str = "30s",
) -> bool:
    """Create the role, or bring an existing one back to these settings and password, and
    grant it the reporting views; return True when it was created.

    The password is hashed (SCRAM-SHA-256) before it is sent, so it is in no statement the
    server may log. Needs a database user allowed to create roles; raises ValidationError for
    a bad name, password or timeout, and LookupError before the migration made the views."""
    if not ROLE_NAME.match(role):
        raise ValidationError({"role": "Lower-case letters, digits and _, at most 63."})
    if len(password) < 16:
        raise ValidationError({"password": "At least 16 characters: it guards plant data."})
    if not TIMEOUT.match(statement_timeout):
        raise ValidationError({"statement_timeout": "A duration such as 30s, 500ms or 2min."})
    if connection_limit < 1:
        raise ValidationError({"connection_limit": "At least 1."})
    connection.ensure_connection()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_get_userbyid(nspowner) FROM pg_namespace WHERE nspname = %s", [SCHEMA]
        )
        found = cursor.fetchone()
        if found is None:
            raise LookupError("There is no schema reporting yet: run manage.py migrate first.")
        owner = found[0]  # whoever runs the migrations, and so makes any later view
        verifier = connection.connection.pgconn.encrypt_password(
            password.encode(), role.encode(), b"scram-sha-256"
        )
        name = sql.Identifier(role)
        with transaction.atomic():
            cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role])
            created = cursor.fetchone() is None
            options = sql.SQL(
                "LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT NOREPLICATION "
                "NOBYPASSRLS CONNECTION LIMIT {limit} PASSWORD {password}"
            ).format(limit=sql.Literal(connection_limit), password=sql.Literal(verifier.decode()))
            statements = [
                sql.SQL("{verb} {name} WITH {options}"),
                sql.SQL("ALTER ROLE {name} SET default_transaction_read_only = on"),
                sql.SQL("ALTER ROLE {name} SET statement_timeout = {timeout}"),
                sql.SQL("ALTER ROLE {name} SET search_path = reporting"),
                sql.SQL("GRANT CONNECT ON DATABASE {database} TO {name}"),
                sql.SQL("GRANT USAGE ON SCHEMA reporting TO {name}"),
                sql.SQL("GRANT SELECT ON ALL TABLES IN SCHEMA reporting TO {name}"),
                # Views a later migration makes are granted too.
                sql.SQL(
                    "ALTER DEFAULT PRIVILEGES FOR ROLE {owner} IN SCHEMA reporting"
                    " GRANT SELECT ON TABLES TO {name}"
                ),
            ]
            values = {
                "verb": sql.SQL("CREATE ROLE" if created else "ALTER ROLE"),
                "options": options,
                "name": name,
                "timeout": sql.Literal(statement_timeout),
                "database": sql.Identifier(connection.settings_dict["NAME"]),
                "owner": sql.Identifier(owner),
            }
            for statement in statements:
                cursor.execute(statement.format(**values).as_string(connection.connection))
    return created
