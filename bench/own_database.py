"""A PostgreSQL database of a benchmark's own, created empty and dropped when it ends.

The benchmarks that fill a database (bench/api.py, bench/exports.py, bench/oee.py) run in
one named after them beside the test database of DATABASE_URL, so a run never touches the
tests' data or a demo's, and a run that died leaves nothing a next run trips on.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from urllib.parse import urlsplit, urlunsplit

import psycopg


def admin_conninfo(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(scheme="postgresql", path="/postgres"))


def run_in_own_database(name: str, script: str, run: Callable[[], int]) -> int:
    """Create database `name` on DATABASE_URL's server, point Django at it, call `run` and
    drop the database whatever happened; return `run`'s status (2 without PostgreSQL)."""
    base_url = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/test")
    if not base_url.startswith(("postgres://", "postgresql://")):
        print(f"{script} needs PostgreSQL: set DATABASE_URL (make bench does).")
        return 2
    with psycopg.connect(admin_conninfo(base_url), autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.execute(f"CREATE DATABASE {name}")
    os.environ["DATABASE_URL"] = urlunsplit(urlsplit(base_url)._replace(path=f"/{name}"))
    os.environ.setdefault("SECRET_KEY", "bench")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "plantops.settings")
    os.environ["ALLOWED_HOSTS"] = "testserver"
    try:
        return run()
    finally:
        from django.db import connections

        connections.close_all()
        with psycopg.connect(admin_conninfo(base_url), autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
