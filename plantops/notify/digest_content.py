"""Reads: what a digest tells of some lines, each part as its reader may see it.

A digest has five sections, each a `Section`: the alerts open now and their age, the failures
predicted within their horizon, the preventive work past due, each line's OEE of the period
against its target with its three largest losses, and the alert rules whose alerts were
confirmed least often. A section without rows carries the sentence that says why: nothing to
tell, or nothing the reader may see. Times are in the site's zone and say which; the words
and numbers are in the active language (`digests.digest_text` activates the site's).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import Exists, OuterRef, Subquery
from django.template.defaultfilters import floatformat
from django.urls import reverse
from django.utils.formats import number_format
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from plantops.alerts import selectors as alert_selectors
from plantops.alerts.delivery import delay_text
from plantops.alerts.models import AlertRule, RuleSource
from plantops.assets.models import Line
from plantops.health.models import FailureEvent, Prediction, rul_span_text
from plantops.health.plant_time import DAY_S, plant_days_between, plant_s, wall
from plantops.maintenance import selectors as maintenance_selectors
from plantops.maintenance import workflow
from plantops.maintenance.models import WorkOrder, WorkOrderKind
from plantops.notify.messages import absolute, alert_title, local, priority_label
from plantops.oee import selectors as oee_selectors
from plantops.oee.calculation import Oee

MAX_ROWS = 20
WORST_RULES = 3
TOP_LOSSES = 3
# A prediction rule's horizon when no enabled prediction rule covers the asset's type.
DEFAULT_HORIZON_DAYS: float = AlertRule._meta.get_field("horizon_days").default

LOSS_LABELS = {
    "breakdowns_s": _("Breakdowns"),
    "setup_changeover_s": _("Set-up and changeovers"),
    "small_stops_s": _("Small stops"),
    "reduced_speed_s": _("Reduced speed"),
    "startup_rejects": _("Start-up rejects"),
    "production_rejects": _("Production rejects"),
    "no_data_s": _("No data"),
}
REJECTS = ("startup_rejects", "production_rejects")


# Per section, in the digest's order: its title, the permission to see it, and what it says
# to a reader without that permission.
SECTIONS = {
    "alerts": (
        _("Open alerts"),
        "alerts.view_alert",
        _("Not shown: your account may not see alerts."),
    ),
    "predictions": (
        _("Predicted failures"),
        "health.view_prediction",
        _("Not shown: your account may not see predictions."),
    ),
    "work": (
        _("Overdue preventive work"),
        "maintenance.view_workorder",
        _("Not shown: your account may not see work orders."),
    ),
    "oee": ("OEE", "assets.view_asset", _("Not shown: your account may not see the lines' OEE.")),
    "rules": (
        _("Least precise alert rules"),
        "alerts.view_alertrule",
        _("Not shown: your account may not see alert rules."),
    ),
}


@dataclass
class Section:
    """One part of a digest: its rows (at most MAX_ROWS; `more` left out) and the sentence
    shown instead when it has none; `hidden` when the reader may not see it."""

    key: str
    note: str
    rows: list[dict[str, Any]] = field(default_factory=list)
    more: int = 0
    hidden: bool = False

    @property
    def title(self) -> str:
        return str(SECTIONS[self.key][0])

    @property
    def total(self) -> int:
        return len(self.rows) + self.more


def percent(ratio: float | None) -> str:
    """ "77.8 %" ("77,8 %" in German and Spanish)."""
    return "—" if ratio is None else f"{floatformat(ratio * 100, 1)} %"


def digest_sections(
    *, user: Any, lines: list[Line], start: datetime, end: datetime, now: datetime, tz: ZoneInfo
) -> list[Section]:
    """The sections of a digest of `lines` over [start, end), read at `now`, for `user`."""
    line_ids = [line.pk for line in lines]
    readers: dict[str, Callable[[], Section]] = {
        "alerts": lambda: open_alerts(line_ids, now, tz),
        "predictions": lambda: predictions_due(line_ids, now, tz),
        "work": lambda: overdue_preventive(line_ids, now, tz),
        "oee": lambda: lines_oee(lines, start, end, now),
        "rules": lambda: worst_rules(line_ids),
    }
    sections = []
    for key, (_title, perm, hidden) in SECTIONS.items():
        if user.has_perm(perm):
            sections.append(readers[key]())
        else:
            sections.append(Section(key, str(hidden), hidden=True))
    return sections


def open_alerts(line_ids: list[int], now: datetime, tz: ZoneInfo) -> Section:
    """Alerts open now (active, or returned and unacknowledged), most urgent first."""
    section = Section("alerts", gettext("No alert is open on these lines."))
    if not line_ids:
        return section
    alerts = alert_selectors.inbox_alerts_sorted(line_ids=line_ids, sort="priority")
    total = alerts.count()
    for alert in alert_selectors.labelled(alerts[:MAX_ROWS]):
        since = alert.first_at or alert.last_at or now
        section.rows.append(
            {
                "priority": alert.priority,
                "priority_label": priority_label(alert.priority),
                "state": str(alert.state_label),
                "title": alert_title(alert),
                "asset": alert.asset.name,
                "line": alert.asset.line.name,
                "since": local(since, tz),
                "age": delay_text((now - since).total_seconds()),
                "shelved": alert.shelved_until is not None and alert.shelved_until > now,
                "link": absolute(reverse("notify:alert", args=[alert.pk])),
            }
        )
    section.more = total - len(section.rows)
    return section


def horizon_text(days: float) -> str:
    """ "7 days", "1 day", "2.5 days" ("2,5 Tage")."""
    number = number_format(Decimal(f"{float(days):g}"))
    whole = float(days).is_integer()
    return ngettext("%(days)s day", "%(days)s days", int(days) if whole else 2) % {"days": number}


def _horizon_of() -> Callable[[str], float]:
    """The horizon of an asset type: the longest of the enabled prediction rules that cover
    it (rules of its type and rules of every type), else DEFAULT_HORIZON_DAYS."""
    by_type: dict[str, float] = {}
    for asset_type, days in AlertRule.objects.filter(
        kind=RuleSource.PREDICTION, enabled=True
    ).values_list("asset_type", "horizon_days"):
        by_type[asset_type] = max(days, by_type.get(asset_type, days))

    def horizon(asset_type: str) -> float:
        covering = [by_type[t] for t in (asset_type, "") if t in by_type]
        return max(covering) if covering else DEFAULT_HORIZON_DAYS

    return horizon


def predictions_due(line_ids: list[int], now: datetime, tz: ZoneInfo) -> Section:
    """Each asset's latest prediction per failure mode, unless the asset has failed or been
    repaired since, whose interval ends within the horizon of its prediction rules."""
    section = Section("predictions", gettext("No failure is predicted within the horizon."))
    latest = Prediction.objects.filter(
        asset=OuterRef("asset"), failure_mode=OuterRef("failure_mode")
    ).order_by("-made_at", "-pk")
    failed_since = FailureEvent.objects.filter(
        asset=OuterRef("asset"), failed_at__gt=OuterRef("made_at")
    )
    current = (
        Prediction.objects.filter(asset__line_id__in=line_ids)
        .filter(pk=Subquery(latest.values("pk")[:1]))
        .exclude(Exists(failed_since))
        .select_related("asset__line", "failure_mode")
    )
    horizon_of = _horizon_of()
    due = []
    for prediction in current:
        horizon = horizon_of(prediction.asset.asset_type)
        elapsed = plant_days_between(prediction.made_at, now)
        left_low = prediction.rul_low_days - elapsed
        left_high = prediction.rul_high_days - elapsed
        if left_high > horizon:
            continue
        made_s = plant_s(prediction.made_at)
        due.append(
            {
                "asset": prediction.asset.name,
                "line": prediction.asset.line.name,
                "failure_mode": prediction.failure_mode.label,
                "span": rul_span_text(max(left_low, 0.0), left_high)
                if left_high > 0
                else gettext("its interval has passed"),
                "from": local(wall(made_s + prediction.rul_low_days * DAY_S), tz),
                "to": local(wall(made_s + prediction.rul_high_days * DAY_S), tz),
                "ends_at": wall(made_s + prediction.rul_high_days * DAY_S),
                "confidence": f"{floatformat(prediction.confidence * 100, 0)} %",
                "horizon": horizon_text(horizon),
                "link": absolute(reverse("floor:asset", args=[prediction.asset_id])),
            }
        )
    due.sort(key=lambda row: row["ends_at"])
    section.rows, section.more = due[:MAX_ROWS], max(0, len(due) - MAX_ROWS)
    return section


def overdue_preventive(line_ids: list[int], now: datetime, tz: ZoneInfo) -> Section:
    """Open preventive work orders past their due time, the longest overdue first. A schedule
    gets its work order as a due point comes within its lead, so its work orders tell what
    is due."""
    section = Section("work", gettext("No preventive work is overdue."))
    overdue = (
        WorkOrder.objects.filter(
            kind=WorkOrderKind.PREVENTIVE,
            status__in=[status.value for status in workflow.OPEN],
            due_at__lt=now,
            asset__line_id__in=line_ids,
        )
        .select_related("asset__line", "assignee")
        .order_by("due_at", "pk")
    )
    total = overdue.count()
    for work in overdue[:MAX_ROWS]:
        section.rows.append(
            {
                "number": f"WO-{work.pk}",
                "title": work.title,
                "asset": work.asset.name,
                "line": work.asset.line.name,
                "status": work.get_status_display(),
                "assignee": work.assignee.get_username()
                if work.assignee
                else gettext("nobody yet"),
                "due": local(work.due_at, tz),
                "overdue": delay_text((now - work.due_at).total_seconds()),
                "link": absolute(reverse("maintenance:detail", args=[work.pk])),
            }
        )
    section.more = total - len(section.rows)
    return section


def top_losses(oee: Oee, *, count: int = TOP_LOSSES) -> list[dict[str, str]]:
    """The largest of the six big losses, largest first. Rejects weigh as the time they took
    at the ideal cycle time, so parts and seconds compare."""
    cycle_s = oee.ideal_run_s / oee.total_count if oee.total_count and oee.ideal_known else None
    ranked = []
    for name, value in oee.loss_figures().items():
        if not value:
            continue
        if name in REJECTS:
            seconds = value * cycle_s if cycle_s else 0.0
            text = ngettext("%(count)s part", "%(count)s parts", int(value)) % {"count": value}
            text += f" ({delay_text(seconds)})" if cycle_s else ""
        else:
            seconds, text = float(value), delay_text(value)
        ranked.append((seconds, str(LOSS_LABELS[name]), text))
    ranked.sort(key=lambda loss: -loss[0])
    return [{"label": label, "amount": text} for _, label, text in ranked[:count]]


def lines_oee(lines: list[Line], start: datetime, end: datetime, now: datetime) -> Section:
    """Each line's OEE over the period against its target, with its three largest losses."""
    section = Section("oee", gettext("No production was planned on these lines in this period."))
    for line in lines:
        oee, _ = oee_selectors.line_oee(line, start, end, now=now)
        if not oee.has_plan:
            continue
        value = oee.oee
        section.rows.append(
            {
                "line": line.name,
                "oee": percent(value),
                "target": percent(line.oee_target),
                "below": value is not None and value < line.oee_target,
                "unknown": ""
                if value is not None
                else gettext("unknown: an asset has no ideal cycle time"),
                "availability": percent(oee.availability),
                "performance": percent(oee.performance),
                "quality": percent(oee.quality),
                "losses": top_losses(oee),
                "link": absolute(reverse("oee:line", args=[line.pk])),
            }
        )
    return section


def worst_rules(line_ids: list[int]) -> Section:
    """The rules of these lines' alerts whose work found a fault least often, among those
    with at least one judged work order."""
    section = Section(
        "rules", gettext("No alert of these lines has been judged by a work order yet.")
    )
    rule_ids = list(
        AlertRule.objects.filter(alerts__asset__line_id__in=line_ids)
        .values_list("pk", flat=True)
        .distinct()
    )
    if not rule_ids:
        return section
    judged = {
        pk: row
        for pk, row in maintenance_selectors.rule_precision(rule_ids=rule_ids).items()
        if row["judged"] >= 1
    }
    names = dict(AlertRule.objects.filter(pk__in=list(judged)).values_list("pk", "name"))
    worst = sorted(judged, key=lambda pk: (judged[pk]["precision"], -judged[pk]["judged"], pk))
    for pk in worst[:WORST_RULES]:
        row = judged[pk]
        section.rows.append(
            {
                "rule": names[pk],
                "precision": percent(row["precision"]),
                "found": ngettext(
                    "%(confirmed)s of %(judged)s judged work order found a fault",
                    "%(confirmed)s of %(judged)s judged work orders found a fault",
                    row["judged"],
                )
                % {"confirmed": row["confirmed"], "judged": row["judged"]},
            }
        )
    return section
