"""Filter and choice buttons: links that change one key of the page's query string."""

from __future__ import annotations

from django.http import QueryDict

from plantops.core.querystrings import choice_buttons, toggle_buttons


def test_a_toggle_adds_its_value_or_takes_it_away_and_keeps_the_rest():
    query = QueryDict("line=1&priority=high&partial=1")
    one, two = toggle_buttons(query, "line", [("1", "Line 1"), ("2", "Line 2")])
    assert (one["on"], one["url"]) == (True, "?priority=high")
    assert (two["on"], two["url"]) == (False, "?line=1&line=2&priority=high")


def test_a_choice_sets_its_value_alone():
    query = QueryDict("range=7d&line=3&partial=1")
    buttons = choice_buttons(query, "range", [("7d", "7 days"), ("30d", "30 days")], "7d")
    assert [(b["label"], b["on"], b["url"]) for b in buttons] == [
        ("7 days", True, "?range=7d&line=3"),
        ("30 days", False, "?range=30d&line=3"),
    ]
