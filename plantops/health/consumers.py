"""The model-health page's socket: the latest fit of each estimator on every (re)connect, then
each change as it is pushed. Pushes are hints: the page keeps, per run, the highest revision."""

from __future__ import annotations

from channels.db import database_sync_to_async

from plantops.core import realtime
from plantops.core.sockets import SignedInConsumer
from plantops.health import selectors


class FitRunConsumer(SignedInConsumer):
    permission = "health.view_healthmodel"

    async def opened(self) -> None:
        # Joined before the snapshot is read: a change made meanwhile arrives after it.
        await self.channel_layer.group_add(realtime.HEALTH_FITS_GROUP, self.channel_name)
        await self.accept()
        runs = await database_sync_to_async(selectors.latest_fit_runs)()
        await self.send_json({"type": "fit.snapshot", "runs": runs})

    async def disconnect(self, code: int) -> None:
        await super().disconnect(code)
        await self.channel_layer.group_discard(realtime.HEALTH_FITS_GROUP, self.channel_name)

    async def fit_run(self, message: dict) -> None:
        await self.send_json({"type": "fit.run", "run": message["run"]})
