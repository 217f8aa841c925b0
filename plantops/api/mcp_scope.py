"""What the MCP tools show a caller, and how: the lines API v1 shows them (an operator's token,
the lines of the operator's position), times in each site's own time zone, numbers in plain
units; and how what they write says it came through MCP.

An object on another line is answered as not found, as API v1 does, so its existence is not
told either.
"""

from __future__ import annotations

from datetime import datetime
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

from django.http import Http404

from plantops.api import selectors as plant_selectors
from plantops.assets.models import Asset, Line


class NotShown(Http404):
    """Nothing by that id among what the caller is shown; `str()` says what was looked for."""


def shown_asset(user: Any, asset_id: int) -> Asset:
    """The asset, with its line, area and site, if it is on a line the caller is shown."""
    asset = plant_selectors.assets(user).select_related("line__area__site").filter(pk=asset_id)
    found = asset.first()
    if found is None:
        raise NotShown(f"There is no asset {asset_id} on the lines you are shown.")
    return found


def shown_line(user: Any, line_id: int) -> Line:
    """The line, with its area and site, if the caller is shown it."""
    line = plant_selectors.lines(user).select_related("area__site").filter(pk=line_id).first()
    if line is None:
        raise NotShown(f"There is no line {line_id} among the lines you are shown.")
    return line


@cache
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def local(moment: datetime | None, zone: str) -> str | None:
    """`moment` as ISO 8601 in the site's zone `zone`, to the second, with its offset."""
    if moment is None:
        return None
    return moment.astimezone(_zone(zone)).isoformat(timespec="seconds")


def percent(ratio: float | None) -> float | None:
    return None if ratio is None else round(100.0 * ratio, 1)


def minutes(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds / 60.0, 1)


def excerpt(text: str, length: int = 300) -> str:
    """The first `length` characters of a free text, marked when cut."""
    text = text.strip()
    return text if len(text) <= length else text[: length - 1].rstrip() + "…"


# Heads a note or a work request an assistant made over MCP, for its user.
VIA_MCP = "Through MCP, for {username}:"


def via_mcp(user: Any, note: str) -> str:
    """`note` headed with where it came from (MCP) and for whom; the head comes first, so a
    note cut to fit its field still says it."""
    return f"{VIA_MCP.format(username=user.get_username())} {note.strip()}"
