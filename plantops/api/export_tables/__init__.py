"""Reads for the exports: each returns a `Table` whose rows are read lazily, after the checks.

A function checks the role, the lines and the parameters when it is called, through the same
selectors as API v1 and the screens (`oee_report`, `alerts_seen_by`, `work_orders_found`,
`signal_history`, `seen_line_ids`), so a refusal or a 400 comes before the first byte is sent.
The rows are a generator: querysets iterated with `.iterator(chunk_size=…)` (a server-side
cursor on PostgreSQL) or the readings' history a window at a time.

Times are UTC; beside the main time of a row comes the same time in the site's time zone,
which a column names.
"""

from plantops.api.export_tables.alarm_kpis import alarm_kpis_table
from plantops.api.export_tables.alerts import alerts_table
from plantops.api.export_tables.oee import oee_table
from plantops.api.export_tables.readings import MAX_CSV_ROWS, readings_table
from plantops.api.export_tables.work_orders import work_orders_table

__all__ = [
    "MAX_CSV_ROWS",
    "alarm_kpis_table",
    "alerts_table",
    "oee_table",
    "readings_table",
    "work_orders_table",
]
