"""A stop reason is shown in words wherever it is shown: the reason list's label, or the
machine's own code written out, never the raw code beside a label."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from plantops.floor.selectors import asset_tiles
from plantops.oee import screens
from plantops.oee.models import StateEvent, StopCategory, StopReason
from plantops.oee.reasons import NOT_EXPLAINED, code_as_words, reason_labels
from plantops.pipeline.services import batch_store
from tests.factories import make_asset, make_batch
from tests.site_pages import seed_site


def test_a_machine_code_is_written_as_words():
    assert code_as_words("minor_stop") == "Minor stop"
    assert code_as_words("material-shortage") == "Material shortage"
    assert code_as_words("jam") == "Jam"
    assert code_as_words("") == NOT_EXPLAINED


@pytest.mark.django_db
def test_the_reason_list_s_label_wins_over_the_code():
    StopReason.objects.update_or_create(
        code="minor_stop",
        defaults={"label": "Short stop (< 2 min)", "category": StopCategory.OTHER},
    )
    assert reason_labels(["minor_stop", "tool_change", ""]) == {
        "minor_stop": "Short stop (< 2 min)",
        "tool_change": "Tool change",
        "": NOT_EXPLAINED,
    }


@pytest.mark.django_db
def test_the_pareto_shows_every_reason_in_words():
    plant = seed_site(with_data=True)  # a minor stop the machine named, a jam an operator gave
    bars = screens.line_screen(plant.line)["pareto"]
    assert {bar["code"]: bar["label"] for bar in bars} == {
        "minor_stop": "Minor stop",
        "jam": "Jam",
        "": NOT_EXPLAINED,
    }
    figure = screens.line_screen(plant.line)["figures"]["pareto"]
    assert set(figure["data"][0]["y"]) == {"Minor stop", "Jam", NOT_EXPLAINED}


@pytest.mark.django_db
def test_a_tile_shows_the_machine_s_reason_in_words():
    asset = make_asset(signals=())
    at = int((timezone.now() - timedelta(minutes=1)).timestamp() * 1_000_000)
    batch_store(batch=make_batch(states=[(asset.pk, at, "down", "minor_stop")]))
    assert StateEvent.objects.get(asset=asset).reason == "minor_stop"  # stored as sent
    [tile] = asset_tiles(asset_ids=[asset.pk])
    assert (tile["status"], tile["state_reason"]) == ("down", "Minor stop")
