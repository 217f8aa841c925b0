"""Small builders for plant data, so each test states only what it cares about."""

from __future__ import annotations

from itertools import count

from plantops.assets.models import Area, Asset, Line, Signal, Site

_seq = count(1)


def make_asset(
    *,
    slug: str | None = None,
    signals: tuple[str, ...] = ("vibration", "temperature"),
    asset_type: str = "motor",
) -> Asset:
    """Return an asset on its own site/area/line with the named signals (mm/s, range 0–7.1)."""
    n = next(_seq)
    site = Site.objects.create(slug=f"site-{n}", name=f"Site {n}")
    area = Area.objects.create(site=site, slug="area", name="Area")
    line = Line.objects.create(area=area, slug="line", name=f"Line {n}")
    asset = Asset.objects.create(
        line=line, slug=slug or f"asset-{n}", name=f"Asset {n}", asset_type=asset_type
    )
    for signal_slug in signals:
        Signal.objects.create(
            asset=asset,
            slug=signal_slug,
            name=signal_slug.title(),
            unit="mm/s",
            expected_min=0.0,
            expected_max=7.1,
            sampling_interval_s=1.0,
        )
    return asset


def topic(asset: Asset, suffix: str) -> str:
    return f"plantops/{asset.topic_path}/{suffix}"
