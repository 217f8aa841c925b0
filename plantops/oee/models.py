from __future__ import annotations

from django.db import models

from plantops.assets.models import Asset, MachineState


class StateEvent(models.Model):
    """A machine state change as the machine reported it (`…/state` on MQTT)."""

    asset = models.ForeignKey(Asset, on_delete=models.CASCADE, related_name="state_events")
    ts = models.DateTimeField()
    state = models.CharField(max_length=32, choices=MachineState.choices)
    reason = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["asset", "ts"]
        constraints = [models.UniqueConstraint(fields=["asset", "ts"], name="state_event_once")]

    def __str__(self) -> str:
        return f"{self.asset_id} {self.state} at {self.ts.isoformat()}"


class CountEvent(models.Model):
    """Parts made since the previous count message (`…/count` on MQTT)."""

    asset = models.ForeignKey(Asset, on_delete=models.CASCADE, related_name="count_events")
    ts = models.DateTimeField()
    good = models.PositiveIntegerField()
    scrap = models.PositiveIntegerField()

    class Meta:
        ordering = ["asset", "ts"]
        constraints = [models.UniqueConstraint(fields=["asset", "ts"], name="count_event_once")]

    def __str__(self) -> str:
        return f"{self.asset_id} +{self.good}/{self.scrap} at {self.ts.isoformat()}"
