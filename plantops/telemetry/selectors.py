"""Reads for telemetry: the topic registry ingest resolves against (Sparkplug B mapping included),
trends from rollups, and the topics each gateway may publish."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from django.db import NotSupportedError
from django.db.models import (
    BigIntegerField,
    ExpressionWrapper,
    F,
    FloatField,
    Func,
    Max,
    Min,
    Q,
    QuerySet,
    Sum,
)

from plantops.assets.models import Area, Asset, Line, Signal, Site
from plantops.telemetry.identities import scope_prefix
from plantops.telemetry.models import Gateway, MinuteRollup, SparkplugMetric, SparkplugSource
from plantops.telemetry.payloads import TopicRegistry
from plantops.telemetry.sparkplug_mapping import MetricTarget, Source, SparkplugMap, Target


def topic_registry() -> TopicRegistry:
    """Return every configured asset path and signal slug, for ingest to resolve topics."""
    assets = {
        (site, area, line, asset): pk
        for pk, site, area, line, asset in Asset.objects.values_list(
            "pk", "line__area__site__slug", "line__area__slug", "line__slug", "slug"
        )
    }
    signals = {
        (asset_id, slug): pk
        for pk, asset_id, slug in Signal.objects.values_list("pk", "asset_id", "slug")
    }
    return TopicRegistry(assets=assets, signals=signals, sparkplug=sparkplug_map())


def signal_trend_from_rollups(
    *, signal_id: int, start: datetime, end: datetime, max_points: int = 1500
) -> list[tuple[datetime, float, float, float]]:
    """Return `(bucket start, min, mean, max)` from minute rollups, at most `max_points` buckets.

    For spans of days or months: a week of 1 Hz data is 10,080 rollup rows instead of 604,800
    readings, merged into buckets of whole minutes.
    """
    minutes = max(1, int((end - start).total_seconds() // 60))
    bucket_minutes = max(1, -(-minutes // max_points))
    rows = (
        MinuteRollup.objects.filter(signal_id=signal_id, minute__gte=start, minute__lt=end)
        .order_by("minute")
        .values_list("minute", "value_min", "value_max", "value_sum", "value_count")
    )
    buckets: list[list] = []
    width_s = bucket_minutes * 60
    epoch_start = start.timestamp()
    current_index = None
    for minute, low, high, total, count in rows:
        index = int((minute.timestamp() - epoch_start) // width_s)
        if index != current_index:
            buckets.append([minute, low, high, total, count])
            current_index = index
        else:
            bucket = buckets[-1]
            bucket[1] = min(bucket[1], low)
            bucket[2] = max(bucket[2], high)
            bucket[3] += total
            bucket[4] += count
    return [(at, low, total / count, high) for at, low, high, total, count in buckets]


class _EpochBucket(Func):
    """The Unix time, in whole seconds, at which a datetime's bucket of `width_s` seconds starts.

    Buckets are aligned to the Unix epoch, so 10-minute buckets start at :00, :10, … UTC.
    """

    output_field = BigIntegerField()

    def __init__(self, expression: str, *, width_s: int) -> None:
        if not isinstance(width_s, int) or width_s < 1:
            raise ValueError(
                f"bucket width must be a positive whole number of seconds: {width_s!r}"
            )
        super().__init__(expression)
        # An int we checked, so safe to write into the SQL.
        self.width_s = width_s

    def as_sql(self, compiler: Any, connection: Any, **extra_context: Any) -> tuple[str, list]:
        raise NotSupportedError(f"epoch buckets are not written for {connection.vendor}")

    def as_postgresql(
        self, compiler: Any, connection: Any, **extra_context: Any
    ) -> tuple[str, list]:
        sql, params = compiler.compile(self.source_expressions[0])
        width = self.width_s
        return f"(FLOOR(EXTRACT(EPOCH FROM {sql}) / {width}) * {width})::bigint", list(params)

    def as_sqlite(self, compiler: Any, connection: Any, **extra_context: Any) -> tuple[str, list]:
        # SQLite keeps Django datetimes as UTC text; strftime('%s') reads it as Unix seconds.
        # The format goes in as a parameter: a literal % would be taken for a placeholder.
        sql, params = compiler.compile(self.source_expressions[0])
        width = self.width_s
        return (
            f"((CAST(strftime(%s, {sql}) AS INTEGER) / {width}) * {width})",
            ["%s", *params],
        )


def rollup_buckets(
    *, signal_ids: Iterable[int], start: datetime, end: datetime, bucket_s: int
) -> dict[int, list[tuple[datetime, float, float, float]]]:
    """Return each signal's `(bucket start, min, mean, max)` from its minute rollups, oldest first.

    Aggregated in the database, one row per bucket that has rollups: buckets of `bucket_s`
    seconds (a whole number of minutes) aligned to the Unix epoch, over the rollups with
    `start <= minute < end`. Signals without rollups in the span are absent.
    """
    if bucket_s % 60:
        raise ValueError(f"buckets are made of whole minute rollups: {bucket_s} s")
    minutes = bucket_s // 60
    # A minute's sum can be near the float maximum (a faulty sensor). Adding a bucket's sums
    # would overflow (PostgreSQL raises, SQLite gives inf), but each divided by the bucket's
    # minutes first cannot: there are at most that many of them. Divided by the count before
    # scaling back, the mean stays within the readings' own range.
    mean = Sum(F("value_sum") / minutes) / Sum("value_count") * minutes
    rows = (
        MinuteRollup.objects.filter(
            signal_id__in=list(signal_ids), minute__gte=start, minute__lt=end
        )
        .annotate(bucket=_EpochBucket("minute", width_s=bucket_s))
        .values("signal_id", "bucket")
        .annotate(
            low=Min("value_min"),
            high=Max("value_max"),
            mean=ExpressionWrapper(mean, output_field=FloatField()),
        )
        .order_by("signal_id", "bucket")
        .values_list("signal_id", "bucket", "low", "mean", "high")
    )
    trends: dict[int, list[tuple[datetime, float, float, float]]] = {}
    for signal_id, bucket, low, mean, high in rows:
        trends.setdefault(signal_id, []).append(
            (datetime.fromtimestamp(bucket, tz=UTC), low, mean, high)
        )
    return trends


def gateway_topic_prefixes(*, gateway: Gateway) -> list[str]:
    """Return the topic prefixes a gateway may publish under: one per asset, line and area."""
    return sorted(
        [
            scope_prefix(*path)
            for path in gateway.assets.values_list(
                "line__area__site__slug", "line__area__slug", "line__slug", "slug"
            )
        ]
        + [
            scope_prefix(*path)
            for path in gateway.lines.values_list("area__site__slug", "area__slug", "slug")
        ]
        + [scope_prefix(*path) for path in gateway.areas.values_list("site__slug", "slug")]
    )


def gateways_through(place: Site | Area | Line | Asset) -> QuerySet[Gateway]:
    """Return the gateways whose topics name `place`'s slug: renaming it changes their ACLs.

    A gateway of a line or an area publishes with a wildcard for the levels below it, so
    renaming an asset of its line changes nothing for it.
    """
    if isinstance(place, Asset):
        through = Q(assets=place)
    elif isinstance(place, Line):
        through = Q(assets__line=place) | Q(lines=place)
    elif isinstance(place, Area):
        through = Q(assets__line__area=place) | Q(lines__area=place) | Q(areas=place)
    else:
        through = (
            Q(assets__line__area__site=place) | Q(lines__area__site=place) | Q(areas__site=place)
        )
    return Gateway.objects.filter(through).distinct()


def sparkplug_map() -> SparkplugMap:
    """Return the Sparkplug sources mapped to assets and their mapped metrics, for ingest."""
    assets = {
        Source(group, node, device): asset_id
        for group, node, device, asset_id in SparkplugSource.objects.filter(
            asset__isnull=False
        ).values_list("group_id", "edge_node_id", "device_id", "asset_id")
    }
    metrics = {}
    rows = (
        SparkplugMetric.objects.filter(source__asset__isnull=False)
        .exclude(target="")
        .values_list(
            "source__group_id",
            "source__edge_node_id",
            "source__device_id",
            "name",
            "target",
            "signal_id",
            "signal__asset_id",
            "source__asset_id",
        )
    )
    for group, node, device, name, target, signal_id, signal_asset_id, asset_id in rows:
        if target == Target.SIGNAL and (signal_id is None or signal_asset_id != asset_id):
            continue  # a signal of another asset, or none: not a mapping ingest can use
        metrics[(group, node, device, name)] = MetricTarget(Target(target), signal_id or 0)
    return SparkplugMap(assets=assets, metrics=metrics)
