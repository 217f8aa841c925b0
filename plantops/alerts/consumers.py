"""The alert socket: every event after the last one the tablet saw, in order, once each.

Reliability does not rest on the channel layer. On connect the tablet sends the last event id
it has (`?after=<id>`) and gets the rest from the database. Each live event carries the id of
the event before it; when that is not the last one this socket sent, a message was dropped
on the way and the gap is read from the database before the event goes out. A tick every few
seconds carries the newest id, so a dropped last event is recovered too.

An `alert.announce` (an alarm raised from late data, told now) is not an event: it has no id,
is sent only live, and is never replayed; the alert itself is in the list either way.
"""

from __future__ import annotations

from urllib.parse import parse_qs

from channels.db import database_sync_to_async

from plantops.alerts import selectors
from plantops.core import realtime
from plantops.core.sockets import CLOSE_BAD_REQUEST, SignedInConsumer


class AlertConsumer(SignedInConsumer):
    permission = "alerts.view_alert"

    async def opened(self) -> None:
        query = parse_qs(self.scope.get("query_string", b"").decode("latin-1"))
        try:
            after = int(query.get("after", ["0"])[0] or 0)
            lines = query.get("lines", [""])[0]
            self.line_ids = {int(i) for i in lines.split(",") if i} or None
        except ValueError:
            await self.close(code=CLOSE_BAD_REQUEST)
            return
        # The last event id this socket has passed on, whether it was sent or filtered out.
        self.seen_id = max(after, 0)
        await self.channel_layer.group_add(realtime.ALERTS_GROUP, self.channel_name)
        await self.accept()
        await self._catch_up(upto=None)
        await self.send_json({"type": "alert.caught_up", "last_id": self.seen_id})

    async def disconnect(self, code: int) -> None:
        await super().disconnect(code)
        await self.channel_layer.group_discard(realtime.ALERTS_GROUP, self.channel_name)

    async def _catch_up(self, *, upto: int | None) -> None:
        """Send the events after `seen_id` up to `upto` (default: the newest), in pages.

        Event ids become visible in increasing order (they are written under one lock), so
        once the newest id is read, every event up to it can be read too: the socket then
        counts as having seen up to there, including other lines' events it filtered out.
        """
        if upto is None:
            upto = await database_sync_to_async(selectors.newest_event_id)()
        while self.seen_id < upto:
            events = await database_sync_to_async(selectors.events_after)(
                after_id=self.seen_id, upto_id=upto, line_ids=self.line_ids
            )
            for event in events:
                await self.send_json({"type": "alert.event", "event": event})
                self.seen_id = event["id"]
            if len(events) < selectors.MAX_EVENTS_PER_PAGE:
                self.seen_id = upto

    async def alert_event(self, message: dict) -> None:
        event = message["event"]
        if event["id"] <= self.seen_id:
            return  # already sent during the catch-up
        if event["prev_id"] > self.seen_id:
            await self._catch_up(upto=event["id"])  # a live message was lost: read the gap
            return
        self.seen_id = event["id"]
        if self.line_ids is None or event["line_id"] in self.line_ids:
            await self.send_json({"type": "alert.event", "event": event})

    async def alert_announce(self, message: dict) -> None:
        if self.line_ids is None or message["line_id"] in self.line_ids:
            await self.send_json(message)

    async def alert_tick(self, message: dict) -> None:
        if message["last_id"] > self.seen_id:
            await self._catch_up(upto=message["last_id"])
