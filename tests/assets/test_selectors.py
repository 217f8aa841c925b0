"""Lines and assets by the slug or path an integration gives."""

from __future__ import annotations

import pytest

from plantops.assets.models import Asset
from plantops.assets.selectors import UnknownReference, asset_by_reference, line_by_reference
from tests.factories import make_asset

pytestmark = pytest.mark.django_db


def test_a_unique_slug_or_the_full_path_finds_it():
    asset = make_asset(slug="press-1")
    line = asset.line
    path = f"{line.area.site.slug}/{line.area.slug}/{line.slug}"
    assert asset_by_reference("press-1") == asset
    assert asset_by_reference(f"{path}/press-1") == asset
    assert line_by_reference(path) == line


def test_a_slug_on_two_lines_asks_for_the_path():
    make_asset(slug="pump")
    second = make_asset(slug="pump")
    with pytest.raises(UnknownReference, match="more than one asset is called 'pump'"):
        asset_by_reference("pump")
    with pytest.raises(UnknownReference, match="more than one line is called 'line'"):
        line_by_reference("line")  # the factory names every line "line"
    assert asset_by_reference(second.topic_path) == second


@pytest.mark.parametrize(
    ("find", "reference", "message"),
    [
        (asset_by_reference, "ghost", "no asset 'ghost'"),
        (asset_by_reference, "a/b", "asset is an asset's slug, or site/area/line/asset"),
        (line_by_reference, "a/b/c/d", "line is a line's slug, or site/area/line"),
        (line_by_reference, "nowhere", "no line 'nowhere'"),
    ],
)
def test_what_names_nothing_says_so(find, reference, message):
    make_asset()
    with pytest.raises(UnknownReference, match=message):
        find(reference)
    assert Asset.objects.count() == 1
