"""A database cursor for the statements run on every stored batch.

On PostgreSQL it sends the parameters apart from the query (server-side binding), where
Django's own cursors adapt and quote every parameter into the SQL text. That is cheaper for
large parameters (a batch's columns as array literals), and a query text that does not change
is prepared after a few runs (`prepare_threshold` in the database settings), so the server
plans it once per connection instead of once per batch. Django's own queries are unaffected:
they bind on the client and are never prepared. Elsewhere (SQLite) it is Django's cursor.
"""

from __future__ import annotations

import psycopg
from django.db import connection
from django.db.backends.utils import CursorWrapper


def batch_cursor() -> CursorWrapper:
    """A cursor wrapped like Django's (query logging and execute wrappers included)."""
    if connection.vendor != "postgresql":
        return connection.cursor()
    connection.ensure_connection()
    raw = psycopg.Cursor(connection.connection)
    if connection.queries_logged:
        return connection.make_debug_cursor(raw)
    return connection.make_cursor(raw)
