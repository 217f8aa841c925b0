import django.db.models.deletion
from django.db import migrations, models

# Minutes get their last value from the readings still stored (none for minutes past the
# readings' retention); hours are made from the minutes. Written for each database's own
# date functions: the demo runs on SQLite.
POSTGRESQL = [
    """
    UPDATE telemetry_minuterollup AS m SET last_ts = l.ts, value_last = l.value
    FROM (
        SELECT DISTINCT ON (signal_id, date_trunc('minute', ts, 'UTC'))
            signal_id, date_trunc('minute', ts, 'UTC') AS minute, ts, value
        FROM telemetry_reading
        ORDER BY signal_id, date_trunc('minute', ts, 'UTC'), ts DESC
    ) AS l
    WHERE m.signal_id = l.signal_id AND m.minute = l.minute
    """,
    """
    INSERT INTO telemetry_hourrollup
        (signal_id, hour, value_min, value_max, value_sum, value_count, last_ts, value_last)
    SELECT signal_id, hour, low, high,
           CASE WHEN abs(sixtieths) < 1.7976931348623157e308 / 60 THEN sixtieths * 60
                ELSE sign(sixtieths) * 1.7976931348623157e308 END,
           n, last_ts, value_last
    FROM (
        -- A minute's sum may be near the float maximum, so an hour of them is added in
        -- sixtieths, which cannot overflow, and saturates as the worker's sums do.
        SELECT signal_id, date_trunc('hour', minute, 'UTC') AS hour, min(value_min) AS low,
               max(value_max) AS high, sum(value_sum / 60) AS sixtieths, sum(value_count) AS n,
               max(last_ts) AS last_ts,
               (array_agg(value_last ORDER BY last_ts DESC NULLS LAST))[1] AS value_last
        FROM telemetry_minuterollup
        GROUP BY 1, 2
    ) AS hours
    ORDER BY 1, 2
    """,
]
SQLITE = [
    """
    UPDATE telemetry_minuterollup SET (last_ts, value_last) = (
        SELECT r.ts, r.value FROM telemetry_reading AS r
        WHERE r.signal_id = telemetry_minuterollup.signal_id
            AND r.ts >= telemetry_minuterollup.minute
            AND r.ts < strftime('%Y-%m-%d %H:%M:%S', telemetry_minuterollup.minute, '+60 seconds')
        ORDER BY r.ts DESC LIMIT 1
    )
    """,
    """
    INSERT INTO telemetry_hourrollup
        (signal_id, hour, value_min, value_max, value_sum, value_count, last_ts, value_last)
    SELECT signal_id, strftime('%Y-%m-%d %H:00:00', minute) AS hour, min(value_min),
           max(value_max), total(value_sum), sum(value_count), max(last_ts),
           (SELECT m.value_last FROM telemetry_minuterollup AS m
            WHERE m.signal_id = g.signal_id
                AND strftime('%Y-%m-%d %H:00:00', m.minute) = strftime('%Y-%m-%d %H:00:00', g.minute)
            ORDER BY m.last_ts DESC LIMIT 1)
    FROM telemetry_minuterollup AS g
    GROUP BY signal_id, hour
    """,
]


def roll_up_hours(apps, schema_editor):
    statements = POSTGRESQL if schema_editor.connection.vendor == "postgresql" else SQLITE
    for sql in statements:
        schema_editor.execute(sql, params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("assets", "0008_line_oee_target"),
        ("telemetry", "0008_gateway_sparkplug_nodes"),
    ]

    operations = [
        migrations.AddField(
            model_name="minuterollup",
            name="last_ts",
            field=models.DateTimeField(null=True),
        ),
        migrations.AddField(
            model_name="minuterollup",
            name="value_last",
            field=models.FloatField(null=True),
        ),
        migrations.CreateModel(
            name="HourRollup",
            fields=[
                (
                    "pk",
                    models.CompositePrimaryKey(
                        "signal",
                        "hour",
                        blank=True,
                        editable=False,
                        primary_key=True,
                        serialize=False,
                    ),
                ),
                ("hour", models.DateTimeField()),
                ("value_min", models.FloatField()),
                ("value_max", models.FloatField()),
                ("value_sum", models.FloatField()),
                ("value_count", models.PositiveIntegerField()),
                ("last_ts", models.DateTimeField(null=True)),
                ("value_last", models.FloatField(null=True)),
                (
                    "signal",
                    models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="assets.signal",
                    ),
                ),
            ],
        ),
        migrations.RunPython(roll_up_hours, migrations.RunPython.noop, elidable=True),
    ]
