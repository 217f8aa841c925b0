"""The MCP tools on how the lines run and how the machines wear: OEE and its losses over a
period, and the current predictions of remaining life with each machine's health, from the
same selectors as API v1 and the screens."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Count, F
from django.utils import timezone

from plantops.api import selectors as api_selectors
from plantops.api.mcp_scope import local, minutes, percent, shown_asset, shown_line
from plantops.health.models import AssetHealth, Prediction
from plantops.health.selectors import LEVEL_LABELS
from plantops.oee.calculation import Oee

# Buckets an answer may hold: 48 hours, or a fortnight of three shifts a day.
BUCKET_SPANS = {"hour": timedelta(hours=48), "shift": timedelta(days=14)}
DEFAULT_PERIOD = timedelta(hours=24)
REASONS_IN_TOTAL = 8
REASONS_PER_BUCKET = 3
MAX_PREDICTIONS = 100
WORRYING_LEVELS = ("warning", "alarm")


def _figures(oee: Oee, labels: dict[str, str], reasons: int) -> dict[str, Any]:
    losses = oee.losses
    by_reason = sorted(oee.downtime_by_reason.items(), key=lambda item: (-item[1], item[0]))
    return {
        "status": "ok" if oee.has_plan else "no_plan",
        "oee_percent": percent(oee.oee),
        "availability_percent": percent(oee.availability),
        "performance_percent": percent(oee.performance),
        "quality_percent": percent(oee.quality),
        "planned_minutes": minutes(oee.planned_s),
        "run_minutes": minutes(oee.run_s),
        "down_minutes": minutes(sum(oee.downtime_by_reason.values())),
        "total_count": oee.total_count,
        "good_count": oee.good_count,
        "losses": {
            "by_reason": [
                {"code": code, "label": labels.get(code, code), "minutes": minutes(seconds)}
                for code, seconds in by_reason[:reasons]
                if seconds > 0
            ],
            "breakdowns": losses.breakdowns,
            "breakdown_minutes": minutes(losses.breakdowns_s),
            "changeover_minutes": minutes(losses.changeover_s),
            "small_stop_minutes": minutes(losses.small_stops_s),
            "reduced_speed_minutes": minutes(oee.reduced_speed_s),
            "startup_rejects": losses.startup_rejects,
            "production_rejects": losses.production_rejects,
            "no_data_minutes": minutes(losses.no_data_s),
        },
    }


def oee(
    user: Any,
    *,
    line_id: int | None = None,
    asset_id: int | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    group: str = "none",
) -> dict[str, Any]:
    """The OEE of a line (its producing assets) or of one asset over [start, end) (the last 24
    hours by default), with its losses, in all and per hour or per shift."""
    end = end or timezone.now()
    start = start or end - DEFAULT_PERIOD
    if group in BUCKET_SPANS and end - start > BUCKET_SPANS[group]:
        hours = BUCKET_SPANS[group].total_seconds() / 3600
        raise ValidationError(
            {"group": f"Per {group}, ask for at most {hours:.0f} hours; or group=none."}
        )
    if asset_id is not None:
        shown_asset(user, asset_id)
    elif line_id is not None:
        shown_line(user, line_id)
    report = api_selectors.oee_report(
        user, line_id=line_id, asset_id=asset_id, start=start, end=end, group=group
    )
    zone, labels = report.time_zone, report.reason_labels
    return {
        "line": {"id": report.line.pk, "name": report.line.name},
        "asset": {"id": report.asset.pk, "name": report.asset.name} if report.asset else None,
        "assets_counted": len(report.asset_ids),
        "time_zone": zone,
        "from": local(report.start, zone),
        "to": local(report.end, zone),
        "oee_target_percent": percent(report.line.oee_target),
        "total": _figures(report.total, labels, REASONS_IN_TOTAL),
        "group": group,
        "buckets": [
            {
                "from": local(bucket.start, zone),
                "to": local(bucket.end, zone),
                "shift": bucket.shift or None,
                "shift_date": bucket.day.isoformat() if bucket.day else None,
            }
            | _figures(bucket.oee, labels, REASONS_PER_BUCKET)
            for bucket in report.buckets
        ],
    }


def _prediction_row(prediction: Prediction) -> dict[str, Any]:
    asset = prediction.asset
    zone = asset.line.area.site.timezone
    return {
        "asset": {"id": asset.pk, "name": asset.name, "line": asset.line.name},
        "failure_mode": prediction.failure_mode.label,
        "failure_mode_code": prediction.failure_mode.code,
        "made_at": local(prediction.made_at, zone),
        "time_zone": zone,
        "remaining_life_days": {
            "low": round(prediction.rul_low_days, 1),
            "estimate": round(prediction.rul_days, 1),
            "high": round(prediction.rul_high_days, 1),
        },
        "remaining_life": prediction.span_text(),
        "interval_confidence_percent": percent(prediction.confidence),
        "health_index": round(prediction.health_index, 3),
        "drivers": prediction.inputs.get("drivers", [])[:3],
        "model": prediction.model.label,
    }


def _health_row(health: AssetHealth) -> dict[str, Any]:
    asset = health.asset
    zone = asset.line.area.site.timezone
    return {
        "asset": {"id": asset.pk, "name": asset.name, "line": asset.line.name},
        "level": health.level,
        "level_meaning": str(LEVEL_LABELS.get(health.level, health.level)),
        "anomaly_score": None if health.score is None else round(health.score, 2),
        "judged_at": local(health.judged_at, zone),
        "evidence": health.evidence[:3],
    }


def predictions_and_health(
    user: Any, *, line_id: int | None = None, asset_id: int | None = None, limit: int = 25
) -> dict[str, Any]:
    """The current prediction of each asset and failure mode (soonest failure first, at most
    `limit`), and the machines' health: how many are at each level, and those in warning or
    alarm (for one asset, its own level whatever it is)."""
    if asset_id is not None:
        shown_asset(user, asset_id)
    if line_id is not None:
        shown_line(user, line_id)
    limit = min(limit, MAX_PREDICTIONS)
    found = api_selectors.current_predictions(
        user, line_id=line_id, asset_id=asset_id
    ).select_related("asset__line__area__site")
    health = api_selectors.on_shown_lines(
        user, AssetHealth.objects.select_related("asset__line__area__site"), "asset__line_id"
    )
    if asset_id is not None:
        health = health.filter(asset_id=asset_id)
    if line_id is not None:
        health = health.filter(asset__line_id=line_id)
    listed = health if asset_id is not None else health.filter(level__in=WORRYING_LEVELS)
    return {
        "predictions_total": found.count(),
        "predictions": [
            _prediction_row(p) for p in found.order_by("rul_days", "asset_id", "pk")[:limit]
        ],
        "health_levels": dict(
            health.order_by().values_list("level").annotate(n=Count("pk")).values_list("level", "n")
        ),
        "health": [
            _health_row(h)
            for h in listed.order_by(F("score").desc(nulls_last=True), "asset__name", "pk")[:limit]
        ],
    }
