"""The status colour of an asset tile on the floor view. Pure: no Django.

Read from three metres: one word and one colour per asset, decided in this order —
down beats everything, then no data, then a value outside its expected range, then a
deliberate stop, and only then running.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

# Marks the words for the catalogs only: the screens translate them where they are shown.
from django.utils.translation import gettext_noop

from plantops.assets.states import STOPPED, MachineState

STALE_MIN_S = 15.0
STALE_INTERVALS = 5


class TileStatus(StrEnum):
    DOWN = "down"
    NO_DATA = "no_data"
    OUT_OF_RANGE = "out_of_range"
    STOPPED = "stopped"
    RUNNING = "running"

    @property
    def label(self) -> str:
        return _LABELS[self]


_LABELS = {
    TileStatus.DOWN: gettext_noop("DOWN"),
    TileStatus.NO_DATA: gettext_noop("NO DATA"),
    TileStatus.OUT_OF_RANGE: gettext_noop("CHECK"),
    TileStatus.STOPPED: gettext_noop("STOPPED"),
    TileStatus.RUNNING: gettext_noop("RUNNING"),
}


@dataclass(frozen=True, slots=True)
class SignalValue:
    value: float | None
    age_s: float | None
    expected_min: float | None
    expected_max: float | None
    sampling_interval_s: float

    @property
    def in_range(self) -> bool:
        if self.value is None:
            return True
        if self.expected_min is not None and self.value < self.expected_min:
            return False
        return not (self.expected_max is not None and self.value > self.expected_max)

    @property
    def stale(self) -> bool:
        if self.age_s is None:
            return True
        return self.age_s > max(STALE_MIN_S, STALE_INTERVALS * self.sampling_interval_s)


def tile_status(
    *, state: str, signals: Iterable[SignalValue], gateway_gone: bool = False
) -> TileStatus:
    """Return the one status an asset tile shows, from its machine state and its signals.

    While the asset's gateway is known to be gone (`gateway_gone`), nothing it last said is
    current, its state included: the tile shows no data.
    """
    if gateway_gone:
        return TileStatus.NO_DATA
    if state == MachineState.DOWN:
        return TileStatus.DOWN
    signals = list(signals)
    if not signals or all(signal.stale for signal in signals):
        return TileStatus.NO_DATA
    if any(not signal.in_range for signal in signals if not signal.stale):
        return TileStatus.OUT_OF_RANGE
    if state in STOPPED:
        return TileStatus.STOPPED
    return TileStatus.RUNNING
