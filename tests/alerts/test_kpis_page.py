"""The alarm KPI page on alarms raised the way readings raise them, at scripted times."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from plantops.alerts.models import AlertRule
from tests.factories import judge_readings, make_asset, make_rule, make_user

pytestmark = pytest.mark.django_db

KPIS = "/alerts/kpis/"
HIGH, NORMAL = 9.0, 1.0


def us(moment) -> int:
    return int(moment.timestamp() * 1_000_000)


def rule_on(asset, slug: str, priority: str) -> AlertRule:
    return make_rule(
        signal=asset.signals.get(slug=slug), name=f"{asset.name} {slug} high", priority=priority
    )


def readings(rule: AlertRule, *points) -> None:
    """Feed (moment, value) readings to the rule's signal, one batch each, oldest first."""
    for moment, value in points:
        judge_readings((rule.signal_id, us(moment), value))


def card(response, kpi: str) -> str:
    match = re.search(
        rf'data-kpi="{kpi}">.*?<b class="kpi-value">([^<]*)</b>', response.text, re.DOTALL
    )
    assert match, f"no {kpi} card"
    return match.group(1).strip()


@pytest.fixture
def plant():
    """Line A: a flood of 11 low alarms 2 h ago and one high alarm chattering 1 h ago.
    Line B: one critical alarm raised 30 h ago and never cleared (stale)."""
    now = timezone.now()
    hour_mark = now.replace(minute=0, second=0, microsecond=0)
    a = make_asset(signals=tuple(f"s{i:02d}" for i in range(12)))
    b = make_asset(signals=("vibration",))
    flood_at = hour_mark - timedelta(hours=2) + timedelta(minutes=1)
    for i in range(11):
        readings(rule_on(a, f"s{i:02d}", "low"), (flood_at + timedelta(seconds=10 * i), HIGH))
    chatter = rule_on(a, "s11", "high")
    chatter_at = hour_mark - timedelta(hours=1) + timedelta(minutes=1)
    readings(
        chatter,
        *(
            (chatter_at + timedelta(seconds=10 * i), HIGH if i % 2 == 0 else NORMAL)
            for i in range(5)
        ),
    )
    stale = rule_on(b, "vibration", "critical")
    readings(stale, (now - timedelta(hours=30), HIGH))
    return {"a": a.line, "b": b.line, "chatter": chatter, "stale": stale}


def test_it_reports_rate_flood_bad_actors_chattering_stale_and_mix(client, plant):
    client.force_login(make_user(role="supervisor", username="sam"))

    response = client.get(KPIS)

    assert response.status_code == 200
    report = response.context["report"]
    assert card(response, "activations") == "14"
    assert card(response, "peak") == "11"
    # One flood of 10 minutes in about 24 h.
    [rate] = report.rates
    assert (rate.position, rate.activations, rate.peak_per_10min) == (plant["a"].name, 14, 11)
    flood = report.floods[plant["a"].name]
    assert len(flood.intervals) == 1
    assert flood.flood_seconds == 600
    assert card(response, "flood") == f"{flood.percent_of_period:.1f} %"
    assert response.context["summary"]["peak_grade"] == "bad"
    # The chattering rule raised 3 times in 40 s: top bad actor and chattering.
    assert report.bad_actors[0].key == plant["chatter"].name
    assert report.bad_actors[0].activations == 3
    assert [c.key for c in report.chattering] == [plant["chatter"].name]
    assert card(response, "chattering") == "1"
    # Raised 30 h ago and never returned.
    assert [s.key for s in report.stale] == [plant["stale"].name]
    assert card(response, "stale") == "1"
    # 11 low and 3 high: 21.4 % high against the 5 % target.
    mix = {row["bucket"].name: row for row in response.context["mix"]}
    assert (mix["high"]["bucket"].count, mix["low"]["bucket"].count) == (3, 11)
    assert mix["high"]["grade"] == "bad"
    assert f"{100 * 3 / 14:.1f} %" in response.text
    # The chart gets every 10-minute bucket of line A, and the flood threshold across.
    bars = {trace["name"]: trace for trace in response.context["figure"]["data"]}
    assert sum(bars[plant["a"].name]["y"]) == 14
    assert len(bars[plant["a"].name]["x"]) == len(bars[plant["a"].name]["y"]) >= 24 * 6
    [threshold] = response.context["figure"]["layout"]["shapes"]
    assert threshold["y0"] == threshold["y1"] == 10


def test_a_line_and_a_longer_period_narrow_and_widen_it(client, plant):
    client.force_login(make_user(role="supervisor", username="sam"))

    line_b = client.get(KPIS, {"line": plant["b"].pk})
    week = client.get(KPIS, {"range": "7d"})

    assert card(line_b, "activations") == "0"
    assert "No alarms were raised in this period." in line_b.text
    assert [s.key for s in line_b.context["report"].stale] == [plant["stale"].name]
    # The stale alarm's own raise, 30 h ago, is inside a week.
    assert card(week, "activations") == "15"
    assert [s.key for s in week.context["report"].stale] == [plant["stale"].name]
    assert '"range": "7d"' not in week.text  # the period buttons are links, not JSON
    assert 'aria-current="true">7 days<' in week.text


def test_the_page_and_its_chart_speak_the_viewer_s_language(client, plant):
    client.force_login(make_user(role="supervisor", username="sam"))
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "de"

    response = client.get(KPIS)
    quiet = client.get(KPIS, {"line": plant["b"].pk})

    # The stale alarm: its priority and how long it has been active, in words of the language.
    row = re.search(r'<table class="figures" id="kpi-stale">.*?</table>', response.text, re.S)
    assert "<td>1 T 6 h</td>" in row.group(), row.group()
    assert ">KRITISCH</span>" in row.group()
    assert "Flatternde Alarme" in response.text
    # The figure's words are plain strings, in German: the chart draws them as they are.
    layout = response.context["figure"]["layout"]
    assert layout["yaxis"]["title"]["text"] == "Alarme / 10 min"
    bars = {trace["name"]: trace for trace in response.context["figure"]["data"]}
    assert ": %{y} Alarme<br>" in bars[plant["a"].name]["hovertemplate"]
    [note] = quiet.context["figure"]["layout"]["annotations"]
    assert note["text"] == "Keine Alarme in diesem Zeitraum"
    assert 'data-empty="Keine Alarme in diesem Zeitraum."' in quiet.text


def test_an_alarm_that_returned_is_not_stale(client):
    rule = rule_on(make_asset(), "vibration", "medium")
    now = timezone.now()
    readings(rule, (now - timedelta(hours=30), HIGH), (now - timedelta(hours=29), NORMAL))
    client.force_login(make_user(role="supervisor", username="sam"))

    assert client.get(KPIS).context["report"].stale == ()


def test_it_needs_the_alert_role(client):
    assert client.get(KPIS).status_code == 302
    client.force_login(make_user(username="visitor"))
    assert client.get(KPIS).status_code == 403
