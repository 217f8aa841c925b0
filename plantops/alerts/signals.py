"""What the alerts tell the rest of the plant, without knowing who listens.

Both are sent once the transaction that wrote the events commits (`events.EventRecorder`), so
a receiver reads them committed. Receivers must be quick: enqueue work, never do it here.

- `events_recorded(sender, last_id, raised)`: alert events up to `last_id` exist; `raised` is
  True when one of them activates an alarm.
- `alerts_announced(sender, alert_ids)`: alarms raised from delayed data are announced now
  (they have no event of their own; see `delivery.py`).
"""

from __future__ import annotations

from django.dispatch import Signal

events_recorded = Signal()
alerts_announced = Signal()
