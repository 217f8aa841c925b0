"""The `reporting` schema: read-only views of the plant for Grafana and BI tools.

Kept with the API because, like it, they are an interface to other programs over every domain's
tables. The role that reads them (`manage.py reporting_role`) gets SELECT on these views and
nothing else: a view reads its tables with its owner's rights, so the role never sees a table.
PostgreSQL only; on SQLite (the demo) this does nothing.

A later migration that changes a column these views read must drop the views first and create
them again (PostgreSQL refuses to alter a column a view uses). See docs/integrations.md.
"""

from django.db import migrations

VIEWS = [
    "CREATE SCHEMA IF NOT EXISTS reporting",
    "COMMENT ON SCHEMA reporting IS 'PlantOps read-only views for Grafana and BI tools. "
    "Times are timestamptz (UTC); site_timezone names each site''s zone.'",
    """
    CREATE VIEW reporting.assets AS
    SELECT a.id AS asset_id, a.slug AS asset_slug, a.name AS asset, a.asset_type,
           a.ideal_cycle_time_s,
           l.id AS line_id, l.slug AS line_slug, l.name AS line,
           ar.id AS area_id, ar.slug AS area_slug, ar.name AS area,
           s.id AS site_id, s.slug AS site_slug, s.name AS site, s.timezone AS site_timezone,
           -- The assets a line's OEE is made of: those making parts, or all when none does.
           (COALESCE(a.ideal_cycle_time_s, 0) > 0 OR NOT EXISTS (
               SELECT 1 FROM assets_asset AS o
               WHERE o.line_id = a.line_id AND COALESCE(o.ideal_cycle_time_s, 0) > 0
           )) AS counts_for_line_oee
    FROM assets_asset AS a
    JOIN assets_line AS l ON l.id = a.line_id
    JOIN assets_area AS ar ON ar.id = l.area_id
    JOIN assets_site AS s ON s.id = ar.site_id
    """,
    "COMMENT ON VIEW reporting.assets IS 'Every asset with its line, area and site.'",
    """
    CREATE VIEW reporting.signals AS
    SELECT g.id AS signal_id, g.slug AS signal, g.name AS signal_name, g.unit,
           g.expected_min, g.expected_max, g.sampling_interval_s,
           a.asset_id, a.asset, a.line_id, a.line, a.site_id, a.site, a.site_timezone
    FROM assets_signal AS g
    JOIN reporting.assets AS a ON a.asset_id = g.asset_id
    """,
    "COMMENT ON VIEW reporting.signals IS 'Every signal with its unit and asset.'",
    """
    CREATE VIEW reporting.readings_minute AS
    SELECT r.minute AS "time", r.signal_id, g.signal, g.signal_name, g.unit,
           g.asset_id, g.asset, g.line_id, g.line, g.site,
           r.value_min, r.value_max, r.value_sum / NULLIF(r.value_count, 0) AS value_mean,
           r.value_last, r.value_count
    FROM telemetry_minuterollup AS r
    JOIN reporting.signals AS g ON g.signal_id = r.signal_id
    """,
    "COMMENT ON VIEW reporting.readings_minute IS 'One row per signal and UTC minute with "
    "readings: min, max, mean, last and count. \"time\" is the minute''s start.'",
    """
    CREATE VIEW reporting.readings_hour AS
    SELECT r.hour AS "time", r.signal_id, g.signal, g.signal_name, g.unit,
           g.asset_id, g.asset, g.line_id, g.line, g.site,
           r.value_min, r.value_max, r.value_sum / NULLIF(r.value_count, 0) AS value_mean,
           r.value_last, r.value_count
    FROM telemetry_hourrollup AS r
    JOIN reporting.signals AS g ON g.signal_id = r.signal_id
    """,
    "COMMENT ON VIEW reporting.readings_hour IS 'One row per signal and UTC hour with "
    "readings: min, max, mean, last and count. \"time\" is the hour''s start.'",
    """
    CREATE VIEW reporting.oee_hourly AS
    SELECT h.hour AS "time", h.asset_id, a.asset, a.line_id, a.line, a.site,
           a.counts_for_line_oee,
           h.planned_s, h.run_s, h.ideal_run_s, h.ideal_known, h.total_count, h.good_count,
           CASE WHEN h.planned_s > 0 THEN h.run_s / h.planned_s END AS availability,
           CASE WHEN h.run_s > 0 AND h.ideal_known THEN h.ideal_run_s / h.run_s END
               AS performance,
           CASE WHEN h.total_count > 0 THEN h.good_count::float / h.total_count END AS quality,
           CASE WHEN h.planned_s > 0 AND h.ideal_known THEN
               h.run_s / h.planned_s
               * CASE WHEN h.run_s > 0 THEN h.ideal_run_s / h.run_s ELSE 0 END
               * CASE WHEN h.total_count > 0 THEN h.good_count::float / h.total_count ELSE 0 END
           END AS oee,
           h.breakdowns, h.breakdowns_s, h.changeover_s, h.small_stops_s,
           h.startup_rejects, h.production_rejects, h.downtime_by_reason
    FROM oee_oeehour AS h
    JOIN reporting.assets AS a ON a.asset_id = h.asset_id
    """,
    "COMMENT ON VIEW reporting.oee_hourly IS 'Each asset''s OEE totals per closed UTC hour "
    "(snapshots the beat keeps). A line''s figure sums planned_s, run_s, ideal_run_s and the "
    "counts of its assets with counts_for_line_oee, then divides.'",
    """
    CREATE VIEW reporting.oee_downtime_hourly AS
    SELECT h.hour AS "time", h.asset_id, a.asset, a.line_id, a.line, a.site,
           d.key AS reason_code,
           COALESCE(r.label, CASE WHEN d.key = '' THEN 'Not explained yet' ELSE d.key END)
               AS reason,
           r.category AS reason_category, d.value::float AS seconds
    FROM oee_oeehour AS h
    JOIN reporting.assets AS a ON a.asset_id = h.asset_id
    CROSS JOIN LATERAL jsonb_each_text(h.downtime_by_reason) AS d
    LEFT JOIN oee_stopreason AS r ON r.code = d.key
    """,
    "COMMENT ON VIEW reporting.oee_downtime_hourly IS 'Down or idle seconds within planned "
    "time per asset, UTC hour and stop reason.'",
    """
    CREATE VIEW reporting.alerts AS
    SELECT al.id AS alert_id, r.id AS rule_id, r.name AS rule, r.kind AS rule_kind,
           al.asset_id, a.asset, a.line_id, a.line, a.site, a.site_timezone, al.signal_id,
           al.priority, al.state, al.message, al.value, al.occurrences,
           al.first_at AS first_raised_at, al.last_at AS raised_at, al.returned_at,
           al.acknowledged_at, al.shelved_until, al.suppressed, u.username AS assignee
    FROM alerts_alert AS al
    JOIN alerts_alertrule AS r ON r.id = al.rule_id
    JOIN reporting.assets AS a ON a.asset_id = al.asset_id
    LEFT JOIN auth_user AS u ON u.id = al.assignee_id
    """,
    "COMMENT ON VIEW reporting.alerts IS 'Every alert (one per rule and asset) as it stands "
    "now; state normal is closed.'",
    """
    CREATE VIEW reporting.alert_events AS
    SELECT e.id AS event_id, e.alert_id, e.at AS "time", e.kind, e.state, e.priority,
           e.message, e.note, u.username AS "user", e.activated, e.delivery, e.delay_s,
           r.name AS rule, al.asset_id, a.asset, e.line_id, a.line, a.site
    FROM alerts_alertevent AS e
    JOIN alerts_alert AS al ON al.id = e.alert_id
    JOIN alerts_alertrule AS r ON r.id = al.rule_id
    JOIN reporting.assets AS a ON a.asset_id = al.asset_id
    LEFT JOIN auth_user AS u ON u.id = e.user_id
    """,
    "COMMENT ON VIEW reporting.alert_events IS 'Everything that happened to the alerts, in "
    "order of event_id; activated marks the activations the alarm KPIs count.'",
    """
    CREATE VIEW reporting.work_orders AS
    SELECT w.id AS work_order_id, 'WO-' || w.id AS number, w.kind, w.priority, w.status,
           w.asset_id, a.asset, a.line_id, a.line, a.site, w.title,
           rq.username AS requested_by, asg.username AS assignee,
           w.created_at, w.due_at, w.started_at, w.completed_at,
           w.estimated_minutes, w.actual_minutes,
           p.code AS problem_code, p.label AS problem, c.code AS cause_code, c.label AS cause,
           rm.code AS remedy_code, rm.label AS remedy, NULLIF(w.outcome, '') AS outcome,
           w.alert_id, w.prediction_id
    FROM maintenance_workorder AS w
    JOIN reporting.assets AS a ON a.asset_id = w.asset_id
    LEFT JOIN auth_user AS rq ON rq.id = w.requested_by_id
    LEFT JOIN auth_user AS asg ON asg.id = w.assignee_id
    LEFT JOIN maintenance_failurecode AS p ON p.id = w.problem_id
    LEFT JOIN maintenance_failurecode AS c ON c.id = w.cause_id
    LEFT JOIN maintenance_failurecode AS rm ON rm.id = w.remedy_id
    """,
    "COMMENT ON VIEW reporting.work_orders IS 'Every work order with its failure codes "
    "(ISO 14224 style) and labour minutes.'",
    """
    CREATE VIEW reporting.work_order_parts AS
    SELECT u.id AS part_use_id, u.work_order_id, p.number AS part_number, p.name AS part,
           u.quantity, p.unit, u.used_at AS "time", us.username AS used_by
    FROM maintenance_partuse AS u
    JOIN maintenance_part AS p ON p.id = u.part_id
    LEFT JOIN auth_user AS us ON us.id = u.used_by_id
    """,
    "COMMENT ON VIEW reporting.work_order_parts IS 'The parts taken from stock for each work "
    "order.'",
]


def create_views(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for statement in VIEWS:
        schema_editor.execute(statement)


def drop_views(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("DROP SCHEMA IF EXISTS reporting CASCADE")


class Migration(migrations.Migration):
    dependencies = [
        # The last of auth: its earlier migrations alter auth_user.username, which a view reads.
        ("auth", "0012_alter_user_first_name_max_length"),
        ("assets", "0008_line_oee_target"),
        ("telemetry", "0009_hour_rollups_and_last_values"),
        ("oee", "0005_counts_remember_their_product"),
        ("alerts", "0004_alert_event_delivery"),
        ("maintenance", "0005_preventive_recount"),
    ]

    operations = [migrations.RunPython(create_views, drop_views)]
