"""TimescaleDB when the database has it; never required.

With the extension, readings become a hypertable of one-day chunks: each day's rows and index
pages sit together, and retention drops whole chunks instead of deleting rows one by one.
Without it (or on SQLite) readings stay one table with a BRIN index on time. Everything else
(COPY, the primary key that deduplicates, the minute rollups) works the same on both.

The functions take a DB-API cursor on PostgreSQL; they hold no Django models.
"""

from __future__ import annotations

from datetime import datetime

READING_TABLE = "telemetry_reading"
CHUNK_INTERVAL = "1 day"


def _one(cursor, sql: str, params: list | None = None):
    cursor.execute(sql, params or [])
    return cursor.fetchone()


def installed(cursor) -> bool:
    """Whether the extension is created in this database."""
    return _one(cursor, "SELECT 1 FROM pg_extension WHERE extname = 'timescaledb'") is not None


def usable(cursor) -> bool:
    """Whether the extension is created here or can be: on the server and preloaded.

    CREATE EXTENSION of a TimescaleDB that is not in shared_preload_libraries fails, so an
    installed but unloaded package is left alone rather than failing the migration.
    """
    if installed(cursor):
        return True
    if _one(cursor, "SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb'") is None:
        return False
    (preload,) = _one(cursor, "SELECT current_setting('shared_preload_libraries')")
    return "timescaledb" in preload


def make_readings_hypertable(cursor) -> bool:
    """Turn the readings table into a hypertable when TimescaleDB is usable; return whether it is one."""
    if not usable(cursor):
        return False
    cursor.execute("CREATE EXTENSION IF NOT EXISTS timescaledb")
    # The primary key (signal_id, ts) contains the time column, as a hypertable requires; its
    # default time index is not needed beside the primary key and the BRIN index.
    cursor.execute(
        "SELECT create_hypertable(%s, 'ts', chunk_time_interval => %s::interval,"
        " migrate_data => true, if_not_exists => true, create_default_indexes => false)",
        [READING_TABLE, CHUNK_INTERVAL],
    )
    return True


def is_hypertable(cursor, table: str = READING_TABLE) -> bool:
    if not installed(cursor):
        return False
    row = _one(
        cursor,
        "SELECT 1 FROM timescaledb_information.hypertables WHERE hypertable_name = %s",
        [table],
    )
    return row is not None


def drop_chunks_before(cursor, cutoff: datetime, table: str = READING_TABLE) -> int:
    """Drop the chunks whose every row is older than `cutoff`; return how many were dropped."""
    (dropped,) = _one(
        cursor, "SELECT count(*) FROM drop_chunks(%s, older_than => %s)", [table, cutoff]
    )
    return dropped
