"""WebSocket consumers for the tablets. Thin: check the user, join a group, relay messages.

Every socket sends a full snapshot on connect, so a tablet that was offline catches up by
reconnecting; the asset socket also replays the readings after the last one the page has.
"""

from __future__ import annotations

import json
import math
from datetime import timedelta

from channels.db import database_sync_to_async
from django.utils import timezone, translation

from plantops.assets import selectors as asset_selectors
from plantops.assets.models import Asset, Line
from plantops.core import realtime
from plantops.core.sockets import CLOSE_NOT_FOUND, SignedInConsumer, socket_language
from plantops.floor import selectors
from plantops.oee import screens as oee_screens

MAX_CATCH_UP = timedelta(hours=1)


class _LoggedInConsumer(SignedInConsumer):
    """A floor feed: any plant role may watch the plant (`assets.view_asset`)."""

    permission = "assets.view_asset"
    group: str = ""

    async def opened(self) -> None:
        if not await self.resolve():
            await self.close(code=CLOSE_NOT_FOUND)
            return
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()
        await self.send_json(await self.snapshot())

    async def disconnect(self, code: int) -> None:
        await super().disconnect(code)
        if self.group:
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def resolve(self) -> bool:
        return True

    async def snapshot(self) -> dict:
        raise NotImplementedError


class FloorConsumer(_LoggedInConsumer):
    group = realtime.FLOOR_GROUP

    async def snapshot(self) -> dict:
        return {
            "type": "floor.snapshot",
            "tiles": await database_sync_to_async(selectors.asset_tiles)(),
        }

    async def floor_update(self, event: dict) -> None:
        await self.send_json({"type": "floor.update", "tiles": event["tiles"]})


class AssetConsumer(_LoggedInConsumer):
    async def resolve(self) -> bool:
        self.asset_id = self.scope["url_route"]["kwargs"]["asset_id"]
        if not await Asset.objects.filter(pk=self.asset_id).aexists():
            return False
        self.group = realtime.asset_group(self.asset_id)
        return True

    async def snapshot(self) -> dict:
        tiles = await database_sync_to_async(selectors.asset_tiles)(asset_ids=[self.asset_id])
        return {"type": "asset.snapshot", "tile": tiles[0] if tiles else None}

    async def receive(
        self, text_data: str | None = None, bytes_data: bytes | None = None, **kwargs
    ) -> None:
        # A tablet's bad frame gets an error reply; it must not take the socket down.
        try:
            content = json.loads(text_data or "")
        except ValueError:
            await self.send_json({"type": "error", "detail": "messages must be JSON text"})
            return
        await self.receive_json(content)

    async def receive_json(self, content, **kwargs) -> None:
        # {"type": "resume", "since_ms": <last point the page has>} → the points after it.
        if not isinstance(content, dict) or content.get("type") != "resume":
            await self.send_json({"type": "error", "detail": "unknown message"})
            return
        since_ms = content.get("since_ms")
        if (
            isinstance(since_ms, bool)
            or not isinstance(since_ms, int | float)
            or not math.isfinite(since_ms)
        ):
            await self.send_json({"type": "error", "detail": "resume needs since_ms as a number"})
            return
        not_before = timezone.now() - MAX_CATCH_UP
        since_ms = max(int(since_ms), int(not_before.timestamp() * 1000))
        since_ms = min(since_ms, int(timezone.now().timestamp() * 1000))
        points = await database_sync_to_async(selectors.asset_points_since)(
            asset_id=self.asset_id, since_ms=since_ms, not_before=not_before
        )
        await self.send_json(
            {"type": "asset.update", "asset": self.asset_id, "points": points, "catch_up": True}
        )

    async def asset_update(self, event: dict) -> None:
        await self.send_json(
            {
                "type": "asset.update",
                "asset": event["asset"],
                "points": event["points"],
                "tile": event.get("tile"),
            }
        )


class LineOeeConsumer(_LoggedInConsumer):
    """The line's OEE screen: the whole screen on connect, then coalesced updates, each in the
    viewer's language and on the viewer's clock."""

    async def resolve(self) -> bool:
        self.line_id = self.scope["url_route"]["kwargs"]["line_id"]
        self.line = await Line.objects.select_related("area__site").filter(pk=self.line_id).afirst()
        if self.line is None:
            return False
        self.group = realtime.line_oee_group(self.line_id)
        # The viewer's clock, as on the page: the pushed screen's hours are on the site's.
        self.zone = await database_sync_to_async(asset_selectors.viewer_zone)(self.scope["user"])
        self.site_zone = asset_selectors.site_zone(self.line.area.site)
        self.language = socket_language(self.scope)
        return True

    def _screen(self) -> dict:
        with translation.override(self.language):
            return oee_screens.line_screen(self.line, tz=self.zone)

    async def snapshot(self) -> dict:
        return {"type": "oee.screen", "screen": await database_sync_to_async(self._screen)()}

    async def oee_screen(self, event: dict) -> None:
        # Pushed once for every viewer: in the pushing process's language, on the site's clock.
        screen = event["screen"]
        if self.zone != self.site_zone or event.get("language") != self.language:
            with translation.override(self.language):
                screen = oee_screens.for_viewer(screen, self.zone)
        await self.send_json({"type": "oee.screen", "screen": screen})


class OeeBoardConsumer(_LoggedInConsumer):
    group = realtime.OEE_BOARD_GROUP

    async def snapshot(self) -> dict:
        return {
            "type": "oee.board",
            "lines": await database_sync_to_async(oee_screens.floor_board)(),
        }

    async def oee_board(self, event: dict) -> None:
        await self.send_json({"type": "oee.board", "lines": event["lines"]})
