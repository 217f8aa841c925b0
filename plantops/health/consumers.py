"""The model-health page's socket: the latest fit of each estimator on every (re)connect, then
each change as it is pushed. Pushes are hints: the page keeps, per run, the highest revision.

A push is worded by whoever made it (a worker, in English); each socket words it again in its
viewer's language, chosen as for a page: the language cookie, else the browser's
Accept-Language."""

from __future__ import annotations

from typing import Any

from channels.db import database_sync_to_async
from django.utils import translation

from plantops.core import realtime
from plantops.core.sockets import SignedInConsumer, socket_language
from plantops.health import selectors


class FitRunConsumer(SignedInConsumer):
    permission = "health.view_healthmodel"

    async def opened(self) -> None:
        self.language = socket_language(self.scope)
        # Joined before the snapshot is read: a change made meanwhile arrives after it.
        await self.channel_layer.group_add(realtime.HEALTH_FITS_GROUP, self.channel_name)
        await self.accept()
        runs = await database_sync_to_async(self._snapshot)()
        await self.send_json({"type": "fit.snapshot", "runs": runs})

    def _snapshot(self) -> list[dict[str, Any]]:
        with translation.override(self.language):
            return selectors.latest_fit_runs()

    async def disconnect(self, code: int) -> None:
        await super().disconnect(code)
        await self.channel_layer.group_discard(realtime.HEALTH_FITS_GROUP, self.channel_name)

    async def fit_run(self, message: dict) -> None:
        with translation.override(self.language):
            run = selectors.fit_run_worded(message["run"])
        await self.send_json({"type": "fit.run", "run": run})
